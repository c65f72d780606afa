import pytest
import torch

from helpers import fourier
from helpers.data import ModularData, modular_addition
from helpers.models import BilinearMLP
from helpers.modular import cross_entropy, train_modular


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
