"""Checks for the exercises: each runs a student's function on known cases and prints "correct" or
what is wrong (which case, expected, got), the way a course's test cell does.

A wrong answer fails the cell: the check prints what is wrong and raises ``ExerciseFailed``, an
``AssertionError``, so "run all" stops there and an autograder marks it. A placeholder left as the
chapters ship it raises ``NotImplementedError``; the check then prints that the exercise is not
attempted yet and lets the notebook go on (the book builds with every placeholder in place). Set
``SUPERPOSITION_STRICT_EXERCISES=1`` to make an exercise that is not attempted fail too, as an
autograder wants."""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable

import torch
from torch import Tensor

from . import bitnet, fourier, metrics, sae, theory
from .data import sparse_features
from .dynamics import effective_rank
from .models import AbsValueModel, ToyModel


class ExerciseFailed(AssertionError):
    """A student's answer to an exercise is wrong; the message says which case, expected and got."""


class ExerciseNotAttempted(AssertionError):
    """The placeholder is still in place and ``SUPERPOSITION_STRICT_EXERCISES`` asks that this fail."""


def strict_exercises() -> bool:
    """Whether an exercise left at its placeholder fails (env ``SUPERPOSITION_STRICT_EXERCISES=1``)."""
    value = os.environ.get("SUPERPOSITION_STRICT_EXERCISES", "0").strip().lower()
    if value not in ("", "0", "1", "false", "true", "no", "yes"):
        raise ValueError(f"SUPERPOSITION_STRICT_EXERCISES must be 0 or 1, got {value!r}")
    return value in ("1", "true", "yes")


def _exercise_check(verdict: Callable[..., str]) -> Callable[..., None]:
    """Turn a function returning a verdict ("✔ correct: …" or "✘ …") into a check cell's call: print the
    verdict and raise ``ExerciseFailed`` when it is "✘"; a ``NotImplementedError`` from the student's
    code means not attempted yet (see the module docstring)."""

    @functools.wraps(verdict)
    def check(*args, **kwargs) -> None:
        try:
            message = verdict(*args, **kwargs)
        except NotImplementedError:
            message = "… not attempted yet: replace the placeholder (it raises NotImplementedError) and run this cell"
            print(message)
            if strict_exercises():
                raise ExerciseNotAttempted(message) from None
            return
        print(message)
        if not message.startswith("✔"):
            raise ExerciseFailed(message)

    check.__annotations__ = {**verdict.__annotations__, "return": None}
    check.verdict = verdict  # the message without printing or raising (used by the tests)
    return check


def _raised(error: Exception, what: str) -> str:
    """The verdict for a student's code that raised; ``NotImplementedError`` (a placeholder) passes on."""
    if isinstance(error, NotImplementedError):
        raise error
    return f"✘ {what} raised {type(error).__name__}: {error}"


def _worst_entry(got: Tensor, expected: Tensor) -> str:
    """ "expected X, got Y at index (…)" for the entry where ``got`` is furthest from ``expected``."""
    worst = (got - expected).abs().nan_to_num(float("inf")).argmax()
    index = tuple(int(i) for i in torch.unravel_index(worst, expected.shape))
    return (
        f"expected {expected.flatten()[worst]:.4f}, got {got.flatten()[worst]:.4f} at index {list(index)} "
        "(the worst of the wrong entries)"
    )


def _cases() -> dict[str, Tensor]:
    """Named weight tensors ``[n_instances, n_hidden, n_features]`` with known answers."""
    angles = torch.arange(5) * (2 * math.pi / 5)
    generator = torch.Generator().manual_seed(0)
    return {
        "three orthogonal features": torch.eye(3).unsqueeze(0),
        "an antipodal pair": torch.tensor([[[1.0, -1.0]]]),
        "a pentagon in 2-D": torch.stack([angles.cos(), angles.sin()]).unsqueeze(0),
        "a feature with zero norm": torch.tensor([[[1.0, 0.0], [0.0, 0.0]]]),
        "random weights (4 instances, m=5, n=12)": torch.randn(4, 5, 12, generator=generator),
    }


def _compare(student: Callable[[Tensor], Tensor], reference: Callable[[Tensor], Tensor], what: str) -> str:
    for name, W in _cases().items():
        expected = reference(W)
        try:
            got = student(W.clone())
        except Exception as error:  # report any failure of the student's code as feedback
            return _raised(error, f"{what} on {name}")
        got = torch.as_tensor(got, dtype=torch.float32)
        if got.shape != expected.shape:
            return f"✘ {what} on {name}: expected shape {list(expected.shape)}, got {list(got.shape)}"
        if not torch.isfinite(got).all():
            return f"✘ {what} on {name}: the result has NaN or inf (a feature with zero norm needs care)"
        if not torch.allclose(got, expected, atol=1e-4, rtol=1e-3):
            return f"✘ {what} on {name}: {_worst_entry(got, expected)}"
    return f"✔ correct: {what} matches the reference on all {len(_cases())} test cases"


@_exercise_check
def check_feature_dimensionality(student: Callable[[Tensor], Tensor]) -> str:
    """Check an implementation of ``D_i = ‖W_i‖² / Σ_j (Ŵ_i·W_j)²`` (``W: [n_instances, m, n]`` →
    ``[n_instances, n]``; a zero-norm feature gets 0)."""
    return _compare(student, metrics.feature_dimensionality, "feature_dimensionality")


@_exercise_check
def check_neuron_monosemanticity(student: Callable[[Tensor], Tensor]) -> str:
    """Check ``neuron_monosemanticity(W) = max_i |W_ji| / ‖W_j‖`` per neuron (row j of ``W:
    [n_instances, n_neurons, n_features]`` → ``[n_instances, n_neurons]``; a neuron with no weights
    gets 0)."""
    return _compare(student, metrics.neuron_monosemanticity, "neuron_monosemanticity")


@_exercise_check
def check_phase_n2m1(student: Callable[[float, float], str]) -> str:
    """Check a function ``phase(relative_importance, density) -> str`` for the n=2, m=1 ReLU-output
    model (``"not represented"``, ``"dedicated"`` or ``"superposition"``) against the closed-form
    optimum on a 25 × 25 log grid (r from 0.1 to 10, p from 0.01 to 1), skipping points within 2% of a
    phase boundary, where rounding may decide."""
    checked = 0
    for r in torch.logspace(-1, 1, 25).tolist():
        for p in torch.logspace(-2, 0, 25).tolist():
            if abs(math.log(r)) < 0.02 or abs(math.log(p / theory.critical_density_n2m1(r))) < 0.02:
                continue
            expected = theory.phase_n2m1(r, p)
            try:
                got = student(r, p)
            except Exception as error:  # report any failure of the student's code as feedback
                return _raised(error, f"phase at r={r:.3g}, p={p:.3g}")
            if got not in theory.PHASES:
                return f"✘ phase must return one of {theory.PHASES}, got {got!r} at r={r:.3g}, p={p:.3g}"
            if got != expected:
                return f"✘ at relative importance {r:.3g} and density {p:.3g}: expected {expected!r}, got {got!r}"
            checked += 1
    return f"✔ correct: your phase diagram matches the closed form at all {checked} grid points"


@_exercise_check
def check_anticorrelated_pair(student: Callable[[int, float, torch.Generator], Tensor]) -> str:
    """Check a generator ``pair(batch_size, p, generator) -> Tensor[batch_size, 2]`` of an anticorrelated
    pair: the two features are never present together, each is present with probability exactly ``p``
    (within 0.005 on 200,000 samples) and present values lie in (0, 1)."""
    n = 200_000
    for p in (0.05, 0.3, 0.5):
        try:
            x = torch.as_tensor(student(n, p, torch.Generator().manual_seed(1)), dtype=torch.float32)
        except Exception as error:  # report any failure of the student's code as feedback
            return _raised(error, f"pair at p = {p}")
        if tuple(x.shape) != (n, 2):
            return f"✘ at p = {p}: expected shape [{n}, 2], got {list(x.shape)}"
        present = x > 0
        if bool(present.all(dim=1).any()):
            return f"✘ at p = {p}: both features are present in {int(present.all(dim=1).sum())} samples; never allowed"
        marginals = present.float().mean(dim=0)
        if bool(((marginals - p).abs() > 0.005).any()):
            return (
                f"✘ at p = {p}: the features are present with probabilities {marginals[0]:.4f} and "
                f"{marginals[1]:.4f}; each should be {p}"
            )
        values = x[present]
        if bool((values >= 1).any()) or bool((x < 0).any()):
            return f"✘ at p = {p}: values must lie in [0, 1)"
    return "✔ correct: never together, each feature present with probability p, values uniform"


@_exercise_check
def check_effective_rank(student: Callable[[Tensor, float], Tensor]) -> str:
    """Check ``effective_rank(W, fraction) -> Tensor[n_instances]``: the number of singular values of
    each instance's ``W: [n_instances, m, n]`` above ``fraction`` times its largest singular value."""
    cases = dict(_cases())
    tiny = torch.eye(3, 6).unsqueeze(0) * torch.tensor([1.0, 0.2, 0.01]).view(1, 3, 1)
    cases["singular values 1, 0.2 and 0.01"] = tiny
    for fraction in (0.1, 0.3):
        for name, W in cases.items():
            expected = effective_rank(W, fraction=fraction)
            try:
                got = torch.as_tensor(student(W.clone(), fraction))
            except Exception as error:  # report any failure of the student's code as feedback
                return _raised(error, f"effective_rank on {name}")
            if got.shape != expected.shape:
                return f"✘ effective_rank on {name}: expected shape {list(expected.shape)}, got {list(got.shape)}"
            if not torch.equal(got.long(), expected.long()):
                return (
                    f"✘ effective_rank on {name} with fraction {fraction}: expected {expected.tolist()}, "
                    f"got {got.tolist()}"
                )
    return f"✔ correct: effective_rank matches the reference on {len(cases)} cases at two fractions"


def _response_cases() -> dict[str, torch.nn.Module]:
    """Small trained-looking models with known responses, one per kind of activation behaviour."""
    generator = torch.Generator().manual_seed(1)
    cases = {}
    for activation, bias in (("relu", -0.1), ("sigmoid", -3.0), ("tanh", 0.2), ("solu", 0.0)):
        model = ToyModel(6, 3, 2, activation=activation)
        W = torch.randn(2, 3, 6, generator=generator) * (2.5 if activation == "sigmoid" else 1.0)
        model.set_parameters(W, torch.full((2, 6), bias))
        cases[f"a {activation} model (bias {bias:g})"] = model
    return cases


@_exercise_check
def check_feature_response(student: Callable[[torch.nn.Module], Tensor]) -> str:
    """Check ``feature_response(model)``: for every feature i, the model's output i for the input with
    only feature i on (value 1) minus its output i for the all-zero input; ``[n_instances, n_features]``."""
    cases = _response_cases()
    for name, model in cases.items():
        expected = metrics.feature_response(model)
        try:
            with torch.no_grad():
                got = student(model)
        except Exception as error:  # report any failure of the student's code as feedback
            return _raised(error, f"feature_response on {name}")
        got = torch.as_tensor(got, dtype=torch.float32)
        if got.shape != expected.shape:
            return f"✘ feature_response on {name}: expected shape {list(expected.shape)}, got {list(got.shape)}"
        if not torch.allclose(got, expected, atol=1e-4, rtol=1e-3):
            hint = " (is the output for the all-zero input subtracted?)" if "sigmoid" in name else ""
            return f"✘ feature_response on {name}: expected {expected[0].tolist()}, got {got[0].tolist()}{hint}"
    return f"✔ correct: feature_response matches the reference on all {len(cases)} test models"


@_exercise_check
def check_ternarize(student: Callable[[Tensor], Tensor]) -> str:
    """Check an absmean ternarisation ``W ↦ γ · RoundClip(W / (γ + ε), −1, 1)``, ``γ = mean |W|`` per
    instance (``W: [n_instances, m, n]`` → same shape, the values the forward pass uses)."""
    verdict = _compare(student, lambda W: bitnet.ternarize(W).detach(), "ternarize")
    if verdict.startswith("✘") and "random weights" in verdict:
        return verdict + " (γ is the mean |W| of each instance separately, and codes are clipped to ±1)"
    return verdict


@_exercise_check
def check_abs_value_model(model: torch.nn.Module | Callable[[], torch.nn.Module]) -> str:
    """Check a hand-built ``helpers.AbsValueModel`` with one instance that should compute ``|x|`` exactly:
    every feature alone at negative and positive values (its own output and every other output), then
    dense random inputs of both signs, where all features are present at once. ``model`` may also be a
    function without arguments that builds the model (the chapter's placeholder is one)."""
    if callable(model) and not isinstance(model, torch.nn.Module):
        try:
            model = model()
        except Exception as error:  # report any failure of the student's code as feedback
            return _raised(error, "building the model")
    if not isinstance(model, AbsValueModel):
        return f"✘ expected a helpers.AbsValueModel, got {type(model).__name__}"
    if model.n_instances != 1:
        return f"✘ build a model with one instance (helpers.AbsValueModel(n, m)); this one has {model.n_instances}"
    n = model.n_features
    values = torch.tensor([-1.0, -0.5, -0.25, 0.25, 0.5, 1.0])
    inputs = (values[:, None, None] * torch.eye(n)).reshape(1, -1, n)  # [1, values * features, n]
    with torch.no_grad():
        alone = model(inputs)
        if not torch.isfinite(alone).all():
            return "✘ the model's output has NaN or inf"
        error = (alone - inputs.abs()).abs().reshape(len(values), n, n)  # [value, active feature, output]
        if error.amax() > 1e-4:
            value, feature, output = (int(i) for i in torch.unravel_index(error.argmax(), error.shape))
            got = float(alone.reshape(len(values), n, n)[value, feature, output])
            expected = abs(float(values[value])) if output == feature else 0.0
            where = "its own output" if output == feature else f"output {output}"
            return (
                f"✘ feature {feature} alone at x = {float(values[value]):g}: {where} is {got:.4f}, expected "
                f"{expected:g}" + (" (does each feature have a neuron for each sign?)" if got == 0 else "")
            )
        dense = sparse_features(1, 1000, n, 1.0, signed=True, generator=torch.Generator().manual_seed(0))
        worst = float((model(dense) - dense.abs()).abs().amax())
    if worst > 1e-4:
        return f"✘ each feature alone is right, but with all {n} features present the largest error is {worst:.4f}"
    return f"✔ correct: the model computes |x| for each of its {n} features alone and for 1,000 dense inputs"


def _embedding_cases() -> dict[str, Tensor]:
    """Named embeddings ``[p, d]`` for the Fourier exercise."""
    x = torch.arange(13, dtype=torch.float32)
    generator = torch.Generator().manual_seed(0)
    return {
        "one frequency at a phase (p = 13)": torch.cos(2 * math.pi * 4 * x / 13 + 0.7).unsqueeze(1),
        "a constant and a sine (p = 13)": torch.stack([torch.ones(13), torch.sin(2 * math.pi * 2 * x / 13)], dim=1),
        "random (p = 11, d = 4)": torch.randn(11, 4, generator=generator),
        "random, even p (p = 8, d = 3)": torch.randn(8, 3, generator=generator),
    }


@_exercise_check
def check_frequency_norms(student: Callable[[Tensor], Tensor]) -> str:
    """Check an implementation of per-frequency norms of an embedding (``[p, d]`` → ``[p // 2 + 1, d]``:
    row k is the norm of each column's cos k and sin k components together; row 0 the constant)."""
    cases = _embedding_cases()
    for name, embedding in cases.items():
        expected = fourier.frequency_norms(embedding)
        try:
            got = torch.as_tensor(student(embedding.clone()), dtype=torch.float32)
        except Exception as error:  # report any failure of the student's code as feedback
            return _raised(error, f"frequency_norms on {name}")
        if got.shape != expected.shape:
            return f"✘ frequency_norms on {name}: expected shape {list(expected.shape)}, got {list(got.shape)}"
        if not torch.allclose(got, expected, atol=1e-4, rtol=1e-3):
            hint = " (a frequency's cosine and sine rows go together: sqrt(cos² + sin²))" if "phase" in name else ""
            return f"✘ frequency_norms on {name}: {_worst_entry(got, expected)}{hint}"
    return f"✔ correct: frequency_norms matches the reference on all {len(cases)} test embeddings"


def _sae_loss_cases() -> dict[str, tuple[Tensor, Tensor, Tensor, float]]:
    """Named ``(h, reconstruction, code, l1_coefficient)`` for the SAE-loss exercise."""
    generator = torch.Generator().manual_seed(0)
    h = torch.randn(3, 16, 5, generator=generator)
    reconstruction = h + 0.3 * torch.randn(3, 16, 5, generator=generator)
    code = torch.relu(torch.randn(3, 16, 12, generator=generator))
    return {
        "λ = 0 (reconstruction only)": (h, reconstruction, code, 0.0),
        "λ = 0.1": (h, reconstruction, code, 0.1),
        "a perfect reconstruction, λ = 2": (h, h.clone(), code, 2.0),
        "one instance, one input": (h[:1, :1], reconstruction[:1, :1], code[:1, :1], 0.5),
    }


@_exercise_check
def check_sae_loss(student: Callable[[Tensor, Tensor, Tensor, float], Tensor]) -> str:
    """Check an SAE loss: ``student(h, reconstruction, code, l1_coefficient)`` → ``Tensor[n_instances]``,
    the mean over the batch of ``‖h − ĥ‖²`` (summed over the input dimensions) plus λ times the mean
    over the batch of ``‖z‖₁`` (summed over the latents); see ``helpers.sae.sae_loss``."""
    cases = _sae_loss_cases()
    for name, (h, reconstruction, code, l1) in cases.items():
        expected = sae.sae_loss(h, reconstruction, code, l1)
        try:
            got = torch.as_tensor(student(h.clone(), reconstruction.clone(), code.clone(), l1), dtype=torch.float32)
        except Exception as error:  # report any failure of the student's code as feedback
            return _raised(error, f"the SAE loss on {name}")
        if got.shape != expected.shape:
            hint = " (one loss per instance: average over the batch axis, dim=1)" if got.ndim != 1 else ""
            return f"✘ the SAE loss on {name}: expected shape {list(expected.shape)}, got {list(got.shape)}{hint}"
        if not torch.allclose(got, expected, atol=1e-4, rtol=1e-4):
            return f"✘ the SAE loss on {name}: {_worst_entry(got, expected)}"
    return f"✔ correct: the SAE loss matches the reference on all {len(cases)} test cases"


def _dictionary_cases() -> dict[str, tuple[Tensor, Tensor]]:
    """Named ``(decoder [n_instances, d, n_latents], W [n_instances, d, n_features])`` pairs."""
    angles = torch.arange(5) * (2 * math.pi / 5)
    pentagon = torch.stack([angles.cos(), angles.sin()]).unsqueeze(0)
    generator = torch.Generator().manual_seed(0)
    return {
        "the pentagon's own directions": (pentagon.clone(), pentagon),
        "the pentagon's directions, scaled by 3 (columns not unit)": (3 * pentagon, pentagon),
        "the pentagon's directions, reversed (cosine -1: not recovered)": (-pentagon, pentagon),
        "random (2 instances, d = 6, 9 latents, 4 features)": (
            torch.randn(2, 6, 9, generator=generator),
            torch.randn(2, 6, 4, generator=generator),
        ),
    }


@_exercise_check
def check_mean_max_cosine(student: Callable[[Tensor, Tensor], Tensor]) -> str:
    """Check the mean max cosine similarity: ``student(decoder, W)`` with ``decoder [n_instances, d,
    n_latents]`` and ``W [n_instances, d, n_features]`` → ``Tensor[n_instances]``, for every feature the
    largest (signed) cosine with any latent's direction, averaged over the features."""
    cases = _dictionary_cases()
    for name, (decoder, W) in cases.items():
        expected = sae.mean_max_cosine(decoder, W)
        try:
            got = torch.as_tensor(student(decoder.clone(), W.clone()), dtype=torch.float32)
        except Exception as error:  # report any failure of the student's code as feedback
            return _raised(error, f"mean_max_cosine on {name}")
        if got.shape != expected.shape:
            return f"✘ mean_max_cosine on {name}: expected shape {list(expected.shape)}, got {list(got.shape)}"
        if not torch.allclose(got, expected, atol=1e-4, rtol=1e-3):
            hint = {
                "scaled": " (cosines need unit columns on both sides)",
                "reversed": " (the cosine is signed: a latent pointing the other way does not recover a feature)",
            }
            extra = next((text for key, text in hint.items() if key in name), "")
            return f"✘ mean_max_cosine on {name}: {_worst_entry(got, expected)}{extra}"
    return f"✔ correct: mean_max_cosine matches the reference on all {len(cases)} test cases"
