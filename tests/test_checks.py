import contextlib
import io

import pytest
import torch

import helpers
from helpers import checks, metrics


def verdict(check, *args) -> str:
    """What a check cell shows: a right answer prints "✔ correct…" and passes; a wrong one prints "✘ …" and
    fails the cell with ``ExerciseFailed`` (an ``AssertionError``) carrying the same message."""
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            check(*args)
    except checks.ExerciseFailed as failure:
        assert isinstance(failure, AssertionError)
        assert str(failure).startswith("✘") and printed.getvalue().strip() == str(failure)
        return str(failure)
    message = printed.getvalue().strip()
    assert message.startswith("✔ correct"), message
    return message


def reference_dimensionality(W):
    norms = W.norm(dim=1, keepdim=True)
    unit = W / norms.clamp_min(1e-12)
    return W.square().sum(dim=1) / (unit.transpose(1, 2) @ W).square().sum(dim=2).clamp_min(1e-12)


def test_feature_dimensionality_check_accepts_a_correct_solution():
    assert verdict(checks.check_feature_dimensionality, reference_dimensionality).startswith("✔ correct")
    assert verdict(checks.check_feature_dimensionality, metrics.feature_dimensionality).startswith("✔ correct")


def test_feature_dimensionality_check_rejects_wrong_solutions():
    def forgets_self_term(W):
        unit = W / W.norm(dim=1, keepdim=True).clamp_min(1e-12)
        overlap = (unit.transpose(1, 2) @ W).square()
        return W.square().sum(dim=1) / (overlap.sum(dim=2) - overlap.diagonal(dim1=1, dim2=2)).clamp_min(1e-12)

    def divides_by_zero(W):
        unit = W / W.norm(dim=1, keepdim=True)
        return W.square().sum(dim=1) / (unit.transpose(1, 2) @ W).square().sum(dim=2)

    def wrong_shape(W):
        return reference_dimensionality(W).sum(dim=1)

    for wrong, hint in ((forgets_self_term, "expected"), (divides_by_zero, "NaN"), (wrong_shape, "shape")):
        message = verdict(checks.check_feature_dimensionality, wrong)
        assert message.startswith("✘") and hint in message


def test_a_crashing_solution_is_reported_as_a_failure_with_its_error():
    def crashes(W):
        raise RuntimeError("boom")

    assert "RuntimeError" in verdict(checks.check_feature_dimensionality, crashes)


def test_phase_check_accepts_the_closed_form_and_rejects_wrong_ones():
    def correct(r, p):
        losses = {"not represented": r * (p / 3 - p * p / 4), "dedicated": p / 3 - p * p / 4}
        losses["superposition"] = (1 + r) * p * p / 6
        return min(losses, key=losses.get)

    def forgets_the_bias(r, p):  # a dropped feature with bias 0 costs p/3, not p/3 − p²/4
        losses = {"not represented": r * p / 3, "dedicated": p / 3, "superposition": (1 + r) * p * p / 6}
        return min(losses, key=losses.get)

    def misspelled(r, p):
        return "antipodal"

    assert verdict(checks.check_phase_n2m1, correct).startswith("✔ correct")
    assert "expected" in verdict(checks.check_phase_n2m1, forgets_the_bias)
    assert "must return one of" in verdict(checks.check_phase_n2m1, misspelled)


def test_anticorrelated_check_accepts_one_draw_and_rejects_naive_generators():
    def one_draw(n, p, generator):
        u = torch.rand(n, generator=generator)
        values = torch.rand(n, 2, generator=generator)
        return values * torch.stack([u < p, u >= 1 - p], dim=1)

    def sequential(n, p, generator):  # the second feature only where the first is absent: p(1 − p)
        first = torch.rand(n, generator=generator) < p
        second = (torch.rand(n, generator=generator) < p) & ~first
        return torch.rand(n, 2, generator=generator) * torch.stack([first, second], dim=1)

    def independent(n, p, generator):
        return torch.rand(n, 2, generator=generator) * (torch.rand(n, 2, generator=generator) < p)

    assert verdict(checks.check_anticorrelated_pair, one_draw).startswith("✔ correct")
    assert "each should be" in verdict(checks.check_anticorrelated_pair, sequential)
    assert "never allowed" in verdict(checks.check_anticorrelated_pair, independent)


def test_effective_rank_check():
    from helpers.dynamics import effective_rank

    def correct(W, fraction):
        singular = torch.linalg.svdvals(W)
        return (singular > fraction * singular[:, :1]).sum(dim=1)

    def counts_nonzero(W, fraction):  # ignores the fraction: every non-zero singular value counts
        return (torch.linalg.svdvals(W) > 1e-6).sum(dim=1)

    def uses_the_sum(W, fraction):  # relative to the sum of singular values instead of the largest
        singular = torch.linalg.svdvals(W)
        return (singular > fraction * singular.sum(dim=1, keepdim=True)).sum(dim=1)

    assert verdict(checks.check_effective_rank, correct).startswith("✔ correct")
    assert verdict(checks.check_effective_rank, lambda W, f: effective_rank(W, fraction=f)).startswith("✔ correct")
    assert verdict(checks.check_effective_rank, counts_nonzero).startswith("✘")
    assert verdict(checks.check_effective_rank, uses_the_sum).startswith("✘")
    assert "ZeroDivisionError" in verdict(checks.check_effective_rank, lambda W, f: 1 / 0)


def test_neuron_monosemanticity_check():
    def correct(W):
        return W.abs().amax(dim=2) / W.norm(dim=2).clamp_min(1e-12)

    def squared_share(W):  # the share of the squared norm: a different measure
        return W.square().amax(dim=2) / W.square().sum(dim=2).clamp_min(1e-12)

    def per_feature(W):  # over the wrong axis: columns are features, not neurons
        return W.abs().amax(dim=1) / W.norm(dim=1).clamp_min(1e-12)

    assert verdict(checks.check_neuron_monosemanticity, correct).startswith("✔ correct")
    assert verdict(checks.check_neuron_monosemanticity, squared_share).startswith("✘")
    assert verdict(checks.check_neuron_monosemanticity, per_feature).startswith("✘")


def test_check_feature_response():
    def correct(model):
        eye = torch.eye(model.n_features).expand(model.n_instances, -1, -1)
        zero = torch.zeros(model.n_instances, 1, model.n_features)
        return model(eye).diagonal(dim1=1, dim2=2) - model(zero)[:, 0]

    def no_baseline(model):  # forgets the output for the all-zero input: wrong for a sigmoid
        eye = torch.eye(model.n_features).expand(model.n_instances, -1, -1)
        return model(eye).diagonal(dim1=1, dim2=2)

    def weight_norm(model):
        return model.W.detach().norm(dim=1)

    assert verdict(checks.check_feature_response, correct).startswith("✔ correct")
    assert "subtracted" in verdict(checks.check_feature_response, no_baseline)
    assert verdict(checks.check_feature_response, weight_norm).startswith("✘")
    assert "raised" in verdict(checks.check_feature_response, lambda model: model.nonexistent)


def test_check_ternarize():
    def correct(W):
        gamma = W.abs().mean(dim=(1, 2), keepdim=True)
        return gamma * (W / (gamma + 1e-5)).round().clamp(-1, 1)

    def one_scale_for_all_instances(W):
        gamma = W.abs().mean()
        return gamma * (W / (gamma + 1e-5)).round().clamp(-1, 1)

    def absmax(W):  # BitNet v1's scale would round almost everything to zero
        gamma = W.abs().amax(dim=(1, 2), keepdim=True)
        return gamma * (W / gamma).round().clamp(-1, 1)

    def unclipped(W):
        gamma = W.abs().mean(dim=(1, 2), keepdim=True)
        return gamma * (W / gamma).round()

    assert verdict(checks.check_ternarize, correct).startswith("✔ correct")
    for wrong in (one_scale_for_all_instances, absmax, unclipped, lambda W: W.sign()):
        assert verdict(checks.check_ternarize, wrong).startswith("✘"), wrong
    assert "each instance separately" in verdict(checks.check_ternarize, one_scale_for_all_instances)


def test_check_frequency_norms_accepts_the_reference_and_names_a_wrong_one():
    from helpers import fourier

    assert verdict(checks.check_frequency_norms, fourier.frequency_norms).startswith("✔")

    def cosine_rows_only(embedding):
        p = embedding.shape[0]
        coefficients = fourier.fourier_basis(p) @ embedding
        return torch.cat([coefficients[:1], coefficients[1::2][: p // 2]]).abs()

    message = verdict(checks.check_frequency_norms, cosine_rows_only)
    assert message.startswith("✘") and "phase" in message


def hand_built_abs(n_features, signs=(1.0, -1.0)):
    """|x| = ReLU(x) + ReLU(-x): one neuron per feature and sign (``signs`` drops one to break it)."""
    model = helpers.AbsValueModel(n_features, len(signs) * n_features)
    W1 = torch.cat([sign * torch.eye(n_features) for sign in signs])  # [neurons, features]
    with torch.no_grad():
        model.W1.copy_(W1.unsqueeze(0))
        model.W2.copy_(W1.abs().T.unsqueeze(0))
        model.b.zero_()
    return model


def test_check_abs_value_model_accepts_the_construction_and_names_what_is_wrong():
    assert verdict(checks.check_abs_value_model, hand_built_abs(3)).startswith("✔ correct")
    only_positive = verdict(checks.check_abs_value_model, hand_built_abs(3, signs=(1.0,)))
    assert only_positive.startswith("✘ feature 0 alone at x = -1") and "each sign" in only_positive
    leaky = hand_built_abs(3)
    with torch.no_grad():
        leaky.W2[0, 1, 0] = 0.5  # neuron 0 (feature 0, positive side) also writes to output 1
    assert "output 1" in verdict(checks.check_abs_value_model, leaky)
    assert "one instance" in verdict(checks.check_abs_value_model, helpers.AbsValueModel(3, 6, n_instances=2))
    assert "AbsValueModel" in verdict(checks.check_abs_value_model, helpers.ToyModel(3, 6))


def test_a_wrong_answer_names_the_worst_entry_with_its_index():
    def off_in_one_entry(W):
        result = metrics.feature_dimensionality(W)
        if W.shape[0] == 4:  # the random case: a small error at [0, 1], a large one at [2, 3]
            result[0, 1] += 0.01
            result[2, 3] += 0.5
        return result

    message = verdict(checks.check_feature_dimensionality, off_in_one_entry)
    assert "at index [2, 3]" in message and "the worst of the wrong entries" in message and "first" not in message


PLACEHOLDER_CALLS = [
    (checks.check_feature_dimensionality, 1),
    (checks.check_neuron_monosemanticity, 1),
    (checks.check_phase_n2m1, 2),
    (checks.check_anticorrelated_pair, 3),
    (checks.check_effective_rank, 2),
    (checks.check_feature_response, 1),
    (checks.check_ternarize, 1),
    (checks.check_frequency_norms, 1),
    (checks.check_abs_value_model, 0),
    (checks.check_sae_loss, 4),
    (checks.check_mean_max_cosine, 2),
]


@pytest.mark.parametrize("check, arity", PLACEHOLDER_CALLS, ids=[c.__name__ for c, _ in PLACEHOLDER_CALLS])
def test_a_placeholder_is_reported_as_not_attempted_and_fails_only_when_strict(check, arity, monkeypatch, capsys):
    def placeholder(*args):
        assert len(args) == arity
        raise NotImplementedError("write your implementation here")

    monkeypatch.delenv("SUPERPOSITION_STRICT_EXERCISES", raising=False)
    check(placeholder)
    assert "not attempted yet" in capsys.readouterr().out
    monkeypatch.setenv("SUPERPOSITION_STRICT_EXERCISES", "1")
    with pytest.raises(checks.ExerciseNotAttempted, match="not attempted"):
        check(placeholder)
    monkeypatch.setenv("SUPERPOSITION_STRICT_EXERCISES", "maybe")
    with pytest.raises(ValueError, match="SUPERPOSITION_STRICT_EXERCISES"):
        check(placeholder)


def test_the_abs_value_check_takes_a_function_that_builds_the_model():
    assert verdict(checks.check_abs_value_model, lambda: hand_built_abs(3)).startswith("✔ correct")
    assert "raised ZeroDivisionError" in verdict(checks.check_abs_value_model, lambda: 1 / 0)


def test_sae_loss_check_accepts_the_reference_and_names_common_mistakes():
    def right(h, reconstruction, code, l1):
        return (h - reconstruction).square().sum(dim=2).mean(dim=1) + l1 * code.abs().sum(dim=2).mean(dim=1)

    assert verdict(checks.check_sae_loss, right).startswith("✔ correct")

    def mean_over_dimensions(h, reconstruction, code, l1):
        return (h - reconstruction).square().mean(dim=(1, 2)) + l1 * code.sum(dim=2).mean(dim=1)

    def l1_mean_over_latents(h, reconstruction, code, l1):
        return (h - reconstruction).square().sum(dim=2).mean(dim=1) + l1 * code.mean(dim=(1, 2))

    def one_number(h, reconstruction, code, l1):
        return right(h, reconstruction, code, l1).sum()

    for wrong in (mean_over_dimensions, l1_mean_over_latents):
        assert verdict(checks.check_sae_loss, wrong).startswith("✘ the SAE loss")
    assert "one loss per instance" in verdict(checks.check_sae_loss, one_number)


def test_mean_max_cosine_check_accepts_the_reference_and_names_common_mistakes():
    def unit(M):
        return M / M.norm(dim=1, keepdim=True).clamp_min(1e-12)

    def right(decoder, W):
        return (unit(decoder).transpose(1, 2) @ unit(W)).amax(dim=1).mean(dim=1)

    def absolute(decoder, W):
        return (unit(decoder).transpose(1, 2) @ unit(W)).abs().amax(dim=1).mean(dim=1)

    def unnormalised(decoder, W):
        return (decoder.transpose(1, 2) @ unit(W)).amax(dim=1).mean(dim=1)

    def per_latent(decoder, W):
        return (unit(decoder).transpose(1, 2) @ unit(W)).amax(dim=2).mean(dim=1)

    assert verdict(checks.check_mean_max_cosine, right).startswith("✔ correct")
    assert "signed" in verdict(checks.check_mean_max_cosine, absolute)
    assert "unit columns" in verdict(checks.check_mean_max_cosine, unnormalised)
    assert verdict(checks.check_mean_max_cosine, per_latent).startswith("✘")
