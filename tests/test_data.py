import pytest
import torch

import helpers


def test_shape_and_range():
    x = helpers.sparse_features(3, 50, 7, 0.5, generator=torch.Generator().manual_seed(0))
    assert x.shape == (3, 50, 7)
    assert x.dtype == torch.float32
    assert (x >= 0).all() and (x < 1).all()


@pytest.mark.parametrize("density", [1.0, 0.5, 0.1, 0.05, 0.01])
def test_empirical_density_within_0_005(density):
    x = helpers.sparse_features(1, 100_000, 4, density, generator=torch.Generator().manual_seed(1))
    measured = (x > 0).float().mean(dim=1)  # per feature, 100k samples each
    assert (measured - density).abs().max() < 0.005


def test_per_instance_and_per_feature_density():
    generator = torch.Generator().manual_seed(2)
    per_instance = torch.tensor([0.9, 0.3, 0.02])
    x = helpers.sparse_features(3, 100_000, 2, per_instance, generator=generator)
    assert ((x > 0).float().mean(dim=(1, 2)) - per_instance).abs().max() < 0.005
    per_feature = torch.tensor([[0.5, 0.05], [0.2, 1.0]])
    x = helpers.sparse_features(2, 100_000, 2, per_feature, generator=generator)
    assert ((x > 0).float().mean(dim=1) - per_feature).abs().max() < 0.005


def test_present_values_are_uniform():
    x = helpers.sparse_features(1, 200_000, 1, 0.1, generator=torch.Generator().manual_seed(3))
    values = x[x > 0]
    # U[0, 1): mean 1/2, variance 1/12, and every decile equally full
    assert abs(values.mean().item() - 0.5) < 0.01
    assert abs(values.var().item() - 1 / 12) < 0.005
    deciles = torch.histc(values, bins=10, min=0, max=1) / values.numel()
    assert (deciles - 0.1).abs().max() < 0.01


def test_density_zero_gives_zeros_and_no_nan():
    x = helpers.sparse_features(2, 1000, 3, 0.0, generator=torch.Generator().manual_seed(4))
    assert torch.isfinite(x).all() and (x == 0).all()


def test_same_generator_seed_same_data():
    a = helpers.sparse_features(2, 10, 5, 0.3, generator=torch.Generator().manual_seed(5))
    b = helpers.sparse_features(2, 10, 5, 0.3, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"density": 1.5}, ValueError, "density"),
        ({"density": -0.1}, ValueError, "density"),
        ({"density": float("nan")}, ValueError, "density"),
        ({"density": torch.tensor([0.5, 2.0])}, ValueError, "density"),
        ({"density": torch.ones(3)}, ValueError, r"density must .*shape"),
        ({"density": "dense"}, TypeError, "density"),
        ({"n_instances": 0}, ValueError, "n_instances"),
        ({"batch_size": -5}, ValueError, "batch_size"),
        ({"n_features": 2.5}, TypeError, "n_features"),
    ],
)
def test_bad_input_names_the_parameter(kwargs, error, match):
    args = {"n_instances": 2, "batch_size": 4, "n_features": 3, "density": 0.5, **kwargs}
    with pytest.raises(error, match=match):
        helpers.sparse_features(**args)


def test_replicate_index_counts_earlier_identical_settings():
    density = torch.tensor([0.5, 0.2, 0.5, 0.5]).reshape(4, 1, 1)
    importance = torch.ones(4, 1, 3)
    assert helpers.data.replicate_index(density, importance).tolist() == [0, 0, 1, 2]
    importance[2, 0, 1] = 2.0
    assert helpers.data.replicate_index(density, importance).tolist() == [0, 0, 0, 1]


def test_sampler_marginal_density():
    density = torch.tensor([1.0, 0.3, 0.05, 0.01]).reshape(4, 1, 1)
    x = helpers.SparseSampler(density, 3, seed=0).sample(100_000)
    assert ((x > 0).float().mean(dim=1) - density.reshape(4, 1)).abs().max() < 0.005


def test_sampler_shares_draws_across_settings_but_not_across_replicates():
    density = torch.tensor([0.6, 0.2, 0.2]).reshape(3, 1, 1)
    streams = helpers.data.replicate_index(density)
    x = helpers.SparseSampler(density, 4, seed=1, streams=streams).sample(20_000)
    # instances 0 and 1 share one stream: wherever the sparser one is present, the denser one is too
    assert ((x[1] > 0) <= (x[0] > 0)).all()
    # instance 2 replicates instance 1: its own stream, so it is present at different places
    assert ((x[2] > 0) != (x[1] > 0)).any()


def test_an_instance_inputs_do_not_depend_on_the_other_instances():
    first = helpers.SparseSampler(torch.tensor([0.3, 0.9]).reshape(2, 1, 1), 5, seed=3).sample(100)
    second = helpers.SparseSampler(torch.tensor([0.3, 0.02]).reshape(2, 1, 1), 5, seed=3).sample(100)
    assert torch.equal(first[0], second[0])
    assert not torch.equal(first[1], second[1])


def test_sampler_reuses_its_buffer_only_when_asked():
    sampler = helpers.SparseSampler(torch.full((2, 1, 1), 0.5), 3, seed=0)
    a = sampler.sample(8, reuse=True)
    b = sampler.sample(8, reuse=True)
    assert a.data_ptr() == b.data_ptr()
    assert sampler.sample(8).data_ptr() != a.data_ptr()


def test_feature_sets_co_occurrence_and_marginals():
    density = torch.tensor([0.05, 0.2, 0.45])
    sets = [("correlated", 3), ("anticorrelated", 2), ("independent", 2)]
    x = helpers.data.feature_sets(3, 100_000, sets, density, generator=torch.Generator().manual_seed(0))
    assert x.shape == (3, 100_000, 7)
    present = x > 0
    correlated, anti = present[..., :3], present[..., 3:5]
    assert (correlated == correlated[..., :1]).all(), "a correlated set is all present or all absent"
    assert not (anti.all(dim=-1)).any(), "two anticorrelated features are never present together"
    marginals = present.float().mean(dim=1)  # [instances, features]
    assert (marginals - density[:, None]).abs().max() < 0.005
    values = x[present]
    assert 0.0 < values.min() and values.max() < 1.0 and abs(values.mean().item() - 0.5) < 0.01


def test_anticorrelated_density_above_feasible_is_refused():
    with pytest.raises(ValueError, match="largest feasible value 1/3"):
        helpers.data.feature_sets(1, 10, [("anticorrelated", 3)], 0.4)
    helpers.data.feature_sets(1, 10, [("anticorrelated", 2)], 0.5)  # exactly 1/k is feasible


@pytest.mark.parametrize(
    ("sets", "error", "match"),
    [
        ([("clustered", 2)], ValueError, "sets kind"),
        ([("correlated", 0)], ValueError, "sets size"),
        ([], ValueError, "at least one"),
        ("correlated", TypeError, "sequence of \\(kind, size\\) pairs"),
        ([("correlated",)], TypeError, "sequence of \\(kind, size\\) pairs"),
    ],
)
def test_feature_sets_bad_input(sets, error, match):
    with pytest.raises(error, match=match):
        helpers.data.feature_sets(1, 10, sets, 0.1)


def test_signed_features_are_uniform_on_minus_one_to_one_where_present():
    x = helpers.sparse_features(2, 200_000, 3, 0.3, generator=torch.Generator().manual_seed(0), signed=True)
    present = x != 0
    assert abs(present.float().mean().item() - 0.3) < 0.005
    values = x[present]
    assert values.min() >= -1 and values.max() < 1
    assert abs(values.mean().item()) < 0.01  # symmetric around 0
    assert abs((values < -0.5).float().mean().item() - 0.25) < 0.01  # uniform: a quarter below -1/2
    unsigned = helpers.sparse_features(2, 1000, 3, 0.3, generator=torch.Generator().manual_seed(0))
    signed = helpers.sparse_features(2, 1000, 3, 0.3, generator=torch.Generator().manual_seed(0), signed=True)
    assert torch.equal(signed != 0, unsigned != 0)
    assert torch.allclose(signed[signed != 0], 2 * unsigned[unsigned != 0] - 1)


def test_sampler_signed_matches_its_unsigned_draws():
    density = torch.full((2, 1, 1), 0.5)
    plain = helpers.SparseSampler(density, 4, seed=1).sample(500)
    signed = helpers.SparseSampler(density, 4, seed=1, signed=True).sample(500)
    assert torch.allclose(signed[plain > 0], 2 * plain[plain > 0] - 1)
    assert (signed[plain == 0] == 0).all()


def test_activity_strata_cover_every_pattern_with_its_probability():
    density = torch.tensor([[[0.1, 0.5, 1.0]], [[0.0, 0.3, 0.3]]])  # [2 instances, 1, 3 features]
    x, probability = helpers.data.activity_strata(density, 3, 16, seed=0)
    assert x.shape == (8, 16, 3) and probability.shape == (2, 8)
    torch.testing.assert_close(probability.sum(dim=1), torch.ones(2))
    for pattern in range(8):
        expected = torch.tensor([bool(pattern >> j & 1) for j in range(3)])
        assert ((x[pattern] > 0) == expected).all()
        for instance in range(2):
            p = density[instance, 0]
            torch.testing.assert_close(probability[instance, pattern], torch.where(expected, p, 1 - p).prod())
    assert probability[1, 1::2].sum() == 0  # a feature of density 0 is never present
    with pytest.raises(ValueError, match="n_features = 13"):
        helpers.data.activity_strata(torch.full((1, 1, 1), 0.1), 13, 4, seed=0)


def test_set_sampler_shares_draws_across_settings_but_not_across_replicates():
    density = torch.tensor([0.5, 1.0, 1.0])  # instance 2 replicates instance 1
    streams = helpers.data.replicate_index(density.view(-1, 1, 1))
    sampler = helpers.data.SetSampler([("correlated", 3)], density, seed=0, streams=streams)
    x = sampler.sample(2000)
    present = x[0] > 0  # where instance 0's set is on, instance 1 (density 1) has the same values
    torch.testing.assert_close(x[0][present], x[1][present])
    assert not torch.equal(x[1], x[2])  # a replicate draws its own
    assert abs((x[0, :, 0] > 0).float().mean().item() - 0.5) < 0.05
