"""Exercise set 5: the LSTM and the GRU, in NumPy, batch-first, with the lecture's names.

On top of the cases listed here come the concept cases of :mod:`.cases` (B = 1, n = 1, a stress case at
realistic sizes twice, and per concept: softmax edge rows, max(lengths) < T).

One LSTM step; torch's stacked LSTM weights split into the lecture's names; the number of parameters of
an LSTM layer (derived, checked on many sizes); one LSTM step's backward pass; a multiple-choice question
on the factor the cell's direct path puts on the gradient; one GRU step.

W_· is hidden-to-hidden (n, n), U_· input-to-hidden (n, d), b_· a bias (n,), and a
column-vector product W h is ``h @ W.T`` on batch-first rows. The cases use distinct sizes (n != d, so a
transposed U_· fails on its shape), a square U_· (d = n, where a transpose is caught by its values
only), B = 1 and a zero state. In the backward cases dh is never zero and dc is zero in one case and
not in the others, so a missing path for either gradient shows. Each known mistake is written as the
wrong code a learner would write; every pair of them gives different results on some case, so a hint
always names one mistake.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..numpy_lstm import GRU_PARAM_NAMES, LSTM_GATES, LSTM_PARAM_NAMES, lstm_step_forward
from ..numpy_lstm import gru_step as gru_step_ref
from ..numpy_lstm import lstm_params_from_torch as lstm_params_from_torch_ref
from ..numpy_lstm import lstm_step as lstm_step_ref
from ..numpy_lstm import lstm_step_backward as lstm_step_backward_ref
from .cases import GRAD, PRE, scaled, size_cases
from .checker import Case, Exercise, Mistake, shape_hints
from .questions import choice_exercise, derived_exercise, int_cases

Params = dict[str, np.ndarray]

SHAPE_HINT = ("a matrix product has mismatched shapes. Rows are examples (batch-first): h_prev is (B, n), x_t is "
              "(B, d), every W_· is (n, n) and every U_· is (n, d), so a gate's pre-activation is "
              "h_prev @ W.T + x_t @ U.T + b.")
ERROR_HINTS = shape_hints(SHAPE_HINT, "two arrays of different shapes met element-wise: every gate, c̃, the states "
                          "and the cell are (B, n), and each bias (n,) is added to (B, n) rows as it is.")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _params(rng: np.random.Generator, names: tuple[str, ...], d: int, n: int) -> Params:
    """Seeded float64 weights: W_· (n, n), U_· (n, d), every bias (n,)."""
    shapes = {"W": (n, n), "U": (n, d), "b": (n,)}
    return {k: rng.normal(scale=0.6 if k[0] != "b" else 0.5, size=shapes[k[0]]) for k in names}


def lstm_step_inputs(rng: np.random.Generator, B: int, d: int, n: int, zero_state: bool = False, pre: float = 0.0
                     ) -> tuple[Any, ...]:
    """Seeded inputs of one LSTM step, ``(x_t, h_prev, c_prev, params)``; with ``pre``, x_t is scaled so that the
    pre-activations are of that size."""
    x_t = scaled(rng, (B, d), pre, d, 0.6)
    h_prev = np.zeros((B, n)) if zero_state else np.tanh(rng.normal(size=(B, n)))
    c_prev = np.zeros((B, n)) if zero_state else rng.normal(size=(B, n))
    return x_t, h_prev, c_prev, _params(rng, LSTM_PARAM_NAMES, d, n)


SIZES = (  # (name, B, d, n, seed, zero_state), shared by the three step exercises
    ("B=3, d=4, n=5", 3, 4, 5, 1, False),
    ("B=1 (one sequence), d=2, n=3", 1, 2, 3, 2, False),
    ("zero state h_prev = c_prev = 0, B=2, d=3, n=6", 2, 3, 6, 3, True),
    ("d = n = 4 (every U_· is square)", 3, 4, 4, 4, False),
)

# ---------------------------------------------------------------------------------------------
# lstm_step


STRESS = dict(B=8, d=50, n=32)
LARGE = "pre-activations in the hundreds"


def _lstm_cases() -> list[Case]:
    return [*(Case(name, lstm_step_inputs(np.random.default_rng(500 + s), B, d, n, z))
              for name, B, d, n, s, z in SIZES),
            *size_cases(lstm_step_inputs, dict(B=3, d=4, n=5), STRESS, seed=505, large=dict(pre=PRE), note=LARGE)]


def _lstm(x, h, c, p, *, gate=_sigmoid, cand=np.tanh, memory="c_prev", out_tanh=True, swap_fi=False,
          W_T=True, U_T=True, bias=True, order="h, c"):
    """An LSTM step with one thing changed from the reference by a keyword (the defaults give the right answer)."""
    def pre(g: str) -> np.ndarray:
        return (h @ (p[f"W_{g}"].T if W_T else p[f"W_{g}"]) + x @ (p[f"U_{g}"].T if U_T else p[f"U_{g}"])
                + (p[f"b_{g}"] if bias else 0.0))

    f, i, o, c_tilde = gate(pre("f")), gate(pre("i")), gate(pre("o")), cand(pre("c"))
    if swap_fi:
        f, i = i, f
    c_new = f * (c if memory == "c_prev" else h) + i * c_tilde
    h_new = o * (np.tanh(c_new) if out_tanh else c_new)
    return (h_new, c_new) if order == "h, c" else (c_new, h_new)


def _lstm_with(**wrong) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    return lambda x, h, c, p: _lstm(x, h, c, p, **wrong)


LSTM_STEP = Exercise(
    id="lstm_step",
    chapter=5,
    signature="lstm_step(x_t, h_prev, c_prev, params)",
    summary="One LSTM step: gates f, i, o = σ(W h(t-1) + U x(t) + b), candidate c̃ = tanh(...), "
            "c(t) = f ⊙ c(t-1) + i ⊙ c̃, h(t) = o ⊙ tanh(c(t)); (B, d), (B, n), (B, n) -> (h, c).",
    reference=lstm_step_ref,
    make_cases=_lstm_cases,
    arg_names=("x_t", "h_prev", "c_prev", "params"),
    output_names=("h", "c"),
    error_hints=ERROR_HINTS,
    mistakes=(
        Mistake("tanh on the gates", "the gates f, i and o use the sigmoid σ, so each entry lies in (0, 1): "
                "0 closes the gate and 1 opens it. tanh belongs to the candidate c̃ and to tanh(c(t)).",
                _lstm_with(gate=np.tanh)),
        Mistake("sigmoid on the candidate", "the new cell content c̃ = tanh(W_c h(t-1) + U_c x(t) + b_c) "
                "uses tanh, so it can be negative; σ is for the three gates.", _lstm_with(cand=_sigmoid)),
        Mistake("c updated from h", "the forget gate keeps part of the previous CELL: c(t) = f ⊙ c(t-1) + "
                "i ⊙ c̃, with c_prev, not h_prev.", _lstm_with(memory="h_prev")),
        Mistake("h = o ⊙ c without the tanh", "the output squashes the cell first: h(t) = o ⊙ tanh(c(t)).",
                _lstm_with(out_tanh=False)),
        Mistake("f and i swapped", "the forget gate f multiplies the old cell c(t-1) and the input gate i "
                "multiplies the candidate c̃: c(t) = f ⊙ c(t-1) + i ⊙ c̃.", _lstm_with(swap_fi=True)),
        Mistake("W_· not transposed", "with batch-first rows, W_f h(t-1) becomes h_prev @ W_f.T, not "
                "h_prev @ W_f (the same for W_i, W_o, W_c).", _lstm_with(W_T=False)),
        Mistake("U_· not transposed", "U_f is (n, d) and x_t is (B, d): U_f x(t) becomes x_t @ U_f.T, "
                "shape (B, n).", _lstm_with(U_T=False)),
        Mistake("missing bias", "each gate and the candidate has its own bias inside the nonlinearity: "
                "σ(W_f h(t-1) + U_f x(t) + b_f).", _lstm_with(bias=False)),
        Mistake("returned (c, h)", "return the hidden state first and the cell second: (h, c).",
                _lstm_with(order="c, h")),
    ),
)

# ---------------------------------------------------------------------------------------------
# lstm_params_from_torch


def _torch_case(name: str, d: int, n: int, seed: int) -> Case:
    return Case(name, _torch_inputs(np.random.default_rng(seed), d, n))


def _torch_inputs(rng: np.random.Generator, d: int, n: int) -> tuple[np.ndarray, ...]:
    return rng.normal(size=(4 * n, d)), rng.normal(size=(4 * n, n)), rng.normal(size=4 * n), rng.normal(size=4 * n)


def _torch_cases() -> list[Case]:
    return [
        _torch_case("d=3, n=5: weight_ih (20, 3), weight_hh (20, 5)", 3, 5, seed=511),
        _torch_case("d=8, n=4: weight_ih (16, 8), weight_hh (16, 4)", 8, 4, seed=512),
        _torch_case("d = n = 4 (square U_·)", 4, 4, seed=513),
        _torch_case("n=1 (one hidden unit), d=2", 2, 1, seed=514),
        *size_cases(_torch_inputs, dict(d=3, n=5), dict(d=50, n=32), seed=515, ones=("d",)),
    ]


def _from_torch(w_ih, w_hh, b_ih, b_hh, *, order="ifgo", axis=0, bias="both", transpose=False, swap_ih_hh=False):
    """torch's (i, f, g, o) blocks read with one thing changed by a keyword (the defaults give the right answer)."""
    if swap_ih_hh:
        w_ih, w_hh = w_hh, w_ih
    b = {"both": b_ih + b_hh, "ih": b_ih, "hh": b_hh}[bias]
    names = ["c" if g == "g" else g for g in order]
    U, W, bs = np.split(w_ih, 4, axis=axis), np.split(w_hh, 4, axis=axis), np.split(b, 4)
    params = {}
    for g, Ug, Wg, bg in zip(names, U, W, bs, strict=True):
        params[f"W_{g}"], params[f"U_{g}"], params[f"b_{g}"] = (Wg.T, Ug.T, bg) if transpose else (Wg, Ug, bg)
    return params


def _from_torch_with(**wrong) -> Callable[..., Params]:
    return lambda w_ih, w_hh, b_ih, b_hh: _from_torch(w_ih, w_hh, b_ih, b_hh, **wrong)


LSTM_PARAMS_FROM_TORCH = Exercise(
    id="lstm_params_from_torch",
    chapter=5,
    signature="lstm_params_from_torch(weight_ih, weight_hh, bias_ih, bias_hh)",
    summary="torch.nn.LSTM's stacked weights, gate blocks in the order (i, f, g, o) with g = c̃, split into the "
            "lecture's dict W_f U_f b_f ... W_c U_c b_c: weight_ih (4n, d), weight_hh (4n, n), biases (4n,).",
    reference=lstm_params_from_torch_ref,
    make_cases=_torch_cases,
    arg_names=("weight_ih", "weight_hh", "bias_ih", "bias_hh"),
    error_hints=(("equal division", "the four gate blocks are stacked along the ROWS: np.split(weight_hh, 4, "
                  "axis=0) gives four (n, n) blocks, and np.split(weight_ih, 4, axis=0) four (n, d) blocks."),),
    mistakes=(
        Mistake("torch's gate order misread as (i, f, o, g)", "torch stacks the blocks as (i, f, g, o): the "
                "candidate g = c̃ is the THIRD block and the output gate o the fourth.", _from_torch_with(order="ifog")),
        Mistake("torch's gate order misread as (f, i, g, o)", "torch's first block is the input gate i and its "
                "second the forget gate f: the order is (i, f, g, o).", _from_torch_with(order="figo")),
        Mistake("the lecture's order (f, i, o, c̃)", "the lecture writes the gates as f, i, o, c̃, but torch "
                "stacks them as (i, f, g, o) with g = c̃; take the blocks in torch's order.",
                _from_torch_with(order="fiog")),
        Mistake("only bias_ih used", "torch adds TWO biases, bias_ih and bias_hh, to every gate: the lecture's "
                "single bias is b = bias_ih + bias_hh (you left out bias_hh).", _from_torch_with(bias="ih")),
        Mistake("only bias_hh used", "the lecture's single bias is the sum of torch's two: b = bias_ih + bias_hh "
                "(you left out bias_ih).", _from_torch_with(bias="hh")),
        Mistake("chunks taken along the wrong axis", "the gates are stacked along axis 0 (4n rows): split the "
                "ROWS, np.split(w, 4, axis=0), so that W_f is (n, n) and U_f is (n, d).",
                _from_torch_with(axis=1)),
        Mistake("blocks transposed", "torch stores each block as (out, in), the lecture's own layout: W_f is the "
                "(n, n) block itself and U_f the (n, d) block itself, no .T.", _from_torch_with(transpose=True)),
        Mistake("weight_ih and weight_hh swapped", "weight_ih multiplies the input x(t), so its blocks are the "
                "U_· (n, d); weight_hh multiplies h(t-1), so its blocks are the W_· (n, n).",
                _from_torch_with(swap_ih_hh=True)),
    ),
)

# ---------------------------------------------------------------------------------------------
# lstm_num_params


def lstm_num_params(d: int, n: int) -> int:
    """Four blocks (f, i, o and the candidate c~), each W_. (n x n), U_. (n x d) and b_. (n)."""
    return 4 * (n * n + n * d + n)


LSTM_NUM_PARAMS = derived_exercise(
    exact=True,
    id="lstm_num_params",
    chapter=5,
    signature="lstm_num_params(d, n)",
    summary="Derive: the number of parameters of one LSTM layer in the lecture's equations (one bias per gate), "
            "as a function of the input size d and the hidden size n.",
    reference=lstm_num_params,
    make_cases=int_cases(("d", "n"), [
        ("", (3, 4)),
        ("d = n", (5, 5)),
        ("n = 1", (7, 1)),
        ("d = 1", (1, 3)),
        ("d > n", (9, 6)),
        ("stress: Zaremba et al.'s large model", (1500, 1500)),
        ("stress: a wide layer", (1024, 2048)),
    ]),
    arg_names=("d", "n"),
    mistakes=(
        Mistake("candidate's block forgotten", "the candidate c~ has its own weights W_c, U_c and b_c, like the three "
                "gates: four blocks in all.", lambda d, n: 3 * (n * n + n * d + n)),
        Mistake("biases forgotten", "each of the four blocks has a bias b_. of n numbers.",
                lambda d, n: 4 * (n * n + n * d)),
        Mistake("torch's two biases", "the lecture has one bias per block; torch.nn.LSTM keeps two, bias_ih and "
                "bias_hh, whose sum is the lecture's b_. (exercise 2), so torch's count is 4n larger. Count the "
                "lecture's parameters.", lambda d, n: 4 * (n * n + n * d + 2 * n)),
        Mistake("one block only", "n*n + n*d + n is a simple RNN's recurrent layer; the LSTM has that for each "
                "of f, i, o and c~.", lambda d, n: n * n + n * d + n),
        Mistake("d and n swapped", "d is the input size and n the hidden size: every W_. is n x n (it reads "
                "h(t-1)) and every U_. is n x d (it reads x(t)).", lambda d, n: 4 * (d * d + d * n + d)),
        Mistake("stacked weights read 4n", "torch stacks the four W_. into one (4n, n) matrix, but each W_. still "
                "reads h(t-1), which has n entries, not 4n: 4n * n, not (4n) * (4n).",
                lambda d, n: (4 * n) ** 2 + 4 * n * d + 4 * n),
    ),
)

# ---------------------------------------------------------------------------------------------
# lstm_step_backward


def _backward_inputs(rng: np.random.Generator, B: int, d: int, n: int, zero_state: bool = False,
                     dc_zero: bool = False, grad: float = 1.0) -> tuple[Any, ...]:
    _, _, cache = lstm_step_forward(*lstm_step_inputs(rng, B, d, n, zero_state))
    dh = grad * rng.normal(size=(B, n))
    dc = np.zeros((B, n)) if dc_zero else grad * rng.normal(size=(B, n))
    return dh, dc, cache


def _backward_cases() -> list[Case]:
    cases = [Case(f"{name}, {'dc = 0' if s == 2 else 'dc != 0'}",
                  _backward_inputs(np.random.default_rng(520 + s), B, d, n, z, dc_zero=s == 2))
             for name, B, d, n, s, z in SIZES]
    return [*cases, *size_cases(_backward_inputs, dict(B=3, d=4, n=5), STRESS, seed=525, large=dict(grad=GRAD),
                                note="gradients of norm in the thousands")]


def _lstm_backward(dh, dc, cache, *, tanh_grad=True, dh_into_c=True, through_f=True, sigmoid_grad=True,
                   cand_grad=True, sum_bias=True, dW="da.T @ h", dh_prev_W="W"):
    """The backward pass of one LSTM step with one thing changed by a keyword (the defaults are right)."""
    p, x, h_prev, c_prev = cache["params"], cache["x_t"], cache["h_prev"], cache["c_prev"]
    f, i, o, c_tilde, c = cache["f"], cache["i"], cache["o"], cache["c_tilde"], cache["c"]
    tanh_c = np.tanh(c)
    do = dh * tanh_c
    if dh_into_c:
        dc = dc + dh * o * ((1 - tanh_c**2) if tanh_grad else 1.0)
    gates = {"f": (dc * c_prev, f), "i": (dc * c_tilde, i), "o": (do, o)}
    da = {g: dy * (y * (1 - y) if sigmoid_grad else y) for g, (dy, y) in gates.items()}
    da["c"] = dc * i * ((1 - c_tilde**2) if cand_grad else 1.0)
    dx_t = sum(da[g] @ p[f"U_{g}"] for g in LSTM_GATES)
    dh_prev = sum(da[g] @ (p[f"W_{g}"] if dh_prev_W == "W" else p[f"W_{g}"].T) for g in LSTM_GATES)
    grads = {}
    for g in LSTM_GATES:
        grads[f"W_{g}"] = da[g].T @ h_prev if dW == "da.T @ h" else h_prev.T @ da[g]
        grads[f"U_{g}"] = da[g].T @ x if dW == "da.T @ h" else x.T @ da[g]
        grads[f"b_{g}"] = da[g].sum(axis=0) if sum_bias else da[g]
    return dx_t, dh_prev, dc * f if through_f else dc, grads


def _backward_with(**wrong) -> Callable[..., tuple[Any, ...]]:
    return lambda dh, dc, cache: _lstm_backward(dh, dc, cache, **wrong)


LSTM_STEP_BACKWARD = Exercise(
    id="lstm_step_backward",
    chapter=5,
    signature="lstm_step_backward(dh, dc, cache)",
    summary="Gradients of one LSTM step from dJ/dh(t) and dJ/dc(t) (both (B, n)) and the forward cache: "
            "(dx_t (B, d), dh_prev (B, n), dc_prev (B, n), grads keyed like params).",
    reference=lstm_step_backward_ref,
    make_cases=_backward_cases,
    arg_names=("dh", "dc", "cache"),
    output_names=("dx_t", "dh_prev", "dc_prev", "grads"),
    error_hints=shape_hints("on batch-first rows a gate's pre-activation gradient da is (B, n): dx_t gets da @ U "
                            "(U is (n, d)), dh_prev gets da @ W, dW = da.T @ h_prev, dU = da.T @ x_t.",
                            "every gradient has the shape of what it belongs to: (B, n) for gates and states, "
                            "(n, n) for W_·, (n, d) for U_·, (n,) for b_·."),
    mistakes=(
        Mistake("tanh(c) derivative missed", "h(t) = o ⊙ tanh(c(t)), so dh reaches c(t) as dh ⊙ o ⊙ (1 - "
                "tanh(c(t))**2); you left out the tanh derivative.", _backward_with(tanh_grad=False)),
        Mistake("dc not carried through f", "c(t) = f ⊙ c(t-1) + ..., so the gradient reaching c(t-1) is "
                "dc_total ⊙ f: the forget gate scales what flows back along the cell.",
                _backward_with(through_f=False)),
        Mistake("dh's path into c missing", "c(t) gets gradient from two places: dc from the next step AND dh "
                "through h(t) = o ⊙ tanh(c(t)). Use dc_total = dc + dh ⊙ o ⊙ (1 - tanh(c)**2).",
                _backward_with(dh_into_c=False)),
        Mistake("sigmoid derivative wrong", "the derivative of y = σ(a) is σ(a)(1 - σ(a)) = y ⊙ (1 - y), "
                "not y itself: multiply each gate's gradient by f(1-f), i(1-i), o(1-o).",
                _backward_with(sigmoid_grad=False)),
        Mistake("tanh derivative of c̃ missed", "c̃ = tanh(a_c), so its pre-activation gradient is "
                "dc_total ⊙ i ⊙ (1 - c̃**2).", _backward_with(cand_grad=False)),
        Mistake("bias gradients not summed over the batch", "every example in the batch uses the same biases, "
                "so db = da.sum(axis=0), shape (n,).", _backward_with(sum_bias=False)),
        Mistake("weight gradients transposed", "dW has the shape of W: dW_f[j, k] = sum over the batch of "
                "da_f[:, j] * h_prev[:, k], i.e. da_f.T @ h_prev, not h_prev.T @ da_f (the same for U: "
                "da.T @ x_t).", _backward_with(dW="h.T @ da")),
        Mistake("W_· transposed in dh_prev", "the forward product is h_prev @ W.T on rows, so its gradient "
                "with respect to h_prev is da @ W, not da @ W.T.", _backward_with(dh_prev_W="W.T")),
    ),
)

# ---------------------------------------------------------------------------------------------
# lstm_cell_path_choice

LSTM_CELL_PATH_CHOICE = choice_exercise(
    id="lstm_cell_path_choice",
    chapter=5,
    summary="the factor by which the gradient is multiplied at each step along the cell's direct path "
            "c(t-1) -> c(t).",
    answer="A",
    why="c(t) = f(t) * c(t-1) + i(t) * c~(t), so along the direct path dc(t)/dc(t-1) = diag(f(t)): no weight "
        "matrix and no squashing derivative. Where the forget gates stay near 1 the gradient passes back over many "
        "steps almost unchanged. (The other paths, through the gates and h(t-1), go through the weights as in a "
        "vanilla RNN.)",
    wrong=[
        ("B", "the vanilla RNN's factor", "a squashing derivative times a weight matrix is the shape of the simple "
         "RNN's step Jacobian, diag(1 - h(t)**2) W_h. The cell is updated by ADDITION, c(t) = f * c(t-1) + i * "
         "c~(t), and c(t-1) is not inside the tanh of c~(t): on the direct path there is no weight matrix and no "
         "tanh."),
        ("C", "the input gate", "the input gate scales the NEW content c~(t); c(t-1) enters c(t) only through "
         "f(t) * c(t-1)."),
        ("D", "the path to the output", "o(t) * tanh'(c(t)) is the factor from c(t) to h(t) = o * tanh c(t): the "
         "path from the cell to the hidden state, not from one cell to the next."),
    ],
)

# ---------------------------------------------------------------------------------------------
# gru_step


def _gru_inputs(rng: np.random.Generator, B: int, d: int, n: int, zero_state: bool = False, pre: float = 0.0
                ) -> tuple[Any, ...]:
    x_t = scaled(rng, (B, d), pre, d, 0.6)
    h_prev = np.zeros((B, n)) if zero_state else np.tanh(rng.normal(size=(B, n)))
    return x_t, h_prev, _params(rng, GRU_PARAM_NAMES, d, n)


def _gru_cases() -> list[Case]:
    cases = [Case(name.replace(" = c_prev", ""), _gru_inputs(np.random.default_rng(530 + s), B, d, n, z))
             for name, B, d, n, s, z in SIZES]
    return [*cases, *size_cases(_gru_inputs, dict(B=3, d=4, n=5), STRESS, seed=535, large=dict(pre=PRE), note=LARGE)]


def _gru(x, h, p, *, u_act=_sigmoid, keep="1-u", reset="after W_c", b_rc=True, T=True):
    """A GRU step with one thing changed from the reference by a keyword (the defaults give the right answer)."""
    def mm(a: np.ndarray, M: np.ndarray) -> np.ndarray:
        return a @ (M.T if T else M)

    u = u_act(mm(h, p["W_u"]) + mm(x, p["U_u"]) + p["b_u"])
    r = _sigmoid(mm(h, p["W_r"]) + mm(x, p["U_r"]) + p["b_r"])
    bh = p["b_rc"] if b_rc else 0.0
    inner = {"after W_c": mm(x, p["U_c"]) + p["b_c"] + r * (mm(h, p["W_c"]) + bh),
             "before W_c": mm(x, p["U_c"]) + p["b_c"] + mm(r * h, p["W_c"]) + bh,
             "input side": r * (mm(x, p["U_c"]) + p["b_c"]) + mm(h, p["W_c"]) + bh,
             "none": mm(x, p["U_c"]) + p["b_c"] + mm(h, p["W_c"]) + bh}[reset]
    h_tilde = np.tanh(inner)
    return (1 - u) * h + u * h_tilde if keep == "1-u" else u * h + (1 - u) * h_tilde


def _gru_with(**wrong) -> Callable[..., np.ndarray]:
    return lambda x, h, p: _gru(x, h, p, **wrong)


GRU_STEP = Exercise(
    id="gru_step",
    chapter=5,
    signature="gru_step(x_t, h_prev, params)",
    summary="One GRU step: u = σ(W_u h + U_u x + b_u), r = σ(W_r h + U_r x + b_r), h̃ = tanh(U_c x + b_c + "
            "r ⊙ (W_c h + b_rc)), h(t) = (1 - u) ⊙ h(t-1) + u ⊙ h̃; (B, d), (B, n) -> (B, n).",
    reference=gru_step_ref,
    make_cases=_gru_cases,
    arg_names=("x_t", "h_prev", "params"),
    error_hints=ERROR_HINTS,
    mistakes=(
        Mistake("u and (1 - u) swapped", "here the update gate u weighs the NEW content: h(t) = (1 - u) ⊙ h(t-1) "
                "+ u ⊙ h̃ (torch.nn.GRU's z is 1 - u and keeps the old state).", _gru_with(keep="u")),
        Mistake("reset gate on the input side", "the reset gate r selects which parts of the PREVIOUS state "
                "feed the candidate: r ⊙ (W_c h(t-1) + b_rc), not r ⊙ (U_c x(t) + b_c).",
                _gru_with(reset="input side")),
        Mistake("reset applied before the matmul", "you wrote W_c (r ⊙ h(t-1)) + b_rc (the original Cho et al. "
                "form); this exercise, like torch.nn.GRU, resets after the product: r ⊙ (W_c h(t-1) + b_rc).",
                _gru_with(reset="before W_c")),
        Mistake("reset gate missing", "the candidate uses the reset gate: h̃ = tanh(U_c x + b_c + "
                "r ⊙ (W_c h(t-1) + b_rc)).", _gru_with(reset="none")),
        Mistake("tanh on the update gate", "u is a gate, so it uses the sigmoid σ and lies in (0, 1); "
                "h(t) is then a convex mix of h(t-1) and h̃.", _gru_with(u_act=np.tanh)),
        Mistake("b_rc dropped", "the candidate has two biases: b_c on the input side and b_rc inside the reset, "
                "r ⊙ (W_c h(t-1) + b_rc).", _gru_with(b_rc=False)),
        Mistake("weights not transposed", "with batch-first rows, W h(t-1) becomes h_prev @ W.T and U x(t) "
                "becomes x_t @ U.T.", _gru_with(T=False)),
    ),
)

EXERCISES_05 = (LSTM_STEP, LSTM_PARAMS_FROM_TORCH, LSTM_NUM_PARAMS, LSTM_STEP_BACKWARD, LSTM_CELL_PATH_CHOICE, GRU_STEP)
