import itertools
import math

import pytest
import torch

from helpers import fourier


@pytest.mark.parametrize("p", [2, 5, 12, 113])
def test_fourier_basis_is_orthonormal(p):
    basis = fourier.fourier_basis(p).double()
    assert basis.shape == (p, p)
    torch.testing.assert_close(basis @ basis.T, torch.eye(p, dtype=torch.float64), atol=1e-5, rtol=0)


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


def test_a_mixed_column_is_impure():
    p = 17
    x = torch.arange(p)
    mixed = torch.cos(2 * math.pi * 2 * x / p) + torch.sin(2 * math.pi * 7 * x / p)
    purity = fourier.frequency_purity(mixed[:, None])
    assert abs(purity.item() - 0.5) < 1e-4


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
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_strongest_share_of_a_two_frequency_embedding():
    p = 19
    E = fourier.sparse_solution(p, [2, 5])["E"] @ fourier.hadamard_mixer(4).T  # mixed, still two frequencies
    torch.testing.assert_close(fourier.strongest_share(E, 2), torch.tensor(1.0), atol=1e-5, rtol=0)
    torch.testing.assert_close(fourier.strongest_share(E, 1), torch.tensor(0.5), atol=1e-5, rtol=0)
    random = torch.randn(3, p, 4, generator=torch.Generator().manual_seed(0))
    assert (fourier.strongest_share(random, 2) < 0.6).all()
    with pytest.raises(ValueError, match="count"):
        fourier.strongest_share(E, 10)


def test_mix_solution_keeps_the_function_and_the_frobenius_norms():
    p = 13
    weights = fourier.sparse_solution(p, [1, 4])
    mixed = fourier.mix_solution(weights, fourier.hadamard_mixer(4))
    x = torch.arange(p)
    pairs = torch.cartesian_prod(x, x)

    def logits(w):
        inputs = torch.cat([w["E"][pairs[:, 0]], w["E"][pairs[:, 1]]], dim=1)  # [batch, 2d]
        return ((inputs @ w["L"].T) * (inputs @ w["R"].T)) @ w["U"].T

    torch.testing.assert_close(logits(mixed), logits(weights), atol=1e-4, rtol=1e-4)
    for name in "ELRU":
        torch.testing.assert_close(mixed[name].norm(), weights[name].norm(), atol=1e-4, rtol=1e-5)
    assert mixed["L"].abs().max() == pytest.approx(0.5)  # a one-hot row becomes a row of M, entries ±1/2


@pytest.mark.parametrize("p", [23, 59])
def test_mixing_two_frequencies_gains_between_2_and_4_under_an_entry_bound(p):
    # The theorem of chapter 8: L and R gain 2 each, E loses at most (1/√2)² and at least 1.
    mixers = [fourier.hadamard_mixer(4)] + [
        fourier.hadamard_mixer(4, signs=signs, permutation=order)
        for signs, order in itertools.islice(fourier.signed_permutations(4), 7, None, 50)
    ]
    every_pair = [
        fourier.bounded_gain(fourier.sparse_solution(p, [k1, k2]), mixers[0])
        for k1, k2 in itertools.combinations(range(1, (p - 1) // 2 + 1), 2)
    ]
    every_mixer = [fourier.bounded_gain(fourier.sparse_solution(p, [2, 7]), M) for M in mixers]
    gains = torch.tensor(every_pair + every_mixer)
    assert (gains >= 2 - 1e-4).all() and (gains <= 4 + 1e-4).all()


def test_mixing_part_of_three_frequencies_loses_logit_under_an_entry_bound():
    # The unmixed frequency keeps a one-hot row in L and R (no gain there), while E's largest entry
    # grows by up to √2: the gain is between 1/2 and 1.
    p = 31
    M = torch.block_diag(fourier.hadamard_mixer(4), torch.eye(2))
    gains = torch.tensor(
        [fourier.bounded_gain(fourier.sparse_solution(p, list(ks)), M) for ks in [(1, 2, 3), (4, 9, 14), (5, 11, 6)]]
    )
    assert (gains >= 0.5 - 1e-4).all() and (gains < 1).all()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: fourier.mix_solution({"E": torch.ones(5, 4)}, torch.eye(4)), "weights"),
        (lambda: fourier.mix_solution(fourier.sparse_solution(7, [1, 2]), torch.eye(3)), "M must be"),
        (lambda: fourier.strongest_share(torch.ones(7, 2), 0), "count"),
    ],
)
def test_mixing_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
