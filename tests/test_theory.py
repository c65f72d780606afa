import pytest
import torch

import helpers
from helpers.theory import critical_density_n2m1, n2m1_losses


@pytest.mark.parametrize(
    ("relative_importance", "density", "phase"),
    [
        (0.1, 1.0, "not represented"),  # dense, extra feature unimportant
        (0.2, 0.8, "not represented"),
        (10.0, 1.0, "dedicated"),  # dense, extra feature far more important
        (5.0, 0.7, "dedicated"),
        (1.0, 0.02, "superposition"),  # sparse: antipodal pair
        (0.3, 0.01, "superposition"),
        (8.0, 0.03, "superposition"),
    ],
)
def test_phase_far_from_boundaries(relative_importance, density, phase):
    assert helpers.phase_n2m1(relative_importance, density) == phase


@pytest.mark.parametrize(
    ("r", "p"), [(0.1, 0.16), (0.2, 4 / 15), (0.5, 4 / 9), (1.0, 4 / 7), (2.0, 4 / 9), (5.0, 4 / 15), (10.0, 0.16)]
)
def test_critical_density_closed_form(r, p):
    assert critical_density_n2m1(r) == pytest.approx(p)
    # just below the critical density superposition wins, just above it loses
    assert helpers.phase_n2m1(r, p * 0.98) == "superposition"
    assert helpers.phase_n2m1(r, min(1.0, p * 1.02)) != "superposition"


def test_candidate_losses_match_monte_carlo():
    """The closed forms against the actual candidate solutions on 400k sampled inputs."""
    p, r = 0.3, 2.0
    x = helpers.sparse_features(1, 400_000, 2, p, generator=torch.Generator().manual_seed(0))[0]
    importance = torch.tensor([1.0, r])

    def loss(w, b):
        W = torch.tensor([w])  # [m=1, n=2]
        out = torch.relu(x @ W.T @ W + torch.tensor(b))
        return ((out - x).square() * importance).sum(dim=1).mean().item()

    analytic = n2m1_losses(r, p)
    assert loss([1.0, 0.0], [0.0, p / 2]) == pytest.approx(analytic["not represented"], rel=0.02)
    assert loss([0.0, 1.0], [p / 2, 0.0]) == pytest.approx(analytic["dedicated"], rel=0.02)
    assert loss([1.0, -1.0], [0.0, 0.0]) == pytest.approx(analytic["superposition"], rel=0.02)


@pytest.mark.parametrize(("r", "p"), [(0.0, 0.5), (-1.0, 0.5), (1.0, 0.0), (1.0, 1.5), (float("inf"), 0.5)])
def test_bad_input(r, p):
    with pytest.raises(ValueError, match=r"relative_importance|density"):
        helpers.phase_n2m1(r, p)
