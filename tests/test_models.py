import math

import pytest
import torch

import helpers
from helpers.activations import ACTIVATIONS
from helpers.models import WEIGHT_KINDS

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


@pytest.mark.parametrize(
    "build",
    [
        lambda: helpers.ToyModel(5, 2, 3),
        lambda: helpers.ToyModel(5, 2, 3, weights=("dense", "ternary", "binary"), hidden_activation="relu"),
        lambda: helpers.AbsValueModel(5, 4, 3),
    ],
    ids=["toy", "toy-mixed-weights", "abs-value"],
)
def test_models_declare_what_the_trainer_relies_on(build):
    model = build()
    assert isinstance(model, helpers.InstanceModel)
    assert model.n_instances == 3 and model.n_features == 5 and isinstance(model.signed_inputs, bool)
    assert len(model.weight_kinds) == 3 and set(model.weight_kinds) <= set(WEIGHT_KINDS)
    assert all(parameter.shape[0] == 3 for parameter in model.parameters())  # the instance axis first
    grown = model.with_instances(6)
    assert type(grown) is type(model) and grown.n_instances == 6 and grown.n_features == 5
    assert [p.shape[1:] for p in grown.parameters()] == [p.shape[1:] for p in model.parameters()]
    x = helpers.sparse_features(3, 8, 5, 0.5, signed=model.signed_inputs)
    assert model(x).shape == x.shape and model.target(x).shape == x.shape
    recorded = model.checkpoint_weights()
    if isinstance(model, helpers.ToyModel):
        torch.testing.assert_close(recorded[0], model.W)
        assert recorded[1] is model.b
    else:
        assert recorded is None and model.signed_inputs


class _Scale(helpers.InstanceModel):
    """The smallest model the trainer accepts: ``x' = s ⊙ x``, one scale per instance and feature."""

    def __init__(self, n_features: int, n_instances: int = 1) -> None:
        super().__init__()
        self.n_features, self.n_instances = n_features, n_instances
        self.scale = torch.nn.Parameter(torch.empty(n_instances, 1, n_features))
        self.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale

    def reset_parameters(self, generator: torch.Generator | None = None, scale: float = 1.0) -> None:
        with torch.no_grad():
            self.scale.copy_(torch.randn(self.scale.shape, generator=generator) * scale)

    def with_instances(self, n_instances: int) -> "_Scale":
        return _Scale(self.n_features, n_instances)


def test_the_declared_contract_is_all_the_trainer_needs():
    model = _Scale(4, n_instances=2)
    result = helpers.train(model, density=0.5, steps=300, lr=3e-2, best_of=2, weight_decay=0.0, schedule="cosine")
    assert result.candidate_losses.shape == (2, 2)
    torch.testing.assert_close(model.scale.detach(), torch.ones(2, 1, 4), atol=0.02, rtol=0)
    with pytest.raises(TypeError, match="checkpoints record W and b"):
        helpers.train(model, density=0.5, steps=2, checkpoints=[0])

    class Incomplete(helpers.InstanceModel):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()
