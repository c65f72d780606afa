"""helpers.controls: the norm-matched negative control keeps trained norms and biases, not directions."""

import pytest
import torch

import helpers
from helpers import controls


def test_randomise_directions_keeps_every_column_norm_and_the_biases_but_not_the_directions():
    model = helpers.ToyModel(5, 2, n_instances=3)
    W, b = model.W.detach().clone(), model.b.detach().clone()
    controls.randomise_directions_(model, torch.Generator().manual_seed(0))
    torch.testing.assert_close(model.W.detach().norm(dim=1), W.norm(dim=1))
    torch.testing.assert_close(model.b.detach(), b)
    cosines = torch.nn.functional.cosine_similarity(model.W.detach(), W, dim=1)
    assert (cosines.abs() < 0.999).any()
    with pytest.raises(TypeError, match="model"):
        controls.randomise_directions_(W, torch.Generator())


def test_the_trainers_apply_the_control_only_when_it_is_on(monkeypatch):
    def trained(control):
        monkeypatch.setenv("SUPERPOSITION_CONTROL", control)
        model = helpers.ToyModel(5, 2, n_instances=2)
        result = helpers.train(model, density=0.1, steps=200, batch_size=64, lr=1e-2, seed=0)
        return model.W.detach(), result.loss

    W, loss = trained("none")
    W_matched, loss_matched = trained("norm-matched")
    torch.testing.assert_close(W_matched.norm(dim=1), W.norm(dim=1))
    assert not torch.allclose(W_matched, W) and (loss_matched > loss).all()

    monkeypatch.setenv("SUPERPOSITION_CONTROL", "norm-matched")
    model = helpers.BilinearMLP(7, 2, 4)
    data = helpers.modular_addition(7, train_fraction=0.5, seed=0)
    helpers.train_modular(model, data, steps=5, lr=1e-2, seed=0)
    reference = helpers.BilinearMLP(7, 2, 4)
    monkeypatch.setenv("SUPERPOSITION_CONTROL", "none")
    helpers.train_modular(reference, data, steps=5, lr=1e-2, seed=0)
    torch.testing.assert_close(model.E.detach().norm(dim=1), reference.E.detach().norm(dim=1))
    assert not torch.allclose(model.E.detach(), reference.E.detach())
