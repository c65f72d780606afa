import math

import pytest
import torch

import helpers
from helpers import dynamics
from helpers.dynamics import effective_rank, jump_share, loss_plateaus


def staircase(steps):
    """A loss with plateaus at 1.0 (to step 100), 0.5 (300 to 3,000) and 0.45 (after 5,000)."""
    loss = torch.ones_like(steps)
    loss[steps > 100] = 0.5 + 0.5 * torch.exp(-(steps[steps > 100] - 100) / 40)
    loss[steps > 3000] = 0.45 + 0.05 * torch.exp(-(steps[steps > 3000] - 3000) / 500)
    return loss


def test_plateaus_of_a_staircase():
    steps = torch.logspace(0, 5, 200).round().unique()
    plateaus = loss_plateaus(steps, staircase(steps), tolerance=0.01)
    assert len(plateaus) == 3
    assert [round(p.level, 2) for p in plateaus] == [1.0, 0.5, 0.45]
    assert plateaus[0].end <= 110 and plateaus[1].start >= 250
    assert plateaus[0].drop_after == pytest.approx(0.5, abs=0.01)
    assert plateaus[1].drop_after == pytest.approx(0.1, abs=0.01)


def test_the_band_decides_what_is_flat():
    steps = torch.logspace(0, 5, 200).round().unique()
    loss = staircase(steps) * (1 + 0.02 * torch.sin(steps))  # ±2% noise on every plateau
    assert len(loss_plateaus(steps, loss, tolerance=0.01)) < 3  # the noise breaks a 1% band
    assert len(loss_plateaus(steps, loss, tolerance=0.06)) == 3
    # a drop smaller than the band merges two plateaus into one
    assert len(loss_plateaus(steps, staircase(steps), tolerance=0.5)) == 2


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
    with pytest.raises(ValueError, match="loss must be finite and > 0"):
        loss_plateaus([1, 2, 3], [1, 0, 1])
    with pytest.raises(ValueError, match="tolerance"):
        loss_plateaus([1, 2, 3], [1, 1, 1], tolerance=0)


def test_jump_share_tells_jumps_from_drifts():
    steps = torch.logspace(0, 4, 81)
    decades = torch.log10(steps + 1)
    jump = (decades > 2.0).double() * 0.5  # 0 to 1/2 at step 100
    drift = 0.5 * decades / decades[-1]  # steadily over four decades
    rise_and_fall = 0.3 * ((decades > 1.0) & (decades < 3.0)).double()  # up at 10, down at 1000
    still = torch.full_like(decades, 0.5) + 0.01 * torch.sin(10 * decades)  # noise only
    shares = jump_share(steps, torch.stack([jump, drift, rise_and_fall, still], dim=1))
    assert shares[0] == pytest.approx(1.0)
    assert shares[1] == pytest.approx(0.5 / 4, abs=0.02)
    assert shares[2] == pytest.approx(1.0)
    assert math.isnan(shares[3])
    with pytest.raises(ValueError, match="n_samples = 81"):
        jump_share(steps, torch.zeros(80, 2))


def test_effective_rank():
    W = torch.zeros(2, 3, 6)
    W[0, 0, :] = 1.0  # rank 1
    W[1] = torch.eye(3, 6) + 0.001 * torch.ones(3, 6)  # rank 3, a tiny perturbation
    assert effective_rank(W).tolist() == [1, 3]
    assert effective_rank(torch.diag(torch.tensor([1.0, 0.05]))).item() == 1
    assert effective_rank(torch.diag(torch.tensor([1.0, 0.05])), fraction=0.01).item() == 2
    with pytest.raises(ValueError, match="fraction"):
        effective_rank(W, fraction=1.5)


def trained_checkpoints():
    model = helpers.ToyModel(5, 2, n_instances=3)
    result = helpers.train(model, density=0.1, steps=50, checkpoints=[0, 9, 49], progress=False)
    return model, result.checkpoints


def test_histories_follow_the_checkpoints():
    model, checkpoints = trained_checkpoints()
    D = dynamics.dimensionality_history(checkpoints)
    assert D.shape == (3, 3, 5)
    assert torch.allclose(D[-1], helpers.feature_dimensionality(model.W.detach()))
    singular = dynamics.singular_value_history(checkpoints)
    assert singular.shape == (3, 3, 2)
    assert (singular[..., 0] >= singular[..., 1]).all()
    assert torch.allclose(singular[-1], torch.linalg.svdvals(model.W.detach()), atol=1e-5)
    with pytest.raises(TypeError, match=r"TrainResult\.checkpoints"):
        dynamics.dimensionality_history(model.W)


def test_checkpoint_losses_match_the_model_and_leave_it_alone():
    model, checkpoints = trained_checkpoints()
    before = model.W.detach().clone()
    x = helpers.sparse_features(3, 256, 5, 0.1, generator=torch.Generator().manual_seed(1))
    losses = dynamics.checkpoint_losses(model, checkpoints, x)
    assert losses.shape == (3, 3)
    assert torch.allclose(losses[-1], model.loss(x).detach())
    assert torch.equal(model.W.detach(), before)
    with pytest.raises(ValueError, match="the model has"):
        dynamics.checkpoint_losses(helpers.ToyModel(5, 2, n_instances=2), checkpoints, x)
