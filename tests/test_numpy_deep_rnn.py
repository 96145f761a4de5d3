"""Tests for lecture_code.numpy_deep_rnn: NumPy bidirectional and stacked RNNs against torch.nn.RNN in float64.

Sizes B, T, d, n = 3, 5, 4, 6 are pairwise distinct so that transposed weights or swapped axes fail.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lecture_code.numpy_deep_rnn import (
    birnn_forward,
    check_lengths,
    check_params,
    numpy_params_from_torch,
    rnn_direction,
    stacked_rnn_forward,
)
from lecture_code.numpy_rnn import rnn_step

B, T, D, N = 3, 5, 4, 6
ATOL = 1e-10

LENGTHS = [[5, 2, 3], [5, 5, 5], [1, 1, 1], [1, 4, 5], [3, 3, 1]]


def _torch_rnn(d: int = D, n: int = N, seed: int = 0, **kw) -> nn.RNN:
    torch.manual_seed(seed)
    return nn.RNN(d, n, batch_first=True, **kw).double()


def _x(rng: np.random.Generator, b: int = B, t: int = T, d: int = D) -> np.ndarray:
    return rng.standard_normal((b, t, d))


def _packed_torch(rnn: nn.RNNBase, x: np.ndarray, lengths) -> tuple[np.ndarray, torch.Tensor]:
    """torch's padded output (B, T, dirs*n) and h_n for a packed batch of real lengths ``lengths``."""
    packed = pack_padded_sequence(torch.from_numpy(x), torch.as_tensor(lengths), batch_first=True,
                                  enforce_sorted=False)
    out, h_n = rnn(packed)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    return out.detach().numpy(), h_n


def _both(rnn: nn.RNN) -> tuple[dict, dict]:
    return numpy_params_from_torch(rnn, 0, reverse=False), numpy_params_from_torch(rnn, 0, reverse=True)


def _random_params(rng: np.random.Generator, d: int, n: int) -> dict[str, np.ndarray]:
    u = rng.uniform
    return {"W_h": u(-0.5, 0.5, (n, n)), "W_e": u(-0.5, 0.5, (n, d)), "b1": u(-0.5, 0.5, n)}


# ----------------------------------------------------------------------------- birnn_forward


@pytest.mark.parametrize("lengths", LENGTHS)
def test_birnn_forward_equals_torch_packed(rng: np.random.Generator, lengths: list[int]) -> None:
    rnn = _torch_rnn(bidirectional=True)
    x = _x(rng)
    want, _ = _packed_torch(rnn, x, lengths)
    H = birnn_forward(x, np.array(lengths), *_both(rnn))
    assert H.shape == (B, T, 2 * N) and H.dtype == np.float64
    np.testing.assert_allclose(H, want, rtol=0, atol=ATOL)


def test_birnn_forward_final_states_are_torch_h_n(rng: np.random.Generator) -> None:
    rnn, x, lengths = _torch_rnn(bidirectional=True), _x(rng), np.array([5, 2, 3])
    _, h_n = _packed_torch(rnn, x, lengths)
    H = birnn_forward(x, lengths, *_both(rnn))
    fwd_last = H[np.arange(B), lengths - 1, :N]  # forward state at each row's last real token
    np.testing.assert_allclose(fwd_last, h_n[0].detach().numpy(), rtol=0, atol=ATOL)
    np.testing.assert_allclose(H[:, 0, N:], h_n[1].detach().numpy(), rtol=0, atol=ATOL)  # backward ends at t = 0


def test_birnn_backward_starts_at_last_real_token(rng: np.random.Generator) -> None:
    x, lengths = _x(rng), np.array([5, 2, 3])
    p_f, p_b = _random_params(rng, D, N), _random_params(rng, D, N)
    H = birnn_forward(x, lengths, p_f, p_b)
    for b, L in enumerate(lengths):  # from a zero state, the first backward step reads x(L-1) only
        want = np.tanh(p_b["W_e"] @ x[b, L - 1] + p_b["b1"])
        np.testing.assert_allclose(H[b, L - 1, N:], want, rtol=0, atol=ATOL)
        assert np.all(H[b, L:] == 0.0)  # padding is 0 in both halves


def test_birnn_padded_batch_equals_each_sequence_alone(rng: np.random.Generator) -> None:
    x, lengths = _x(rng), np.array([5, 2, 3])
    p_f, p_b = _random_params(rng, D, N), _random_params(rng, D, N)
    H = birnn_forward(x, lengths, p_f, p_b)
    for b, L in enumerate(lengths):
        alone = birnn_forward(x[b : b + 1, :L], np.array([L]), p_f, p_b)
        np.testing.assert_allclose(H[b : b + 1, :L], alone, rtol=0, atol=ATOL)


def test_birnn_ignores_padding_values(rng: np.random.Generator) -> None:
    x, lengths = _x(rng), np.array([5, 2, 3])
    p_f, p_b = _random_params(rng, D, N), _random_params(rng, D, N)
    junk = x.copy()
    for b, L in enumerate(lengths):
        junk[b, L:] = 1e3
    np.testing.assert_array_equal(birnn_forward(junk, lengths, p_f, p_b), birnn_forward(x, lengths, p_f, p_b))


def test_birnn_forward_half_first_and_separate_weights(rng: np.random.Generator) -> None:
    x, lengths = _x(rng), np.array([5, 2, 3])
    p_f, p_b, p_other = (_random_params(rng, D, N) for _ in range(3))
    H = birnn_forward(x, lengths, p_f, p_b)
    H2 = birnn_forward(x, lengths, p_f, p_other)
    np.testing.assert_array_equal(H[..., :N], H2[..., :N])  # the first half depends on params_fwd only
    assert np.abs(H[..., N:] - H2[..., N:]).max() > 1e-3
    h = np.zeros((B, N))
    for t in range(2):  # row 0 (full length) by the slide's formula
        h = rnn_step(x[:, t], h, p_f["W_h"], p_f["W_e"], p_f["b1"])
        np.testing.assert_allclose(H[0, t, :N], h[0], rtol=0, atol=ATOL)


def test_birnn_does_not_modify_inputs(rng: np.random.Generator) -> None:
    x, lengths = _x(rng), np.array([5, 2, 3])
    p_f, p_b = _random_params(rng, D, N), _random_params(rng, D, N)
    copies = [x.copy(), lengths.copy(), {k: v.copy() for k, v in p_f.items()}]
    birnn_forward(x, lengths, p_f, p_b)
    np.testing.assert_array_equal(x, copies[0])
    np.testing.assert_array_equal(lengths, copies[1])
    assert all(np.array_equal(p_f[k], copies[2][k]) for k in p_f)


# ----------------------------------------------------------------------------- stacked_rnn_forward


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("with_h0", [False, True])
def test_stacked_rnn_forward_equals_torch(rng: np.random.Generator, k: int, with_h0: bool) -> None:
    rnn, x = _torch_rnn(num_layers=k, seed=k), _x(rng)
    h0 = rng.standard_normal((k, B, N)) if with_h0 else None
    out, h_n = rnn(torch.from_numpy(x), None if h0 is None else torch.from_numpy(h0))
    H, h_final = stacked_rnn_forward(x, [numpy_params_from_torch(rnn, i) for i in range(k)], h0)
    assert H.shape == (B, T, N) and h_final.shape == (B, N)
    np.testing.assert_allclose(H, out.detach().numpy(), rtol=0, atol=ATOL)
    np.testing.assert_allclose(h_final, h_n[-1].detach().numpy(), rtol=0, atol=ATOL)


def test_stacked_layer_reads_the_layer_below(rng: np.random.Generator) -> None:
    x = _x(rng)
    p1, p2 = _random_params(rng, D, N), _random_params(rng, N, 7)  # widths may change from layer to layer
    H1, _ = stacked_rnn_forward(x, [p1])
    want, want_last = stacked_rnn_forward(H1, [p2])
    H, h_final = stacked_rnn_forward(x, [p1, p2])
    assert H.shape == (B, T, 7)
    np.testing.assert_allclose(H, want, rtol=0, atol=ATOL)
    np.testing.assert_allclose(h_final, want_last, rtol=0, atol=ATOL)


def test_stacked_t1_b1(rng: np.random.Generator) -> None:
    p1, p2 = _random_params(rng, D, N), _random_params(rng, N, N)
    x = _x(rng, b=1, t=1)
    H, h_final = stacked_rnn_forward(x, [p1, p2])
    want = np.tanh(p2["W_e"] @ np.tanh(p1["W_e"] @ x[0, 0] + p1["b1"]) + p2["b1"])
    np.testing.assert_allclose(H[0, 0], want, rtol=0, atol=ATOL)
    np.testing.assert_allclose(h_final[0], want, rtol=0, atol=ATOL)


def test_rnn_direction_returns_state_at_last_real_token(rng: np.random.Generator) -> None:
    x, lengths, p = _x(rng), np.array([5, 2, 3]), _random_params(rng, D, N)
    H, h_last = rnn_direction(x, p, lengths)
    np.testing.assert_array_equal(h_last, H[np.arange(B), lengths - 1])
    H_rev, h_first = rnn_direction(x, p, lengths, reverse=True)
    np.testing.assert_array_equal(h_first, H_rev[:, 0])


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("lengths", "match"),
    [([6, 2, 3], "between 1 and T=5"), ([5, 0, 3], "between 1 and T=5"), ([5, 2], r"shape \(B,\)"),
     ([5.0, 2.0, 3.0], "integers")],
)
def test_birnn_bad_lengths(rng: np.random.Generator, lengths: list, match: str) -> None:
    p = _random_params(rng, D, N)
    with pytest.raises(ValueError, match=match):
        birnn_forward(_x(rng), np.array(lengths), p, p)


def test_birnn_bad_shapes(rng: np.random.Generator) -> None:
    p = _random_params(rng, D, N)
    with pytest.raises(ValueError, match=r"x must be \(B, T, d\)"):
        birnn_forward(rng.standard_normal((B, T)), np.array([5, 2, 3]), p, p)
    transposed = {**p, "W_e": p["W_e"].T}
    with pytest.raises(ValueError, match=r"params_bwd\['W_e'\] must have shape \(6, 4\)"):
        birnn_forward(_x(rng), np.array([5, 2, 3]), p, transposed)
    with pytest.raises(ValueError, match="missing"):
        birnn_forward(_x(rng), np.array([5, 2, 3]), {"W_h": p["W_h"]}, p)


def test_stacked_bad_input(rng: np.random.Generator) -> None:
    p1, p2 = _random_params(rng, D, N), _random_params(rng, N, N)
    with pytest.raises(ValueError, match="at least one"):
        stacked_rnn_forward(_x(rng), [])
    with pytest.raises(ValueError, match=r"layers\[1\]\['W_e'\] must have shape \(6, 6\)"):
        stacked_rnn_forward(_x(rng), [p1, p1])  # layer 2 must read n, not d, features
    with pytest.raises(ValueError, match=r"h0 must have shape \(L, B, n\)"):
        stacked_rnn_forward(_x(rng), [p1, p2], np.zeros((1, B, N)))
    with pytest.raises(ValueError, match=r"h0 must have shape \(L, B, n\)"):
        stacked_rnn_forward(_x(rng), [p1, p2], np.zeros((2, N, B)))


def test_checkers_directly() -> None:
    assert check_params({"W_h": np.zeros((N, N)), "W_e": np.zeros((N, D)), "b1": np.zeros(N)}, D) == N
    assert check_lengths([1, 5], 2, 5).dtype == np.int64
    with pytest.raises(ValueError, match="b1"):
        check_params({"W_h": np.zeros((N, N)), "W_e": np.zeros((N, D)), "b1": np.zeros(N + 1)}, D)


def test_numpy_params_from_torch() -> None:
    rnn = _torch_rnn(num_layers=2, bidirectional=True)
    p = numpy_params_from_torch(rnn, 1, reverse=True)
    assert {k: v.shape for k, v in p.items()} == {"W_h": (N, N), "W_e": (N, 2 * N), "b1": (N,)}
    want = (rnn.bias_ih_l1_reverse + rnn.bias_hh_l1_reverse).detach().numpy()
    np.testing.assert_array_equal(p["b1"], want)
    with pytest.raises(ValueError, match="no layer 2"):
        numpy_params_from_torch(rnn, 2)
    with pytest.raises(ValueError, match="reverse"):
        numpy_params_from_torch(_torch_rnn(), 0, reverse=True)
    with pytest.raises(ValueError, match="tanh"):
        numpy_params_from_torch(nn.LSTM(D, N))
    with pytest.raises(ValueError, match="tanh"):
        numpy_params_from_torch(nn.RNN(D, N, nonlinearity="relu"))
