"""BitNet b1.58 quantisation: the facts the BitNet chapter relies on (reference notes, BitNet section)."""

import math

import pytest
import torch

import helpers
from helpers import bitnet


def test_ternary_weights_are_gamma_times_minus_one_zero_one():
    W = torch.randn(4, 5, 20, generator=torch.Generator().manual_seed(0))
    quantised = bitnet.ternarize(W)
    gamma = W.abs().mean(dim=(1, 2), keepdim=True)
    torch.testing.assert_close(bitnet.ternary_scale(W), gamma)
    assert set((quantised / gamma).round().unique().tolist()) == {-1.0, 0.0, 1.0}
    torch.testing.assert_close(quantised / gamma, (quantised / gamma).round())
    torch.testing.assert_close(bitnet.ternarize(3.0 * W), 3.0 * quantised)  # scale-equivariant


def test_straight_through_gradient_is_the_identity():
    W = torch.randn(2, 3, 7, requires_grad=True)
    upstream = torch.randn(2, 3, 7)
    (bitnet.ternarize(W) * upstream).sum().backward()
    torch.testing.assert_close(W.grad, upstream)
    x = torch.rand(2, 4, 7, requires_grad=True)
    (bitnet.quantize_activations(x) * upstream[:, :1]).sum().backward()
    torch.testing.assert_close(x.grad, upstream[:, :1].expand(2, 4, 7))


def test_zero_fraction_at_gaussian_init_is_about_0_31():
    expected = 2 * 0.5 * (1 + math.erf(0.5 * math.sqrt(2 / math.pi) / math.sqrt(2))) - 1  # 2Φ(0.5·√(2/π)) − 1
    assert abs(expected - 0.310) < 0.001
    model = helpers.ToyModel(200, 20, 4, weights="ternary")
    zero_fraction = (model.W == 0).float().mean().item()
    assert abs(zero_fraction - expected) < 0.03


def test_gram_matrix_of_tied_ternary_weights_is_integer_in_units_of_gamma_squared():
    model = helpers.ToyModel(20, 5, 3, weights="ternary")
    W = model.W.detach()
    gamma = bitnet.ternary_scale(model.weight.detach())
    gram = W.transpose(1, 2) @ W / gamma.square()
    torch.testing.assert_close(gram, gram.round(), atol=1e-4, rtol=0)
    codes = bitnet.ternary_codes(model.weight.detach())
    torch.testing.assert_close(gram.diagonal(dim1=1, dim2=2), codes.abs().sum(dim=1), atol=1e-4, rtol=0)


def test_activation_quantisation_grid_and_error():
    x = torch.rand(3, 50, 20, generator=torch.Generator().manual_seed(1))
    quantised = bitnet.quantize_activations(x, bits=8)
    step = x.abs().amax(dim=-1, keepdim=True) / 127
    torch.testing.assert_close(quantised / step, (quantised / step).round(), atol=1e-3, rtol=0)
    assert ((quantised - x).abs() <= step / 2 + 1e-6).all()  # at most max|x|/254
    with pytest.raises(ValueError, match="bits"):
        bitnet.quantize_activations(x, bits=1)


def test_a_norm_before_quantisation_makes_the_encoder_scale_invariant():
    W = torch.randn(1, 5, 20, generator=torch.Generator().manual_seed(2))
    feature = torch.zeros(1, 1, 20)
    feature[..., 3] = 1.0
    inputs = torch.cat([value * feature for value in (0.1, 0.5, 1.0)], dim=1)  # one feature, 3 magnitudes
    with_norm = bitnet.bitlinear(inputs, W, norm=True)
    # h(0.5 x) = h(x) up to the norm's ε (relative effect ε / mean(x²) ≤ 1e-4): the magnitude is lost
    torch.testing.assert_close(with_norm[:, 1], with_norm[:, 2], rtol=2e-4, atol=0)
    without_norm = bitnet.bitlinear(inputs, W, norm=False)
    torch.testing.assert_close(without_norm[:, 0] * 10, without_norm[:, 2])  # h(0.1 x) = 0.1 h(x)


def test_bad_weights_are_named():
    with pytest.raises(ValueError, match=r"W must be a Tensor\[n_instances, n_hidden, n_features\]"):
        bitnet.ternary_scale(torch.zeros(5, 20))


def test_binary_weights_are_beta_times_sign_of_the_centred_weights():
    W = torch.randn(3, 5, 20, generator=torch.Generator().manual_seed(3)) + 0.2
    quantised = bitnet.binarize(W)
    beta = W.abs().mean(dim=(1, 2), keepdim=True)
    torch.testing.assert_close(bitnet.binary_scale(W), beta)
    expected = beta * torch.where(W > W.mean(dim=(1, 2), keepdim=True), 1.0, -1.0)
    torch.testing.assert_close(quantised, expected)
    assert set(bitnet.binary_codes(torch.zeros(1, 2, 2)).unique().tolist()) == {-1.0}  # Sign(0) = −1
    # every column has the same norm β√m: a tied binary model cannot switch a feature off by its weights
    torch.testing.assert_close(quantised.norm(dim=1), (beta * math.sqrt(5)).squeeze(2).expand(3, 20))


def test_binary_straight_through_gradient_and_model():
    W = torch.randn(2, 3, 7, requires_grad=True)
    upstream = torch.randn(2, 3, 7)
    (bitnet.binarize(W) * upstream).sum().backward()
    torch.testing.assert_close(W.grad, upstream)
    model = helpers.ToyModel(7, 3, 2, weights="binary")
    torch.testing.assert_close(model.W, bitnet.binarize(model.weight))  # its gradient: test_models.py
