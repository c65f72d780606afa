import math

import pytest
import torch

import helpers
from helpers.activations import ACTIVATIONS, FEATURE_MAJOR_ACTIVATIONS, OUTPUT_BACKWARD, solu


@pytest.mark.parametrize(
    ("activation", "reference"),
    [
        ("linear", lambda z: z),
        ("relu", lambda z: z.clamp_min(0)),
        ("gelu", lambda z: z * 0.5 * (1 + torch.erf(z / math.sqrt(2)))),
        ("silu", lambda z: z / (1 + torch.exp(-z))),
        ("sigmoid", lambda z: 1 / (1 + torch.exp(-z))),
        ("tanh", lambda z: (torch.exp(z) - torch.exp(-z)) / (torch.exp(z) + torch.exp(-z))),
        ("solu", lambda z: z * torch.exp(z) / torch.exp(z).sum(dim=-1, keepdim=True)),
    ],
)
def test_activation_matches_its_definition(activation, reference):
    z = torch.linspace(-3, 3, 24).reshape(2, 3, 4)
    torch.testing.assert_close(ACTIVATIONS[activation](z), reference(z))


def test_solu_is_not_elementwise():
    z = torch.tensor([[1.0, 2.0, 3.0]])
    changed = z.clone()
    changed[0, 2] = -3.0
    assert solu(z)[0, 0] != solu(changed)[0, 0]


def test_the_table_is_the_one_the_models_and_the_book_use():
    assert helpers.ACTIVATIONS is ACTIVATIONS and helpers.models.ACTIVATIONS is ACTIVATIONS
    assert set(FEATURE_MAJOR_ACTIVATIONS) == set(ACTIVATIONS)
    assert set(OUTPUT_BACKWARD) == set(ACTIVATIONS) - {"relu"}  # ReLU's backward is a fused kernel
