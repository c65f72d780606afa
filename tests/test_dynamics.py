import math

import pytest
import torch

from helpers.dynamics import effective_rank, loss_plateaus, transition_width


def staircase(steps):
    """A loss with plateaus at 1.0 (to step 100), 0.5 (300 to 3,000) and 0.45 (after 5,000)."""
    loss = torch.ones_like(steps)
    loss[steps > 100] = 0.5 + 0.5 * torch.exp(-(steps[steps > 100] - 100) / 40)
    loss[steps > 3000] = 0.45 + 0.05 * torch.exp(-(steps[steps > 3000] - 3000) / 500)
    return loss


def test_plateaus_of_a_staircase():
    steps = torch.logspace(0, 5, 200).round().unique()
    plateaus = loss_plateaus(steps, staircase(steps))
    assert len(plateaus) == 3
    assert [round(p.level, 2) for p in plateaus] == [1.0, 0.5, 0.45]
    assert plateaus[0].end <= 110 and plateaus[1].start >= 250
    assert plateaus[0].drop_after == pytest.approx(0.5, abs=0.01)
    assert plateaus[1].drop_after == pytest.approx(0.1, abs=0.01)


def test_a_steady_decline_has_no_plateau():
    steps = torch.logspace(0, 4, 100)
    assert loss_plateaus(steps, 1 / (steps + 1)) == []


def test_plateau_input_checks():
    with pytest.raises(ValueError, match="same length"):
        loss_plateaus([1, 2, 3], [1, 2, 3, 4])
    with pytest.raises(ValueError, match="strictly increasing"):
        loss_plateaus([1, 3, 2], [1, 1, 1])
    with pytest.raises(ValueError, match="at least 3"):
        loss_plateaus([1, 2], [1, 1])


def test_transition_width_tells_jumps_from_drifts():
    steps = torch.logspace(0, 4, 81)
    decades = torch.log10(steps + 1)
    jump = (decades > 2.0).double() * 0.5  # 0 to 1/2 at step 100
    drift = 0.5 * decades / decades[-1]  # steadily over four decades
    still = torch.full_like(decades, 0.5)
    widths = transition_width(steps, torch.stack([jump, drift, still], dim=1))
    assert widths[0] < 0.1
    assert widths[1] > 2.5
    assert math.isnan(widths[2])


def test_effective_rank():
    W = torch.zeros(2, 3, 6)
    W[0, 0, :] = 1.0  # rank 1
    W[1] = torch.eye(3, 6) + 0.001 * torch.ones(3, 6)  # rank 3, a tiny perturbation
    assert effective_rank(W).tolist() == [1, 3]
    assert effective_rank(torch.diag(torch.tensor([1.0, 0.05]))).item() == 1
    assert effective_rank(torch.diag(torch.tensor([1.0, 0.05])), fraction=0.01).item() == 2
