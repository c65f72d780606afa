"""Each criterion behind a chapter's claim holds on the geometry it describes and FAILS on the
alternative it rules out: an untrained (Xavier-initialised) model, the competing geometry, or
keep-the-top-m-and-drop-the-rest."""

import torch

import helpers
from helpers import criteria
from helpers.published import LAD_KOSTOLANSKY_2023_DSTAR

M, N = 20, 200


def untrained(n_features=N, n_hidden=M, n_instances=1, seed=0):
    """The weights every chapter starts from (Xavier-normal), before any training."""
    model = helpers.ToyModel(n_features, n_hidden, n_instances)
    model.reset_parameters(torch.Generator().manual_seed(seed))
    return model.W.detach()


def antipodal_pairs(k=M, n=N, m=M, spare_features=0):
    """k antipodal pairs of unit features on k orthogonal axes; optionally ``spare_features`` small
    features sharing each of the m − k spare axes (together one unit of squared norm per axis)."""
    W = torch.zeros(m, n)
    for axis in range(k):
        W[axis, 2 * axis], W[axis, 2 * axis + 1] = 1.0, -1.0
    column = 2 * k
    for axis in range(k, m):
        for _ in range(spare_features):
            W[axis, column] = spare_features**-0.5
            column += 1
    return W


def top_m(n=N, m=M):
    """Keep the first m features on their own axes, drop the rest."""
    return torch.cat([torch.eye(m), torch.zeros(m, n - m)], dim=1)


def random_projection(n=N, m=M, seed=0):
    """m orthonormal rows in a uniformly random orientation: a projection spread over all features."""
    gaussian = torch.randn(n, m, generator=torch.Generator().manual_seed(seed))
    return torch.linalg.qr(gaussian).Q.T


def test_every_dimension_used_by_pairs_and_by_thinly_shared_spare_dimensions_not_by_an_untrained_model():
    assert criteria.uses_every_dimension(antipodal_pairs())
    assert criteria.uses_every_dimension(antipodal_pairs(k=19, spare_features=20))
    assert criteria.uses_every_dimension(random_projection())
    for seed in range(5):
        verdict = criteria.uses_every_dimension(untrained(seed=seed))
        assert not verdict, verdict.measured
        assert M - 2.5 < verdict.measured["smallest_sum"] < M - 1.0  # about m²/n short
    assert not criteria.uses_every_dimension(untrained(400, 30))  # the paper profile's sizes


def test_spread_projection_rules_out_top_m_and_untrained():
    assert criteria.spread_projection(random_projection())
    assert not criteria.spread_projection(top_m())
    assert not criteria.spread_projection(untrained()[0])


def test_antipodal_pair_packing_rules_out_untrained_top_m_and_parallel_copies():
    assert criteria.antipodal_pair_packing(antipodal_pairs())
    assert criteria.antipodal_pair_packing(antipodal_pairs(k=18, spare_features=10))  # 36 of 40
    assert not criteria.antipodal_pair_packing(antipodal_pairs(k=17, spare_features=10))  # 34 of 40
    assert not criteria.antipodal_pair_packing(untrained())
    assert not criteria.antipodal_pair_packing(top_m())
    parallel = antipodal_pairs().abs()  # each feature duplicated in the same direction: also D_i = 1/2
    torch.testing.assert_close(helpers.feature_dimensionality(parallel)[:40], torch.full((40,), 0.5))
    assert not criteria.antipodal_pair_packing(parallel)


def test_sticky_level_on_the_published_curve_but_not_on_a_flat_or_an_evenly_falling_one():
    published = torch.tensor(LAD_KOSTOLANSKY_2023_DSTAR["relu"])
    inverse_density = 20 ** torch.linspace(0, 1, 20)
    plateau = (inverse_density > 2.15) & (inverse_density < 3.6)
    assert criteria.sticky_level(published, plateau, level=0.5, tolerance=0.05)
    flat = torch.full((20,), 0.55)  # an untrained model's D* at every density
    assert not criteria.sticky_level(flat, plateau, level=0.5, tolerance=0.05)
    even = torch.linspace(1.0, 0.136, 20)
    assert not criteria.sticky_level(even, plateau, level=0.5, tolerance=0.2)
    assert not criteria.sticky_level(published, plateau, level=0.4, tolerance=0.05)


def basic_results_like(order=None):
    """A dense-to-sparse sweep of 20 features of decreasing importance in 5 dimensions, as the ReLU
    model learns it: m free features when dense, then the least important of the represented ones in
    antipodal pairs (free counts 5, 3, 1, 0). ``order`` relabels the features (e.g. reversed)."""
    sweeps = []
    for n_free in (5, 3, 1, 0):
        W = torch.zeros(5, 20)
        for k in range(n_free):
            W[k, k] = 1.0
        feature = n_free
        for axis in range(n_free, 5):  # the remaining axes each hold an antipodal pair
            W[axis, feature], W[axis, feature + 1] = 1.0, -1.0
            feature += 2
        sweeps.append(W if n_free < 5 else W[:, :20])
    W = torch.stack(sweeps)
    return W if order is None else W[:, :, order]


def test_least_important_first_rules_out_untrained_and_the_reversed_order():
    assert criteria.least_important_first(basic_results_like())
    assert not criteria.least_important_first(basic_results_like(order=torch.arange(19, -1, -1)))
    assert not criteria.least_important_first(untrained(20, 5, n_instances=4))
    # superposition spreading upwards is fine, but the number of free features must not come back
    W = basic_results_like()
    assert not criteria.least_important_first(torch.stack([W[0], W[1], W[0], W[3]]))


def rotation(degrees):
    a = torch.tensor(degrees).deg2rad()
    return torch.stack([torch.stack([a.cos(), -a.sin()]), torch.stack([a.sin(), a.cos()])])


def test_returns_after_perturbation_is_rotation_invariant_and_fails_when_nothing_trains():
    angles = torch.arange(5) * (2 * torch.pi / 5)
    pentagon = torch.stack([angles.cos(), angles.sin()]).unsqueeze(0)  # [1, 2, 5]
    perturbed = pentagon * torch.tensor([1.2, 0.9, 1.1, 0.85, 1.0])
    rotated = rotation(40.0) @ pentagon  # the same solution, turned
    assert criteria.returns_after_perturbation(pentagon, perturbed, rotated)
    verdict = criteria.returns_after_perturbation(pentagon, perturbed, perturbed)  # nothing moved
    assert not verdict and verdict.measured["gap"].item() > 0.1
    square = torch.tensor([[[0.0, 1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, -1.0]]])
    assert not criteria.returns_after_perturbation(pentagon, perturbed, square)  # fell elsewhere
    # a perturbation too small to leave the solution cannot show that it returns
    assert not criteria.returns_after_perturbation(pentagon, pentagon * 1.01, pentagon)


PAIRS = [(0, 1), (2, 3), (4, 5)]


def collapsed(directions, norms):
    """Three correlated pairs in 2-D, each pair collapsed onto one direction: W of shape [2, 6]."""
    columns = []
    for angle, norm in zip(directions, norms, strict=True):
        vector = norm * torch.tensor([torch.cos(torch.tensor(angle)), torch.sin(torch.tensor(angle))])
        columns += [vector, vector]
    return torch.stack(columns, dim=1)


def pca_subspace(normal):
    """The PCA solution for three pairs whose plane in span(u_1, u_2, u_3) has the given normal."""
    normal = torch.tensor(normal) / torch.tensor(normal).norm()
    u = torch.zeros(3, 6)
    for j, (a, b) in enumerate(PAIRS):
        u[j, a] = u[j, b] = 2**-0.5
    basis = torch.linalg.svd(torch.eye(3) - torch.outer(normal, normal)).U[:, :2]  # the plane, in u coordinates
    return basis.T @ u  # [2, 6]: orthonormal rows inside the pairs' sum directions


def test_collapsed_pca_holds_for_every_plane_of_the_degenerate_eigenspace():
    symmetric = pca_subspace([1.0, 1.0, 1.0])
    verdict = criteria.collapsed_pca(symmetric, PAIRS)
    assert verdict
    torch.testing.assert_close(verdict.measured["norms"], torch.full((6,), 3**-0.5))
    lopsided = pca_subspace([0.35, 0.35, 0.82])  # shares 0.88, 0.88, 0.33, as one seed measured
    verdict = criteria.collapsed_pca(lopsided, PAIRS)
    assert verdict and abs(verdict.measured["pair_shares"].sum().item() - 2) < 1e-5


def test_collapsed_pca_rules_out_the_nonlinear_collapse_and_an_untrained_model():
    nonlinear = collapsed([0.0, 2.094, 4.189], [2**-0.5] * 3)  # three collapsed pairs at 120°, norm 1/√2
    verdict = criteria.collapsed_pca(nonlinear, PAIRS)
    assert not verdict
    torch.testing.assert_close(verdict.measured["singular_values"], torch.full((2,), 1.5**0.5), rtol=1e-3, atol=0)
    for seed in range(5):
        assert not criteria.collapsed_pca(untrained(6, 2, seed=seed)[0], PAIRS)


def test_only_the_published_relu_curve_sticks_at_one_half():
    """Chapter 06's 'only ReLU sticks at 1/2': the criterion separates the study's published curves,
    GELU (0.59 to 0.47 over the plateau's range) and SiLU (0.57 to 0.46) among them, by their shape."""
    inverse_density = 20 ** torch.linspace(0, 1, 20)
    plateau = (inverse_density > 2.15) & (inverse_density < 3.6)
    sticky = {
        name: bool(criteria.sticky_level(torch.tensor(curve), plateau, level=0.5, tolerance=0.05))
        for name, curve in LAD_KOSTOLANSKY_2023_DSTAR.items()
    }
    assert sticky.pop("relu")
    assert not any(sticky.values()), sticky
