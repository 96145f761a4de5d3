"""Tests for exercise set 6 (bidirectional and multi-layer RNNs): birnn_forward, birnn_lm_choice,
stacked_rnn_forward, stacked_birnn_num_params.

As in test_grading_04.py, the wrong implementations are written independently of the registered
``Mistake.fn``s (per-row loops, np.flip, einsum, torch.nn.RNN, time-major loops), the way a learner
would write them; each must be rejected AND named as the registered mistake. The correct
implementations are written in several styles, torch.nn.RNN with packed sequences among them, and
must all pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from helpers import assert_passes, assert_rejected_and_named, assert_wrong_and_correct_cover, quiet_check
from torch import nn

from lecture_code import numpy_deep_rnn
from lecture_code.grading import EXERCISES, Status, exercises_06
from lecture_code.grading.checker import _same

SET_6 = ["birnn_forward", "stacked_rnn_forward"]
ALL_6 = ["birnn_forward", "birnn_lm_choice", "stacked_rnn_forward", "stacked_birnn_num_params"]


def step(x_t, h, p):
    """One tanh step on rows: x_t (B, d) or (d,), h (B, n) or (n,)."""
    return np.tanh(h @ p["W_h"].T + x_t @ p["W_e"].T + p["b1"])


def torch_rnn(layers: list[dict], bidirectional: bool = False) -> nn.RNN:
    """A float64 tanh torch.nn.RNN holding the given params (``[fwd, bwd]`` when bidirectional)."""
    n, d = layers[0]["W_e"].shape
    L = len(layers) // (2 if bidirectional else 1)
    rnn = nn.RNN(d, n, num_layers=L, batch_first=True, bidirectional=bidirectional).double()
    suffixes = [f"_l{i}{s}" for i in range(L) for s in (("", "_reverse") if bidirectional else ("",))]
    with torch.no_grad():
        for sfx, p in zip(suffixes, layers, strict=True):
            getattr(rnn, "weight_ih" + sfx).copy_(torch.from_numpy(p["W_e"]))
            getattr(rnn, "weight_hh" + sfx).copy_(torch.from_numpy(p["W_h"]))
            getattr(rnn, "bias_ih" + sfx).copy_(torch.from_numpy(p["b1"]))
            getattr(rnn, "bias_hh" + sfx).zero_()
    return rnn


# =============================================================================================
# birnn_forward

# ----- wrong


def bi_not_re_reversed(x, lengths, params_fwd, params_bwd):
    B, T, _ = x.shape
    n = len(params_fwd["b1"])
    H = np.zeros((B, T, 2 * n))
    for b in range(B):
        h = np.zeros(n)
        for t in range(lengths[b]):
            h = step(x[b, t], h, params_fwd)
            H[b, t, :n] = h
        h = np.zeros(n)
        for k, t in enumerate(range(lengths[b] - 1, -1, -1)):
            h = step(x[b, t], h, params_bwd)
            H[b, k, n:] = h  # k counts the steps taken, not the position
    return H


def bi_flip_everything(x, lengths, params_fwd, params_bwd):
    B, T, _ = x.shape
    flipped = np.flip(x, axis=1)
    hf = np.zeros((B, len(params_fwd["b1"])))
    hb = np.zeros((B, len(params_bwd["b1"])))
    fwd, bwd = [], []
    for t in range(T):
        hf = step(x[:, t], hf, params_fwd)
        hb = step(flipped[:, t], hb, params_bwd)
        fwd.append(hf)
        bwd.append(hb)
    H = np.concatenate([np.stack(fwd, 1), np.flip(np.stack(bwd, 1), axis=1)], axis=2)
    real = np.arange(T) < np.asarray(lengths)[:, None]
    return np.where(real[:, :, None], H, 0.0)


def bi_no_lengths(x, lengths, params_fwd, params_bwd):
    B, T, _ = x.shape
    n = params_fwd["W_h"].shape[0]
    fwd, bwd = np.zeros((B, T, n)), np.zeros((B, T, n))
    h = np.zeros((B, n))
    for t in range(T):
        h = step(x[:, t], h, params_fwd)
        fwd[:, t] = h
    h = np.zeros((B, n))
    for t in reversed(range(T)):
        h = step(x[:, t], h, params_bwd)
        bwd[:, t] = h
    return np.dstack([fwd, bwd])


def bi_one_set_of_weights(x, lengths, params_fwd, params_bwd):
    B, T, _ = x.shape
    n = params_fwd["W_h"].shape[0]
    H = np.zeros((B, T, 2 * n))
    for b in range(B):
        L = int(lengths[b])
        h = np.zeros(n)
        for t in range(L):
            h = step(x[b, t], h, params_fwd)
            H[b, t, :n] = h
        h = np.zeros(n)
        for t in range(L - 1, -1, -1):
            h = step(x[b, t], h, params_fwd)  # copied from the loop above
            H[b, t, n:] = h
    return H


def bi_torch_halves_swapped(x, lengths, params_fwd, params_bwd):
    rnn = torch_rnn([params_fwd, params_bwd], bidirectional=True)
    packed = nn.utils.rnn.pack_padded_sequence(torch.from_numpy(x), torch.as_tensor(lengths), batch_first=True,
                                               enforce_sorted=False)
    with torch.no_grad():
        out, _ = rnn(packed)
    H, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    n = params_fwd["W_h"].shape[0]
    return torch.cat([H[..., n:], H[..., :n]], dim=-1).numpy()


def bi_mask_forgotten(x, lengths, params_fwd, params_bwd):
    B, T, _ = x.shape
    n = params_fwd["W_h"].shape[0]
    fwd = np.zeros((B, T, n))
    h = np.zeros((B, n))
    for t in range(T):
        h = np.tanh(np.einsum("nm,bm->bn", params_fwd["W_h"], h) + np.einsum("nd,bd->bn", params_fwd["W_e"], x[:, t])
                    + params_fwd["b1"])
        fwd[:, t] = h
    bwd = np.zeros((B, T, n))
    for b in range(B):
        L = int(lengths[b])
        seq = np.concatenate([x[b, :L][::-1], x[b, L:]])  # the real tokens reversed, the padding behind them
        h, states = np.zeros(n), []
        for x_t in seq:
            h = step(x_t, h, params_bwd)
            states.append(h)
        bwd[b] = np.array(states[:L][::-1] + states[L:])
    return np.concatenate([fwd, bwd], axis=-1)


def bi_backward_continues(x, lengths, params_fwd, params_bwd):
    B, T, _ = x.shape
    n = params_fwd["W_h"].shape[0]
    H = np.zeros((B, T, 2 * n))
    for b in range(B):
        h = np.zeros(n)
        for t in range(lengths[b]):
            h = step(x[b, t], h, params_fwd)
            H[b, t, :n] = h
        for t in reversed(range(lengths[b])):  # h still holds the forward state
            h = step(x[b, t], h, params_bwd)
            H[b, t, n:] = h
    return H


def bi_both_left_to_right(x, lengths, params_fwd, params_bwd):
    B, T, _ = x.shape
    n = params_fwd["W_h"].shape[0]
    H = np.zeros((B, T, 2 * n))
    hf, hb = np.zeros((B, n)), np.zeros((B, n))
    for t in range(T):
        hf, hb = step(x[:, t], hf, params_fwd), step(x[:, t], hb, params_bwd)
        real = (t < np.asarray(lengths))[:, None]
        H[:, t] = np.where(real, np.hstack([hf, hb]), 0.0)
    return H


# ----- correct


def bi_torch_packed(x, lengths, params_fwd, params_bwd):
    rnn = torch_rnn([params_fwd, params_bwd], bidirectional=True)
    packed = nn.utils.rnn.pack_padded_sequence(torch.from_numpy(x), torch.as_tensor(lengths), batch_first=True,
                                               enforce_sorted=False)
    with torch.no_grad():
        out, _ = rnn(packed)
    H, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    return H.numpy()


def bi_per_row(x, lengths, params_fwd, params_bwd):
    rows = []
    for b in range(x.shape[0]):
        L = int(lengths[b])
        fwd, bwd = [], []
        hf = hb = np.zeros(params_fwd["W_h"].shape[0])
        for t in range(L):
            hf = step(x[b, t], hf, params_fwd)
            hb = step(x[b, L - 1 - t], hb, params_bwd)
            fwd.append(hf)
            bwd.append(hb)
        row = np.hstack([np.array(fwd), np.array(bwd[::-1])])
        rows.append(np.vstack([row, np.zeros((x.shape[1] - L, row.shape[1]))]))
    return np.stack(rows)


def bi_gather_reversal(x, lengths, params_fwd, params_bwd):
    B, T, _ = x.shape
    lengths = np.asarray(lengths)
    t = np.arange(T)
    # index of the token each row reads at step k when reversed: lengths-1-k for real tokens, k for padding
    idx = np.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)

    def run(inp, p):
        h, out = np.zeros((B, p["W_h"].shape[0])), []
        for k in range(T):
            h = step(inp[:, k], h, p)
            out.append(h)
        return np.stack(out, axis=1)

    rev_x = np.take_along_axis(x, idx[:, :, None], axis=1)
    rev_h = run(rev_x, params_bwd)
    h_bwd = np.take_along_axis(rev_h, idx[:, :, None], axis=1)  # the permutation is its own inverse
    mask = (t < lengths[:, None])[:, :, None]
    return np.concatenate([run(x, params_fwd), h_bwd], axis=-1) * mask


# =============================================================================================
# stacked_rnn_forward

# ----- wrong


def _layer(inp, p, h):
    out = []
    for t in range(inp.shape[1]):
        h = step(inp[:, t], h, p)
        out.append(h)
    return np.stack(out, axis=1)


def _initial(x, layers, h0):
    return [np.zeros((x.shape[0], p["W_h"].shape[0])) for p in layers] if h0 is None else list(h0)


def st_all_read_x(x, layers, h0=None):
    outputs = [_layer(x, p, h) for p, h in zip(layers, _initial(x, layers, h0), strict=True)]
    return outputs[-1], outputs[-1][:, -1]


def st_first_weights(x, layers, h0=None):
    W_h, W_e, b1 = layers[0]["W_h"], layers[0]["W_e"], layers[0]["b1"]
    inp = x
    for h in _initial(x, layers, h0):
        states = []
        for t in range(x.shape[1]):
            h = np.tanh(h @ W_h.T + inp[:, t] @ W_e.T + b1)
            states.append(h)
        inp = np.stack(states, axis=1)
    return inp, inp[:, -1]


def st_bottom_final(x, layers, h0=None):
    h = _initial(x, layers, h0)
    H = x
    for i, p in enumerate(layers):
        H = _layer(H, p, h[i])
        h[i] = H[:, -1]
    return H, h[0]


def st_bottom_states(x, layers, h0=None):
    h = _initial(x, layers, h0)
    bottom = _layer(x, layers[0], h[0])
    H = bottom
    for i in range(1, len(layers)):
        H = _layer(H, layers[i], h[i])
    return bottom, H[:, -1]


def st_zeros_above(x, layers, h0=None):
    H = x
    for i, p in enumerate(layers):
        h = h0[0] if h0 is not None and i == 0 else np.zeros((x.shape[0], p["W_h"].shape[0]))
        H = _layer(H, p, h)
    return H, H[:, -1]


def st_time_major_chained(x, layers, h0=None):
    B, T, _ = x.shape
    h = np.zeros((B, layers[0]["W_h"].shape[0])) if h0 is None else h0[0]
    inp = x
    for p in layers:
        states = np.empty((B, T, p["W_h"].shape[0]))
        for t in range(T):
            h = step(inp[:, t], h, p)
            states[:, t] = h
        inp = states
    return inp, h


def st_torch_h_n(x, layers, h0=None):
    rnn = torch_rnn(layers)
    with torch.no_grad():
        out, h_n = rnn(torch.from_numpy(x), None if h0 is None else torch.from_numpy(h0))
    return out.numpy(), h_n.numpy()


def st_torch_no_h0(x, layers, h0=None):
    rnn = torch_rnn(layers)
    with torch.no_grad():
        out, h_n = rnn(torch.from_numpy(x))
    return out.numpy(), h_n[-1].numpy()


# ----- correct


def st_torch(x, layers, h0=None):
    rnn = torch_rnn(layers)
    with torch.no_grad():
        out, h_n = rnn(torch.from_numpy(x), None if h0 is None else torch.from_numpy(h0))
    return out.numpy(), h_n[-1].numpy()


def st_time_outer_loop(x, layers, h0=None):
    T = x.shape[1]
    h = _initial(x, layers, h0)
    top = []
    for t in range(T):  # every layer takes its step t before any layer takes step t+1
        inp = x[:, t]
        for i, p in enumerate(layers):
            h[i] = step(inp, h[i], p)
            inp = h[i]
        top.append(inp)
    return np.stack(top, axis=1), h[-1]


def st_recursive(x, layers, h0=None):
    if not layers:
        return x, x[:, -1]
    h = np.zeros((x.shape[0], layers[0]["W_h"].shape[0])) if h0 is None else h0[0]
    return st_recursive(_layer(x, layers[0], h), layers[1:], None if h0 is None else h0[1:])


# =============================================================================================
# birnn_lm_choice


def lm_choice_left_context_only():
    return "B"


def lm_choice_written_freely():
    return "b."


def lm_choice_too_big():
    return "A"


def lm_choice_no_bptt():
    return "C"


def lm_choice_perplexity_too_high():
    return "D"


# =============================================================================================
# stacked_birnn_num_params: derived from the shapes


def stacked_count_by_layers(d, n, L):
    total, width = 0.0, d  # a float: a count is a number
    for _ in range(L):
        total += 2 * (n * n + n * width + n)  # two directions, each W_h (n, n), W_e (n, width), b_1 (n)
        width = 2 * n
    return total


def stacked_count_closed_form(d, n, L):
    return 2 * n * (n + d + 1) + 2 * (L - 1) * n * (3 * n + 1)


def stacked_count_torch(d, n, L):
    if L * n * (n + d) > 10**5:
        return stacked_count_closed_form(d, n, L)
    rnn = nn.RNN(d, n, num_layers=L, bidirectional=True)
    return sum(p.numel() for p in rnn.parameters()) - 2 * L * n  # torch keeps two biases per direction and layer


def stacked_count_upper_read_n(d, n, L):
    return sum(2 * (n * n + n * (d if i == 0 else n) + n) for i in range(L))


def stacked_count_one_direction(d, n, L):
    return sum(n * n + n * (d if i == 0 else 2 * n) + n for i in range(L))


def stacked_count_all_read_d(d, n, L):
    return L * 2 * (n * n + n * d + n)


def stacked_count_torch_biases(d, n, L):
    return stacked_count_closed_form(d, n, L) + 2 * L * n


def stacked_count_no_biases(d, n, L):
    return stacked_count_closed_form(d, n, L) - 2 * L * n


# =============================================================================================
# Every independently written mistake is named; every correct version passes

WRONG = [
    ("birnn_forward", bi_not_re_reversed, "backward outputs not re-reversed"),
    ("birnn_forward", bi_flip_everything, "padding reversed together with the tokens"),
    ("birnn_forward", bi_no_lengths, "lengths ignored"),
    ("birnn_forward", bi_one_set_of_weights, "shared weights between the directions"),
    ("birnn_forward", bi_torch_halves_swapped, "concatenation order swapped"),
    ("birnn_forward", bi_mask_forgotten, "padding positions not zeroed"),
    ("birnn_forward", bi_backward_continues, "backward run from the forward final state"),
    ("birnn_forward", bi_both_left_to_right, "backward direction not reversed"),
    ("birnn_lm_choice", lm_choice_too_big, "too many parameters"),
    ("birnn_lm_choice", lm_choice_no_bptt, "BPTT cannot run through the backward RNN"),
    ("birnn_lm_choice", lm_choice_perplexity_too_high, "its perplexity would be too high"),
    ("stacked_birnn_num_params", stacked_count_upper_read_n, "upper layers read n, not 2n"),
    ("stacked_birnn_num_params", stacked_count_one_direction, "one direction only"),
    ("stacked_birnn_num_params", stacked_count_all_read_d, "every layer reads d"),
    ("stacked_birnn_num_params", stacked_count_torch_biases, "torch's two biases"),
    ("stacked_birnn_num_params", stacked_count_no_biases, "biases forgotten"),
    ("stacked_rnn_forward", st_all_read_x, "every layer reads the raw input"),
    ("stacked_rnn_forward", st_first_weights, "layer 0's weights in every layer"),
    ("stacked_rnn_forward", st_bottom_final, "returned the first layer's final state"),
    ("stacked_rnn_forward", st_bottom_states, "returned the first layer's states as H"),
    ("stacked_rnn_forward", st_zeros_above, "h0 used only in the bottom layer"),
    ("stacked_rnn_forward", st_time_major_chained, "each layer starts from the layer below's final state"),
    ("stacked_rnn_forward", st_torch_h_n, "returned every layer's final state"),
    ("stacked_rnn_forward", st_torch_no_h0, "h0 ignored"),
]

CORRECT = [
    ("birnn_forward", bi_torch_packed),
    ("birnn_forward", bi_per_row),
    ("birnn_forward", bi_gather_reversal),
    ("birnn_lm_choice", lm_choice_left_context_only),
    ("birnn_lm_choice", lm_choice_written_freely),
    ("stacked_birnn_num_params", stacked_count_by_layers),
    ("stacked_birnn_num_params", stacked_count_closed_form),
    ("stacked_birnn_num_params", stacked_count_torch),
    ("stacked_rnn_forward", st_torch),
    ("stacked_rnn_forward", st_time_outer_loop),
    ("stacked_rnn_forward", st_recursive),
]


@pytest.mark.parametrize(("exercise", "fn", "mistake"), WRONG, ids=[f.__name__ for _, f, _ in WRONG])
def test_wrong_implementation_is_named(exercise: str, fn: Callable[..., Any], mistake: str) -> None:
    assert_rejected_and_named(exercise, fn, mistake)


@pytest.mark.parametrize(("exercise", "fn"), CORRECT, ids=[f.__name__ for _, f in CORRECT])
def test_correct_implementation_passes(exercise: str, fn: Callable[..., Any]) -> None:
    assert_passes(exercise, fn)


def test_every_exercise_has_at_least_five_wrong_and_two_correct_implementations() -> None:
    assert_wrong_and_correct_cover([*SET_6, "stacked_birnn_num_params"], WRONG, CORRECT)


# =============================================================================================
# The cases


def test_birnn_cases_cover_padding_a_full_row_length_1_B_1_and_T_1() -> None:
    cases = [c.args for c in EXERCISES["birnn_forward"].cases() if not c.concept]
    shapes = [(x.shape, pf["W_e"].shape) for x, _, pf, _ in cases]
    assert all(xs[2] == we[1] != we[0] for xs, we in shapes), "d != n, W_e (n, d)"
    assert len({xs for xs, _ in shapes}) == len(cases) and len({we for _, we in shapes}) == len(cases)
    padded = [(x, lengths) for x, lengths, _, _ in cases if lengths.min() < x.shape[1]]
    assert any(lengths.max() == x.shape[1] and lengths.min() == 1 for x, lengths in padded)
    assert any(not np.all(np.diff(lengths) <= 0) for _, lengths in padded), "unsorted lengths"
    junk = [x[b, lengths[b]:] for x, lengths in padded for b in range(len(lengths))]
    assert any(j.size and np.all(j != 0) for j in junk) and any(j.size and not j.any() for j in junk)
    assert any(x.shape[0] == 1 for x, *_ in cases) and any(x.shape[1] == 1 for x, *_ in cases)
    for x, lengths, pf, pb in cases:
        assert lengths.dtype.kind == "i" and lengths.shape == (x.shape[0],)
        assert all(not np.allclose(pf[k], pb[k]) for k in pf), "the two directions have different weights"


def test_stacked_cases_cover_1_and_3_layers_square_and_non_square_and_every_h0() -> None:
    cases = [c.args for c in EXERCISES["stacked_rnn_forward"].cases()]
    depths = [len(args[1]) for args in cases]
    assert 1 in depths and 3 in depths
    square = [args for args in cases if args[0].shape[2] == args[1][0]["W_h"].shape[0]]
    assert any(len(a[1]) == 3 for a in square) and len(square) < len(cases), "d == n (L=3) and d != n"
    kinds = {"omitted" if len(a) == 2 else ("None" if a[2] is None else "given") for a in cases}
    assert kinds == {"omitted", "None", "given"}
    assert any(len(a) == 3 and a[2] is not None and len(a[1]) >= 2 and a[2][1:].any() for a in cases)
    assert any(a[0].shape[:2] == (1, 1) for a in cases), "B=1, T=1"
    for x, layers, *rest in cases:
        n = layers[0]["W_h"].shape[0]
        assert [p["W_e"].shape for p in layers] == [(n, x.shape[2])] + [(n, n)] * (len(layers) - 1)
        if rest and rest[0] is not None:
            assert rest[0].shape == (len(layers), x.shape[0], n)


@pytest.mark.parametrize("exercise", SET_6)
def test_cases_are_float64_and_seeded(exercise: str) -> None:
    a, b = EXERCISES[exercise].cases(), EXERCISES[exercise].cases()
    assert [c.name for c in a] == [c.name for c in b]
    assert all(_same(x.args[0], y.args[0]) for x, y in zip(a, b, strict=True))
    for c in a:
        params = c.args[2:4] if exercise == "birnn_forward" else c.args[1]
        assert c.args[0].dtype == np.float64 and all(v.dtype == np.float64 for p in params for v in p.values())


# =============================================================================================
# Messages, in place, the registry


def bi_zeroes_padding_in_place(x, lengths, params_fwd, params_bwd):
    for b in range(x.shape[0]):
        x[b, lengths[b]:] = 0.0
    return numpy_deep_rnn.birnn_forward(x, lengths, params_fwd, params_bwd)


def test_writing_into_x_is_caught_on_the_junk_padding_case() -> None:
    result = quiet_check("birnn_forward", bi_zeroes_padding_in_place)
    assert result.status is Status.FAIL and "in place" in result.message and "`x`" in result.message
    assert "junk" in (result.case or ""), result.report()


def test_a_stub_and_a_transposed_W_e_get_plain_messages() -> None:
    def W_e_not_transposed(x, layers, h0=None):
        H = x
        for p in layers:
            h, out = np.zeros((x.shape[0], p["W_h"].shape[0])), []
            for t in range(x.shape[1]):
                h = np.tanh(h @ p["W_h"].T + H[:, t] @ p["W_e"] + p["b1"])
                out.append(h)
            H = np.stack(out, axis=1)
        return H, H[:, -1]

    result = quiet_check("stacked_rnn_forward", W_e_not_transposed)
    assert result.status is Status.ERROR and result.mistake is None
    assert result.hint == exercises_06.STACKED_SHAPE_HINT, result.report()


def test_returning_torch_tensors_is_explained() -> None:
    def as_tensor(x, lengths, params_fwd, params_bwd):
        return torch.from_numpy(bi_torch_packed(x, lengths, params_fwd, params_bwd))

    result = quiet_check("birnn_forward", as_tensor)
    assert result.status is Status.FAIL and "NumPy" in result.message


def test_registry_holds_set_6_in_chapter_6() -> None:
    assert [e.id for e in EXERCISES.values() if e.chapter == 6] == ALL_6
    assert EXERCISES["birnn_forward"].reference is numpy_deep_rnn.birnn_forward
    assert EXERCISES["stacked_rnn_forward"].reference is numpy_deep_rnn.stacked_rnn_forward
    assert exercises_06.EXERCISES_06 == tuple(EXERCISES[e] for e in ALL_6)
    assert EXERCISES["birnn_lm_choice"].kind == "choice"


def test_the_stacked_count_is_torchs_less_its_second_biases() -> None:
    for d, n, L in [(3, 6, 2), (4, 5, 1), (7, 4, 3)]:
        rnn = nn.RNN(d, n, num_layers=L, bidirectional=True)
        torch_count = sum(p.numel() for p in rnn.parameters())
        assert exercises_06.stacked_birnn_num_params(d, n, L) == torch_count - 2 * L * n
