import numpy as np
import pytest
import torch

import helpers
from helpers.theory import (
    PHASES,
    boundary_distance,
    critical_density_n2m1,
    interior_cells,
    n2m1_losses,
    n3m2_losses,
    phase_grid,
    phase_n3m2,
)


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


def test_linear_model_never_superposes():
    for r in (0.1, 0.5, 2.0, 10.0):
        for p in (0.01, 0.1, 0.5, 1.0):
            phase = helpers.phase_n2m1(r, p, activation="linear")
            assert phase == ("not represented" if r < 1 else "dedicated")


def test_linear_antipodal_loss_matches_monte_carlo():
    p, r = 0.2, 0.5
    x = helpers.sparse_features(1, 400_000, 2, p, generator=torch.Generator().manual_seed(1))[0]
    W = torch.tensor([[1.0, -1.0]])
    out = x @ W.T @ W + p / 2  # the best bias: each feature's error is minus the other feature, plus its mean
    measured = ((out - x).square() * torch.tensor([1.0, r])).sum(dim=1).mean().item()
    assert measured == pytest.approx(n2m1_losses(r, p, activation="linear")["superposition"], rel=0.02)


def test_n3m2_extra_feature_dedicated_when_more_important():
    for p in (0.01, 0.1, 0.5, 1.0):
        assert phase_n3m2(3.0, p) == "dedicated"


@pytest.mark.parametrize("r", [0.1, 0.3, 0.7])
def test_n3m2_left_half_has_the_n2m1_boundary(r):
    p = critical_density_n2m1(r)
    assert phase_n3m2(r, p * 0.97) == "superposition"
    assert phase_n3m2(r, min(1.0, p * 1.03)) == "not represented"


def test_n3m2_candidates_match_monte_carlo():
    p, r = 0.25, 0.6
    x = helpers.sparse_features(1, 400_000, 3, p, generator=torch.Generator().manual_seed(2))[0]
    importance = torch.tensor([1.0, 1.0, r])

    def loss(columns, b):
        W = torch.tensor(columns, dtype=torch.float32).T  # [m=2, n=3] from the three feature directions
        out = torch.relu(x @ W.T @ W + torch.tensor(b, dtype=torch.float32))
        return ((out - x).square() * importance).sum(dim=1).mean().item()

    measured = {
        "W ⊥ [0,0,1]": loss([[1, 0], [0, 1], [0, 0]], [0, 0, p / 2]),
        "W ⊥ [1,0,0]": loss([[0, 0], [1, 0], [0, 1]], [p / 2, 0, 0]),
        "W ⊥ [0,1,1]": loss([[0, 1], [1, 0], [-1, 0]], [0, 0, 0]),
        "W ⊥ [1,1,0]": loss([[1, 0], [-1, 0], [0, 1]], [0, 0, 0]),
    }
    for name, value in n3m2_losses(r, p).items():
        assert measured[name] == pytest.approx(value, rel=0.02), name


def test_phase_grid_orientation_and_interior_cells():
    r = [0.1, 0.3, 3.0, 10.0]
    p = [0.01, 0.05, 0.9, 1.0]
    codes = phase_grid(helpers.phase_n2m1, r, p)
    assert codes.shape == (4, 4)
    assert PHASES[codes[0, 0]] == "superposition"  # sparse (first row), unimportant extra feature
    assert PHASES[codes[3, 0]] == "not represented"
    assert PHASES[codes[3, 3]] == "dedicated"
    interior = interior_cells(np.array([[0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 1], [2, 2, 0, 1]]))
    assert interior.tolist() == [
        [True, True, False, False],
        [True, True, False, False],
        [False, False, False, False],
        [False, False, False, False],
    ]


def test_interior_cells_needs_a_grid():
    with pytest.raises(ValueError, match="codes"):
        interior_cells(np.zeros(3))


def test_boundary_distance_counts_grid_steps_to_another_phase():
    codes = np.array([[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 1]])
    expected = np.array([[4, 3, 2, 2, 2], [4, 3, 2, 1, 1], [4, 3, 2, 1, 1]])
    np.testing.assert_array_equal(boundary_distance(codes), expected)
    assert (boundary_distance(np.zeros((3, 4), dtype=int)) == 4).all()  # one phase: the largest size
    with pytest.raises(ValueError, match="2-D"):
        boundary_distance(np.zeros(3))


def test_uniform_loss_levels_match_the_closed_forms_and_are_a_pair_step_apart():
    levels = helpers.theory.uniform_loss_levels(100, 10, 0.45)
    assert levels["PCA"] == pytest.approx(0.0894375)
    assert levels["pairs"][10] == pytest.approx(0.08625)
    steps = np.diff(levels["pairs"])
    np.testing.assert_allclose(-steps, levels["pair_step"])
    # The linear PCA level sits between two pair levels, more than a quarter of a step from each: a band
    # of a quarter step around it tells it apart from every number of pairs.
    assert min(abs(levels["PCA"] - level) for level in levels["pairs"]) > 0.25 * levels["pair_step"]
    with pytest.raises(ValueError, match="n_features"):
        helpers.theory.uniform_loss_levels(10, 10, 0.45)


def test_uniform_loss_levels_agree_with_hand_built_models():
    n, m, p = 20, 4, 0.45
    levels = helpers.theory.uniform_loss_levels(n, m, p)
    x = helpers.sparse_features(1, 1 << 18, n, p, generator=torch.Generator().manual_seed(0))
    for k in (0, 2, 4):
        W = torch.zeros(1, m, n)
        for axis in range(k):
            W[0, axis, 2 * axis], W[0, axis, 2 * axis + 1] = 1.0, -1.0
        b = torch.zeros(1, n)
        b[0, 2 * k :] = p / 2  # dropped features: the bias at their mean
        model = helpers.ToyModel(n, m).set_parameters(W, b)
        assert model.loss(x).item() == pytest.approx(levels["pairs"][k], rel=0.01)
    W = torch.zeros(1, m, n)
    W[0, :, :m] = torch.eye(m)
    b = torch.zeros(1, n)
    b[0, m:] = p / 2
    assert helpers.ToyModel(n, m).set_parameters(W, b).loss(x).item() == pytest.approx(levels["PCA"], rel=0.01)
