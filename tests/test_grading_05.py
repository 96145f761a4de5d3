"""Tests for exercise set 5 (LSTMs and GRUs): lstm_step, lstm_params_from_torch, lstm_num_params,
lstm_step_backward, lstm_cell_path_choice, gru_step.

As in test_grading_04.py, the wrong implementations are written independently of the registered
``Mistake.fn``s (fused gate matrices, einsum, loops over the gates, other names), the way a learner
would write them; each must be rejected AND named as the registered mistake. The correct
implementations are written in other styles and must all pass. The references themselves are
checked against torch.nn.LSTMCell / torch.nn.GRUCell in float64 and against finite differences, on
the checker's own cases.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from helpers import assert_passes, assert_rejected_and_named, assert_wrong_and_correct_cover, quiet_check

from lecture_code import numpy_lstm
from lecture_code.grading import EXERCISES, Status, exercises_05
from lecture_code.grading.checker import _same

SET_5 = ["lstm_step", "lstm_params_from_torch", "lstm_num_params", "lstm_step_backward", "gru_step"]
ALL_5 = ["lstm_step", "lstm_params_from_torch", "lstm_num_params", "lstm_step_backward", "lstm_cell_path_choice",
         "gru_step"]
GATES = ("f", "i", "o", "c")


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # the same function, written another way


def fused(p, gates=GATES):
    """The gates' weights stacked into one (k*n, n) W, one (k*n, d) U and one (k*n,) b."""
    return (np.concatenate([p[f"W_{g}"] for g in gates]), np.concatenate([p[f"U_{g}"] for g in gates]),
            np.concatenate([p[f"b_{g}"] for g in gates]))


def gate_preacts(x, h, p, bias=True):
    """The four gates' pre-activations with one fused matmul each for h and x: four (B, n) arrays."""
    W, U, b = fused(p)
    return np.split(h @ W.T + x @ U.T + (b if bias else 0), 4, axis=1)


# =============================================================================================
# lstm_step

# ----- wrong


def lstm_tanh_gates(x, h, c, p):
    af, ai, ao, ac = gate_preacts(x, h, p)
    c_new = np.tanh(af) * c + np.tanh(ai) * np.tanh(ac)
    return np.tanh(ao) * np.tanh(c_new), c_new


def lstm_sigmoid_candidate(x, h, c, p):
    f, i, o, c_tilde = (sigmoid(a) for a in gate_preacts(x, h, p))
    c_new = f * c + i * c_tilde
    return o * np.tanh(c_new), c_new


def lstm_c_from_h(x, h, c, p):
    af, ai, ao, ac = gate_preacts(x, h, p)
    c_new = sigmoid(af) * h + sigmoid(ai) * np.tanh(ac)
    return sigmoid(ao) * np.tanh(c_new), c_new


def lstm_no_output_tanh(x, h, c, p):
    af, ai, ao, ac = gate_preacts(x, h, p)
    c_new = sigmoid(af) * c + sigmoid(ai) * np.tanh(ac)
    return sigmoid(ao) * c_new, c_new


def lstm_f_i_swapped(x, h, c, p):
    gate = {g: np.einsum("bk,jk->bj", h, p[f"W_{g}"]) + np.einsum("bk,jk->bj", x, p[f"U_{g}"]) + p[f"b_{g}"]
            for g in GATES}
    c_new = sigmoid(gate["i"]) * c + sigmoid(gate["f"]) * np.tanh(gate["c"])
    return sigmoid(gate["o"]) * np.tanh(c_new), c_new


def lstm_W_not_transposed(x, h, c, p):
    pre = {g: h @ p[f"W_{g}"] + x @ p[f"U_{g}"].T + p[f"b_{g}"] for g in GATES}
    c_new = sigmoid(pre["f"]) * c + sigmoid(pre["i"]) * np.tanh(pre["c"])
    return sigmoid(pre["o"]) * np.tanh(c_new), c_new


def lstm_U_not_transposed(x, h, c, p):
    f = sigmoid(h @ p["W_f"].T + x @ p["U_f"] + p["b_f"])
    i = sigmoid(h @ p["W_i"].T + x @ p["U_i"] + p["b_i"])
    o = sigmoid(h @ p["W_o"].T + x @ p["U_o"] + p["b_o"])
    c_tilde = np.tanh(h @ p["W_c"].T + x @ p["U_c"] + p["b_c"])
    c_new = f * c + i * c_tilde
    return o * np.tanh(c_new), c_new


def lstm_no_bias(x, h, c, p):
    af, ai, ao, ac = gate_preacts(x, h, p, bias=False)
    c_new = sigmoid(af) * c + sigmoid(ai) * np.tanh(ac)
    return sigmoid(ao) * np.tanh(c_new), c_new


def lstm_c_first(x, h, c, p):
    af, ai, ao, ac = gate_preacts(x, h, p)
    c_new = sigmoid(af) * c + sigmoid(ai) * np.tanh(ac)
    return c_new, sigmoid(ao) * np.tanh(c_new)


# ----- correct


def lstm_fused(x, h, c, p):
    af, ai, ao, ac = gate_preacts(x, h, p)
    c_new = sigmoid(af) * c + sigmoid(ai) * np.tanh(ac)
    return sigmoid(ao) * np.tanh(c_new), c_new


def lstm_einsum_rows(x, h, c, p):
    pre = {g: np.einsum("jk,bk->bj", p[f"W_{g}"], h) + np.einsum("jk,bk->bj", p[f"U_{g}"], x) + p[f"b_{g}"]
           for g in GATES}
    f, i, o = (1 / (1 + np.exp(-pre[g])) for g in "fio")
    c_new = f * c + i * np.tanh(pre["c"])
    return o * np.tanh(c_new), c_new


def lstm_column_vectors(x, h, c, p):
    hs, cs = [], []
    for xb, hb, cb in zip(x, h, c, strict=True):  # one example at a time, as the slides write it
        f = sigmoid(p["W_f"] @ hb + p["U_f"] @ xb + p["b_f"])
        i = sigmoid(p["W_i"] @ hb + p["U_i"] @ xb + p["b_i"])
        o = sigmoid(p["W_o"] @ hb + p["U_o"] @ xb + p["b_o"])
        cb = f * cb + i * np.tanh(p["W_c"] @ hb + p["U_c"] @ xb + p["b_c"])
        hs.append(o * np.tanh(cb))
        cs.append(cb)
    return np.stack(hs), np.stack(cs)


# =============================================================================================
# lstm_params_from_torch


def _assemble(blocks_ih, blocks_hh, blocks_b, names):
    out = {}
    for g, U, W, b in zip(names, blocks_ih, blocks_hh, blocks_b, strict=True):
        out.update({f"W_{g}": W, f"U_{g}": U, f"b_{g}": b})
    return out


def _rows(w, k):
    n = w.shape[0] // 4
    return w[k * n:(k + 1) * n]


# ----- wrong


def torch_ifog(w_ih, w_hh, b_ih, b_hh):
    b = b_ih + b_hh
    return {f"{k}_{g}": _rows(w, j) for j, g in enumerate("ifoc") for k, w in (("W", w_hh), ("U", w_ih), ("b", b))}


def torch_figo(w_ih, w_hh, b_ih, b_hh):
    names = ("f", "i", "c", "o")
    return _assemble(np.vsplit(w_ih, 4), np.vsplit(w_hh, 4), np.split(b_ih + b_hh, 4), names)


def torch_lecture_order(w_ih, w_hh, b_ih, b_hh):
    n = w_hh.shape[1]
    return _assemble(w_ih.reshape(4, n, -1), w_hh.reshape(4, n, n), (b_ih + b_hh).reshape(4, n), GATES)


def torch_bias_ih_only(w_ih, w_hh, b_ih, b_hh):
    return _assemble(np.vsplit(w_ih, 4), np.vsplit(w_hh, 4), np.split(b_ih, 4), ("i", "f", "c", "o"))


def torch_bias_hh_only(w_ih, w_hh, b_ih, b_hh):
    return {f"{k}_{g}": _rows(w, j) for j, g in enumerate("ifco") for k, w in (("W", w_hh), ("U", w_ih), ("b", b_hh))}


def torch_columns(w_ih, w_hh, b_ih, b_hh):
    return _assemble(np.hsplit(w_ih, 4), np.hsplit(w_hh, 4), np.split(b_ih + b_hh, 4), ("i", "f", "c", "o"))


def torch_transposed(w_ih, w_hh, b_ih, b_hh):
    return _assemble([u.T for u in np.vsplit(w_ih, 4)], [w.T for w in np.vsplit(w_hh, 4)],
                     np.split(b_ih + b_hh, 4), ("i", "f", "c", "o"))


def torch_ih_hh_swapped(w_ih, w_hh, b_ih, b_hh):
    return {f"{k}_{g}": _rows(w, j) for j, g in enumerate("ifco")
            for k, w in (("W", w_ih), ("U", w_hh), ("b", b_ih + b_hh))}


# ----- correct


def torch_slices(w_ih, w_hh, b_ih, b_hh):
    n = w_hh.shape[1]
    b = b_ih + b_hh
    out = {}
    for k, g in enumerate(("i", "f", "c", "o")):
        rows = slice(k * n, (k + 1) * n)
        out[f"W_{g}"], out[f"U_{g}"], out[f"b_{g}"] = w_hh[rows].copy(), w_ih[rows].copy(), b[rows]
    return out


def torch_reshape(w_ih, w_hh, b_ih, b_hh):
    n, d = w_hh.shape[1], w_ih.shape[1]
    W, U, b = w_hh.reshape(4, n, n), w_ih.reshape(4, n, d), (b_ih + b_hh).reshape(4, n)
    order = {"i": 0, "f": 1, "c": 2, "o": 3}
    return {f"{k}_{g}": arr[j] for g, j in order.items() for k, arr in (("W", W), ("U", U), ("b", b))}


# =============================================================================================
# lstm_step_backward


def _unpack(cache):
    return (cache["params"], cache["x_t"], cache["h_prev"], cache["c_prev"], cache["f"], cache["i"], cache["o"],
            cache["c_tilde"], cache["c"])


def lstm_backward(dh, dc, cache, *, tanh_c=True, dh_to_c=True, via_f=True, sigmoid_prime=True, cand_prime=True,
                  sum_db=True, dW_order="da.T h", dh_prev_T=False):
    """A learner's backward pass, written with fused gates; the keywords switch on one mistake each."""
    p, x, h_prev, c_prev, f, i, o, c_tilde, c = _unpack(cache)
    W, U, _ = fused(p)
    t = np.tanh(c)
    dct = dc + (dh * o * (1 - t * t if tanh_c else 1) if dh_to_c else 0)
    sp = (lambda y: y * (1 - y)) if sigmoid_prime else (lambda y: y)
    da = np.concatenate([dct * c_prev * sp(f), dct * c_tilde * sp(i), dh * t * sp(o),
                         dct * i * (1 - c_tilde**2 if cand_prime else 1)], axis=1)  # (B, 4n)
    dW = da.T @ h_prev if dW_order == "da.T h" else h_prev.T @ da
    dU = da.T @ x if dW_order == "da.T h" else x.T @ da
    db = da.sum(0) if sum_db else da
    n = f.shape[1]
    grads = {}
    for k, g in enumerate(GATES):
        s = slice(k * n, (k + 1) * n)
        rows = dW_order == "da.T h"
        grads.update({f"W_{g}": dW[s] if rows else dW[:, s], f"U_{g}": dU[s] if rows else dU[:, s],
                      f"b_{g}": db[s] if sum_db else db[:, s]})
    return da @ U, da @ (W.reshape(4, n, n).transpose(0, 2, 1).reshape(4 * n, n) if dh_prev_T else W), \
        dct * f if via_f else dct, grads


def backward_einsum(dh, dc, cache):
    return backward_from_total(dh, dc + dh * cache["o"] * (1 - np.tanh(cache["c"]) ** 2), cache)


def backward_from_total(dh, dc_total, cache):
    """The rest of the backward pass, from dc_total = dJ/dc(t) through both paths, with einsum."""
    p, x, h_prev, c_prev, f, i, o, c_tilde, c = _unpack(cache)
    da = {"f": dc_total * c_prev * f * (1 - f), "i": dc_total * c_tilde * i * (1 - i),
          "o": dh * np.tanh(c) * o * (1 - o), "c": dc_total * i * (1 - c_tilde**2)}
    grads = {}
    for g in GATES:
        grads[f"W_{g}"] = np.einsum("bj,bk->jk", da[g], h_prev)
        grads[f"U_{g}"] = np.einsum("bj,bk->jk", da[g], x)
        grads[f"b_{g}"] = np.einsum("bj->j", da[g])
    dx = sum(np.einsum("bj,jk->bk", da[g], p[f"U_{g}"]) for g in GATES)
    dh_prev = sum(np.einsum("bj,jk->bk", da[g], p[f"W_{g}"]) for g in GATES)
    return dx, dh_prev, dc_total * f, grads


def _bw(**wrong) -> Callable[..., Any]:
    def fn(dh, dc, cache):
        return lstm_backward(dh, dc, cache, **wrong)
    fn.__name__ = "backward_" + "_".join(wrong)
    return fn


# =============================================================================================
# gru_step

# ----- wrong (the correct one is gru(), with its defaults)


def gru(x, h, p, *, torch_mix=False, r_on_input=False, r_before=False, no_r=False, tanh_u=False, drop_b_rc=False):
    """A learner's GRU step, written with the gates fused into one matmul for u and r."""
    def lin(a, M):
        return np.einsum("bk,jk->bj", a, M)

    ur = lin(h, np.vstack([p["W_u"], p["W_r"]])) + lin(x, np.vstack([p["U_u"], p["U_r"]])) \
        + np.concatenate([p["b_u"], p["b_r"]])
    a_u, a_r = np.split(ur, 2, axis=1)
    u, r = (np.tanh(a_u) if tanh_u else sigmoid(a_u)), sigmoid(a_r)
    b_rc = 0.0 if drop_b_rc else p["b_rc"]
    r_in, r_h = (r, 1.0) if r_on_input else (1.0, 1.0 if no_r else r)
    if r_before:
        hh = lin(r * h, p["W_c"]) + b_rc
    else:
        hh = r_h * (lin(h, p["W_c"]) + b_rc)
    h_tilde = np.tanh(r_in * (lin(x, p["U_c"]) + p["b_c"]) + hh)
    return u * h + (1 - u) * h_tilde if torch_mix else h + u * (h_tilde - h)


def _gru(**wrong) -> Callable[..., Any]:
    def fn(x, h, p):
        return gru(x, h, p, **wrong)
    fn.__name__ = "gru_" + "_".join(wrong)
    return fn


def gru_no_transpose(x, h, p):
    u = sigmoid(h @ p["W_u"] + x @ p["U_u"] + p["b_u"])
    r = sigmoid(h @ p["W_r"] + x @ p["U_r"] + p["b_r"])
    h_tilde = np.tanh(x @ p["U_c"] + p["b_c"] + r * (h @ p["W_c"] + p["b_rc"]))
    return (1 - u) * h + u * h_tilde


def gru_column_vectors(x, h, p):
    out = []
    for xb, hb in zip(x, h, strict=True):
        u = 1 / (1 + np.exp(-(p["W_u"] @ hb + p["U_u"] @ xb + p["b_u"])))
        r = 1 / (1 + np.exp(-(p["W_r"] @ hb + p["U_r"] @ xb + p["b_r"])))
        h_tilde = np.tanh(p["U_c"] @ xb + p["b_c"] + r * (p["W_c"] @ hb + p["b_rc"]))
        out.append((1 - u) * hb + u * h_tilde)
    return np.array(out)


# =============================================================================================
# lstm_num_params: derived from the equations


def _lstm_shapes(d, n):
    return {f"{m}_{g}": shape for g in "fioc" for m, shape in (("W", (n, n)), ("U", (n, d)), ("b", (n,)))}


def count_by_shapes(d, n):
    return float(sum(np.prod(s) for s in _lstm_shapes(d, n).values()))  # a float: a count is a number


def count_torch_minus_one_bias(d, n):
    lstm = torch.nn.LSTM(d, n) if n * (n + d) < 10**6 else None  # torch's own layer, at small sizes only
    if lstm is None:
        return 4 * n * (n + d + 1)
    return sum(p.numel() for p in lstm.parameters()) - 4 * n  # torch keeps two biases per gate


def count_fused(d, n):
    return 4 * n * (n + d + 1)


def count_three_blocks(d, n):
    return 3 * n * (n + d + 1)


def count_no_biases(d, n):
    return 4 * n * (n + d)


def count_torch_biases(d, n):
    return 4 * n * (n + d + 2)


def count_one_block(d, n):
    return n * (n + d + 1)


def count_d_n_swapped(d, n):
    return 4 * d * (d + n + 1)


def count_stacked_4n_square(d, n):
    return 4 * n * 4 * n + 4 * n * d + 4 * n


# =============================================================================================
# lstm_cell_path_choice


def cell_path_forget_gate():
    return "A"


def cell_path_written_freely():
    return "(a)"


def cell_path_vanilla():
    return "B"


def cell_path_input_gate():
    return "C"


def cell_path_output():
    return "D"


# =============================================================================================
# Every independently written mistake is named; every correct version passes

WRONG = [
    ("lstm_step", lstm_tanh_gates, "tanh on the gates"),
    ("lstm_step", lstm_sigmoid_candidate, "sigmoid on the candidate"),
    ("lstm_step", lstm_c_from_h, "c updated from h"),
    ("lstm_step", lstm_no_output_tanh, "h = o ⊙ c without the tanh"),
    ("lstm_step", lstm_f_i_swapped, "f and i swapped"),
    ("lstm_step", lstm_W_not_transposed, "W_· not transposed"),
    ("lstm_step", lstm_U_not_transposed, "U_· not transposed"),
    ("lstm_step", lstm_no_bias, "missing bias"),
    ("lstm_step", lstm_c_first, "returned (c, h)"),
    ("lstm_params_from_torch", torch_ifog, "torch's gate order misread as (i, f, o, g)"),
    ("lstm_params_from_torch", torch_figo, "torch's gate order misread as (f, i, g, o)"),
    ("lstm_params_from_torch", torch_lecture_order, "the lecture's order (f, i, o, c̃)"),
    ("lstm_params_from_torch", torch_bias_ih_only, "only bias_ih used"),
    ("lstm_params_from_torch", torch_bias_hh_only, "only bias_hh used"),
    ("lstm_params_from_torch", torch_columns, "chunks taken along the wrong axis"),
    ("lstm_params_from_torch", torch_transposed, "blocks transposed"),
    ("lstm_params_from_torch", torch_ih_hh_swapped, "weight_ih and weight_hh swapped"),
    ("lstm_num_params", count_three_blocks, "candidate's block forgotten"),
    ("lstm_num_params", count_no_biases, "biases forgotten"),
    ("lstm_num_params", count_torch_biases, "torch's two biases"),
    ("lstm_num_params", count_one_block, "one block only"),
    ("lstm_num_params", count_d_n_swapped, "d and n swapped"),
    ("lstm_num_params", count_stacked_4n_square, "stacked weights read 4n"),
    ("lstm_cell_path_choice", cell_path_vanilla, "the vanilla RNN's factor"),
    ("lstm_cell_path_choice", cell_path_input_gate, "the input gate"),
    ("lstm_cell_path_choice", cell_path_output, "the path to the output"),
    ("lstm_step_backward", _bw(tanh_c=False), "tanh(c) derivative missed"),
    ("lstm_step_backward", _bw(via_f=False), "dc not carried through f"),
    ("lstm_step_backward", _bw(dh_to_c=False), "dh's path into c missing"),
    ("lstm_step_backward", _bw(sigmoid_prime=False), "sigmoid derivative wrong"),
    ("lstm_step_backward", _bw(cand_prime=False), "tanh derivative of c̃ missed"),
    ("lstm_step_backward", _bw(sum_db=False), "bias gradients not summed over the batch"),
    ("lstm_step_backward", _bw(dW_order="h.T da"), "weight gradients transposed"),
    ("lstm_step_backward", _bw(dh_prev_T=True), "W_· transposed in dh_prev"),
    ("gru_step", _gru(torch_mix=True), "u and (1 - u) swapped"),
    ("gru_step", _gru(r_on_input=True), "reset gate on the input side"),
    ("gru_step", _gru(r_before=True), "reset applied before the matmul"),
    ("gru_step", _gru(no_r=True), "reset gate missing"),
    ("gru_step", _gru(tanh_u=True), "tanh on the update gate"),
    ("gru_step", _gru(drop_b_rc=True), "b_rc dropped"),
    ("gru_step", gru_no_transpose, "weights not transposed"),
]

CORRECT = [
    ("lstm_step", lstm_fused),
    ("lstm_step", lstm_einsum_rows),
    ("lstm_step", lstm_column_vectors),
    ("lstm_params_from_torch", torch_slices),
    ("lstm_params_from_torch", torch_reshape),
    ("lstm_num_params", count_by_shapes),
    ("lstm_num_params", count_torch_minus_one_bias),
    ("lstm_num_params", count_fused),
    ("lstm_cell_path_choice", cell_path_forget_gate),
    ("lstm_cell_path_choice", cell_path_written_freely),
    ("lstm_step_backward", lstm_backward),
    ("lstm_step_backward", backward_einsum),
    ("gru_step", gru),
    ("gru_step", gru_column_vectors),
]


def _id(fn: Callable[..., Any]) -> str:
    return fn.__name__


@pytest.mark.parametrize(("exercise", "fn", "mistake"), WRONG, ids=[_id(f) for _, f, _ in WRONG])
def test_wrong_implementation_is_named(exercise: str, fn: Callable[..., Any], mistake: str) -> None:
    assert_rejected_and_named(exercise, fn, mistake)


@pytest.mark.parametrize(("exercise", "fn"), CORRECT, ids=[_id(f) for _, f in CORRECT])
def test_correct_implementation_passes(exercise: str, fn: Callable[..., Any]) -> None:
    assert_passes(exercise, fn)


def test_every_exercise_has_at_least_five_wrong_and_two_correct_implementations() -> None:
    assert_wrong_and_correct_cover(SET_5, WRONG, CORRECT)


# =============================================================================================
# The references behind the checker, on the checker's own cases


def _torch_lstm_cell(p: dict[str, np.ndarray]) -> torch.nn.LSTMCell:
    n, d = p["U_f"].shape
    cell = torch.nn.LSTMCell(d, n, dtype=torch.float64)
    with torch.no_grad():  # torch's order (i, f, g, o); the bias split between its two vectors
        cell.weight_hh.copy_(torch.from_numpy(np.concatenate([p["W_i"], p["W_f"], p["W_c"], p["W_o"]])))
        cell.weight_ih.copy_(torch.from_numpy(np.concatenate([p["U_i"], p["U_f"], p["U_c"], p["U_o"]])))
        b = torch.from_numpy(np.concatenate([p["b_i"], p["b_f"], p["b_c"], p["b_o"]]))
        cell.bias_ih.copy_(0.25 * b)
        cell.bias_hh.copy_(0.75 * b)
    return cell


def test_lstm_step_cases_match_torch_lstm_cell() -> None:
    for case in EXERCISES["lstm_step"].cases():
        x, h, c, p = case.args
        cell = _torch_lstm_cell(p)
        h_t, c_t = cell(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(c)))
        h_ref, c_ref = numpy_lstm.lstm_step(x, h, c, p)
        np.testing.assert_allclose(h_ref, h_t.detach().numpy(), rtol=0, atol=1e-10, err_msg=case.name)
        np.testing.assert_allclose(c_ref, c_t.detach().numpy(), rtol=0, atol=1e-10, err_msg=case.name)
        back = numpy_lstm.lstm_params_from_torch(*(t.detach().numpy() for t in (cell.weight_ih, cell.weight_hh,
                                                                                cell.bias_ih, cell.bias_hh)))
        assert _same(back, p) and all(back[k].shape == p[k].shape for k in p)


def test_gru_step_cases_match_torch_gru_cell() -> None:
    """torch's update gate z keeps the OLD state, so the lecture's u = 1 - z = σ(-a_z): negate z's weights."""
    for case in EXERCISES["gru_step"].cases():
        x, h, p = case.args
        n, d = p["U_u"].shape
        cell = torch.nn.GRUCell(d, n, dtype=torch.float64)
        with torch.no_grad():  # torch's order (r, z, n)
            cell.weight_hh.copy_(torch.from_numpy(np.concatenate([p["W_r"], -p["W_u"], p["W_c"]])))
            cell.weight_ih.copy_(torch.from_numpy(np.concatenate([p["U_r"], -p["U_u"], p["U_c"]])))
            cell.bias_hh.copy_(torch.from_numpy(np.concatenate([0 * p["b_r"], 0 * p["b_u"], p["b_rc"]])))
            cell.bias_ih.copy_(torch.from_numpy(np.concatenate([p["b_r"], -p["b_u"], p["b_c"]])))
        expected = cell(torch.from_numpy(x), torch.from_numpy(h)).detach().numpy()
        np.testing.assert_allclose(numpy_lstm.gru_step(x, h, p), expected, rtol=0, atol=1e-10, err_msg=case.name)


def _numeric_grad(loss: Callable[[np.ndarray], float], a: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of ``loss`` at ``a``, one entry at a time; the shape of ``a``."""
    g = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        e = np.zeros_like(a)
        e[idx] = eps
        g[idx] = (loss(a + e) - loss(a - e)) / (2 * eps)
    return g


def _gradientquiet_check(name: str, dh: np.ndarray, dc: np.ndarray, cache: dict[str, Any]) -> None:
    """The reference's gradients of J = sum(dh * h(t)) + sum(dc * c(t)) against central differences."""
    dx, dh_prev, dc_prev, grads = numpy_lstm.lstm_step_backward(dh, dc, cache)
    inputs = {"x_t": cache["x_t"], "h_prev": cache["h_prev"], "c_prev": cache["c_prev"]}
    p = cache["params"]

    def J(x_t=inputs["x_t"], h_prev=inputs["h_prev"], c_prev=inputs["c_prev"], params=p) -> float:
        h, c = numpy_lstm.lstm_step(x_t, h_prev, c_prev, params)
        return float(np.sum(dh * h) + np.sum(dc * c))

    for got, arg in ((dx, "x_t"), (dh_prev, "h_prev"), (dc_prev, "c_prev")):
        expected = _numeric_grad(lambda a, arg=arg: J(**{arg: a}), inputs[arg])
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8, err_msg=f"{name}: d{arg}")
    for k in p:
        expected = _numeric_grad(lambda a, k=k: J(params={**p, k: a}), p[k])
        np.testing.assert_allclose(grads[k], expected, rtol=1e-6, atol=1e-8, err_msg=f"{name}: {k}")


def test_lstm_step_backward_cases_pass_a_gradientquiet_check() -> None:
    for case in EXERCISES["lstm_step_backward"].cases():
        if "stress" not in case.name:  # finite differences lose digits on gradients in the thousands
            _gradientquiet_check(case.name, *case.args)


# =============================================================================================
# The cases


@pytest.mark.parametrize("exercise", ["lstm_step", "gru_step"])
def test_step_cases_cover_n_ne_d_square_U_B_1_and_zero_state(exercise: str) -> None:
    cases = [c.args for c in EXERCISES[exercise].cases() if not c.concept]
    shapes = [(args[0].shape[0], args[-1]["U_u" if exercise == "gru_step" else "U_f"].shape) for args in cases]
    assert any(n != d for _, (n, d) in shapes) and any(n == d for _, (n, d) in shapes)
    assert any(B == 1 for B, _ in shapes)
    assert any(not args[1].any() for args in cases), "a zero state"
    assert len({s for _, s in shapes}) == len(shapes), "distinct sizes"
    for args in cases:
        assert all(not np.allclose(W, W.T) for k, W in args[-1].items() if k[0] == "W")
        assert all(np.abs(b).min() > 0 for k, b in args[-1].items() if k[0] == "b"), "every bias nonzero"


def test_backward_cases_have_nonzero_dh_and_both_zero_and_nonzero_dc() -> None:
    cases = [c.args for c in EXERCISES["lstm_step_backward"].cases()]
    assert all(np.abs(dh).min() > 0 for dh, _, _ in cases)
    assert any(not dc.any() for _, dc, _ in cases) and sum(np.abs(dc).min() > 0 for _, dc, _ in cases) >= 3
    assert any(cache["x_t"].shape[1] == cache["h_prev"].shape[1] for _, _, cache in cases)
    assert any(cache["x_t"].shape[0] == 1 for _, _, cache in cases)
    keys = {"x_t", "h_prev", "c_prev", "f", "i", "o", "c_tilde", "c", "params"}
    assert all(set(cache) == keys for _, _, cache in cases)


def test_torch_cases_cover_n_ne_d_square_and_one_hidden_unit() -> None:
    cases = [c.args for c in EXERCISES["lstm_params_from_torch"].cases()]
    dims = [(w_hh.shape[1], w_ih.shape[1]) for w_ih, w_hh, _, _ in cases]
    assert any(n != d for n, d in dims) and any(n == d for n, d in dims) and any(n == 1 for n, _ in dims)
    assert any(n % 4 and d % 4 for n, d in dims) and any(n % 4 == 0 and d % 4 == 0 and n != d for n, d in dims)
    assert all(w_ih.shape[0] == w_hh.shape[0] == b_ih.size == b_hh.size for w_ih, w_hh, b_ih, b_hh in cases)


@pytest.mark.parametrize("exercise", SET_5)
def test_cases_are_float64_and_seeded(exercise: str) -> None:
    a, b = EXERCISES[exercise].cases(), EXERCISES[exercise].cases()
    assert [c.name for c in a] == [c.name for c in b]
    assert all(_same(x.args, y.args) for x, y in zip(a, b, strict=True))

    def arrays(x: Any) -> list[np.ndarray]:
        if isinstance(x, dict):
            return [a for v in x.values() for a in arrays(v)]
        if isinstance(x, tuple | list):
            return [a for v in x for a in arrays(v)]
        return [x] if isinstance(x, np.ndarray) else []

    assert all(arr.dtype == np.float64 for c in a for arr in arrays(c.args))


# =============================================================================================
# In place, shapes, messages


def backward_in_place(dh, dc, cache):
    dc += dh * cache["o"] * (1 - np.tanh(cache["c"]) ** 2)  # writes into the caller's dc
    return backward_from_total(dh, dc, cache)


def test_dc_added_in_place_is_detected() -> None:
    result = quiet_check("lstm_step_backward", backward_in_place)
    assert result.status is Status.FAIL and "in place" in result.message and "`dc`" in result.message
    # the values themselves are right: on a copy of the inputs the same code agrees with the reference
    for c in EXERCISES["lstm_step_backward"].cases():
        assert _same(backward_in_place(*copy.deepcopy(c.args)), numpy_lstm.lstm_step_backward(*c.args))


def test_a_wrong_matrix_gets_the_shape_hint() -> None:
    def uses_W_for_x(x, h, c, p):
        pre = {g: h @ p[f"W_{g}"].T + x @ p[f"W_{g}"].T + p[f"b_{g}"] for g in GATES}
        c_new = sigmoid(pre["f"]) * c + sigmoid(pre["i"]) * np.tanh(pre["c"])
        return sigmoid(pre["o"]) * np.tanh(c_new), c_new

    result = quiet_check("lstm_step", uses_W_for_x)
    assert result.status is Status.ERROR and result.mistake is None
    assert result.hint == exercises_05.SHAPE_HINT, result.report()


def test_missing_key_is_reported_by_name() -> None:
    def no_candidate(w_ih, w_hh, b_ih, b_hh):
        params = torch_slices(w_ih, w_hh, b_ih, b_hh)
        return {k: v for k, v in params.items() if not k.endswith("_c")}

    result = quiet_check("lstm_params_from_torch", no_candidate)
    assert result.status is Status.FAIL and "missing ['U_c', 'W_c', 'b_c']" in result.message


def test_torch_tensors_returned_are_reported() -> None:
    def returns_tensors(w_ih, w_hh, b_ih, b_hh):
        return {k: torch.from_numpy(v) for k, v in torch_slices(w_ih, w_hh, b_ih, b_hh).items()}

    result = quiet_check("lstm_params_from_torch", returns_tensors)
    assert result.status is Status.FAIL and "return a NumPy array" in result.message, result.report()


def test_backward_names_the_wrong_entry_of_grads() -> None:
    result = quiet_check("lstm_step_backward", _bw(sum_db=False))
    assert result.message.startswith("case") and "grads['b_" in result.message and "wrong shape" in result.message


# =============================================================================================
# The registry


def test_registry_holds_set_5_in_chapter_5() -> None:
    assert [e.id for e in EXERCISES.values() if e.chapter == 5] == ALL_5
    assert EXERCISES["lstm_step"].reference is numpy_lstm.lstm_step
    assert EXERCISES["lstm_params_from_torch"].reference is numpy_lstm.lstm_params_from_torch
    assert EXERCISES["lstm_step_backward"].reference is numpy_lstm.lstm_step_backward
    assert EXERCISES["gru_step"].reference is numpy_lstm.gru_step
    assert exercises_05.EXERCISES_05 == tuple(EXERCISES[e] for e in ALL_5)
    assert EXERCISES["lstm_cell_path_choice"].kind == "choice"


def test_the_lstm_count_is_torchs_less_its_second_bias() -> None:
    for d, n in [(3, 4), (5, 5), (7, 1)]:
        lstm = torch.nn.LSTM(d, n)
        assert exercises_05.lstm_num_params(d, n) == sum(p.numel() for p in lstm.parameters()) - 4 * n
