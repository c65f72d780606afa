import ast
import importlib
import inspect
from pathlib import Path

import pytest
import torch

import helpers
from helpers import fourier, modular
from helpers.modular import (
    BilinearMLP,
    ModularData,
    bilinear_level,
    bilinear_variant,
    cross_entropy,
    describe_solutions,
    level_share,
    modular_addition,
    train_modular,
)


def test_modular_addition_splits_every_pair_once_and_is_seeded():
    data = modular_addition(7, train_fraction=0.3, seed=1)
    assert data.train.shape == (round(0.3 * 49), 2) and data.test.shape == (49 - 15, 2)
    every = torch.cat([data.train, data.test])
    assert len({tuple(pair) for pair in every.tolist()}) == 49
    assert torch.equal(data.train_labels, (data.train[:, 0] + data.train[:, 1]) % 7)
    assert torch.equal(modular_addition(7, train_fraction=0.3, seed=1).train, data.train)
    assert not torch.equal(modular_addition(7, train_fraction=0.3, seed=2).train, data.train)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"p": 1}, "p must be"), ({"train_fraction": 0.0}, "train_fraction"), ({"train_fraction": 1.0}, "train_fraction")],
)
def test_modular_addition_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        modular_addition(**{"p": 7, **kwargs})


def test_bilinear_forward_is_the_stated_formula():
    model = BilinearMLP(5, 3, 4, n_instances=2)
    pairs = torch.tensor([[0, 1], [4, 4], [2, 3]])
    x = torch.cat([model.E[:, pairs[:, 0]], model.E[:, pairs[:, 1]]], dim=2)  # [n_instances, batch, 2d]
    h = (x @ model.L.transpose(1, 2)) * (x @ model.R.transpose(1, 2))
    torch.testing.assert_close(model(pairs), h @ model.U.transpose(1, 2))


def test_change_of_basis_keeps_the_logits_and_changes_the_weights():
    model = BilinearMLP(11, 4, 6, n_instances=3)
    pairs = torch.cartesian_prod(torch.arange(11), torch.arange(11))
    M = fourier.hadamard_mixer(4, signs=torch.tensor([1.0, -1.0, 1.0, 1.0]))
    mixed = model.change_basis(M)
    torch.testing.assert_close(mixed(pairs), model(pairs), atol=1e-5, rtol=1e-5)
    assert not torch.allclose(mixed.E, model.E)
    torch.testing.assert_close(mixed.change_basis(M).E, model.E, atol=1e-5, rtol=1e-5)  # M is its own inverse


def test_a_hand_built_fourier_solution_adds_mod_p():
    # One frequency, four hidden units: cos w(a+b) = h1 − h2, sin w(a+b) = h3 + h4 (reference notes, 2.3).
    p, w = 7, 2 * torch.pi * 3 / 7
    residues = torch.arange(p)
    E = torch.stack([torch.cos(w * residues), torch.sin(w * residues)], dim=1)  # [p, 2]
    L = torch.tensor([[1.0, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0], [1, 0, 0, 0]])  # a's cos, sin, sin, cos
    R = torch.tensor([[0, 0, 1.0, 0], [0, 0, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1]])  # b's cos, sin, cos, sin
    U = 5 * torch.stack(
        [torch.cos(w * residues), -torch.cos(w * residues), torch.sin(w * residues), torch.sin(w * residues)], 1
    )
    model = BilinearMLP(p, 2, 4).set_parameters(E=E, L=L, R=R, U=U)
    pairs = torch.cartesian_prod(residues, residues)
    assert torch.equal(model(pairs).argmax(-1)[0], (pairs[:, 0] + pairs[:, 1]) % p)


def test_training_learns_addition_and_is_seeded():
    data = modular_addition(31, train_fraction=0.6, seed=0)
    runs = []
    for _ in range(2):
        model = BilinearMLP(31, 4, 32, n_instances=2)
        result = train_modular(model, data, steps=1500, lr=1e-2, weight_decay=1.0, schedule="cosine", seed=3)
        runs.append(model.E.detach().clone())
    assert torch.equal(runs[0], runs[1])
    assert (result.train_accuracy == 1).all()
    assert (result.test_accuracy > 0.95).all()  # pairs it never saw: the rule, not a memorised table
    assert result.history["train_loss"].shape[1] == 2


def test_best_of_keeps_the_lowest_training_loss_of_each_instance():
    data = modular_addition(11, train_fraction=0.5, seed=0)
    model = BilinearMLP(11, 2, 4, n_instances=2)
    result = train_modular(model, data, steps=20, lr=1e-2, seed=0, best_of=3)
    assert result.candidate_losses.shape == (2, 3)
    torch.testing.assert_close(result.train_loss, result.candidate_losses.min(dim=1).values, atol=1e-5, rtol=1e-5)
    assert result.history["train_loss"].shape[1] == 2


def test_per_instance_weight_decay_is_per_instance():
    data = modular_addition(7, train_fraction=0.5, seed=0)
    together = BilinearMLP(7, 2, 4, n_instances=2)
    train_modular(together, data, steps=30, lr=1e-2, weight_decay=torch.tensor([0.0, 2.0]), seed=0)
    alone = BilinearMLP(7, 2, 4, n_instances=2)
    train_modular(alone, data, steps=30, lr=1e-2, weight_decay=0.0, seed=0)
    torch.testing.assert_close(together.E[0], alone.E[0])
    assert not torch.allclose(together.E[1], alone.E[1])


def test_cross_entropy_per_instance():
    logits = torch.tensor([[[2.0, 0.5, -1.0]], [[4.0, 1.0, -2.0]]])  # [2 instances, 1 pair, 3 classes]
    torch.testing.assert_close(
        cross_entropy(logits, torch.tensor([0])), torch.tensor([0.2413, 0.0509]), atol=1e-4, rtol=0
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"steps": 0}, ValueError, "steps"),
        ({"weight_decay": -1.0}, ValueError, "weight_decay"),
        ({"weight_decay": torch.ones(3)}, ValueError, "weight_decay"),
        ({"schedule": "linear"}, ValueError, "schedule"),
        ({"data": modular_addition(5)}, ValueError, "mod 5"),
        ({"data": "pairs"}, TypeError, "ModularData"),
    ],
)
def test_train_modular_bad_input(kwargs, error, message):
    call = {"data": modular_addition(7), "steps": 5, **kwargs}
    with pytest.raises(error, match=message):
        train_modular(BilinearMLP(7, 2, 4, n_instances=2), **call)


def test_model_bad_input():
    with pytest.raises(ValueError, match="pairs must be"):
        BilinearMLP(7, 2, 4)(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="d must be"):
        BilinearMLP(7, 0, 4)
    with pytest.raises(ValueError, match="U must have shape"):
        BilinearMLP(7, 2, 4).set_parameters(
            E=torch.ones(7, 2), L=torch.ones(4, 4), R=torch.ones(4, 4), U=torch.ones(4, 7)
        )
    assert isinstance(modular_addition(7), ModularData)


def test_hand_written_gradient_equals_autograd():
    data = modular_addition(13, train_fraction=0.5, seed=0)
    model = BilinearMLP(13, 4, 6, n_instances=3)
    loss = cross_entropy(model(data.train), data.train_labels)
    loss.sum().backward()
    expected = {name: parameter.grad.clone() for name, parameter in model.named_parameters()}
    by_hand = model.backward_cross_entropy(data.train, data.train_labels)
    torch.testing.assert_close(by_hand, loss.detach(), atol=1e-6, rtol=1e-5)
    for name, parameter in model.named_parameters():
        torch.testing.assert_close(parameter.grad, expected[name], atol=1e-6, rtol=1e-4, msg=name)


def _gradients(model: BilinearMLP, loss: torch.Tensor) -> dict[str, torch.Tensor]:
    for parameter in model.parameters():
        parameter.grad = None
    loss.sum().backward()
    return {name: parameter.grad.clone() for name, parameter in model.named_parameters()}


def _confident_fourier_model(p: int = 59, scale: float = 40.0) -> tuple[BilinearMLP, torch.Tensor, torch.Tensor]:
    """One frequency, logits ``scale · cos w(a + b − c)``: right on every pair, the answers next to the right
    one within a few units of it, and a third of the answers more than 60 below the top (gap > 1.5 scale)."""
    model = BilinearMLP(p, 2, 4).set_parameters(**fourier.sparse_solution(p, [1], unembed_scale=scale))
    pairs = torch.cartesian_prod(torch.arange(p), torch.arange(p))
    shifted = model(pairs).detach()
    shifted = shifted - shifted.amax(dim=2, keepdim=True)  # [1, p², p]
    return model, pairs, shifted


def test_hand_written_gradient_equals_autograd_where_the_clip_at_minus_60_is_active():
    # Confident and right: wrong answers more than 60 below the top count as −60 in the loss, which
    # changes the loss and every gradient entry by at most p·e⁻⁶⁰, so the hand-written gradient must still
    # be autograd's gradient of the clipped loss (cross_entropy).
    model, pairs, shifted = _confident_fourier_model()
    labels = (pairs[:, 0] + pairs[:, 1]) % model.p
    assert (shifted[0, torch.arange(len(labels)), labels] == 0).all()  # every pair right
    assert 0.25 < (shifted < -60).float().mean() < 0.5  # the clip is active, on a third of the logits
    loss = cross_entropy(model(pairs), labels)
    expected = _gradients(model, loss)
    assert max(grad.abs().max() for grad in expected.values()) > 1e-2  # a gradient, not rounding noise
    by_hand = model.backward_cross_entropy(pairs, labels)
    torch.testing.assert_close(by_hand, loss.detach(), atol=1e-6, rtol=1e-5)
    for name, parameter in model.named_parameters():
        torch.testing.assert_close(parameter.grad, expected[name], atol=1e-6, rtol=1e-4, msg=name)


def test_the_clip_at_minus_60_is_straight_through_for_confidently_wrong_pairs():
    # Confidently wrong: on half of the pairs the label is the answer opposite the top (about 80 below it).
    # By design the clip only spares the forward pass subnormal floats: the loss is the clipped one
    # (about 60 + log p on such a pair), but the hand-written gradient is the unclipped cross-entropy's
    # (softmax of the clipped logits − one-hot), so a wrong pair still pulls its right answer up.
    # Autograd of the clipped loss would give that answer no gradient: it is flat below −60.
    model, pairs, shifted = _confident_fourier_model()
    wrong = torch.arange(len(pairs)) % 2 == 1
    labels = (pairs[:, 0] + pairs[:, 1] + wrong * (model.p // 2)) % model.p
    assert (shifted[0, wrong.nonzero().flatten(), labels[wrong]] < -60).all()
    logits = model(pairs)
    clipped = cross_entropy(logits, labels)
    unclipped = -logits.log_softmax(dim=2)[0, torch.arange(len(labels)), labels].mean().unsqueeze(0)
    assert (clipped < unclipped - 5).all()  # the clip caps the wrong pairs' loss
    of_unclipped = _gradients(model, unclipped)
    of_clipped = _gradients(model, cross_entropy(model(pairs), labels))
    by_hand = model.backward_cross_entropy(pairs, labels)
    torch.testing.assert_close(by_hand, clipped.detach(), atol=1e-5, rtol=1e-5)  # the loss: clipped
    for name, parameter in model.named_parameters():  # the gradient: unclipped
        torch.testing.assert_close(parameter.grad, of_unclipped[name], atol=1e-5, rtol=1e-4, msg=name)
    assert not torch.allclose(of_clipped["U"], of_unclipped["U"], atol=1e-2)  # which is not autograd's of clipped


def test_chapter_8_lives_in_helpers_modular_and_what_it_builds_on_does_not_import_it():
    for name in ("BilinearMLP", "ModularData", "modular_addition", "train_modular", "cross_entropy"):
        assert getattr(helpers, name) is getattr(modular, name)
    assert not hasattr(helpers.models, "BilinearMLP") and not hasattr(helpers.data, "ModularData")
    below = {"data", "models"}  # and every helpers module that helpers.modular imports
    for path in Path(modular.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 2:
                below |= {node.module} if node.module else {alias.name for alias in node.names}
    for name in sorted(below):
        tree = ast.parse(inspect.getsource(importlib.import_module(f"helpers.{name}")))
        imports = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        imported = {node.module or "" for node in imports} | {alias.name for node in imports for alias in node.names}
        assert not any("modular" in entry for entry in imported), f"helpers.{name} imports helpers.modular"


def test_sparse_solution_mixed_by_hadamard_keeps_the_function_and_gains_logit_under_a_bound():
    p = 23
    sparse = BilinearMLP(p, 4, 8).set_parameters(**fourier.sparse_solution(p, [3, 8]))
    mixed = sparse.change_basis(fourier.hadamard_mixer(4))
    pairs = torch.cartesian_prod(torch.arange(p), torch.arange(p))
    labels = (pairs[:, 0] + pairs[:, 1]) % p
    torch.testing.assert_close(mixed(pairs), sparse(pairs), atol=1e-5, rtol=1e-5)
    assert (sparse(pairs)[0].argmax(-1) == labels).all()
    gains = {}
    for name, solution in (("sparse", sparse), ("mixed", mixed)):
        weights = {key: getattr(solution, key).detach()[0] for key in "ELRU"}
        bounded, gains[name] = fourier.scale_to_bound(weights, 1.0)
        assert max(value.abs().max().item() for value in bounded.values()) == pytest.approx(1.0)
    assert gains["sparse"] == pytest.approx(1.0)
    assert gains["mixed"] > 1.5


def test_best_hadamard_unmixer_undoes_a_hadamard_mixture():
    p = 29
    E = fourier.sparse_solution(p, [2, 9])["E"]  # pure columns: cos 2, sin 2, cos 9, sin 9
    M = fourier.hadamard_mixer(4, signs=torch.tensor([1.0, -1.0, -1.0, 1.0]), permutation=torch.tensor([2, 0, 3, 1]))
    mixed = E @ M.T
    assert fourier.frequency_purity(mixed).max() < 0.6
    unmixer, purity = fourier.best_hadamard_unmixer(mixed)
    torch.testing.assert_close(purity, torch.ones(4), atol=1e-5, rtol=0)
    torch.testing.assert_close(unmixer @ unmixer, torch.eye(4), atol=1e-6, rtol=0)


def test_sgd_trains_and_is_another_optimiser():
    data = modular_addition(11, train_fraction=0.5, seed=0)
    adam, sgd = BilinearMLP(11, 2, 4), BilinearMLP(11, 2, 4)
    train_modular(adam, data, steps=20, lr=1e-2, seed=0)
    result = train_modular(sgd, data, steps=20, lr=1e-2, seed=0, optimizer="sgd", momentum=0.5)
    assert result.options["optimizer"] == "sgd" and result.options["momentum"] == 0.5
    assert not torch.allclose(adam.E, sgd.E)
    with pytest.raises(ValueError, match="optimizer"):
        train_modular(sgd, data, steps=2, optimizer="lion")
    with pytest.raises(ValueError, match="momentum"):
        train_modular(sgd, data, steps=2, optimizer="sgd", momentum=1.0)


def test_one_sgd_step_is_decay_then_gradient():
    # w ← w(1 − lr·λ) − lr·∇L(w): for SGD, decoupled decay is the gradient step of the L2 penalty λ‖w‖²/2.
    data = modular_addition(7, train_fraction=0.5, seed=0)
    start = BilinearMLP(7, 2, 4)
    train_modular(start, data, steps=1, lr=1e-30, seed=4, weight_decay=0.0, optimizer="sgd", warmup_steps=0)
    start.backward_cross_entropy(data.train, data.train_labels)
    model = BilinearMLP(7, 2, 4)
    lr, decay = 0.1, 0.5
    train_modular(model, data, steps=1, lr=lr, seed=4, weight_decay=decay, optimizer="sgd", warmup_steps=0)
    for name, parameter in model.named_parameters():
        before = getattr(start, name)
        expected = before.detach() * (1 - lr * decay) - lr * before.grad
        torch.testing.assert_close(parameter.detach(), expected, atol=1e-6, rtol=1e-5, msg=name)


def test_best_of_keeps_every_candidate():
    data = modular_addition(11, train_fraction=0.5, seed=0)
    model = BilinearMLP(11, 2, 4, n_instances=2)
    result = train_modular(model, data, steps=20, lr=1e-2, seed=0, best_of=3)
    assert result.candidates.n_instances == 6 and result.candidates.E.device.type == "cpu"
    assert result.candidate_test_accuracy.shape == (2, 3)
    chosen = result.candidate_losses.argmin(dim=1)
    for instance in range(2):
        kept = result.candidates.E[instance * 3 + chosen[instance]].detach()
        torch.testing.assert_close(kept, model.E[instance].detach())
        assert result.candidate_test_accuracy[instance, chosen[instance]] == result.test_accuracy[instance]


def test_level_share_tells_a_sign_matrix_from_gaussian_weights():
    signs = BilinearMLP(7, 2, 64, n_instances=2)
    generator = torch.Generator().manual_seed(0)
    pattern = torch.randint(0, 2, (2, 64, 4), generator=generator) * 2.0 - 1
    signs.set_parameters(E=signs.E.detach(), L=0.9 * pattern, R=0.9 * pattern.flip(1), U=signs.U.detach())
    torch.testing.assert_close(level_share(signs), torch.ones(2))
    torch.testing.assert_close(bilinear_level(signs), torch.full((2,), 0.9))
    gaussian = BilinearMLP(7, 2, 256, n_instances=2)  # 2·256·4 entries each: the share give or take 0.009
    assert modular.GAUSSIAN_LEVEL_SHARE == pytest.approx(0.1849, abs=1e-4)
    assert ((level_share(gaussian) - modular.GAUSSIAN_LEVEL_SHARE).abs() < 0.04).all()
    with pytest.raises(ValueError, match="tolerance"):
        level_share(gaussian, tolerance=0.0)


def test_bilinear_variants_round_and_rescale():
    model = BilinearMLP(7, 2, 8, n_instances=2)
    with torch.no_grad():
        model.L.mul_(3.0)
    pairs = torch.cartesian_prod(torch.arange(7), torch.arange(7))
    c = {name: getattr(model, name).detach().abs().mean(dim=(1, 2)) for name in "LR"}
    integers = bilinear_variant(model, "integers")
    assert set(torch.cat([integers.L, integers.R]).unique().tolist()) <= {-1.0, 0.0, 1.0}
    own = bilinear_variant(model, "own scale")
    for name in "LR":
        levels = getattr(own, name).detach().abs()
        assert ((levels == 0) | torch.isclose(levels, c[name].view(-1, 1, 1).expand_as(levels))).all()
    rescaled = bilinear_variant(model, "rescaled")  # logits shrink or grow by 1/(c_L c_R), nothing else
    with torch.no_grad():
        expected = model(pairs) / (c["L"] * c["R"]).view(-1, 1, 1)
        torch.testing.assert_close(rescaled(pairs), expected, atol=1e-4, rtol=1e-4)
    with pytest.raises(ValueError, match="kind"):
        bilinear_variant(model, "halves")
    with pytest.raises(TypeError, match="BilinearMLP"):
        level_share("weights")


def test_describe_solutions_tells_a_hadamard_mixture_from_the_sparse_solution():
    p = 17
    sparse = BilinearMLP(p, 4, 8).set_parameters(**fourier.sparse_solution(p, [2, 5]))
    mixed = sparse.change_basis(fourier.hadamard_mixer(4))
    of_sparse, of_mixed = describe_solutions(sparse), describe_solutions(mixed)
    for described in (of_sparse, of_mixed):
        torch.testing.assert_close(described["two_frequency_share"], torch.ones(1), atol=1e-5, rtol=0)
    # mixed: each row of L is a row of M (entries ±1/2) on a's half and 0 on b's (the hand-built L reads
    # only a, R only b), so c = 1/4 and no entry is near it; every column is half one frequency, half the other
    torch.testing.assert_close(of_mixed["level"], torch.full((1,), 0.25), atol=1e-5, rtol=0)
    torch.testing.assert_close(of_mixed["largest_bilinear"], torch.full((1,), 0.5), atol=1e-5, rtol=0)
    torch.testing.assert_close(of_mixed["purest_column"], torch.full((1,), 0.5), atol=1e-4, rtol=0)
    torch.testing.assert_close(of_mixed["unmixed_purity"], torch.ones(1), atol=1e-4, rtol=0)
    # sparse: one-hot rows (c = 1/8, no entry within 20% of it), pure columns that no Hadamard mixer keeps pure
    assert of_sparse["level_share"].item() == 0.0 and of_mixed["level_share"].item() == 0.0
    torch.testing.assert_close(of_sparse["purest_column"], torch.ones(1), atol=1e-5, rtol=0)
    assert of_sparse["unmixed_purity"].item() < modular.PURE_COLUMN
    untrained = describe_solutions(BilinearMLP(p, 4, 8, n_instances=3))
    assert (untrained["two_frequency_share"] < 0.6).all() and (untrained["unmixed_purity"] < modular.PURE_COLUMN).all()


def test_instances_and_best_of_groups_pick_what_train_modular_keeps():
    data = modular_addition(11, train_fraction=0.5, seed=0)
    kept = BilinearMLP(11, 2, 4, n_instances=2)
    result = train_modular(kept, data, steps=20, lr=1e-2, seed=0, best_of=3)
    chosen = modular.best_of_groups(result.candidate_losses.flatten(), 3)
    assert chosen.shape == (2,)
    torch.testing.assert_close(modular.instances(result.candidates, chosen).E, kept.E.detach())
    assert modular.instances(result.candidates, slice(0, 3)).n_instances == 3
    with pytest.raises(ValueError, match="index"):
        modular.instances(kept, [5])
    with pytest.raises(ValueError, match="group"):
        modular.best_of_groups(torch.ones(5), 3)
