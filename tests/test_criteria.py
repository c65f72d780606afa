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
