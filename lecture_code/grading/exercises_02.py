"""Exercise set 2: backpropagation through time, in NumPy, batch-first, with the lecture's names.

On top of the cases listed here come the concept cases of :mod:`.cases` (B = 1, n = 1, a stress case at
realistic sizes twice, and per concept: softmax edge rows, max(lengths) < T).

The Jacobian of one step (derived, then written in one line), one step's backward pass, BPTT over a
whole sequence, a multiple-choice question on what truncated BPTT drops, and one plain SGD step on the
RNN-LM.
The cases use distinct sizes (so a transposed matrix fails on its shape), a square W_e (d = n,
where a transpose is caught by its values only), B = 1, T = 1 and a zero initial state. Each known
mistake is written as the wrong code a learner would write; every pair of them gives different
results on some case, so a hint always names one mistake.

``sgd_step`` returns ``(new_params, loss)``: a dict inside a tuple, which the checker's
:func:`~lecture_code.grading.checker.compare` does not nest into, so its validator compares the two
parts itself and then runs the learner's step on a fixed batch to see the loss go down.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from ..numpy_rnn import PARAM_NAMES, init_rnn_lm_params, rnn_lm_backward, rnn_lm_forward, rnn_step_forward
from ..numpy_rnn import rnn_backward as rnn_backward_ref
from ..numpy_rnn import rnn_step_backward as rnn_step_backward_ref
from .cases import GRAD, size_cases
from .checker import Case, Exercise, Mistake, Result, Status, call, run_check, shape_hints
from .exercises_01 import rnn_step_inputs
from .plain import pristine_numpy
from .questions import choice_exercise

SHAPE_HINT = ("a matrix product has mismatched shapes. On batch-first rows da is (B, n), h_prev (B, n), e_t (B, d), "
              "W_h (n, n) and W_e (n, d), and every gradient has the shape of what it is the gradient of. A "
              "column-vector product W^T δ becomes δ @ W on rows, and a sum over the batch of δ_b x_b^T becomes "
              "δ.T @ x.")
ERROR_HINTS = shape_hints(SHAPE_HINT, "two arrays of different shapes met element-wise: dh, h and da are all (B, n), "
                          "one row per example; db1 = da.sum(axis=0) is (n,), and each weight gradient has the "
                          "shape of its weight.")

# ---------------------------------------------------------------------------------------------
# rnn_step_jacobian: derive dh(t)/dh(t-1), then write it in one line


def rnn_step_jacobian(W_h: np.ndarray, h_t: np.ndarray) -> np.ndarray:
    """dh(t)/dh(t-1) = diag(1 - h(t)**2) W_h for h(t) = tanh(W_h h(t-1) + W_e e(t) + b_1): entry [i, j] is
    dh_i(t)/dh_j(t-1) = (1 - h_i(t)**2) W_h[i, j]."""
    return (1.0 - h_t**2)[:, None] * W_h


def _jacobian_inputs(rng: np.random.Generator, n: int, saturated: bool = False, zero: bool = False
                     ) -> tuple[np.ndarray, np.ndarray]:
    W_h = rng.normal(scale=0.6, size=(n, n))
    h_t = np.zeros(n) if zero else np.tanh(rng.normal(scale=5.0 if saturated else 1.0, size=n))
    return W_h, h_t


def _jacobian_cases() -> list[Case]:
    rng = np.random.default_rng(71)
    return [
        Case("n=4, a non-symmetric W_h", _jacobian_inputs(rng, 4)),
        Case("n=3", _jacobian_inputs(rng, 3)),
        Case("h(t) = 0: every unit at the steepest point of tanh, n=5", _jacobian_inputs(rng, 5, zero=True)),
        Case("saturated units, h(t) near +-1, n=6", _jacobian_inputs(rng, 6, saturated=True)),
        *size_cases(_jacobian_inputs, dict(n=4), dict(n=64), seed=72, ones=("n",)),
    ]


def _jacobian_with(deriv: Callable[[np.ndarray], np.ndarray], side: str = "left", weights: str = "W_h"
                   ) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """diag(deriv(h)) W (side "left") or W diag(deriv(h)) (side "right"), with W = W_h or W_h.T."""
    def fn(W_h: np.ndarray, h_t: np.ndarray) -> np.ndarray:
        W = W_h if weights == "W_h" else W_h.T
        return deriv(h_t)[:, None] * W if side == "left" else W * deriv(h_t)[None, :]
    return fn


def _tanh_prime(h: np.ndarray) -> np.ndarray:
    return 1.0 - h**2


RNN_STEP_JACOBIAN = Exercise(
    id="rnn_step_jacobian",
    chapter=2,
    signature="rnn_step_jacobian(W_h, h_t)",
    summary="Derive: the Jacobian dh(t)/dh(t-1) of one tanh RNN step, from W_h (n, n) and the step's output "
            "h(t) (n,) of one sequence; an (n, n) array whose entry [i, j] is dh_i(t)/dh_j(t-1).",
    reference=rnn_step_jacobian,
    make_cases=_jacobian_cases,
    arg_names=("W_h", "h_t"),
    error_hints=(("matmul", "the Jacobian is (n, n): the diagonal matrix of the derivatives, (n, n), times W_h, "
                  "(n, n). Build it with np.diag(v) @ W_h, or scale the rows of W_h: v[:, None] * W_h."),),
    mistakes=(
        Mistake("missing tanh derivative", "h(t) = tanh(a(t)) with a(t) = W_h h(t-1) + ..., so the chain rule "
                "gives dh(t)/dh(t-1) = diag(tanh'(a(t))) W_h: you returned W_h alone.", lambda W_h, h_t: W_h),
        Mistake("W_h transposed", "entry [i, j] is dh_i(t)/dh_j(t-1) = (1 - h_i(t)**2) W_h[i, j]: W_h itself, "
                "not W_h.T (the transpose belongs to the batch-first forward pass h_prev @ W_h.T).",
                _jacobian_with(_tanh_prime, weights="W_h.T")),
        Mistake("derivative on the wrong side", "unit i's derivative 1 - h_i(t)**2 scales ROW i of W_h (its own "
                "pre-activation a_i depends on row i): diag(1 - h(t)**2) @ W_h. You scaled the columns, "
                "W_h @ diag(...), which is also what (1 - h_t**2) * W_h broadcasts to.",
                _jacobian_with(_tanh_prime, side="right")),
        Mistake("1 - h instead of 1 - h**2", "tanh'(a) = 1 - tanh(a)**2 = 1 - h**2: the derivative squares h.",
                _jacobian_with(lambda h: 1.0 - h)),
        Mistake("tanh applied to h(t) again", "h(t) is already tanh(a(t)), so tanh'(a(t)) = 1 - h(t)**2; "
                "1 - tanh(h(t))**2 would be the derivative at h(t), not at a(t).",
                _jacobian_with(lambda h: 1.0 - np.tanh(h) ** 2)),
        Mistake("sigmoid's derivative", "the simple RNN's σ is tanh, whose derivative is 1 - h**2; h(1 - h) is "
                "the logistic sigmoid's.", _jacobian_with(lambda h: h * (1.0 - h))),
    ),
)

# ---------------------------------------------------------------------------------------------
# rnn_step_backward


def _step_inputs(rng: np.random.Generator, B: int, d: int, n: int, zero_state: bool = False, grad: float = 1.0
                 ) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    _, cache = rnn_step_forward(*rnn_step_inputs(rng, B, d, n, zero_state))
    return grad * rng.normal(size=(B, n)), cache


def _step_case(name: str, B: int, d: int, n: int, seed: int, zero_state: bool = False) -> Case:
    return Case(name, _step_inputs(np.random.default_rng(seed), B, d, n, zero_state))


def _step_cases() -> list[Case]:
    return [
        _step_case("B=3, d=4, n=5", 3, 4, 5, seed=31),
        _step_case("B=1 (one sequence), d=2, n=3", 1, 2, 3, seed=32),
        _step_case("zero state h_prev = 0, B=2, d=3, n=6", 2, 3, 6, seed=33, zero_state=True),
        _step_case("d = n = 4 (W_e is square)", 3, 4, 4, seed=34),
        *size_cases(_step_inputs, dict(B=3, d=4, n=5), dict(B=8, d=50, n=32), seed=35, large=dict(grad=GRAD),
                    note="gradients of norm in the thousands"),
    ]


def _local_grads(da: np.ndarray, e_t: np.ndarray, h_prev: np.ndarray, W_h: np.ndarray, W_e: np.ndarray
                 ) -> tuple[np.ndarray, ...]:
    """The correct local gradients (de_t, dh_prev, dW_h, dW_e, db1) of one step, given da = dJ/da(t)."""
    return da @ W_e, da @ W_h, da.T @ h_prev, da.T @ e_t, da.sum(axis=0)


def _sb_no_tanh_grad(dh, cache):
    e_t, h_prev, _, W_h, W_e = cache
    return _local_grads(dh, e_t, h_prev, W_h, W_e)


def _sb_tanh_grad_at_h_prev(dh, cache):
    e_t, h_prev, _, W_h, W_e = cache
    return _local_grads(dh * (1 - h_prev**2), e_t, h_prev, W_h, W_e)


def _sb_replace(index: int, wrong: Callable[..., np.ndarray]) -> Callable[..., tuple[np.ndarray, ...]]:
    """The correct step backward with output ``index`` computed by ``wrong(da, e_t, h_prev, W_h, W_e)``."""
    def fn(dh, cache):
        e_t, h_prev, h, W_h, W_e = cache
        da = dh * (1 - h**2)
        out = list(_local_grads(da, e_t, h_prev, W_h, W_e))
        out[index] = wrong(da, e_t, h_prev, W_h, W_e)
        return tuple(out)
    return fn


def _sb_swapped(dh, cache):
    e_t, h_prev, h, W_h, W_e = cache
    da = dh * (1 - h**2)
    return da @ W_h, da @ W_e, da.T @ h_prev, da.T @ e_t, da.sum(axis=0)


RNN_STEP_BACKWARD = Exercise(
    id="rnn_step_backward",
    chapter=2,
    signature="rnn_step_backward(dh, cache)",
    summary="Gradients of one RNN step from dJ/dh(t) (B, n) and cache (e_t, h_prev, h, W_h, W_e): "
            "(de_t, dh_prev, dW_h, dW_e, db1).",
    reference=rnn_step_backward_ref,
    make_cases=_step_cases,
    arg_names=("dh", "cache"),
    output_names=("de_t", "dh_prev", "dW_h", "dW_e", "db1"),
    error_hints=ERROR_HINTS,
    mistakes=(
        Mistake("missing tanh derivative", "h(t) = tanh(a(t)), so the gradient reaching a(t) is "
                "da = dh * (1 - h(t)**2); you used dh itself.", _sb_no_tanh_grad),
        Mistake("tanh derivative at h(t-1)", "tanh'(a(t)) = 1 - h(t)**2 uses this step's OUTPUT h(t) "
                "(cache[2]), not the previous state h(t-1).", _sb_tanh_grad_at_h_prev),
        Mistake("W_h transposed in dh_prev", "a(t) = W_h h(t-1) + ..., i.e. h_prev @ W_h.T on rows, so "
                "dh_prev = da @ W_h (the transpose of the forward product), not da @ W_h.T.",
                _sb_replace(1, lambda da, e, hp, Wh, We: da @ Wh.T)),
        Mistake("W_e transposed in de_t", "on rows the forward pass is e_t @ W_e.T, so de_t = da @ W_e: "
                "(B, n) @ (n, d) gives (B, d).", _sb_replace(0, lambda da, e, hp, Wh, We: da @ We.T)),
        Mistake("dW_h transposed", "dW_h[i, j] = sum over the batch of da[:, i] * h_prev[:, j]: "
                "dW_h = da.T @ h_prev, not h_prev.T @ da.", _sb_replace(2, lambda da, e, hp, Wh, We: hp.T @ da)),
        Mistake("dW_e transposed", "dW_e has the shape of W_e, (n, d): dW_e = da.T @ e_t, not e_t.T @ da.",
                _sb_replace(3, lambda da, e, hp, Wh, We: e.T @ da)),
        Mistake("db1 not summed over the batch", "b1 is shared by every example in the batch, so its gradient "
                "is da summed over the batch axis: da.sum(axis=0), shape (n,).",
                _sb_replace(4, lambda da, e, hp, Wh, We: da)),
        Mistake("W_h and W_e swapped", "the gradient flows back to h(t-1) through W_h and to e(t) through W_e: "
                "dh_prev = da @ W_h and de_t = da @ W_e.", _sb_swapped),
    ),
)

# ---------------------------------------------------------------------------------------------
# rnn_backward


def _seq_case(name: str, B: int, T: int, d: int, n: int, seed: int, zero_state: bool = False) -> Case:
    return Case(name, _seq_inputs(np.random.default_rng(seed), B, T, d, n, zero_state))


def _seq_inputs(rng: np.random.Generator, B: int, T: int, d: int, n: int, zero_state: bool = False,
                grad: float = 1.0) -> tuple[Any, ...]:
    e = rng.normal(size=(B, T, d))
    W_h = rng.normal(scale=0.6, size=(n, n))
    W_e = rng.normal(scale=0.6, size=(n, d))
    b1 = rng.normal(scale=0.5, size=n)
    h = np.empty((B, T + 1, n))
    h[:, 0] = 0.0 if zero_state else np.tanh(rng.normal(size=(B, n)))
    for t in range(T):
        h[:, t + 1], _ = rnn_step_forward(e[:, t], h[:, t], W_h, W_e, b1)
    return grad * rng.normal(size=(B, T, n)), (e, h, W_h, W_e)


def _seq_cases() -> list[Case]:
    return [
        _seq_case("B=3, T=6, d=4, n=5", 3, 6, 4, 5, seed=41),
        _seq_case("B=1 (one sequence), T=3, d=2, n=3", 1, 3, 2, 3, seed=42),
        _seq_case("T=1 (one step), B=2, d=3, n=4", 2, 1, 3, 4, seed=43),
        _seq_case("zero initial state h(0) = 0, B=2, T=4, d=3, n=6", 2, 4, 3, 6, seed=44, zero_state=True),
        _seq_case("d = n = 4 (W_e is square), B=3, T=5", 3, 5, 4, 4, seed=45),
        *size_cases(_seq_inputs, dict(B=3, T=6, d=4, n=5), dict(B=4, T=24, d=50, n=32), seed=46,
                    large=dict(grad=GRAD), note="gradients of norm in the thousands"),
    ]


def _bptt(dh_all: np.ndarray, cache: tuple[np.ndarray, ...], *, tanh_at: str | None = "h(t)", carry: bool = True,
          weights: str = "sum", dh_prev_with: str = "W_h", dW_h_with: str = "h(t-1)", order: str = "backward"
          ) -> tuple[np.ndarray, ...]:
    """BPTT with one thing changed from the reference by a keyword (the defaults give the right answer)."""
    e, h, W_h, W_e = cache
    T = e.shape[1]
    de = np.zeros_like(e)
    dW_h, dW_e, db1 = np.zeros_like(W_h), np.zeros_like(W_e), np.zeros(W_h.shape[0])
    dh_next = np.zeros_like(h[:, 0])
    for t in (reversed(range(T)) if order == "backward" else range(T)):
        h_prev, h_t = h[:, t], h[:, t + 1]
        dh = dh_all[:, t] + dh_next if carry else dh_all[:, t]
        da = dh if tanh_at is None else dh * (1 - (h_t if tanh_at == "h(t)" else h_prev) ** 2)
        de[:, t] = da @ W_e
        dh_next = da @ (W_h if dh_prev_with == "W_h" else W_h.T)
        if dW_h_with == "transposed":
            dW_h_t = h_prev.T @ da
        else:
            dW_h_t = da.T @ (h_prev if dW_h_with == "h(t-1)" else h_t)
        terms = (dW_h_t, da.T @ e[:, t], da.sum(axis=0))
        if weights == "sum":
            dW_h, dW_e, db1 = dW_h + terms[0], dW_e + terms[1], db1 + terms[2]
        elif weights == "assign" or t == T - 1:  # "assign" keeps the last step visited; "last" only t = T
            dW_h, dW_e, db1 = terms
    return de, dh_next, dW_h, dW_e, db1


def _bptt_with(**wrong: Any) -> Callable[..., tuple[np.ndarray, ...]]:
    return lambda dh_all, cache: _bptt(dh_all, cache, **wrong)


RNN_BACKWARD = Exercise(
    id="rnn_backward",
    chapter=2,
    signature="rnn_backward(dh_all, cache)",
    summary="BPTT: from dJ/dh(t) through the outputs (B, T, n) and cache (e, h, W_h, W_e) with h (B, T+1, n), "
            "return (de, dh0, dW_h, dW_e, db1), weight gradients summed over t.",
    reference=rnn_backward_ref,
    make_cases=_seq_cases,
    arg_names=("dh_all", "cache"),
    output_names=("de", "dh0", "dW_h", "dW_e", "db1"),
    error_hints=ERROR_HINTS,
    mistakes=(
        Mistake("only the last step", "W_h, W_e and b1 are used at EVERY step, so their gradients are sums "
                "over t = T, ..., 1 of the per-step terms, not the term of step T alone.",
                _bptt_with(weights="last")),
        Mistake("gradient zeroed inside the loop", "initialise dW_h, dW_e, db1 to zeros once, BEFORE the loop, "
                "and add each step's term with +=. Assigning (or re-zeroing) inside the loop keeps only the "
                "last step visited, t = 1.", _bptt_with(weights="assign")),
        Mistake("dh not carried back", "h(t) feeds both the output at t and the next step, so "
                "dJ/dh(t) = dh_all[:, t] + (the dh_prev returned by step t+1); you used dh_all[:, t] alone.",
                _bptt_with(carry=False)),
        Mistake("missing tanh derivative", "multiply by tanh'(a(t)) = 1 - h(t)**2 before the matrix products: "
                "da = dh * (1 - h(t)**2).", _bptt_with(tanh_at=None)),
        Mistake("tanh derivative at h(t-1)", "step t's derivative is 1 - h(t)**2 with its own output "
                "h(t) = h[:, t+1] in 0-based indexing, not h(t-1) = h[:, t].", _bptt_with(tanh_at="h(t-1)")),
        Mistake("W_h transposed in dh_prev", "the recurrent gradient is dh_prev = da @ W_h on rows "
                "(the forward pass was h_prev @ W_h.T), not da @ W_h.T.", _bptt_with(dh_prev_with="W_h.T")),
        Mistake("dW_h transposed", "dW_h = sum over t of da(t).T @ h(t-1), shape (n, n) like W_h; you computed "
                "its transpose, h(t-1).T @ da(t).", _bptt_with(dW_h_with="transposed")),
        Mistake("dW_h with h(t) instead of h(t-1)", "an off-by-one in h: W_h multiplies the PREVIOUS state, so "
                "its gradient at step t is da(t).T @ h(t-1) = da.T @ h[:, t] (0-based), not h[:, t+1].",
                _bptt_with(dW_h_with="h(t)")),
        Mistake("loop runs forward in time", "the gradient of h(t) needs the gradient of h(t+1) first, so BPTT "
                "walks backwards: for t in reversed(range(T)).", _bptt_with(order="forward")),
    ),
)

# ---------------------------------------------------------------------------------------------
# truncated_bptt_choice

TRUNCATED_BPTT_CHOICE = choice_exercise(
    id="truncated_bptt_choice",
    chapter=2,
    summary="what truncated BPTT with windows of k steps drops from the gradient.",
    answer="B",
    why="The hidden state's value still crosses every window boundary, but its gradient is cut there: of the sum "
        "over the occurrences of W_h, the terms dJ(t)/dW_h|(i) whose occurrence i lies in an earlier window than the "
        "loss J(t) are dropped, so a dependency longer than the window gets no gradient along the recurrence.",
    wrong=[
        ("A", "the state is reset at each window", "the hidden state's VALUE is carried from one window to the next "
         "(train.train_lm passes it on, detached from the graph), so the forward pass still sees the whole past. "
         "Only the gradient stops at the boundary."),
        ("C", "only k losses are kept", "every prediction in every window still has its loss and contributes to "
         "the gradient; what truncation limits is how far back each loss's gradient flows: to the start of its "
         "window at most."),
        ("D", "truncation is exact", "the chapter measured the difference: for k much shorter than the text, the "
         "truncated gradient of W_h points in another direction than the full one. It equals the full gradient "
         "only when the window holds the whole sequence."),
    ],
)

# ---------------------------------------------------------------------------------------------
# sgd_step


def sgd_step(params: dict[str, np.ndarray], tokens: np.ndarray, h0: np.ndarray, lr: float
             ) -> tuple[dict[str, np.ndarray], float]:
    """One SGD step (no clipping) on the RNN-LM, on a batch of token sequences.

    Args:
        params: the six parameters E, W_h, W_e, b1, U, b2 (not changed).
        tokens: (B, T + 1) token ids: the model reads ``tokens[:, :-1]`` and predicts ``tokens[:, 1:]``.
        h0: (B, n) initial hidden state (not a parameter: it is not updated).
        lr: the learning rate.

    Returns:
        ``(new_params, loss)``: a new dict {name: params[name] - lr * dJ/dparams[name]} and the loss J
        BEFORE the update.
    """
    x, y = tokens[:, :-1], tokens[:, 1:]
    loss, cache = rnn_lm_forward(params, x, h0, targets=y)
    grads = rnn_lm_backward(cache)
    return {name: params[name] - lr * grads[name] for name in PARAM_NAMES}, loss


def _sgd_case(name: str, B: int, T: int, V: int, d: int, n: int, lr: float, seed: int,
              zero_state: bool = False) -> Case:
    return Case(name, _sgd_inputs(np.random.default_rng(seed), B, T, V, d, n, lr, zero_state))


def _sgd_inputs(rng: np.random.Generator, B: int, T: int, V: int, d: int, n: int, lr: float = 0.1,
                zero_state: bool = False, big_U: float = 1.0) -> tuple[Any, ...]:
    """With ``big_U`` (300), U is that much larger: the logits meet every softmax concept (values over 1000, rows
    wider than 709, targets far below their row's max) and the gradient's global norm is in the hundreds."""
    params = init_rnn_lm_params(V, d, n, rng, scale=0.5)
    params["U"] = big_U * params["U"]
    tokens = rng.integers(0, V, size=(B, T + 1))
    h0 = np.zeros((B, n)) if zero_state else np.tanh(rng.normal(size=(B, n)))
    return params, tokens, h0, lr


def _sgd_cases() -> list[Case]:
    return [
        _sgd_case("B=3, T=6, V=7, d=4, n=5, lr=0.3", 3, 6, 7, 4, 5, lr=0.3, seed=51),
        _sgd_case("B=1 (one sequence), T=3, V=5, d=2, n=3, lr=0.5", 1, 3, 5, 2, 3, lr=0.5, seed=52),
        _sgd_case("T=1 (tokens of length 2), B=2, V=6, d=3, n=4, lr=0.2", 2, 1, 6, 3, 4, lr=0.2, seed=53),
        _sgd_case("zero initial state h0 = 0, B=2, T=4, V=8, d=3, n=6, lr=0.1", 2, 4, 8, 3, 6, lr=0.1, seed=54,
                  zero_state=True),
        _sgd_case("d = n = 4, B=3, T=5, V=6, lr=0.05", 3, 5, 6, 4, 4, lr=0.05, seed=55),
        *size_cases(_sgd_inputs, dict(B=3, T=6, V=7, d=4, n=5), dict(B=4, T=20, V=50, d=16, n=32), seed=56,
                    large=dict(big_U=300.0), note="U 300 times larger: logits over 1000, rows 2000 wide, targets over "
                    "1000 below their rows' max, a gradient of global norm about 500"),
    ]


def _sgd(params, tokens, h0, lr, *, inputs: str = "tokens[:, :-1]", targets: str = "tokens[:, 1:]",
         sign: float = -1.0, use_lr: bool = True, skip: tuple[str, ...] = (), loss_after: bool = False,
         with_h0: bool = False):
    """An SGD step with one thing changed from the reference by a keyword (the defaults give the right answer)."""
    pick = {"tokens[:, :-1]": tokens[:, :-1], "tokens[:, 1:]": tokens[:, 1:]}
    loss, cache = rnn_lm_forward(params, pick[inputs], h0, targets=pick[targets])
    grads = rnn_lm_backward(cache)
    step = lr if use_lr else 1.0
    new = {k: params[k] if k in skip else params[k] + sign * step * grads[k] for k in PARAM_NAMES}
    if with_h0:
        new["h0"] = h0 - step * grads["h0"]
    if loss_after:
        loss, _ = rnn_lm_forward(new, pick[inputs], h0, targets=pick[targets])
    return new, loss


def _sgd_with(**wrong: Any) -> Callable[..., Any]:
    return lambda params, tokens, h0, lr: _sgd(params, tokens, h0, lr, **wrong)


SGD_MISTAKES = (
    Mistake("gradient ascent", "the gradient points uphill: step against it, params[name] - lr * grads[name].",
            _sgd_with(sign=+1.0)),
    Mistake("targets not shifted", "an off-by-one between inputs and targets: the model reads x(t) and must "
            "predict the NEXT token x(t+1), so x = tokens[:, :-1] and targets = tokens[:, 1:].",
            _sgd_with(targets="tokens[:, :-1]")),
    Mistake("inputs and targets swapped", "the model reads tokens[:, :-1] and predicts tokens[:, 1:] "
            "(the sequence shifted left by one), not the other way round.",
            _sgd_with(inputs="tokens[:, 1:]", targets="tokens[:, :-1]")),
    Mistake("loss after the update", "return the loss computed by the forward pass, BEFORE the update "
            "(it is the loss the gradients belong to).", _sgd_with(loss_after=True)),
    Mistake("learning rate left out", "scale the gradient by the learning rate: params[name] - lr * grads[name].",
            _sgd_with(use_lr=False)),
    Mistake("E not updated", "the embedding matrix E is a parameter too (grads['E'] is the gradient of its "
            "columns that were looked up): update all six, E, W_h, W_e, b1, U and b2.", _sgd_with(skip=("E",))),
    Mistake("h0 updated as a parameter", "h0 is the initial state of this batch, not a parameter: new_params "
            "has exactly the six keys E, W_h, W_e, b1, U, b2.", _sgd_with(with_h0=True)),
)

# The fixed batch on which the learner's step must make the loss go down.
CURVE_STEPS = 25
CURVE_LR = 0.5


def _curve_batch() -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(60)
    params = init_rnn_lm_params(10, 6, 8, rng, scale=0.3)
    return params, rng.integers(0, 10, size=(4, 9)), np.zeros((4, 8))


def _loss_curve(fn: Callable[..., Any], timeout: float) -> list[float] | None:
    """The reference loss on the fixed batch before and after each of CURVE_STEPS learner steps (None if a
    step fails or returns something that is not a parameter dict)."""
    params, tokens, h0 = _curve_batch()
    with pristine_numpy():
        losses = [rnn_lm_forward(params, tokens, h0)[0]]
    for _ in range(CURVE_STEPS):
        out = call(fn, (params, tokens, h0, CURVE_LR), timeout)
        if not out.ok or not isinstance(out.value, tuple | list) or len(out.value) != 2:
            return None
        new = out.value[0]
        if not isinstance(new, dict) or not set(PARAM_NAMES) <= set(new):
            return None
        try:
            params = {k: np.asarray(new[k], dtype=np.float64) for k in PARAM_NAMES}
            with pristine_numpy(), np.errstate(all="ignore"):
                losses.append(rnn_lm_forward(params, tokens, h0)[0])
        except (TypeError, ValueError, IndexError):
            return None
    return losses


def validate_sgd_step(ex: Exercise, fn: Callable[..., Any], timeout: float) -> Result:
    """The seeded cases, compared as for any exercise, then the loss on a fixed batch must go down."""
    result = run_check(dataclasses.replace(ex, validate=None), fn, timeout)
    if result.status not in (Status.PASS, Status.FAIL):
        return result
    curve = _loss_curve(fn, timeout)
    if result.status is Status.FAIL:
        if curve is not None and not curve[-1] < curve[0]:
            result.details.append(f"On a fixed batch, {CURVE_STEPS} of your steps (lr = {CURVE_LR}) take the "
                                  f"loss from {curve[0]:.4f} UP to {curve[-1]:.4f}; a descent step lowers it.")
        return result
    if curve is None or not curve[-1] < curve[0]:
        where = ("failed or returned no parameter dict" if curve is None
                 else f"took the loss from {curve[0]:.4f} to {curve[-1]:.4f}, not down")
        return Result(ex.id, Status.FAIL, f"the cases agree with the reference, but {CURVE_STEPS} of your "
                      f"steps on a fixed batch {where}.")
    return Result(ex.id, Status.PASS, f"{result.message} {CURVE_STEPS} steps on a fixed batch take the loss "
                  f"from {curve[0]:.4f} down to {curve[-1]:.4f}.")


SGD_STEP = Exercise(
    id="sgd_step",
    chapter=2,
    signature="sgd_step(params, tokens, h0, lr)",
    summary="One SGD step on the RNN-LM: tokens (B, T+1) -> (new_params, loss), a new dict "
            "params[name] - lr * grad for E, W_h, W_e, b1, U, b2, and the loss before the update.",
    reference=sgd_step,
    make_cases=_sgd_cases,
    mistakes=SGD_MISTAKES,
    arg_names=("params", "tokens", "h0", "lr"),
    output_names=("new_params", "loss"),
    kind="custom",
    fresh_output=True,
    error_hints=(("inputs and targets must both be", "split tokens (B, T+1) into x = tokens[:, :-1] and "
                  "targets = tokens[:, 1:], both (B, T)."),),
    validate=validate_sgd_step,
)

EXERCISES_02 = (RNN_STEP_JACOBIAN, RNN_STEP_BACKWARD, RNN_BACKWARD, TRUNCATED_BPTT_CHOICE, SGD_STEP)
