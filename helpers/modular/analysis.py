"""What chapter 8 measures on trained bilinear models: the ±c share of the bilinear layer, rounding and
its controls, and Fourier frequencies and Hadamard mixtures of the embedding."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import fourier, validation
from .model import BilinearMLP

#: How ``bilinear_variant`` changes the bilinear weights: round each of L and R to ``{−c, 0, +c}`` with c
#: its own mean absolute entry ("own scale": the sign pattern, same scale), round to ``{−1, 0, +1}``
#: ("integers": the post's rounding, which also moves c to 1), or divide by c without rounding
#: ("rescaled": the scale alone, the control that separates the two).
BILINEAR_VARIANTS = ("own scale", "integers", "rescaled")


#: The share of Gaussian weights within 20% of ±c, c their mean absolute value: the mass of a half-normal
#: between 0.8 and 1.2 times its mean σ√(2/π), 2[Φ(1.2·√(2/π)) − Φ(0.8·√(2/π))] ≈ 0.185. Weights that
#: never left a Gaussian initialisation score about this in ``level_share``.
GAUSSIAN_LEVEL_SHARE = math.erf(1.2 / math.sqrt(math.pi)) - math.erf(0.8 / math.sqrt(math.pi))


def bilinear_level(model: BilinearMLP) -> Tensor:
    """c, the mean absolute entry of L and R together, per instance: ``Tensor[n_instances]``."""
    weights = _bilinear_weights(model)
    return weights.abs().mean(dim=(1, 2))


def level_share(model: BilinearMLP, *, tolerance: float = 0.2) -> Tensor:
    """The share of bilinear entries (L and R together) within ``tolerance``·c of ±c, with c from
    ``bilinear_level``: ``Tensor[n_instances]`` in [0, 1]. Near 1 for a sign matrix times one scale;
    for Gaussian weights about ``GAUSSIAN_LEVEL_SHARE`` (0.185)."""
    tolerance = validation.finite_float("tolerance", tolerance, low=0.0, low_open=True)
    weights = _bilinear_weights(model)
    level = weights.abs().mean(dim=(1, 2), keepdim=True)
    return ((weights.abs() - level).abs() < tolerance * level).float().mean(dim=(1, 2))


def bilinear_variant(model: BilinearMLP, kind: str) -> BilinearMLP:
    """A copy of ``model`` (on the CPU) whose L and R are changed as ``kind`` says (``BILINEAR_VARIANTS``),
    each matrix with its own c; E and U are kept."""
    kind = validation.choice("kind", kind, BILINEAR_VARIANTS)
    new = {}
    for name in "LR":
        weight = getattr(model, name).detach().cpu()  # [n_instances, n_hidden, 2d]
        c = weight.abs().mean(dim=(1, 2), keepdim=True)
        if kind == "rescaled":
            new[name] = weight / c
        else:
            unit = c if kind == "own scale" else torch.ones_like(c)
            new[name] = torch.where(weight.abs() >= unit / 2, unit * weight.sign(), torch.zeros_like(weight))
    copy = BilinearMLP(model.p, model.d, model.n_hidden, model.n_instances)
    return copy.set_parameters(E=model.E.detach().cpu(), U=model.U.detach().cpu(), **new)


#: A column counts as one frequency when at least this share of its squared norm is at its strongest
#: frequency, i.e. everything else leaks at most 15%: far from the 1/2 of an equal two-frequency mixture
#: (a column of a Hadamard-mixed pair), and from the 1/4–3/4 of the unequal mixtures trained models show.
PURE_COLUMN = 0.85


def describe_solutions(model: BilinearMLP) -> dict[str, Tensor]:
    """What chapter 8 measures on every trained instance, each ``Tensor[n_instances]``:

    - ``"two_frequency_share"``: the share of the embedding's squared norm at its two strongest
      frequencies (``fourier.strongest_share``): near 1 for a two-frequency Fourier solution;
    - ``"level_share"`` and ``"level"``: the share of L and R entries within 20% of ±c, and c
      (``level_share``, ``bilinear_level``): the ±1 signature;
    - ``"largest_bilinear"``: the largest |entry| of L and R;
    - ``"purest_column"``: the largest ``fourier.frequency_purity`` of any embedding column (below
      ``PURE_COLUMN``: every column mixes frequencies);
    - ``"unmixed_purity"``: the smallest column purity after the best Hadamard unmixer
      (``fourier.best_hadamard_unmixer``, d a power of 2): at least ``PURE_COLUMN`` for a Hadamard mixture."""
    bilinear = _bilinear_weights(model)  # [n_instances, 2 n_hidden, 2d]; checks the model
    E = model.E.detach().cpu()  # [n_instances, p, d]
    return {
        "two_frequency_share": fourier.strongest_share(E, 2),
        "level_share": level_share(model),
        "level": bilinear_level(model),
        "largest_bilinear": bilinear.abs().amax(dim=(1, 2)),
        "purest_column": fourier.frequency_purity(E).amax(dim=1),
        "unmixed_purity": torch.stack([fourier.best_hadamard_unmixer(e)[1].min() for e in E]),
    }


def _bilinear_weights(model: BilinearMLP) -> Tensor:
    if not isinstance(model, BilinearMLP):
        raise TypeError(f"model must be a helpers.BilinearMLP, got {type(model).__name__}")
    return torch.cat([model.L, model.R], dim=1).detach().cpu()  # [n_instances, 2 n_hidden, 2d]
