import math

import pytest
import torch

import helpers
from helpers.activations import ACTIVATIONS

ALL_ACTIVATIONS = sorted(ACTIVATIONS)


@pytest.mark.parametrize("activation", ALL_ACTIVATIONS)
@pytest.mark.parametrize("hidden_activation", [None, "relu"])
def test_shapes(activation, hidden_activation):
    model = helpers.ToyModel(7, 3, 4, activation=activation, hidden_activation=hidden_activation)
    assert model.W.shape == (4, 3, 7)
    assert model.b.shape == (4, 7)
    assert model(torch.rand(4, 11, 7)).shape == (4, 11, 7)


def test_forward_matches_the_definition():
    model = helpers.ToyModel(5, 2, 3, hidden_activation="relu")
    with torch.no_grad():
        model.b.normal_()
    x = torch.rand(3, 6, 5)
    for i in range(3):
        W, b = model.W[i], model.b[i]
        expected = torch.relu(torch.relu(x[i] @ W.T) @ W + b)
        torch.testing.assert_close(model(x)[i], expected)


def test_xavier_init_does_not_depend_on_instances():
    expected = math.sqrt(2 / (200 + 20))
    for n_instances in (1, 400):
        torch.manual_seed(0)
        W = helpers.ToyModel(200, 20, n_instances).W
        assert abs(W.std().item() - expected) / expected < 0.05
        assert (helpers.ToyModel(200, 20, n_instances).b == 0).all()


@pytest.mark.parametrize("activation", ALL_ACTIVATIONS)
@pytest.mark.parametrize("hidden_activation", [None, "relu"])
def test_instances_are_independent(activation, hidden_activation):
    """Instance 0's loss has exactly zero gradient with respect to every other instance's parameters."""
    model = helpers.ToyModel(6, 3, 4, activation=activation, hidden_activation=hidden_activation)
    x = helpers.sparse_features(4, 64, 6, 0.5)
    model.loss(x)[0].backward()
    for parameter in model.parameters():
        assert parameter.grad[0].abs().sum() > 0
        assert (parameter.grad[1:] == 0).all()


@pytest.mark.parametrize("activation", ALL_ACTIVATIONS)
@pytest.mark.parametrize("importance", ["uniform", "per-feature"])
@pytest.mark.parametrize("layout", ["batch-major", "feature-major"])
@pytest.mark.parametrize("weights", ["dense", "ternary", "binary"])
def test_hand_written_gradient_equals_autograd(activation, importance, layout, weights):
    model = helpers.ToyModel(9, 4, 3, activation=activation, weights=weights)
    assert model.has_fused_backward
    with torch.no_grad():
        model.b.normal_(0, 0.3)
    if layout == "batch-major":
        x = helpers.sparse_features(3, 50, 9, 0.4)
    else:  # the trainer's sampler stores batches as [n_instances, n_features, batch]
        x = helpers.SparseSampler(torch.full((3, 1, 1), 0.4), 9, seed=0).sample(50)
        assert x.transpose(1, 2).is_contiguous()
    weight = torch.rand(3, 1, 9) if importance == "per-feature" else 0.7
    loss = model.backward_loss(x, weight, need_loss=True)
    fused = [p.grad.clone() for p in model.parameters()]
    reference = model.loss(x, weight)
    torch.testing.assert_close(loss, reference.detach())
    for p in model.parameters():
        p.grad = None
    reference.sum().backward()
    for mine, theirs in zip(fused, (p.grad for p in model.parameters()), strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-4, atol=1e-6)


def test_ternary_model_uses_gamma_times_ternary_codes_and_trains():
    model = helpers.ToyModel(20, 5, 3, weights="ternary")
    gamma = model.weight.detach().abs().mean(dim=(1, 2), keepdim=True)
    codes = model.W.detach() / gamma
    assert set(codes.round().unique().tolist()) <= {-1.0, 0.0, 1.0}
    torch.testing.assert_close(codes, codes.round())
    result = helpers.train(model, density=0.1, steps=300, lr=1e-2, seed=0, progress=False)
    assert torch.isfinite(result.loss).all()
    assert (result.history[-1] < result.history[0]).all()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_features": 0}, ValueError, "n_features"),
        ({"n_hidden": -2}, ValueError, "n_hidden"),
        ({"n_instances": 1.0}, TypeError, "n_instances"),
        ({"activation": "softplus"}, ValueError, "activation must be one of"),
        ({"hidden_activation": "gelu"}, ValueError, "hidden_activation"),
        ({"weights": "quaternary"}, ValueError, "weights"),
    ],
)
def test_bad_constructor_input(kwargs, error, match):
    args = {"n_features": 5, "n_hidden": 2, **kwargs}
    with pytest.raises(error, match=match):
        helpers.ToyModel(**args)


@pytest.mark.parametrize("shape", [(2, 10, 5), (3, 10, 4), (10, 5)])
def test_mismatched_input_shape(shape):
    model = helpers.ToyModel(5, 2, 3)
    with pytest.raises(ValueError, match=r"x must have shape \[n_instances, batch, n_features\]"):
        model(torch.rand(shape))


def test_abs_value_model_shapes_target_and_forward():
    model = helpers.AbsValueModel(3, 6, n_instances=2)
    assert model.W1.shape == (2, 6, 3) and model.W2.shape == (2, 3, 6) and model.b.shape == (2, 3)
    x = torch.tensor([[[0.5, -0.25, 0.0]]]).repeat(2, 1, 1)
    assert torch.equal(model.target(x), x.abs())
    with torch.no_grad():  # one neuron per sign and feature: ReLU(x) + ReLU(-x) = |x|
        model.W1.zero_()
        model.W2.zero_()
        for i in range(3):
            model.W1[:, 2 * i, i], model.W1[:, 2 * i + 1, i] = 1.0, -1.0
            model.W2[:, i, 2 * i] = model.W2[:, i, 2 * i + 1] = 1.0
    assert torch.allclose(model(x), x.abs())
    assert model.loss(x).abs().max() < 1e-12
    assert model.with_instances(5).W1.shape == (5, 6, 3)
    with pytest.raises(ValueError, match="n_hidden"):
        helpers.AbsValueModel(3, 0)
    with pytest.raises(ValueError, match=r"\[n_instances, batch, n_features\]"):
        model(torch.zeros(2, 4, 5))


def test_abs_value_normalized_weights_keep_the_function():
    model = helpers.AbsValueModel(4, 5, n_instances=2)
    with torch.no_grad():
        model.W1[0, 3] = 0.0  # a dead neuron stays zero
    W1n, W2n = model.normalized_weights()
    assert torch.allclose(W1n.abs().amax(dim=2)[0, :3], torch.ones(3))
    assert (W1n[0, 3] == 0).all()
    x = helpers.sparse_features(2, 64, 4, 0.5, generator=torch.Generator().manual_seed(0), signed=True)
    before = model(x)
    with torch.no_grad():
        model.W1.copy_(W1n)
        model.W2.copy_(W2n)
    assert torch.allclose(model(x), before, atol=1e-6)
