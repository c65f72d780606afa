"""helpers.sae: the sparse autoencoder, its loss, trainer, resampling and recovery metrics."""

import math

import numpy as np
import pytest
import torch

from helpers import sae
from helpers.sae import SparseAutoencoder


def pentagon() -> torch.Tensor:
    angles = torch.arange(5) * (2 * math.pi / 5)
    return torch.stack([angles.cos(), angles.sin()])  # [2, 5]


def test_shapes_unit_decoder_and_transpose_init():
    model = SparseAutoencoder(4, 7, n_instances=3, generator=torch.Generator().manual_seed(0))
    h = torch.randn(3, 10, 4)
    reconstruction, code = model(h)
    assert reconstruction.shape == (3, 10, 4) and code.shape == (3, 10, 7)
    assert torch.allclose(model.decoder.norm(dim=1), torch.ones(3, 7))
    assert torch.equal(model.W_enc, model.W_dec)
    assert (code >= 0).all()


def test_one_activation_batch_serves_every_instance():
    model = SparseAutoencoder(4, 7, n_instances=3)
    h = torch.randn(1, 10, 4)
    assert torch.allclose(model(h)[0], model(h.expand(3, -1, -1))[0])


def test_topk_keeps_at_most_k_latents_and_the_largest_ones():
    model = SparseAutoencoder(6, 20, n_instances=2, kind="topk", k=3, generator=torch.Generator().manual_seed(1))
    h = torch.randn(2, 50, 6)
    code = model.encode(h)
    assert ((code > 0).sum(dim=2) <= 3).all()
    pre = model.pre_activations(h)
    kept = code > 0
    smallest_kept = torch.where(kept, pre, torch.full_like(pre, float("inf"))).amin(dim=2)
    largest_dropped = torch.where(kept, torch.full_like(pre, -float("inf")), pre).amax(dim=2)
    has_kept = kept.any(dim=2)
    assert (smallest_kept[has_kept] >= largest_dropped[has_kept]).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_input": 0, "n_latents": 3}, "n_input"),
        ({"n_input": 2, "n_latents": 3, "kind": "jumprelu"}, "kind"),
        ({"n_input": 2, "n_latents": 3, "kind": "topk"}, "k"),
        ({"n_input": 2, "n_latents": 3, "kind": "topk", "k": 4}, "k must be at most n_latents"),
        ({"n_input": 2, "n_latents": 3, "k": 2}, "k is only for kind='topk'"),
    ],
)
def test_bad_settings_name_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SparseAutoencoder(**kwargs)


def test_bad_activations_are_refused():
    model = SparseAutoencoder(3, 5, n_instances=2)
    with pytest.raises(ValueError, match="h must have shape"):
        model(torch.randn(2, 4, 4))
    with pytest.raises(TypeError, match="h must be a Tensor"):
        model([[1.0, 2.0, 3.0]])


def test_the_loss_is_squared_error_summed_over_dimensions_plus_lambda_times_l1():
    h = torch.tensor([[[1.0, 2.0], [0.0, 0.0]]])  # one instance, two inputs
    reconstruction = torch.tensor([[[1.0, 1.0], [0.0, 2.0]]])
    code = torch.tensor([[[1.0, 0.0, 3.0], [0.0, 0.0, 0.0]]])
    # squared error: (1 + 4) / 2 = 2.5; L1: (4 + 0) / 2 = 2
    assert torch.allclose(sae.sae_loss(h, reconstruction, code, 0.5), torch.tensor([2.5 + 0.5 * 2]))
    per_instance = sae.sae_loss(
        h.expand(2, -1, -1), reconstruction.expand(2, -1, -1), code.expand(2, -1, -1), torch.tensor([0.0, 1.0])
    )
    assert torch.allclose(per_instance, torch.tensor([2.5, 4.5]))


def test_training_recovers_orthogonal_features_and_is_reproducible():
    W = torch.eye(4)  # four features on the axes of a 4-D space: nothing to untangle
    runs = []
    for _ in range(2):
        model = SparseAutoencoder(4, 8, n_instances=2)
        result = sae.train_sae(
            model, W, density=0.1, steps=600, batch_size=256, lr=1e-2, l1_coefficient=torch.tensor([0.01, 0.05]), seed=3
        )
        runs.append((model.W_dec.detach().clone(), result.history))
    assert torch.equal(runs[0][0], runs[1][0]) and torch.equal(runs[0][1], runs[1][1])
    assert (sae.mean_max_cosine(model, W) > 0.95).all()
    assert result.history[-1].mean() < result.history[0].mean()


def test_a_topk_sae_trains_to_the_features():
    W = torch.eye(4)
    model = SparseAutoencoder(4, 8, n_instances=2, kind="topk", k=1)
    sae.train_sae(model, W, density=0.1, steps=600, batch_size=256, lr=1e-2, seed=0)
    assert (sae.mean_max_cosine(model, W) > 0.95).all()
    assert (sae.evaluate_sae(model, W, density=0.1).l0 <= 1).all()


def test_the_untrained_control_keeps_the_initial_dictionary(monkeypatch):
    monkeypatch.setenv("SUPERPOSITION_CONTROL", "untrained")
    model = SparseAutoencoder(2, 5)
    sae.train_sae(model, pentagon(), density=0.05, steps=50, seed=0)
    fresh = SparseAutoencoder(2, 5)
    sae.train_sae(fresh, pentagon(), density=0.05, steps=1, seed=0)
    assert torch.allclose(model.W_dec, fresh.W_dec, atol=1e-6)


def test_the_norm_matched_control_randomises_the_dictionary(monkeypatch):
    W = torch.eye(4)
    trained = SparseAutoencoder(4, 8)
    sae.train_sae(trained, W, density=0.1, steps=600, lr=1e-2, l1_coefficient=0.05, seed=0)
    monkeypatch.setenv("SUPERPOSITION_CONTROL", "norm-matched")
    control = SparseAutoencoder(4, 8)
    sae.train_sae(control, W, density=0.1, steps=600, lr=1e-2, l1_coefficient=0.05, seed=0)
    assert torch.allclose(control.W_dec.norm(dim=1), trained.W_dec.norm(dim=1), atol=1e-5)
    assert sae.mean_max_cosine(trained, W).item() > 0.95 > sae.mean_max_cosine(control, W).item()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"W": torch.eye(3)}, ValueError, "n_hidden = 3"),
        ({"W": torch.ones(3, 4, 4)}, ValueError, "one per SAE instance"),
        ({"density": 1.5}, ValueError, "density"),
        ({"steps": 0}, ValueError, "steps"),
        ({"lr": 0.0}, ValueError, "lr"),
        ({"l1_coefficient": -1.0}, ValueError, "l1_coefficient"),
        ({"l1_coefficient": torch.ones(3)}, ValueError, "l1_coefficient"),
        ({"resample_every": 0}, ValueError, "resample_every"),
        ({"feature_sets": [("correlated", 3)]}, ValueError, "feature_sets describe 3 features"),
        ({"W": [[1.0]]}, TypeError, "W must be a Tensor"),
    ],
)
def test_bad_training_arguments_name_the_parameter(kwargs, error, message):
    arguments = {"W": torch.eye(4), "density": 0.1, "steps": 5, **kwargs}
    with pytest.raises(error, match=message):
        sae.train_sae(SparseAutoencoder(4, 6, n_instances=2), **arguments)


def test_a_topk_sae_takes_no_l1_penalty():
    with pytest.raises(ValueError, match="without an L1 penalty"):
        sae.train_sae(SparseAutoencoder(2, 5, kind="topk", k=1), pentagon(), density=0.05, steps=5, l1_coefficient=0.1)


def test_resampling_gives_a_dead_latent_an_input_direction_a_small_encoder_and_a_fresh_optimiser_state():
    W = torch.eye(3)
    model = SparseAutoencoder(3, 4, n_instances=2, generator=torch.Generator().manual_seed(0))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.rand(2, 8, 3))[0].sum().backward()
    optimizer.step()
    dead = torch.tensor([[False, False, False, True], [False, False, False, False]])
    untouched = model.W_dec[1].detach().clone()
    sampler = sae.ActivationSampler(W, 0.5, seed=0)
    counts = sae.resample_dead_latents_(model, optimizer, dead, sampler, torch.Generator().manual_seed(0))
    assert counts.tolist() == [1, 0]
    direction = model.W_dec[0, :, 3]
    assert torch.allclose(direction.norm(), torch.tensor(1.0))
    assert torch.allclose(model.W_dec[1], untouched)
    alive_norm = model.W_enc[0, :, :3].norm(dim=0).mean()
    assert torch.allclose(model.W_enc[0, :, 3], direction * sae.RESAMPLED_ENCODER_SCALE * alive_norm)
    assert model.b_enc[0, 3].item() == 0.0
    for parameter in (model.W_dec, model.W_enc):
        assert (optimizer.state[parameter]["exp_avg"][0, :, 3] == 0).all()
        assert (optimizer.state[parameter]["exp_avg"][0, :, :3] != 0).any()


def test_resampling_runs_on_schedule_and_only_for_latents_below_the_firing_share():
    W = torch.eye(4)
    options = {"density": 0.1, "steps": 600, "lr": 1e-2, "l1_coefficient": 0.05, "seed": 0, "resample_every": 100}
    # dead_below = 1: every latent counts as dead, at steps 100, 200, ..., 500 (not in the last 100 steps)
    everything = sae.train_sae(SparseAutoencoder(4, 8), W, dead_below=1.0, **options)
    assert everything.resampled.item() == 5 * 8
    # Bricken et al.'s rule (never fired) leaves alone the latents that fire
    model = SparseAutoencoder(4, 8)
    result = sae.train_sae(model, W, **options)
    frequency = sae.evaluate_sae(model, W, density=0.1).frequency
    assert result.resampled.item() <= int((frequency == 0).sum()) + 8 * 5
    assert result.resampled.item() < everything.resampled.item()


def test_max_cosines_are_signed_and_scale_free():
    W = pentagon()
    assert torch.allclose(sae.max_cosines((3 * W).unsqueeze(0), W), torch.ones(1, 5))
    reversed_ = sae.max_cosines(-W.unsqueeze(0), W)
    assert torch.allclose(
        reversed_, torch.full((1, 5), math.cos(math.pi / 5)), atol=1e-6
    )  # the nearest other -W_j is 36° away
    assert torch.allclose(sae.mean_max_cosine(W.unsqueeze(0), W), torch.ones(1))


def test_recovered_share_counts_only_the_represented_features():
    W = pentagon()
    dictionary = W[:, :3].unsqueeze(0)  # three of the five directions
    assert sae.recovered_share(dictionary, W).item() == pytest.approx(0.6)
    represented = torch.tensor([True, True, True, False, False])
    assert sae.recovered_share(dictionary, W, represented).item() == 1.0
    with pytest.raises(ValueError, match="at least one feature"):
        sae.mean_max_cosine(dictionary, W, torch.zeros(5, dtype=torch.bool))


def test_the_recovery_threshold_is_rare_for_a_random_direction_and_unambiguous_on_the_pentagon():
    # A random unit vector in d dimensions has cosine t with a fixed direction with density ∝ (1 − t²)^((d−3)/2).
    d = 20
    t = np.linspace(-1, 1, 2_000_001)
    density = (1 - t**2) ** ((d - 3) / 2)
    tail = density[t > sae.RECOVERY_COSINE].sum() / density.sum()
    assert tail < 1e-7
    assert sae.RECOVERY_COSINE > math.cos(math.radians(36))  # half the pentagon's 72° between neighbours


def test_evaluation_of_a_perfect_dictionary():
    W = torch.eye(3)
    model = SparseAutoencoder(3, 4)
    with torch.no_grad():
        model.W_dec[0, :, :3] = torch.eye(3)
        model.W_enc[0, :, :3] = torch.eye(3)
        model.b_enc[0, 3] = -100.0  # a latent that never fires
    evaluation = sae.evaluate_sae(model, W, density=0.2, n_samples=4000)
    assert evaluation.squared_error.item() < 1e-10
    assert evaluation.shrinkage.item() == pytest.approx(1.0)
    assert evaluation.dead.item() == 1
    assert evaluation.l0.item() == pytest.approx(3 * 0.2, abs=0.05)
    assert evaluation.frequency[0, :3].tolist() == pytest.approx([0.2] * 3, abs=0.03)


def test_correlated_sets_reach_the_sae_as_pairs():
    sampler = sae.ActivationSampler(torch.eye(4), 0.3, seed=0, feature_sets=[("correlated", 2), ("correlated", 2)])
    x, h = sampler.sample(1000)
    assert torch.equal((x[0, :, 0] > 0), (x[0, :, 1] > 0))
    assert torch.allclose(h, x)


def test_without_biases_the_sae_trains_only_its_weights_and_its_biases_stay_zero():
    model = SparseAutoencoder(4, 8, biases=False)
    assert {name for name, _ in model.named_parameters()} == {"W_enc", "W_dec"}
    sae.train_sae(model, torch.eye(4), density=0.1, steps=50, lr=1e-2, l1_coefficient=0.05, seed=0)
    assert not model.b_enc.any() and not model.b_dec.any()
    assert "biases=False" in repr(model)
    with pytest.raises(TypeError, match="biases"):
        SparseAutoencoder(4, 8, biases="no")
