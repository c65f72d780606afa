import math

import pytest
import torch

import helpers


def polygon(k: int) -> torch.Tensor:
    """k unit vectors evenly around the circle: W of shape [2, k]."""
    angles = torch.arange(k) * (2 * math.pi / k)
    return torch.stack([angles.cos(), angles.sin()])


def tetrahedron() -> torch.Tensor:
    """The 4 vertices of a regular tetrahedron on the unit sphere: W of shape [3, 4]."""
    corners = torch.tensor([[1.0, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]])
    return (corners / math.sqrt(3)).T


GEOMETRIES = {
    "orthogonal": (torch.eye(3), 1.0),
    "antipodal pair": (torch.tensor([[1.0, -1.0]]), 1 / 2),
    "triangle": (polygon(3), 2 / 3),
    "pentagon": (polygon(5), 2 / 5),
    "tetrahedron": (tetrahedron(), 3 / 4),
}


@pytest.mark.parametrize("name", GEOMETRIES)
def test_feature_dimensionality_of_geometries(name):
    W, expected = GEOMETRIES[name]
    dims = helpers.feature_dimensionality(W.unsqueeze(0))
    assert dims.shape == (1, W.shape[1])
    torch.testing.assert_close(dims, torch.full_like(dims, expected), atol=1e-5, rtol=0)
    # Uniform geometries pack efficiently: the D_i add up to the number of dimensions.
    assert abs(dims.sum().item() - W.shape[0]) < 1e-4


def test_superposition_and_dims_per_feature():
    W = torch.stack(
        [
            torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]]),
            torch.tensor([[1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 1.0, -1.0]]),
        ]
    )
    torch.testing.assert_close(helpers.superposition(W), torch.tensor([[0.0, 0, 0, 0], [1.0, 1, 1, 1]]))
    # m / ‖W‖_F²: 2 dims over 2 features, then 2 dims over 4 features
    torch.testing.assert_close(helpers.dimensions_per_feature(W), torch.tensor([1.0, 0.5]))
    torch.testing.assert_close(helpers.feature_norms(W), torch.tensor([[1.0, 1, 0, 0], [1.0, 1, 1, 1]]))


def test_unlearned_feature_has_zero_dimensionality_and_no_nan():
    W = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]])
    dims = helpers.feature_dimensionality(W)
    torch.testing.assert_close(dims, torch.tensor([[1.0, 0.0, 0.0]]))
    assert torch.isfinite(helpers.superposition(W)).all()


def test_two_dimensional_input_is_one_instance():
    W = polygon(5)
    assert helpers.feature_dimensionality(W).shape == (5,)
    assert helpers.dimensions_per_feature(W).shape == ()


def test_sum_of_dimensionalities_at_most_m_on_random_weights():
    W = torch.randn(8, 5, 40)
    assert (helpers.feature_dimensionality(W).sum(dim=1) <= 5 + 1e-4).all()


@pytest.mark.parametrize(
    "metric",
    [helpers.feature_dimensionality, helpers.superposition, helpers.dimensions_per_feature, helpers.feature_norms],
)
def test_bad_shapes_raise(metric):
    with pytest.raises(ValueError, match="W must have shape"):
        metric(torch.ones(5))
    with pytest.raises(TypeError, match="W must be a Tensor"):
        metric([[1.0, 0.0]])


def test_cosines_and_antipodal_partners():
    W = torch.tensor([[[1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 2.0, 1.0]]])
    cosine = helpers.metrics.feature_cosines(W)
    assert cosine.shape == (1, 4, 4)
    torch.testing.assert_close(cosine.diagonal(dim1=1, dim2=2), torch.ones(1, 4))
    partner = helpers.metrics.antipodal_partner_cosine(W)
    torch.testing.assert_close(partner, torch.tensor([[-1.0, -1.0, 0.0, 0.0]]))
    assert helpers.metrics.antipodal_partner_cosine(W[0]).shape == (4,)
    # only represented partners count: without feature 1, feature 0 loses its antipodal partner
    represented = torch.tensor([[True, False, True, True]])
    partner = helpers.metrics.antipodal_partner_cosine(W, represented)
    torch.testing.assert_close(partner, torch.tensor([[0.0, -1.0, 0.0, 0.0]]))
    assert helpers.metrics.antipodal_partner_cosine(W, torch.tensor([[True, False, False, False]]))[0, 0] == 2.0


def test_shared_direction_is_scale_free_and_counts_represented_partners():
    pair = torch.tensor([[[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]]])  # an antipodal pair and a feature of its own
    torch.testing.assert_close(helpers.metrics.shared_direction(pair), torch.tensor([[1.0, 1.0, 0.0]]))
    torch.testing.assert_close(helpers.metrics.shared_direction(3.0 * pair), helpers.metrics.shared_direction(pair))
    torch.testing.assert_close(helpers.metrics.shared_direction(pair), helpers.metrics.superposition(pair))
    alone = helpers.metrics.shared_direction(pair, torch.tensor([[True, False, True]]))
    torch.testing.assert_close(alone, torch.tensor([[0.0, 1.0, 0.0]]))  # measured against represented ones
    triangle = polygon(3).unsqueeze(0)
    torch.testing.assert_close(helpers.metrics.shared_direction(triangle), torch.full((1, 3), 0.5))
    with pytest.raises(ValueError, match="represented must be"):
        helpers.metrics.shared_direction(pair, torch.ones(1, 2, dtype=torch.bool))


def test_angular_gaps_go_round_the_circle():
    gaps = helpers.metrics.angular_gaps(polygon(5))
    assert gaps.shape == (5,)
    assert gaps.sum().item() == pytest.approx(360.0)
    assert torch.allclose(gaps, torch.full((5,), 72.0), atol=1e-3)


def test_angular_gaps_ignore_small_features():
    W = torch.cat([polygon(3), torch.tensor([[0.1], [0.0]])], dim=1)
    assert helpers.metrics.angular_gaps(W).shape == (3,)
    assert helpers.metrics.angular_gaps(W[:, :1]).numel() == 0


def test_geometry_2d_names_the_constructed_shapes():
    geometry = helpers.metrics.geometry_2d
    square = torch.tensor([[1.0, -1.0, 0.0, 0.0, 0.02], [0.0, 0.0, 1.0, -1.0, 0.01]])
    deformed = polygon(5).clone()
    deformed[:, 0] = torch.tensor([math.cos(1.0), math.sin(1.0)])  # one vertex moved well off 72°
    assert geometry(polygon(5)) == "pentagon"
    assert geometry(deformed) == "deformed pentagon"
    assert geometry(square) == "two antipodal pairs"
    assert geometry(polygon(3)) == "triangle"
    assert geometry(torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.05]])) == "orthogonal pair"
    assert geometry(torch.tensor([[1.0, -1.0], [0.0, 0.0]])) == "antipodal pair"
    assert geometry(polygon(6)) == "6 features"


def test_geometry_2d_needs_two_dimensions():
    with pytest.raises(ValueError, match="2 hidden dimensions"):
        helpers.metrics.geometry_2d(torch.zeros(3, 5))


def test_feature_phase_on_constructed_weights():
    W = torch.tensor(
        [
            [[1.0, 0.0]],  # extra feature not represented
            [[0.0, 1.0]],  # extra feature dedicated
            [[1.0, -1.0]],  # antipodal pair
        ]
    )
    assert helpers.metrics.feature_phase(W).tolist() == [0, 1, 2]
    assert helpers.metrics.feature_phase(W, 0).tolist() == [1, 0, 2]
    assert helpers.metrics.feature_phase(W[1]).item() == 1


def test_feature_phase_counts_only_an_antipodal_pair_as_superposition():
    confused = torch.tensor([[[0.8, 0.8]]])  # like McGrath's W_1 ≈ W_2: shared, but not antipodal
    assert helpers.metrics.feature_phase(confused).item() == helpers.metrics.OTHER_PHASE
    # n=3, m=2: the extra feature antipodal with feature 2 while feature 1 keeps a dimension
    paired = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, -1.0]]])
    assert helpers.metrics.feature_phase(paired).item() == 2
    # a triangle: shared with two features at 120°, no antipodal partner
    triangle = torch.tensor([[[1.0, -0.5, -0.5], [0.0, 0.866, -0.866]]])
    assert helpers.metrics.feature_phase(triangle).item() == helpers.metrics.OTHER_PHASE
    # an antipodal partner that is itself too small to be represented does not count
    faint = torch.tensor([[[0.3, 1.0]]])
    assert helpers.metrics.feature_phase(faint).item() == 1


def test_neuron_monosemanticity_and_count():
    W = torch.tensor(
        [
            [1.0, 0.0, 0.0],  # one feature: share 1
            [1.0, 1.0, 0.0],  # two equal features: 1/√2
            [0.0, 0.0, 0.0],  # no weights: 0
            [0.0, -2.0, 0.01],  # one feature, a trace of another: just below 1, above 0.99
        ]
    )
    share = helpers.metrics.neuron_monosemanticity(W)
    assert share[0] == pytest.approx(1.0)
    assert share[1] == pytest.approx(2**-0.5)
    assert share[2] == 0.0
    assert 0.99 < share[3] < 1.0
    assert helpers.metrics.monosemantic_neurons(W).item() == 2
    assert helpers.metrics.monosemantic_neurons(W.unsqueeze(0), threshold=0.7).tolist() == [3]
    with pytest.raises(ValueError, match="threshold"):
        helpers.metrics.monosemantic_neurons(W, threshold=0)


def test_feature_response_is_functional_not_a_weight_norm():
    from helpers import metrics

    W = torch.zeros(3, 2, 4)
    W[:, 0, 0], W[:, 1, 1] = 1.0, 0.3  # feature 0 dedicated, feature 1 weak, features 2 and 3 ignored
    b = torch.zeros(3, 4)
    linear = helpers.ToyModel(4, 2, 3, activation="linear").set_parameters(W, b)
    response = metrics.feature_response(linear)
    torch.testing.assert_close(response[0], torch.tensor([1.0, 0.09, 0.0, 0.0]))
    assert metrics.represented_features(linear).tolist() == [1, 1, 1]
    # A sigmoid needs large weights and a negative bias to switch a feature on and off: the norm is 3,
    # and the response counts it, because what matters is the output.
    W_sigmoid, b_sigmoid = W.clone(), torch.full((3, 4), -4.0)
    W_sigmoid[:, 0, 0] = 3.0
    sigmoid = helpers.ToyModel(4, 2, 3, activation="sigmoid").set_parameters(W_sigmoid, b_sigmoid)
    expected = torch.sigmoid(torch.tensor(5.0)) - torch.sigmoid(torch.tensor(-4.0))
    torch.testing.assert_close(metrics.feature_response(sigmoid)[:, 0], expected.expand(3))
    assert metrics.represented_features(sigmoid, threshold=0.9).tolist() == [1, 1, 1]
    with pytest.raises(ValueError, match="threshold"):
        metrics.represented_features(linear, threshold=0.0)
    with pytest.raises(TypeError, match="reconstruction model"):
        metrics.feature_response(torch.nn.Linear(2, 2))


def test_feature_phase_by_response_is_scale_free_and_needs_both_features_represented():
    inflated = torch.tensor([[[3.0, -3.0]], [[3.0, -0.2]], [[3.0, 3.0]], [[0.1, 2.5]]])  # a sigmoid's norms
    by_norm = helpers.metrics.feature_phase(inflated)
    assert by_norm.tolist() == [2, 0, helpers.metrics.OTHER_PHASE, 1]
    # the same weights, but the response says which features the model really reproduces
    represented = torch.tensor([[True, True], [True, True], [True, True], [True, False]])
    by_response = helpers.metrics.feature_phase(inflated, represented=represented)
    # the faint extra feature (norm 0.2) counts once its response says it is reproduced
    assert by_response.tolist() == [2, 2, helpers.metrics.OTHER_PHASE, 0]
    # an antipodal partner that is not represented does not make superposition
    alone = helpers.metrics.feature_phase(inflated[:1], represented=torch.tensor([[False, True]]))
    assert alone.item() == 1
    assert helpers.metrics.feature_phase(inflated[0], represented=torch.tensor([True, True])).item() == 2
    with pytest.raises(ValueError, match="represented must be"):
        helpers.metrics.feature_phase(inflated, represented=torch.ones(4, 3, dtype=torch.bool))


def absolute_value_model(sides):
    """An AbsValueModel(3, 6) that computes feature i with the neurons listed in ``sides[i]``:
    "+" (ReLU(x_i)), "-" (ReLU(−x_i)) or both."""
    model = helpers.AbsValueModel(3, 6)
    with torch.no_grad():
        model.W1.zero_(), model.W2.zero_(), model.b.zero_()
        for i, side in enumerate(sides):
            for k, sign in enumerate("+-"):
                if sign in side:
                    model.W1[0, 2 * i + k, i] = 1.0 if sign == "+" else -1.0
                    model.W2[0, i, 2 * i + k] = 1.0
    return model


def test_absolute_value_error_tells_both_sides_from_one_side_from_nothing():
    errors = helpers.metrics.absolute_value_error(absolute_value_model(["+-", "+", ""]))
    assert errors.shape == (1, 3)
    torch.testing.assert_close(errors[0], torch.tensor([0.0, 0.5, 1.0]), atol=1e-6, rtol=0)
    untrained = helpers.AbsValueModel(100, 40, n_instances=2)
    untrained.reset_parameters(torch.Generator().manual_seed(0))
    assert (helpers.metrics.absolute_value_error(untrained) > 0.25).all()
    with pytest.raises(ValueError, match="n_values"):
        helpers.metrics.absolute_value_error(untrained, n_values=1)
    with pytest.raises(TypeError, match="absolute-value model"):
        helpers.metrics.absolute_value_error(torch.zeros(3))


def test_feature_phase_by_response_counts_a_parallel_partner_whose_cosine_rounds_above_one():
    direction = torch.tensor([[-1.7786636352539062], [0.8476512432098389], [0.2459428310394287]])
    W = torch.cat([direction * 1.7, direction * 0.3], dim=1)[None]  # parallel: their float cosine is 1 + 1e-7
    assert helpers.metrics.feature_cosines(W)[0, 1, 0] > 1.0
    represented = torch.tensor([[True, True]])
    assert helpers.metrics.feature_phase(W, represented=represented).item() == helpers.metrics.OTHER_PHASE


def test_represented_geometry_counts_pairs_without_trusting_norms():
    # an antipodal pair, a feature of its own and an ignored one, told apart by their responses
    W = torch.tensor([[[2.0, -2.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0]]])
    model = helpers.ToyModel(4, 2, 1, activation="linear").set_parameters(W / 2)
    geometry = helpers.metrics.represented_geometry(model)
    assert geometry["represented"].tolist() == [[True, True, True, False]]
    assert geometry["shared"].tolist() == [[True, True, False, False]]
    assert geometry["antipodal"].tolist() == [[True, True, False, False]]
    with pytest.raises(ValueError, match="threshold"):
        helpers.metrics.represented_geometry(model, threshold=0.0)
