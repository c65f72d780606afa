import inspect

import pytest
import torch

import helpers
from helpers.train import lr_factor


def small_model(n_instances=3):
    return helpers.ToyModel(5, 2, n_instances)


def test_training_reduces_the_loss():
    model = small_model()
    result = helpers.train(model, density=0.1, steps=300, batch_size=256, lr=1e-2)
    assert result.loss.shape == (3,)
    assert result.history.shape[1] == 3
    assert (result.history[-5:].mean(0) < 0.7 * result.history[0]).all()
    # the evaluation loss is the real loss of the returned weights
    x = helpers.sparse_features(3, 50_000, 5, 0.1)
    torch.testing.assert_close(model.loss(x).detach(), result.loss, rtol=0.05, atol=0)


def test_same_seed_identical_weights_other_seed_different():
    a, b, c = small_model(), small_model(), small_model()
    helpers.train(a, density=0.2, steps=50, seed=7)
    torch.manual_seed(999)  # the global RNG must not matter
    helpers.train(b, density=0.2, steps=50, seed=7)
    helpers.train(c, density=0.2, steps=50, seed=8)
    assert torch.equal(a.W, b.W) and torch.equal(a.b, b.b)
    assert not torch.equal(a.W, c.W)


@pytest.mark.parametrize("activation", ["relu", "gelu"])  # the hand-written and the autograd gradient
def test_instances_train_independently(activation):
    """Changing instance 1's density and importance leaves instance 0's trajectory untouched."""
    first = helpers.ToyModel(6, 2, 2, activation=activation)
    second = helpers.ToyModel(6, 2, 2, activation=activation)
    helpers.train(first, density=torch.tensor([0.3, 0.9]), steps=60, lr=1e-2, seed=3)
    importance = torch.tensor([[1.0] * 6, [5.0, 4, 3, 2, 1, 0]])
    helpers.train(second, density=torch.tensor([0.3, 0.02]), importance=importance, steps=60, lr=1e-2, seed=3)
    torch.testing.assert_close(first.W[0], second.W[0], rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(first.b[0], second.b[0], rtol=1e-5, atol=1e-7)
    assert not torch.allclose(first.W[1], second.W[1])


def test_best_of_k_keeps_the_lowest_loss_candidate():
    model = helpers.ToyModel(5, 2, 2)
    result = helpers.train(
        model, density=torch.tensor([1.0, 0.05]), steps=150, lr=1e-2, seed=1, best_of=4, eval_batch_size=200_000
    )
    assert result.candidate_losses.shape == (2, 4)
    torch.testing.assert_close(result.loss, result.candidate_losses.min(dim=1).values)
    assert model.W.shape == (2, 2, 5)
    # the chosen weights are a real trained candidate: their loss matches the reported one
    x = helpers.sparse_features(2, 100_000, 5, torch.tensor([1.0, 0.05]))
    torch.testing.assert_close(model.loss(x).detach(), result.loss, rtol=0.05, atol=0)


def test_non_finite_loss_stops_with_a_clear_error():
    with pytest.raises(FloatingPointError, match="non-finite"):
        helpers.train(small_model(), density=1.0, steps=20, lr=1e30, log_every=1)


def test_schedules():
    assert lr_factor(0, 100, "constant", 0) == 1.0
    assert lr_factor(0, 100, "constant", 10) == pytest.approx(0.1)
    assert lr_factor(9, 100, "cosine", 10) == pytest.approx(1.0)
    assert lr_factor(10, 100, "cosine", 10) == pytest.approx(1.0)
    assert lr_factor(55, 100, "cosine", 10) == pytest.approx(0.5)
    assert lr_factor(99, 100, "cosine", 0) < 0.01


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"density": 1.2}, ValueError, "density"),
        ({"density": torch.tensor([0.5, 0.5])}, ValueError, "density"),
        ({"importance": -1.0}, ValueError, "importance"),
        ({"importance": torch.ones(4)}, ValueError, "importance"),
        ({"steps": 0}, ValueError, "steps"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"lr": 0.0}, ValueError, "lr"),
        ({"lr": float("nan")}, ValueError, "lr"),
        ({"seed": -1}, ValueError, "seed"),
        ({"schedule": "linear"}, ValueError, "schedule"),
        ({"best_of": 0}, ValueError, "best_of"),
        ({"weight_decay": -0.1}, ValueError, "weight_decay"),
        ({"learning_rate": 0.1}, TypeError, "unexpected keyword argument 'learning_rate'"),
        ({"init": "zeros"}, ValueError, "init"),
        ({"init": "keep", "best_of": 2}, ValueError, "best_of"),
    ],
)
def test_bad_input(kwargs, error, match):
    args = {"density": 0.5, "steps": 5, **kwargs}
    with pytest.raises(error, match=match):
        helpers.train(small_model(), **args)


def test_model_must_be_a_helpers_model():
    with pytest.raises(TypeError, match="model"):
        helpers.train(torch.nn.Linear(2, 2), density=0.5, steps=1)


def test_init_keep_continues_from_the_given_weights():
    """A hand-built optimum (two orthogonal features, the rest dropped at their mean) barely moves."""
    model = helpers.ToyModel(4, 2, 2)
    W = torch.zeros(2, 2, 4)
    W[:, 0, 0] = W[:, 1, 1] = 1.0
    b = torch.tensor([0.0, 0.0, 0.5, 0.5]).expand(2, 4)
    model.set_parameters(W, b)
    helpers.train(model, density=1.0, importance=torch.tensor([1.0, 1.0, 0.1, 0.1]), steps=20, lr=1e-3, init="keep")
    assert (model.W - W).abs().max() < 0.05
    fresh = helpers.ToyModel(4, 2, 2).set_parameters(W, b)
    helpers.train(fresh, density=1.0, steps=1, lr=1e-3)  # default init="random" replaces the weights
    assert (fresh.W - W).abs().max() > 0.1


@pytest.mark.parametrize(
    ("W", "b", "match"),
    [
        (torch.zeros(2, 2, 3), None, "W must have shape"),
        (torch.zeros(2, 2, 4), torch.zeros(4), "b must have shape"),
        ([[0.0]], None, "W must be a Tensor"),
    ],
)
def test_set_parameters_checks_shapes(W, b, match):
    with pytest.raises((ValueError, TypeError), match=match):
        helpers.ToyModel(4, 2, 2).set_parameters(W, b)


def test_training_on_feature_sets():
    sets = [("correlated", 2), ("anticorrelated", 2)]
    model = helpers.ToyModel(4, 2, 2)
    result = helpers.train(model, density=torch.tensor([0.05, 0.2]), steps=200, lr=1e-2, feature_sets=sets)
    assert result.loss.shape == (2,) and torch.isfinite(result.loss).all()
    with pytest.raises(ValueError, match="feature_sets describe 3 features"):
        helpers.train(model, density=0.1, steps=1, feature_sets=[("correlated", 3)])
    with pytest.raises(ValueError, match="largest feasible"):
        helpers.train(model, density=0.9, steps=1, feature_sets=sets)
    with pytest.raises(ValueError, match="one per instance"):
        helpers.train(model, density=torch.full((2, 4), 0.1), steps=1, feature_sets=sets)


def test_checkpoints_record_weights_and_loss():
    steps = 120
    marks = helpers.log_spaced_steps(steps, 10)
    assert marks[0] == 0 and marks[-1] == steps - 1 and marks == sorted(set(marks))
    model = small_model(2)
    result = helpers.train(model, density=0.2, steps=steps, lr=1e-2, seed=3, checkpoints=marks, best_of=2)
    checkpoints = result.checkpoints
    assert checkpoints["step"].tolist() == marks
    assert checkpoints["W"].shape == (len(marks), 2, 2, 5) and checkpoints["b"].shape == (len(marks), 2, 5)
    assert checkpoints["loss"].shape == (len(marks), 2)
    torch.testing.assert_close(checkpoints["W"][-1], model.W.detach())  # the last step is the final model
    torch.testing.assert_close(checkpoints["b"][-1], model.b.detach())
    assert helpers.train(model, density=0.2, steps=5).checkpoints is None


def test_checkpoints_follow_one_run_exactly():
    a, b = small_model(1), small_model(1)
    result = helpers.train(a, density=0.2, steps=30, lr=1e-2, seed=4, checkpoints=[9])
    helpers.train(b, density=0.2, steps=10, lr=1e-2, seed=4)  # the same run, stopped after step 9
    # a constant schedule: the first 10 steps of both runs are identical
    torch.testing.assert_close(result.checkpoints["W"][0], b.W.detach())


@pytest.mark.parametrize(("checkpoints", "error"), [([5, 50], ValueError), ([-1], ValueError), ("0", TypeError)])
def test_bad_checkpoints(checkpoints, error):
    with pytest.raises(error, match="checkpoints"):
        helpers.train(small_model(), density=0.5, steps=10, checkpoints=checkpoints)


def test_abs_value_model_trains_on_signed_inputs():
    model = helpers.AbsValueModel(2, 4, n_instances=4)
    result = helpers.train(model, density=1.0, steps=1500, lr=1e-2, seed=0, progress=False, best_of=2)
    assert result.loss.min() < 1e-3  # |x| for two dense features with four neurons
    with pytest.raises(ValueError, match="signed inputs"):
        helpers.train(model, density=0.1, steps=1, feature_sets=[("correlated", 2)], progress=False)
    with pytest.raises(TypeError, match="checkpoints record W and b"):
        helpers.train(model, density=0.1, steps=2, checkpoints=[0], progress=False)


def test_the_untrained_control_keeps_the_initial_weights(monkeypatch):
    trained, control = small_model(), small_model()
    helpers.train(trained, density=0.1, steps=100, lr=1e-2, seed=3)
    monkeypatch.setenv("SUPERPOSITION_CONTROL", "untrained")
    result = helpers.train(control, density=0.1, steps=100, lr=1e-2, seed=3)
    initial = small_model()
    initial.reset_parameters(torch.Generator().manual_seed(helpers.data.derived_seed(3, 1)), 1.0)
    torch.testing.assert_close(control.W, initial.W, atol=1e-6, rtol=0)  # the same loop, nothing learned
    assert not torch.allclose(trained.W, initial.W, atol=1e-2)
    assert result.history.shape == (100, 3)


def test_stratified_evaluation_measures_rare_collisions_precisely():
    # An antipodal pair errs only when both features are present (probability p²), by min(x1, x2)²
    # on each: a loss of p²/6 per feature. At p = 0.01 a random evaluation set of 16,384 inputs holds
    # about 1.6 such inputs; the stratified one measures it to a few per cent.
    p = 0.01
    losses = {}
    for evaluation in ("sampled", "stratified"):
        model = helpers.ToyModel(2, 1, n_instances=4).set_parameters(torch.tensor([[[1.0, -1.0]]]).repeat(4, 1, 1))
        result = helpers.train(model, density=p, steps=1, lr=1e-12, init="keep", evaluation=evaluation, seed=5)
        losses[evaluation] = result.loss
    exact = p * p / 6
    assert ((losses["stratified"] / exact - 1).abs() < 0.05).all()
    with pytest.raises(ValueError, match="stratified"):
        helpers.train(small_model(), density=0.1, steps=1, feature_sets=[("correlated", 5)], evaluation="stratified")


def test_per_instance_learning_rates_match_separate_runs():
    # Different densities keep the instances on one data stream, so each sees what it would see alone.
    W = torch.randn(2, 3, 6, generator=torch.Generator().manual_seed(5)) * 0.4
    density = torch.tensor([0.3, 0.2])
    together = helpers.ToyModel(6, 3, 2).set_parameters(W)
    helpers.train(together, density=density, steps=40, lr=torch.tensor([1e-2, 1e-3]), init="keep", progress=False)
    for i, lr in enumerate((1e-2, 1e-3)):
        alone = helpers.ToyModel(6, 3, 1).set_parameters(W[i : i + 1])
        helpers.train(alone, density=float(density[i]), steps=40, lr=lr, init="keep", progress=False)
        torch.testing.assert_close(together.W[i : i + 1], alone.W, rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match=r"lr must be a float > 0 or a Tensor\[n_instances\]"):
        helpers.train(together, density=0.1, steps=1, lr=torch.tensor([1e-2, 0.0]))
    with pytest.raises(ValueError, match="lr must be"):
        helpers.train(together, density=0.1, steps=1, lr=torch.tensor([1e-2, 1e-2, 1e-2]))


def test_one_kind_of_weights_per_instance_trains_like_separate_models():
    kinds = ("dense", "ternary", "binary")
    W = torch.randn(3, 3, 6, generator=torch.Generator().manual_seed(6)) * 0.4
    density = torch.tensor([0.3, 0.2, 0.1])
    mixed = helpers.ToyModel(6, 3, 3, weights=kinds).set_parameters(W)
    assert mixed.weight_kinds == kinds
    helpers.train(mixed, density=density, steps=30, lr=1e-2, init="keep", progress=False)
    for i, kind in enumerate(kinds):
        alone = helpers.ToyModel(6, 3, 1, weights=kind).set_parameters(W[i : i + 1])
        helpers.train(alone, density=float(density[i]), steps=30, lr=1e-2, init="keep", progress=False)
        torch.testing.assert_close(mixed.W[i : i + 1], alone.W, rtol=1e-4, atol=1e-6)
    grown = mixed.with_instances(6)  # best-of-2 layout: candidate c of instance i is instance 2i + c
    assert grown.weight_kinds == ("dense", "dense", "ternary", "ternary", "binary", "binary")
    assert helpers.ToyModel(6, 3, 2, weights=("ternary", "ternary")).weights == "ternary"
    with pytest.raises(ValueError, match="one kind or one per instance"):
        helpers.ToyModel(6, 3, 2, weights=("dense",))
    with pytest.raises(ValueError, match="multiple of 3"):
        mixed.with_instances(4)


OPTIONS = [
    "density",
    "importance",
    "steps",
    "batch_size",
    "lr",
    "seed",
    "weight_decay",
    "schedule",
    "warmup_steps",
    "best_of",
    "init_scale",
    "init",
    "checkpoints",
    "feature_sets",
    "log_every",
    "eval_batch_size",
    "evaluation",
    "progress",
    "description",
]


def test_the_signature_lists_every_option_as_a_documented_keyword_only_parameter():
    parameters = inspect.signature(helpers.train).parameters
    assert list(parameters) == ["model", *OPTIONS]
    assert all(parameters[name].kind is inspect.Parameter.KEYWORD_ONLY for name in OPTIONS)
    assert all(parameters[name].annotation is not inspect.Parameter.empty for name in OPTIONS)
    defaults = {name: parameters[name].default for name in OPTIONS}
    assert defaults["density"] is defaults["steps"] is inspect.Parameter.empty  # required
    assert defaults["weight_decay"] == 0.01 and defaults["best_of"] == 1 and defaults["eval_batch_size"] == 16384
    assert all(f"``{name}``" in helpers.train.__doc__ for name in OPTIONS)
    with pytest.raises(TypeError, match="learning_rate"):  # Python's own error for an unknown keyword
        helpers.train(small_model(), density=0.5, steps=5, learning_rate=0.1)
