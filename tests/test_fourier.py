import math

import pytest
import torch

from helpers import fourier


@pytest.mark.parametrize("p", [2, 5, 12, 113])
def test_fourier_basis_is_orthonormal(p):
    basis = fourier.fourier_basis(p).double()
    assert basis.shape == (p, p)
    torch.testing.assert_close(basis @ basis.T, torch.eye(p, dtype=torch.float64), atol=1e-5, rtol=0)
    assert len(fourier.frequency_labels(p)) == p


def test_frequency_norms_find_a_planted_frequency_and_keep_the_norm():
    p, k = 13, 5
    x = torch.arange(p)
    column = 3 * torch.cos(2 * math.pi * k * x / p + 0.4)  # frequency 5, any phase
    embedding = torch.stack([column, torch.ones(p)], dim=1)  # [p, 2]
    norms = fourier.frequency_norms(embedding)
    assert norms.shape == (p // 2 + 1, 2)
    assert norms[:, 0].argmax() == k and norms[:, 1].argmax() == 0
    torch.testing.assert_close((norms**2).sum(dim=0), (embedding**2).sum(dim=0), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(fourier.frequency_purity(embedding), torch.ones(2), rtol=1e-5, atol=1e-5)
    assert fourier.key_frequencies(embedding) == [k]


def test_a_mixed_column_is_impure_and_both_frequencies_are_key():
    p = 17
    x = torch.arange(p)
    mixed = torch.cos(2 * math.pi * 2 * x / p) + torch.sin(2 * math.pi * 7 * x / p)
    purity = fourier.frequency_purity(mixed[:, None])
    assert abs(purity.item() - 0.5) < 1e-4
    assert sorted(fourier.key_frequencies(mixed[:, None])) == [2, 7]


@pytest.mark.parametrize("n", [1, 2, 4, 8, 16])
def test_sylvester_hadamard(n):
    H = fourier.sylvester_hadamard(n)
    assert set(H.flatten().tolist()) <= {1.0, -1.0}
    torch.testing.assert_close(H @ H.T, n * torch.eye(n))
    torch.testing.assert_close(H, H.T)
    assert abs(abs(torch.linalg.det(H.double()).item()) - n ** (n / 2)) < 1e-6 * n ** (n / 2)


def test_sylvester_order_four_rows():
    expected = [[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]]
    assert fourier.sylvester_hadamard(4).tolist() == expected


@pytest.mark.parametrize("n", [2, 4, 8])
def test_every_conjugated_hadamard_mixer_is_involutory_and_orthogonal(n):
    generator = torch.Generator().manual_seed(n)
    for _ in range(5):
        signs = torch.randint(0, 2, (n,), generator=generator) * 2.0 - 1
        permutation = torch.randperm(n, generator=generator)
        M = fourier.hadamard_mixer(n, signs=signs, permutation=permutation)
        torch.testing.assert_close(M @ M, torch.eye(n), atol=1e-6, rtol=0)
        torch.testing.assert_close(M @ M.T, torch.eye(n), atol=1e-6, rtol=0)
        torch.testing.assert_close(M.abs(), torch.full((n, n), n**-0.5))


def test_signed_permutations_count():
    assert sum(1 for _ in fourier.signed_permutations(3)) == 2**3 * 6


def test_change_of_basis_keeps_the_composition():
    generator = torch.Generator().manual_seed(0)
    writer = torch.randn(3, 4, 7, generator=generator)  # [instances, d, k]
    reader = torch.randn(3, 5, 4, generator=generator)  # [instances, r, d]
    M = torch.randn(4, 4, generator=generator) + 3 * torch.eye(4)
    new_writer, new_reader = fourier.change_of_basis(writer, reader, M)
    torch.testing.assert_close(new_reader @ new_writer, reader @ writer, atol=1e-4, rtol=1e-4)
    assert not torch.allclose(new_writer, writer)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: fourier.sylvester_hadamard(6), "power of 2"),
        (lambda: fourier.sylvester_hadamard(0), "n must be a positive integer"),
        (lambda: fourier.fourier_basis(1), "p must be"),
        (lambda: fourier.hadamard_mixer(4, signs=torch.tensor([1.0, 2.0, 1.0, 1.0])), "signs"),
        (lambda: fourier.hadamard_mixer(4, permutation=torch.tensor([0, 0, 1, 2])), "permutation"),
        (lambda: fourier.change_of_basis(torch.ones(4, 2), torch.ones(3, 5), torch.eye(4)), "shapes do not chain"),
        (lambda: fourier.frequency_norms(torch.ones(5)), "embedding"),
        (lambda: fourier.key_frequencies(torch.ones(5, 2), share=1.5), "share"),
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()
