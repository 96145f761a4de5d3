"""Tests for exercise set 2 (backpropagation through time): rnn_step_jacobian, rnn_step_backward, rnn_backward,
truncated_bptt_choice, sgd_step.

As in test_grading.py, the wrong implementations are written independently of the registered
``Mistake.fn``s (einsum, per-example loops with np.outer, 1-based indices, recursion, other names),
the way a learner would write them; each must be rejected AND named as the registered mistake.
The correct implementations are written in several styles and must all pass.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from helpers import outcomes, same_outcome

from lecture_code import numpy_rnn
from lecture_code.grading import EXERCISES, Result, Status, check, cli, exercises_02
from lecture_code.grading.checker import _same

REJECTED = (Status.FAIL, Status.ERROR)
SET_2 = ["rnn_step_backward", "rnn_backward", "sgd_step"]
ALL_2 = ["rnn_step_jacobian", "rnn_step_backward", "rnn_backward", "truncated_bptt_choice", "sgd_step"]


def _check(exercise_id: str, fn: Any, **kw: Any) -> Result:
    return check(exercise_id, fn, quiet=True, **kw)


# =============================================================================================
# rnn_step_backward

# ----- wrong


def sb_no_tanh(dh, cache):
    x, hp, _, Wh, We = cache
    return (np.einsum("bn,nd->bd", dh, We), np.einsum("bn,nm->bm", dh, Wh), np.einsum("bn,bm->nm", dh, hp),
            np.einsum("bn,bd->nd", dh, x), np.einsum("bn->n", dh))


def sb_derivative_of_h_prev(dh, cache):
    e_t, h_prev, _, W_h, W_e = cache
    de, dhp = [], []
    dWh, dWe, db = np.zeros_like(W_h), np.zeros_like(W_e), np.zeros(len(W_h))
    for b in range(dh.shape[0]):  # one example at a time, column-vector style
        g = dh[b] * (1 - h_prev[b] ** 2)
        de.append(W_e.T @ g)
        dhp.append(W_h.T @ g)
        dWh += np.outer(g, h_prev[b])
        dWe += np.outer(g, e_t[b])
        db += g
    return np.array(de), np.array(dhp), dWh, dWe, db


def sb_W_h_transposed(dh, cache):
    e_t, h_prev, h, W_h, W_e = cache
    da = dh * (1 - h * h)
    return da @ W_e, (W_h @ da.T).T, da.T @ h_prev, da.T @ e_t, da.sum(0)


def sb_W_e_transposed(dh, cache):
    e_t, h_prev, h, W_h, W_e = cache
    da = dh * (1 - np.square(h))
    return np.dot(da, W_e.T), np.dot(da, W_h), np.dot(da.T, h_prev), np.dot(da.T, e_t), np.sum(da, axis=0)


def sb_dW_h_transposed(dh, cache):
    e_t, h_prev, h, W_h, W_e = cache
    da = dh * (1 - h**2)
    return da @ W_e, da @ W_h, np.einsum("bi,bj->ij", h_prev, da), da.T @ e_t, da.sum(0)


def sb_dW_e_transposed(dh, cache):
    e_t, h_prev, h, W_h, W_e = cache
    da = dh * (1 - h**2)
    return da @ W_e, da @ W_h, da.T @ h_prev, np.tensordot(e_t, da, axes=(0, 0)), da.sum(0)


def sb_db1_per_example(dh, cache):
    e_t, h_prev, h, W_h, W_e = cache
    da = dh * (1 - h**2)
    return da @ W_e, da @ W_h, da.T @ h_prev, da.T @ e_t, da.copy()


def sb_swapped(dh, cache):
    e_t, h_prev, h, W_h, W_e = cache
    da = dh * (1 - h**2)
    dh_prev = np.dot(da, W_e)
    de_t = np.dot(da, W_h)
    return de_t, dh_prev, da.T @ h_prev, da.T @ e_t, da.sum(0)


# ----- correct


def sb_einsum(dh, cache):
    e_t, h_prev, h, W_h, W_e = cache
    da = np.einsum("bn,bn->bn", dh, 1 - h * h)
    return (np.einsum("bn,nd->bd", da, W_e), np.einsum("bn,nm->bm", da, W_h), np.einsum("bn,bm->nm", da, h_prev),
            np.einsum("bn,bd->nd", da, e_t), np.einsum("bn->n", da))


def sb_outer_loop(dh, cache):
    e_t, h_prev, h, W_h, W_e = cache
    de, dhp = np.zeros_like(e_t), np.zeros_like(h_prev)
    dWh, dWe, db = np.zeros_like(W_h), np.zeros_like(W_e), np.zeros(len(W_h))
    for b in range(dh.shape[0]):
        g = dh[b] * (1 - np.tanh(np.arctanh(h[b])) ** 2)
        de[b], dhp[b] = W_e.T @ g, W_h.T @ g
        dWh += np.outer(g, h_prev[b])
        dWe += np.outer(g, e_t[b])
        db += g
    return de, dhp, dWh, dWe, db


def sb_columns(dh, cache):
    e_t, h_prev, h, W_h, W_e = cache
    dA = (dh * (1 - h**2)).T  # (n, B): one column per example, as on the slides
    return (W_e.T @ dA).T, (W_h.T @ dA).T, dA @ h_prev, dA @ e_t, dA.sum(axis=1)


# =============================================================================================
# rnn_backward

# ----- wrong


def _step_grads(g, x, h_prev, W_h, W_e):
    """A learner's own one-step backward from the gradient at the pre-activation."""
    return g @ W_e, g @ W_h, g.T @ h_prev, g.T @ x, g.sum(0)


def bptt_last_step_only(dh_all, cache):
    e, h, W_h, W_e = cache
    T = e.shape[1]
    de = np.zeros_like(e)
    carried = np.zeros_like(h[:, 0])
    per_step = []
    for t in range(T, 0, -1):  # 1-based, as on the slides
        g = (dh_all[:, t - 1] + carried) * (1 - h[:, t] ** 2)
        de[:, t - 1], carried, *weights = _step_grads(g, e[:, t - 1], h[:, t - 1], W_h, W_e)
        per_step.append(weights)
    dW_h, dW_e, db1 = per_step[0]  # the first one computed, step T
    return de, carried, dW_h, dW_e, db1


def bptt_zeroed_in_loop(dh_all, cache):
    e, h, W_h, W_e = cache
    de = np.zeros_like(e)
    dh_next = np.zeros_like(h[:, 0])
    for t in reversed(range(e.shape[1])):
        dW_h, dW_e, db1 = np.zeros_like(W_h), np.zeros_like(W_e), np.zeros(len(W_h))
        da = (dh_all[:, t] + dh_next) * (1 - h[:, t + 1] ** 2)
        de[:, t] = da @ W_e
        dh_next = da @ W_h
        dW_h += da.T @ h[:, t]
        dW_e += da.T @ e[:, t]
        db1 += da.sum(0)
    return de, dh_next, dW_h, dW_e, db1


def bptt_not_carried(dh_all, cache):
    e, h, W_h, W_e = cache
    de = np.zeros_like(e)
    dW_h, dW_e, db1 = 0 * W_h, 0 * W_e, np.zeros(len(W_h))
    for t in reversed(range(e.shape[1])):
        g = dh_all[:, t] * (1 - h[:, t + 1] ** 2)
        de[:, t], dh_prev, a, b, c = _step_grads(g, e[:, t], h[:, t], W_h, W_e)
        dW_h, dW_e, db1 = dW_h + a, dW_e + b, db1 + c
    return de, dh_prev, dW_h, dW_e, db1


def bptt_no_tanh_recursive(dh_all, cache):
    e, h, W_h, W_e = cache

    def back(t, incoming):  # returns (de[:, :t+1] as a list, dh0, dW_h, dW_e, db1)
        g = dh_all[:, t] + incoming
        des, dh0, a, b, c = back(t - 1, g @ W_h) if t > 0 else ([], g @ W_h, 0, 0, 0)
        return [*des, g @ W_e], dh0, a + g.T @ h[:, t], b + g.T @ e[:, t], c + g.sum(0)

    des, dh0, dW_h, dW_e, db1 = back(e.shape[1] - 1, np.zeros_like(h[:, 0]))
    return np.stack(des, axis=1), dh0, dW_h, dW_e, db1


def bptt_derivative_of_h_prev(dh_all, cache):
    e, h, W_h, W_e = cache
    T = e.shape[1]
    de, dh = np.zeros_like(e), np.zeros_like(h[:, 0])
    dW_h, dW_e, db1 = np.zeros_like(W_h), np.zeros_like(W_e), np.zeros(len(W_h))
    for t in range(T, 0, -1):
        dh = dh + dh_all[:, t - 1]
        g = dh * (1 - h[:, t - 1] ** 2)
        de[:, t - 1] = g @ W_e
        dW_h += g.T @ h[:, t - 1]
        dW_e += g.T @ e[:, t - 1]
        db1 += g.sum(0)
        dh = g @ W_h
    return de, dh, dW_h, dW_e, db1


def bptt_W_h_transposed(dh_all, cache):
    e, h, W_h, W_e = cache
    de = np.zeros_like(e)
    dW_h, dW_e, db1 = np.zeros_like(W_h), np.zeros_like(W_e), np.zeros(len(W_h))
    carry = np.zeros_like(h[:, 0])
    for t in reversed(range(e.shape[1])):
        da = (dh_all[:, t] + carry) * (1 - h[:, t + 1] ** 2)
        de[:, t] = np.einsum("bn,nd->bd", da, W_e)
        carry = np.einsum("bn,mn->bm", da, W_h)
        dW_h += np.einsum("bn,bm->nm", da, h[:, t])
        dW_e += np.einsum("bn,bd->nd", da, e[:, t])
        db1 += da.sum(0)
    return de, carry, dW_h, dW_e, db1


def bptt_dW_h_transposed(dh_all, cache):
    e, h, W_h, W_e = cache
    das, carry = [], np.zeros_like(h[:, 0])
    for t in reversed(range(e.shape[1])):
        da = (dh_all[:, t] + carry) * (1 - h[:, t + 1] ** 2)
        das.insert(0, da)
        carry = da @ W_h
    da_all = np.stack(das, axis=1)  # (B, T, n)
    return (da_all @ W_e, carry, np.einsum("btn,btm->mn", da_all, h[:, :-1]),
            np.einsum("btn,btd->nd", da_all, e), da_all.sum(axis=(0, 1)))


def bptt_dW_h_with_h_t(dh_all, cache):
    e, h, W_h, W_e = cache
    T = e.shape[1]
    de = np.zeros_like(e)
    dW_h, dW_e, db1 = np.zeros_like(W_h), np.zeros_like(W_e), np.zeros(len(W_h))
    dh = np.zeros_like(h[:, 0])
    for t in range(T, 0, -1):
        da = (dh_all[:, t - 1] + dh) * (1 - h[:, t] ** 2)
        de[:, t - 1] = da @ W_e
        dW_h += da.T @ h[:, t]  # off by one: h(t), not h(t-1)
        dW_e += da.T @ e[:, t - 1]
        db1 += da.sum(0)
        dh = da @ W_h
    return de, dh, dW_h, dW_e, db1


def bptt_forward_order(dh_all, cache):
    e, h, W_h, W_e = cache
    de = np.zeros_like(e)
    dW_h, dW_e, db1 = np.zeros_like(W_h), np.zeros_like(W_e), np.zeros(len(W_h))
    g_h = np.zeros_like(h[:, 0])
    for t in range(e.shape[1]):
        da = (dh_all[:, t] + g_h) * (1 - h[:, t + 1] ** 2)
        de[:, t], g_h, a, b, c = _step_grads(da, e[:, t], h[:, t], W_h, W_e)
        dW_h += a
        dW_e += b
        db1 += c
    return de, g_h, dW_h, dW_e, db1


# ----- correct


def bptt_one_based(dh_all, cache):
    e, h, W_h, W_e = cache
    T = e.shape[1]
    de = np.zeros_like(e)
    dW_h, dW_e, db1 = np.zeros_like(W_h), np.zeros_like(W_e), np.zeros(len(W_h))
    dh = np.zeros_like(h[:, 0])
    for t in range(T, 0, -1):
        da = (dh_all[:, t - 1] + dh) * (1 - h[:, t] ** 2)
        de[:, t - 1] = da @ W_e
        dW_h += da.T @ h[:, t - 1]
        dW_e += da.T @ e[:, t - 1]
        db1 += da.sum(0)
        dh = da @ W_h
    return de, dh, dW_h, dW_e, db1


def bptt_recursive(dh_all, cache):
    e, h, W_h, W_e = cache

    def back(t, incoming):
        g = (dh_all[:, t] + incoming) * (1 - h[:, t + 1] ** 2)
        des, dh0, a, b, c = back(t - 1, g @ W_h) if t > 0 else ([], g @ W_h, 0, 0, 0)
        return [*des, g @ W_e], dh0, a + g.T @ h[:, t], b + g.T @ e[:, t], c + g.sum(0)

    des, dh0, dW_h, dW_e, db1 = back(e.shape[1] - 1, np.zeros_like(h[:, 0]))
    return np.stack(des, axis=1), dh0, dW_h, dW_e, db1


def bptt_einsum_after_loop(dh_all, cache):
    e, h, W_h, W_e = cache
    das, carry = [], np.zeros_like(h[:, 0])
    for t in reversed(range(e.shape[1])):
        da = (dh_all[:, t] + carry) * (1 - h[:, t + 1] ** 2)
        das.insert(0, da)
        carry = da @ W_h
    da_all = np.stack(das, axis=1)
    return (da_all @ W_e, carry, np.einsum("btn,btm->nm", da_all, h[:, :-1]),
            np.einsum("btn,btd->nd", da_all, e), da_all.sum(axis=(0, 1)))


# =============================================================================================
# sgd_step

# ----- wrong


def _fwd_bwd(params, x, y, h0):
    loss, cache = numpy_rnn.rnn_lm_forward(params, x, h0, targets=y)
    return loss, numpy_rnn.rnn_lm_backward(cache)


def sgd_ascent(params, tokens, h0, lr):
    loss, grads = _fwd_bwd(params, tokens[:, :-1], tokens[:, 1:], h0)
    new = {k: v.copy() for k, v in params.items()}
    for k in new:
        new[k] += lr * grads[k]
    return new, loss


def sgd_targets_not_shifted(params, tokens, h0, lr):
    inputs = tokens[:, : tokens.shape[1] - 1]
    loss, grads = _fwd_bwd(params, inputs, inputs, h0)
    return {k: np.subtract(params[k], lr * grads[k]) for k in numpy_rnn.PARAM_NAMES}, loss


def sgd_inputs_targets_swapped(params, tokens, h0, lr):
    loss, grads = _fwd_bwd(params, tokens[:, 1:], tokens[:, :-1], h0)
    return {k: params[k] - lr * grads[k] for k in params}, loss


def sgd_loss_after(params, tokens, h0, lr):
    _, grads = _fwd_bwd(params, tokens[:, :-1], tokens[:, 1:], h0)
    new = {k: params[k] - lr * grads[k] for k in params}
    loss, _ = numpy_rnn.rnn_lm_forward(new, tokens, h0)  # the (B, T+1) form splits the tokens itself
    return new, loss


def sgd_no_lr(params, tokens, h0, lr):
    loss, grads = _fwd_bwd(params, tokens[:, :-1], tokens[:, 1:], h0)
    return {name: p - grads[name] for name, p in params.items()}, loss


def sgd_E_frozen(params, tokens, h0, lr):
    loss, grads = _fwd_bwd(params, tokens[:, :-1], tokens[:, 1:], h0)
    new = {"E": params["E"]}
    for name in ("W_h", "W_e", "b1", "U", "b2"):
        new[name] = params[name] - lr * grads[name]
    return new, loss


def sgd_h0_too(params, tokens, h0, lr):
    loss, grads = _fwd_bwd(params, tokens[:, :-1], tokens[:, 1:], h0)
    state = {**params, "h0": h0}
    return {k: state[k] - lr * g for k, g in grads.items()}, loss


# ----- correct


def sgd_unsplit_forward(params, tokens, h0, lr):
    loss, cache = numpy_rnn.rnn_lm_forward(params, tokens, h0)  # no targets: reads [:, :-1], predicts [:, 1:]
    grads = numpy_rnn.rnn_lm_backward(cache)
    return {k: params[k] - lr * grads[k] for k in numpy_rnn.PARAM_NAMES}, loss


def sgd_copy_then_subtract(params, tokens, h0, lr):
    loss, grads = _fwd_bwd(params, tokens[:, :-1], tokens[:, 1:], h0)
    new = {k: v.copy() for k, v in params.items()}
    for k in new:
        new[k] -= lr * grads[k]  # in place on the copies only
    return new, float(loss)


def sgd_list_result(params, tokens, h0, lr):
    x, y = np.split(tokens, [1], axis=1)[1], tokens[:, :-1]  # y here is the inputs: named the other way round
    loss, grads = _fwd_bwd(params, y, x, h0)
    return [dict(zip(params, (np.add(params[k], -lr * grads[k]) for k in params), strict=True)), np.float64(loss)]


# =============================================================================================
# rnn_step_jacobian: derived by the learner, written in one line


def jac_diag(W_h, h_t):
    return np.diag(1 - h_t**2) @ W_h


def jac_entries(W_h, h_t):
    n = len(h_t)
    return np.array([[(1 - h_t[i] ** 2) * W_h[i, j] for j in range(n)] for i in range(n)])


def jac_einsum(W_h, h_t):
    return np.einsum("i,ij->ij", 1 - np.tanh(np.arctanh(np.clip(h_t, -1, 1))) ** 2, W_h)


def jac_W_h_only(W_h, h_t):
    return W_h.copy()


def jac_transposed(W_h, h_t):
    return np.diag(1 - h_t**2) @ W_h.T


def jac_broadcast_columns(W_h, h_t):
    return (1 - h_t**2) * W_h  # scales the columns: W_h @ diag(1 - h**2)


def jac_one_minus_h(W_h, h_t):
    return np.diag(1 - h_t) @ W_h


def jac_tanh_again(W_h, h_t):
    return np.diag(1 - np.tanh(h_t) ** 2) @ W_h


def jac_sigmoid_derivative(W_h, h_t):
    return np.diag(h_t * (1 - h_t)) @ W_h


# =============================================================================================
# truncated_bptt_choice


def truncation_answer():
    return "B"


def truncation_answer_written_freely():
    return " (b) "


def truncation_state_reset():
    return "A"


def truncation_k_losses():
    return "c"


def truncation_exact():
    return "D"


# =============================================================================================
# Every exercise: wrong implementations are rejected and named; correct ones pass

WRONG = [
    ("rnn_step_jacobian", jac_W_h_only, "missing tanh derivative"),
    ("rnn_step_jacobian", jac_transposed, "W_h transposed"),
    ("rnn_step_jacobian", jac_broadcast_columns, "derivative on the wrong side"),
    ("rnn_step_jacobian", jac_one_minus_h, "1 - h instead of 1 - h**2"),
    ("rnn_step_jacobian", jac_tanh_again, "tanh applied to h(t) again"),
    ("rnn_step_jacobian", jac_sigmoid_derivative, "sigmoid's derivative"),
    ("truncated_bptt_choice", truncation_state_reset, "the state is reset at each window"),
    ("truncated_bptt_choice", truncation_k_losses, "only k losses are kept"),
    ("truncated_bptt_choice", truncation_exact, "truncation is exact"),
    ("rnn_step_backward", sb_no_tanh, "missing tanh derivative"),
    ("rnn_step_backward", sb_derivative_of_h_prev, "tanh derivative at h(t-1)"),
    ("rnn_step_backward", sb_W_h_transposed, "W_h transposed in dh_prev"),
    ("rnn_step_backward", sb_W_e_transposed, "W_e transposed in de_t"),
    ("rnn_step_backward", sb_dW_h_transposed, "dW_h transposed"),
    ("rnn_step_backward", sb_dW_e_transposed, "dW_e transposed"),
    ("rnn_step_backward", sb_db1_per_example, "db1 not summed over the batch"),
    ("rnn_step_backward", sb_swapped, "W_h and W_e swapped"),
    ("rnn_backward", bptt_last_step_only, "only the last step"),
    ("rnn_backward", bptt_zeroed_in_loop, "gradient zeroed inside the loop"),
    ("rnn_backward", bptt_not_carried, "dh not carried back"),
    ("rnn_backward", bptt_no_tanh_recursive, "missing tanh derivative"),
    ("rnn_backward", bptt_derivative_of_h_prev, "tanh derivative at h(t-1)"),
    ("rnn_backward", bptt_W_h_transposed, "W_h transposed in dh_prev"),
    ("rnn_backward", bptt_dW_h_transposed, "dW_h transposed"),
    ("rnn_backward", bptt_dW_h_with_h_t, "dW_h with h(t) instead of h(t-1)"),
    ("rnn_backward", bptt_forward_order, "loop runs forward in time"),
    ("sgd_step", sgd_ascent, "gradient ascent"),
    ("sgd_step", sgd_targets_not_shifted, "targets not shifted"),
    ("sgd_step", sgd_inputs_targets_swapped, "inputs and targets swapped"),
    ("sgd_step", sgd_loss_after, "loss after the update"),
    ("sgd_step", sgd_no_lr, "learning rate left out"),
    ("sgd_step", sgd_E_frozen, "E not updated"),
    ("sgd_step", sgd_h0_too, "h0 updated as a parameter"),
]

CORRECT = [
    ("rnn_step_jacobian", jac_diag),
    ("rnn_step_jacobian", jac_entries),
    ("rnn_step_jacobian", jac_einsum),
    ("truncated_bptt_choice", truncation_answer),
    ("truncated_bptt_choice", truncation_answer_written_freely),
    ("rnn_step_backward", sb_einsum),
    ("rnn_step_backward", sb_outer_loop),
    ("rnn_step_backward", sb_columns),
    ("rnn_backward", bptt_one_based),
    ("rnn_backward", bptt_recursive),
    ("rnn_backward", bptt_einsum_after_loop),
    ("sgd_step", sgd_unsplit_forward),
    ("sgd_step", sgd_copy_then_subtract),
    ("sgd_step", sgd_list_result),
]

# The mistakes the issue asks the hints to cover, by exercise.
ISSUE_MISTAKES = {
    "rnn_step_backward": ["missing tanh derivative", "tanh derivative at h(t-1)", "W_h transposed in dh_prev",
                          "W_e transposed in de_t", "dW_h transposed"],
    "rnn_backward": ["only the last step", "missing tanh derivative", "tanh derivative at h(t-1)",
                     "dh not carried back", "dW_h with h(t) instead of h(t-1)", "W_h transposed in dh_prev",
                     "gradient zeroed inside the loop"],
    "sgd_step": ["targets not shifted", "inputs and targets swapped"],
}


@pytest.mark.parametrize(("exercise", "fn", "mistake"), WRONG, ids=[f"{ex}-{m}" for ex, _, m in WRONG])
def test_wrong_implementation_is_rejected_and_named(exercise: str, fn: Callable[..., Any], mistake: str) -> None:
    result = _check(exercise, fn)
    assert result.status in REJECTED, result.report()
    assert result.mistake == mistake, result.report()
    assert result.hint and result.hint in result.report()


@pytest.mark.parametrize(("exercise", "fn"), CORRECT, ids=[f"{ex}-{fn.__name__}" for ex, fn in CORRECT])
def test_correct_implementation_passes(exercise: str, fn: Callable[..., Any]) -> None:
    result = _check(exercise, fn)
    assert result.status is Status.PASS, result.report()
    assert result.hint is None and result.mistake is None


def test_the_wrong_and_correct_sets_cover_every_exercise_and_mistake() -> None:
    for ex in ALL_2:
        wrong = [m for e, _, m in WRONG if e == ex]
        assert len(wrong) >= (3 if EXERCISES[ex].kind == "choice" else 5) and len(set(wrong)) == len(wrong), ex
        assert set(wrong) == {m.name for m in EXERCISES[ex].mistakes}, f"{ex}: every registered mistake is tested"
        assert len([fn for e, fn in CORRECT if e == ex]) >= 2, ex
        assert set(ISSUE_MISTAKES.get(ex, [])) <= set(wrong), ex


# =============================================================================================
# The registered mistakes: each differs from the reference, and any two differ from each other


def test_last_step_only_and_zeroed_in_loop_agree_with_the_reference_only_when_T_is_1() -> None:
    ex = EXERCISES["rnn_backward"]
    cases = ex.cases()
    ref = outcomes("rnn_backward", ex.reference)
    for name in ("only the last step", "gradient zeroed inside the loop"):
        m = next(m for m in ex.mistakes if m.name == name)
        for case, r, w in zip(cases, ref, outcomes("rnn_backward", m.fn), strict=True):
            T = case.args[0].shape[1]
            assert same_outcome(r, w) == (T == 1), (name, case.name)


# =============================================================================================
# The cases: distinct sizes, a square W_e, B = 1, T = 1, a zero state


def _sizes(exercise: str) -> list[dict[str, int | bool]]:
    rows = []
    for c in EXERCISES[exercise].cases():
        if exercise == "rnn_step_backward":
            dh, (e_t, h_prev, *_) = c.args
            rows.append({"B": dh.shape[0], "T": 1, "d": e_t.shape[1], "n": dh.shape[1], "zero": not h_prev.any()})
        elif exercise == "rnn_backward":
            dh_all, (e, h, *_) = c.args
            B, T, n = dh_all.shape
            rows.append({"B": B, "T": T, "d": e.shape[2], "n": n, "zero": not h[:, 0].any()})
        else:
            params, tokens, h0, _ = c.args
            rows.append({"B": tokens.shape[0], "T": tokens.shape[1] - 1, "d": params["E"].shape[0],
                         "n": h0.shape[1], "zero": not h0.any()})
    return rows


@pytest.mark.parametrize("exercise", SET_2)
def test_cases_cover_the_edge_cases(exercise: str) -> None:
    rows = _sizes(exercise)
    first = rows[0]
    assert len({first["B"], first["d"], first["n"]}) == 3, "the first case has distinct B, d, n"
    assert any(r["d"] != r["n"] for r in rows) and any(r["d"] == r["n"] for r in rows)
    assert any(r["B"] == 1 for r in rows) and any(r["zero"] for r in rows)
    if exercise != "rnn_step_backward":
        assert any(r["T"] == 1 for r in rows) and any(r["T"] > 1 for r in rows)


def test_cases_are_float64_and_seeded() -> None:
    for exercise in SET_2:
        a, b = EXERCISES[exercise].cases(), EXERCISES[exercise].cases()
        assert [c.name for c in a] == [c.name for c in b]
        assert all(_same(x.args, y.args) for x, y in zip(a, b, strict=True))
    for c in EXERCISES["sgd_step"].cases():
        params, tokens, _, lr = c.args
        assert set(params) == set(numpy_rnn.PARAM_NAMES) and all(p.dtype == np.float64 for p in params.values())
        assert np.issubdtype(tokens.dtype, np.integer) and 0 < lr < 1


# =============================================================================================
# In place, stubs, messages


def _sgd_minus_equals(params, tokens, h0, lr):
    loss, grads = _fwd_bwd(params, tokens[:, :-1], tokens[:, 1:], h0)
    for k in numpy_rnn.PARAM_NAMES:
        params[k] -= lr * grads[k]
    return params, loss


def _sgd_shallow_copy(params, tokens, h0, lr):
    loss, grads = _fwd_bwd(params, tokens[:, :-1], tokens[:, 1:], h0)
    new = params.copy()  # a new dict, but the same arrays
    for k in new:
        new[k] -= lr * grads[k]
    return new, loss


def _sgd_rebinds_entries(params, tokens, h0, lr):
    loss, grads = _fwd_bwd(params, tokens[:, :-1], tokens[:, 1:], h0)
    for k in numpy_rnn.PARAM_NAMES:
        params[k] = params[k] - lr * grads[k]  # new arrays, but written into the caller's dict
    return params, loss


def _sb_times_equals(dh, cache):
    e_t, h_prev, h, W_h, W_e = cache
    dh *= 1 - h**2
    return dh @ W_e, dh @ W_h, dh.T @ h_prev, dh.T @ e_t, dh.sum(0)


def _bptt_adds_into_dh_all(dh_all, cache):
    e, h, W_h, W_e = cache
    de = np.zeros_like(e)
    dW_h, dW_e, db1 = np.zeros_like(W_h), np.zeros_like(W_e), np.zeros(len(W_h))
    dh0 = np.zeros_like(h[:, 0])
    for t in reversed(range(e.shape[1])):
        da = dh_all[:, t] * (1 - h[:, t + 1] ** 2)
        de[:, t], dh_prev = da @ W_e, da @ W_h
        dW_h, dW_e, db1 = dW_h + da.T @ h[:, t], dW_e + da.T @ e[:, t], db1 + da.sum(0)
        if t > 0:
            dh_all[:, t - 1] += dh_prev
        else:
            dh0 = dh_prev
    return de, dh0, dW_h, dW_e, db1


def _bptt_overwrites_cached_h(dh_all, cache):
    e, h, W_h, W_e = cache
    h_prev = h[:, :-1].copy()
    h[:, 1:] = 1 - h[:, 1:] ** 2  # "precompute the derivative", into the cache
    de, dh = np.zeros_like(e), np.zeros_like(h[:, 0])
    dW_h, dW_e, db1 = np.zeros_like(W_h), np.zeros_like(W_e), np.zeros(len(W_h))
    for t in reversed(range(e.shape[1])):
        da = (dh_all[:, t] + dh) * h[:, t + 1]
        de[:, t], dh = da @ W_e, da @ W_h
        dW_h, dW_e, db1 = dW_h + da.T @ h_prev[:, t], dW_e + da.T @ e[:, t], db1 + da.sum(0)
    return de, dh, dW_h, dW_e, db1


IN_PLACE = [
    ("sgd_step", _sgd_minus_equals, "params['E']"),
    ("sgd_step", _sgd_shallow_copy, "params['E']"),
    ("sgd_step", _sgd_rebinds_entries, "params['E']"),
    ("rnn_step_backward", _sb_times_equals, "dh"),
    ("rnn_backward", _bptt_adds_into_dh_all, "dh_all"),
    ("rnn_backward", _bptt_overwrites_cached_h, "cache[1]"),
]


@pytest.mark.parametrize(("exercise", "fn", "arg"), IN_PLACE, ids=[f.__name__.strip("_") for _, f, _ in IN_PLACE])
def test_changing_an_input_in_place_names_it(exercise: str, fn: Callable[..., Any], arg: str) -> None:
    result = _check(exercise, fn)
    assert result.status is Status.FAIL, result.report()
    assert f"`{arg}`" in result.message and "in place" in result.message


def test_in_place_sgd_gives_the_right_values_otherwise() -> None:
    # the in-place failure is not a value mistake: the same update written out of place passes
    assert _check("sgd_step", sgd_copy_then_subtract)
    case = EXERCISES["sgd_step"].cases()[0]
    got = _sgd_minus_equals(*copy.deepcopy(case.args))
    assert _same(got, exercises_02.sgd_step(*case.args))


def _stub(*args: Any) -> Any:
    raise NotImplementedError("Replace this line with your code.")


def test_sgd_pass_message_shows_the_loss_going_down() -> None:
    result = _check("sgd_step", sgd_unsplit_forward)
    assert result and "down to" in result.message
    assert f"{exercises_02.CURVE_STEPS} steps" in result.message


def test_sgd_gradient_ascent_reports_the_loss_going_up() -> None:
    result = _check("sgd_step", sgd_ascent)
    assert result.mistake == "gradient ascent"
    assert any("UP" in d for d in result.details)
    assert "UP" in result.report()


def test_a_step_that_passes_the_cases_but_not_the_fixed_batch_fails() -> None:
    def lazy_on_big_batches(params, tokens, h0, lr):
        if tokens.shape == (4, 9):  # the fixed batch; no seeded case has these sizes
            return {k: params[k].copy() for k in numpy_rnn.PARAM_NAMES}, 0.0
        return sgd_unsplit_forward(params, tokens, h0, lr)

    result = _check("sgd_step", lazy_on_big_batches)
    assert result.status is Status.FAIL
    assert "fixed batch" in result.message and "not down" in result.message


@pytest.mark.parametrize(("fn", "words"), [
    (lambda params, tokens, h0, lr: sgd_unsplit_forward(params, tokens, h0, lr)[0],
     "tuple of 2 results (new_params, loss)"),
    (lambda params, tokens, h0, lr: sgd_unsplit_forward(params, tokens, h0, lr)[::-1],
     "new_params: expected a dict"),
    (lambda params, tokens, h0, lr: (*sgd_unsplit_forward(params, tokens, h0, lr), 0.0), "length 3"),
    (lambda params, tokens, h0, lr: None, "return"),
    (lambda params, tokens, h0, lr: (None, 1.0), "new_params"),
    (lambda params, tokens, h0, lr: (sgd_unsplit_forward(params, tokens, h0, lr)[0], None), "loss"),
    (lambda params, tokens, h0, lr: ({k: v.astype(np.float32) for k, v in
                                      sgd_unsplit_forward(params, tokens, h0, lr)[0].items()}, 1.0), "float32"),
    (lambda params, tokens, h0, lr: (sgd_unsplit_forward(params, tokens, h0, lr)[0], np.ones(1)), "real number"),
], ids=["only-params", "swapped-order", "three-results", "none", "params-none", "loss-none", "float32", "loss-array"])
def test_sgd_result_shape_problems_are_explained(fn: Callable[..., Any], words: str) -> None:
    result = _check("sgd_step", fn)
    assert result.status is Status.FAIL, result.report()
    assert words in result.message, result.message


def test_sgd_error_quotes_the_learners_line() -> None:
    def wrong_key(params, tokens, h0, lr):
        loss, grads = _fwd_bwd(params, tokens[:, :-1], tokens[:, 1:], h0)
        return {k: params[k] - lr * grads["W"] for k in params}, loss

    def whole_tokens_as_inputs(params, tokens, h0, lr):
        loss, grads = _fwd_bwd(params, tokens, tokens[:, 1:], h0)
        return {k: params[k] - lr * grads[k] for k in params}, loss

    result = _check("sgd_step", wrong_key)
    assert result.status is Status.ERROR and "KeyError" in result.message and 'grads["W"]' in result.message
    result = _check("sgd_step", whole_tokens_as_inputs)
    assert result.status is Status.ERROR and "tokens[:, :-1]" in (result.hint or ""), result.report()


def test_sgd_timeout_is_quick() -> None:
    def sleepy(*args: Any) -> Any:
        time.sleep(2)

    start = time.perf_counter()
    result = _check("sgd_step", sleepy, timeout=0.3)
    assert result.status is Status.TIMEOUT and time.perf_counter() - start < 1.5


def test_shape_error_in_a_backward_pass_gets_the_shape_hint() -> None:
    def de_from_W_h(dh, cache):  # (B, n) @ (n, d).T is a shape error, not a registered mistake
        e_t, h_prev, h, W_h, W_e = cache
        da = dh * (1 - h**2)
        return da.T @ W_e.T, da @ W_h, da.T @ h_prev, da.T @ e_t, da.sum(0)

    result = _check("rnn_step_backward", de_from_W_h)
    assert result.status is Status.ERROR
    assert result.mistake is None and result.hint == exercises_02.SHAPE_HINT


def test_the_reference_sgd_step_lowers_the_loss_on_the_fixed_batch() -> None:
    curve = exercises_02._loss_curve(exercises_02.sgd_step, timeout=10.0)
    assert curve is not None and len(curve) == exercises_02.CURVE_STEPS + 1
    assert curve[-1] < curve[0] - 0.1
    assert np.all(np.diff(curve) < 0), "a small step lowers the loss at every step on this batch"


# =============================================================================================
# The registry and the command line


def test_registry_holds_set_2_in_chapter_2() -> None:
    assert [e.id for e in EXERCISES.values() if e.chapter == 2] == ALL_2
    assert exercises_02.EXERCISES_02 == tuple(EXERCISES[e] for e in ALL_2)
    assert EXERCISES["truncated_bptt_choice"].kind == "choice"
    assert EXERCISES["rnn_step_backward"].output_names == ("de_t", "dh_prev", "dW_h", "dW_e", "db1")
    assert EXERCISES["rnn_backward"].output_names == ("de", "dh0", "dW_h", "dW_e", "db1")
    assert EXERCISES["rnn_step_backward"].reference is numpy_rnn.rnn_step_backward
    assert EXERCISES["rnn_backward"].reference is numpy_rnn.rnn_backward
    assert EXERCISES["sgd_step"].reference is exercises_02.sgd_step


def test_list_shows_set_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for ex in ALL_2:
        assert ex in out and EXERCISES[ex].signature in out


# =============================================================================================
# rnn_step_jacobian


def test_jacobian_cases_cover_a_non_symmetric_W_h_zero_and_saturated_states_and_n_1() -> None:
    cases = [c.args for c in EXERCISES["rnn_step_jacobian"].cases()]
    assert all(W.shape == (h.size, h.size) and W.dtype == h.dtype == np.float64 for W, h in cases)
    assert any(not np.allclose(W, W.T) for W, _ in cases)
    assert any(not h.any() for _, h in cases) and any(np.abs(h).max() > 0.99 for _, h in cases)
    assert any(h.size == 1 for _, h in cases) and any(h.size >= 32 for _, h in cases)


def test_the_jacobian_is_what_rnn_step_backward_sends_back() -> None:
    """dh_prev = dh J_t on rows: the Jacobian of exercise 1 is the one rnn_step_backward transposes."""
    rng = np.random.default_rng(0)
    e_t, h_prev, W_h, W_e, b1 = (rng.normal(size=s) for s in ((1, 3), (1, 4), (4, 4), (4, 3), (4,)))
    h, cache = numpy_rnn.rnn_step_forward(e_t, h_prev, W_h, W_e, b1)
    dh = rng.normal(size=(1, 4))
    np.testing.assert_allclose(dh @ exercises_02.rnn_step_jacobian(W_h, h[0]),
                               numpy_rnn.rnn_step_backward(dh, cache)[1], rtol=1e-12)
