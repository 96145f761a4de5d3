"""The LSTM and the GRU from scratch in NumPy, written the way the slides write them.

Notation (lecture 6, "Long Short-Term Memory (LSTM)"): W_· is hidden-to-hidden (n, n), U_· is
input-to-hidden (n, d) and b_· is (n,); σ is the logistic sigmoid::

    f(t) = σ(W_f h(t-1) + U_f x(t) + b_f)        forget gate: what to keep of c(t-1)
    i(t) = σ(W_i h(t-1) + U_i x(t) + b_i)        input gate: what to write
    o(t) = σ(W_o h(t-1) + U_o x(t) + b_o)        output gate: what to read out
    c̃(t) = tanh(W_c h(t-1) + U_c x(t) + b_c)     new cell content
    c(t) = f(t) ⊙ c(t-1) + i(t) ⊙ c̃(t)
    h(t) = o(t) ⊙ tanh(c(t))

The GRU, in ``torch.nn.GRU``'s formulation with lecture-style names (u the update gate, r the reset gate)::

    u(t) = σ(W_u h(t-1) + U_u x(t) + b_u)
    r(t) = σ(W_r h(t-1) + U_r x(t) + b_r)
    h̃(t) = tanh(U_c x(t) + b_c + r(t) ⊙ (W_c h(t-1) + b_rc))
    h(t) = (1 - u(t)) ⊙ h(t-1) + u(t) ⊙ h̃(t)

Arrays are batch-first: x_t is (B, d), h and c are (B, n), so a product W h becomes ``h @ W.T``.

**PyTorch's layout** (the one place this package describes it). ``torch.nn.LSTM`` stacks the gates' rows in
the order (i, f, g, o), where its g is our c̃: ``weight_ih_l0`` (4n, d) = [U_i; U_f; U_c; U_o], ``weight_hh_l0``
(4n, n) = [W_i; W_f; W_c; W_o], and two biases (4n,) whose SUM is the lecture's b. ``torch.nn.GRU`` stacks
(r, z, n), where its n is our h̃ and z = 1 - u is a "keep the old state" gate: since σ(-a) = 1 - σ(a), z's
weights and its two biases are exactly the negation of u's. In the r and z blocks only the sum of
``bias_ih`` and ``bias_hh`` matters; in the n block ``bias_ih`` is b_c and ``bias_hh`` is b_rc (inside r ⊙ ·).
Only :func:`lstm_params_from_torch`, :func:`lstm_params_to_torch`, :func:`gru_params_from_torch` and
:func:`gru_params_to_torch` read or write this layout (through ``TORCH_LSTM_GATES`` and ``TORCH_GRU_GATES``).

The step functions are the readable reference the exercise checker compares with. The sequence functions
:func:`lstm_forward` and :func:`lstm_backward` compute the same numbers faster: one (B, 4n) matrix product per
step for the four gates together (rows stacked in ``LSTM_GATES`` order), one big product for the inputs of all
steps, and preallocated arrays updated in place. They keep the dtype they are given (float32 or float64).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # torch is imported inside the functions that need it, so this module stays light
    from torch import nn

Params = dict[str, np.ndarray]

LSTM_GATES = ("f", "i", "o", "c")  # the lecture's order; the fused code stacks the gates' rows this way
GRU_GATES = ("u", "r", "c")
LSTM_PARAM_NAMES = tuple(f"{m}_{g}" for g in LSTM_GATES for m in ("W", "U", "b"))
GRU_PARAM_NAMES = (*(f"{m}_{g}" for g in GRU_GATES for m in ("W", "U", "b")), "b_rc")
TORCH_LSTM_GATES = ("i", "f", "c", "o")  # torch.nn.LSTM's row blocks (i, f, g, o)
TORCH_GRU_GATES = ("r", "u", "c")  # torch.nn.GRU's row blocks (r, z, n), with z = 1 - u stored negated


def sigmoid(a: np.ndarray) -> np.ndarray:
    """σ(a) = 1 / (1 + exp(-a)), element-wise. For a < -709 exp overflows to inf and σ is exactly 0 (no warning)."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-a))


def _sigmoid_(a: np.ndarray) -> None:
    """:func:`sigmoid` in place, with the same operations (so the same bits). Call inside errstate(over='ignore')."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1.0
    np.reciprocal(a, out=a)


def _sizes(params: Params, names: tuple[str, ...], gates: tuple[str, ...]) -> tuple[int, int]:
    """(d, n) read off the parameters, with every shape checked; a clear ValueError otherwise."""
    missing = [k for k in names if k not in params]
    if missing:
        raise ValueError(f"params is missing {missing}; expected the keys {names}")
    U = np.shape(params[f"U_{gates[0]}"])
    if len(U) != 2:
        raise ValueError(f"U_{gates[0]} must be an (n, d) matrix, got shape {U}")
    n, d = U
    expected = {f"{m}_{g}": s for g in gates for m, s in (("W", (n, n)), ("U", (n, d)), ("b", (n,)))}
    expected |= {k: (n,) for k in names if k not in expected}  # the GRU's b_rc
    for k, shape in expected.items():
        if np.shape(params[k]) != shape:
            raise ValueError(f"{k} must have shape {shape} (n={n}, d={d}), got {np.shape(params[k])}")
    return d, n


def _check_inputs(x: np.ndarray, d: int, n: int, **states: np.ndarray) -> tuple[int, int]:
    """(B, T) of a batch x (B, T, d), with each state checked to be (B, n)."""
    if np.ndim(x) != 3 or np.shape(x)[2] != d:
        raise ValueError(f"x must be (B, T, d) with d={d}, got shape {np.shape(x)}")
    B, T, _ = np.shape(x)
    for name, s in states.items():
        if np.shape(s) != (B, n):
            raise ValueError(f"{name} must be (B, n) = {(B, n)}, got shape {np.shape(s)}")
    return B, T


def _as_numpy(a: Any) -> np.ndarray:
    """A NumPy array from an array or a (CPU or GPU, maybe requires_grad) torch tensor."""
    return a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a)


# ---------------------------------------------------------------------------------------------
# LSTM: initialisation and one step


def init_lstm_params(d: int, n: int, rng: np.random.Generator, forget_bias: float = 0.0) -> Params:
    """Random float64 LSTM parameters with the lecture's names (keys W_f U_f b_f W_i ... W_c U_c b_c).

    Weights W_· (n, n) and U_· (n, d) are uniform in ±1/sqrt(n), as ``torch.nn.LSTM`` draws them. The biases
    (n,) start at 0, except b_f = ``forget_bias``: a positive value opens the forget gate, so the cell remembers
    by default (Gers et al. 2000; Jozefowicz et al. 2015 use 1).
    """
    bound = 1.0 / np.sqrt(n)
    params = {}
    for g in LSTM_GATES:
        params[f"W_{g}"] = rng.uniform(-bound, bound, size=(n, n))
        params[f"U_{g}"] = rng.uniform(-bound, bound, size=(n, d))
        params[f"b_{g}"] = np.full(n, forget_bias if g == "f" else 0.0)
    return params


def lstm_step(x_t: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """One LSTM step, the six equations: x_t (B, d), h_prev and c_prev (B, n) -> (h(t), c(t)), each (B, n)."""
    p = params
    _sizes(p, LSTM_PARAM_NAMES, LSTM_GATES)
    f = sigmoid(h_prev @ p["W_f"].T + x_t @ p["U_f"].T + p["b_f"])
    i = sigmoid(h_prev @ p["W_i"].T + x_t @ p["U_i"].T + p["b_i"])
    o = sigmoid(h_prev @ p["W_o"].T + x_t @ p["U_o"].T + p["b_o"])
    c_tilde = np.tanh(h_prev @ p["W_c"].T + x_t @ p["U_c"].T + p["b_c"])
    c = f * c_prev + i * c_tilde
    h = o * np.tanh(c)
    return h, c


def lstm_step_forward(
    x_t: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray, params: Params
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """:func:`lstm_step`, also returning the cache its backward pass needs.

    Returns:
        ``(h, c, cache)``: h(t) and c(t) (B, n), and a dict with exactly the keys ``x_t``, ``h_prev``,
        ``c_prev``, ``f``, ``i``, ``o``, ``c_tilde`` (the gate values, each (B, n)), ``c`` and ``params``.
    """
    p = params
    _sizes(p, LSTM_PARAM_NAMES, LSTM_GATES)
    f = sigmoid(h_prev @ p["W_f"].T + x_t @ p["U_f"].T + p["b_f"])
    i = sigmoid(h_prev @ p["W_i"].T + x_t @ p["U_i"].T + p["b_i"])
    o = sigmoid(h_prev @ p["W_o"].T + x_t @ p["U_o"].T + p["b_o"])
    c_tilde = np.tanh(h_prev @ p["W_c"].T + x_t @ p["U_c"].T + p["b_c"])
    c = f * c_prev + i * c_tilde
    h = o * np.tanh(c)
    cache = {"x_t": x_t, "h_prev": h_prev, "c_prev": c_prev, "f": f, "i": i, "o": o, "c_tilde": c_tilde,
             "c": c, "params": params}
    return h, c, cache


def lstm_step_backward(
    dh: np.ndarray, dc: np.ndarray, cache: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Params]:
    """Backward pass of one LSTM step.

    Args:
        dh: (B, n) ∂J/∂h(t), arriving from above (the output layer) and from step t+1, already added up.
        dc: (B, n) ∂J/∂c(t) arriving from step t+1 (zeros at the last step).
        cache: from :func:`lstm_step_forward`.

    Returns:
        ``(dx_t (B, d), dh_prev (B, n), dc_prev (B, n), grads)``, grads having the keys and shapes of params.
    """
    x_t, h_prev, c_prev, p = cache["x_t"], cache["h_prev"], cache["c_prev"], cache["params"]
    f, i, o, c_tilde = cache["f"], cache["i"], cache["o"], cache["c_tilde"]
    tanh_c = np.tanh(cache["c"])
    dc = dc + dh * o * (1.0 - tanh_c**2)  # h = o tanh(c): c's total gradient
    # gradients with respect to each gate's pre-activation a_·: σ'(a) = σ(1 - σ), tanh'(a) = 1 - tanh(a)^2
    da = {"f": dc * c_prev * f * (1.0 - f), "i": dc * c_tilde * i * (1.0 - i),
          "o": dh * tanh_c * o * (1.0 - o), "c": dc * i * (1.0 - c_tilde**2)}
    grads, dx_t, dh_prev = {}, 0.0, 0.0
    for g in LSTM_GATES:
        grads[f"W_{g}"], grads[f"U_{g}"], grads[f"b_{g}"] = da[g].T @ h_prev, da[g].T @ x_t, da[g].sum(axis=0)
        dx_t = dx_t + da[g] @ p[f"U_{g}"]
        dh_prev = dh_prev + da[g] @ p[f"W_{g}"]
    return dx_t, dh_prev, dc * f, grads


# ---------------------------------------------------------------------------------------------
# LSTM over a sequence: the four gates fused into one matrix product


def _stack(params: Params, gates: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """W (kn, n), U (kn, d), b (kn,): the gates' parameters stacked by rows in the order ``gates``."""
    return tuple(np.concatenate([params[f"{m}_{g}"] for g in gates]) for m in ("W", "U", "b"))  # type: ignore[return-value]


def _unstack(W: np.ndarray, U: np.ndarray, b: np.ndarray, gates: tuple[str, ...]) -> Params:
    """The inverse of :func:`_stack`: lecture-named blocks of n rows (copies)."""
    n, blocks = W.shape[1], {"W": W, "U": U, "b": b}
    return {f"{m}_{g}": a[k * n : (k + 1) * n].copy() for k, g in enumerate(gates) for m, a in blocks.items()}


def lstm_forward(
    x: np.ndarray, h0: np.ndarray, c0: np.ndarray, params: Params
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Run the LSTM over a batch of sequences.

    Args:
        x: (B, T, d) inputs x(1..T). h0, c0: (B, n) initial states. params: lecture-named.

    Returns:
        ``(H, C, caches)``: H (B, T, n) holds h(1..T), C (B, T, n) holds c(1..T), and ``caches`` is what
        :func:`lstm_backward` needs. The dtype is that of the inputs and params (float32 stays float32).
    """
    d, n = _sizes(params, LSTM_PARAM_NAMES, LSTM_GATES)
    B, T = _check_inputs(x, d, n, h0=h0, c0=c0)
    dtype = np.result_type(x, h0, c0, params["W_f"])
    W, U, b = (a.astype(dtype, copy=False) for a in _stack(params, LSTM_GATES))
    xs = np.ascontiguousarray(np.transpose(x, (1, 0, 2)), dtype=dtype)  # (T, B, d): time-major, step t contiguous
    A = (xs.reshape(T * B, d) @ U.T + b).reshape(T, B, 4 * n)  # U x(t) + b for all t in one product
    Hs, Cs = np.empty((T + 1, B, n), dtype), np.empty((T + 1, B, n), dtype)  # [0] is h(0), c(0)
    Hs[0], Cs[0] = h0, c0
    tanh_C = np.empty((T, B, n), dtype)
    W_T = np.ascontiguousarray(W.T)
    with np.errstate(over="ignore"):
        for t in range(T):
            a = A[t]  # (B, 4n) pre-activations, overwritten by the gate values [f, i, o, c̃]
            a += Hs[t] @ W_T
            _sigmoid_(a[:, : 3 * n])
            np.tanh(a[:, 3 * n :], out=a[:, 3 * n :])
            f, i, o, c_tilde = a[:, :n], a[:, n : 2 * n], a[:, 2 * n : 3 * n], a[:, 3 * n :]
            Cs[t + 1] = f * Cs[t] + i * c_tilde  # c(t) = f ⊙ c(t-1) + i ⊙ c̃
            np.tanh(Cs[t + 1], out=tanh_C[t])
            Hs[t + 1] = o * tanh_C[t]  # h(t) = o ⊙ tanh(c(t))
    caches = {"x": xs, "Hs": Hs, "Cs": Cs, "gates": A, "tanh_C": tanh_C, "W": W, "U": U}
    return Hs[1:].transpose(1, 0, 2).copy(), Cs[1:].transpose(1, 0, 2).copy(), caches


def lstm_backward(
    dH: np.ndarray, caches: dict[str, Any], dh_T: np.ndarray | None = None, dc_T: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Params]:
    """Backpropagation through time for :func:`lstm_forward`.

    Args:
        dH: (B, T, n) ∂J/∂h(t) through the layers above only (the recurrent paths are added here).
        caches: from :func:`lstm_forward`.
        dh_T, dc_T: (B, n) gradients arriving at the final h(T) and c(T) from later (e.g. the next
            window); None means zeros.

    Returns:
        ``(dx (B, T, d), dh0 (B, n), dc0 (B, n), grads)``; grads has the lecture's names, each summed over t.
    """
    xs, Hs, Cs, A, tanh_C, W, U = (caches[k] for k in ("x", "Hs", "Cs", "gates", "tanh_C", "W", "U"))
    T, B, n = tanh_C.shape
    d = xs.shape[2]
    if np.shape(dH) != (B, T, n):
        raise ValueError(f"dH must be (B, T, n) = {(B, T, n)}, got shape {np.shape(dH)}")
    dHs = np.transpose(dH, (1, 0, 2))  # (T, B, n)
    dh = np.zeros((B, n), A.dtype) if dh_T is None else np.array(dh_T, dtype=A.dtype)  # ∂J/∂h(t) from step t+1
    dc = np.zeros((B, n), A.dtype) if dc_T is None else np.array(dc_T, dtype=A.dtype)  # ∂J/∂c(t) from step t+1
    dA = np.empty_like(A)
    for t in reversed(range(T)):
        a, da = A[t], dA[t]
        f, i, o, c_tilde = a[:, :n], a[:, n : 2 * n], a[:, 2 * n : 3 * n], a[:, 3 * n :]
        da_f, da_i, da_o, da_c = da[:, :n], da[:, n : 2 * n], da[:, 2 * n : 3 * n], da[:, 3 * n :]
        dh += dHs[t]  # all of ∂J/∂h(t)
        dc += dh * o * (1.0 - tanh_C[t] ** 2)  # all of ∂J/∂c(t): from step t+1 and through h(t) = o tanh(c(t))
        da_o[...] = dh * tanh_C[t] * o * (1.0 - o)  # ∂J/∂a_· for each gate's pre-activation a_·
        da_f[...] = dc * Cs[t] * f * (1.0 - f)
        da_i[...] = dc * c_tilde * i * (1.0 - i)
        da_c[...] = dc * i * (1.0 - c_tilde**2)
        dc *= f  # ∂J/∂c(t-1) along the cell
        dh = da @ W  # ∂J/∂h(t-1) through all four gates, (B, 4n) @ (4n, n)
    dA2 = dA.reshape(T * B, 4 * n)  # the weight gradients: one big product each, summed over t and the batch
    grads = _unstack(dA2.T @ Hs[:-1].reshape(T * B, n), dA2.T @ xs.reshape(T * B, d), dA2.sum(axis=0), LSTM_GATES)
    dx = (dA2 @ U).reshape(T, B, d).transpose(1, 0, 2).copy()
    return dx, dh, dc, grads


# ---------------------------------------------------------------------------------------------
# GRU


def init_gru_params(d: int, n: int, rng: np.random.Generator) -> Params:
    """Random float64 GRU parameters (keys W_u U_u b_u W_r U_r b_r W_c U_c b_c b_rc): weights uniform in
    ±1/sqrt(n) as ``torch.nn.GRU`` draws them, biases 0."""
    bound = 1.0 / np.sqrt(n)
    params = {}
    for g in GRU_GATES:
        params[f"W_{g}"] = rng.uniform(-bound, bound, size=(n, n))
        params[f"U_{g}"] = rng.uniform(-bound, bound, size=(n, d))
        params[f"b_{g}"] = np.zeros(n)
    params["b_rc"] = np.zeros(n)
    return params


def gru_step(x_t: np.ndarray, h_prev: np.ndarray, params: Params) -> np.ndarray:
    """One GRU step: x_t (B, d), h_prev (B, n) -> h(t) (B, n)."""
    p = params
    _sizes(p, GRU_PARAM_NAMES, GRU_GATES)
    u = sigmoid(h_prev @ p["W_u"].T + x_t @ p["U_u"].T + p["b_u"])
    r = sigmoid(h_prev @ p["W_r"].T + x_t @ p["U_r"].T + p["b_r"])
    h_tilde = np.tanh(x_t @ p["U_c"].T + p["b_c"] + r * (h_prev @ p["W_c"].T + p["b_rc"]))
    return (1.0 - u) * h_prev + u * h_tilde


def gru_forward(x: np.ndarray, h0: np.ndarray, params: Params) -> np.ndarray:
    """Run the GRU over x (B, T, d) from h0 (B, n); returns H (B, T, n) holding h(1..T)."""
    d, n = _sizes(params, GRU_PARAM_NAMES, GRU_GATES)
    B, T = _check_inputs(x, d, n, h0=h0)
    H = np.empty((B, T, n), dtype=np.result_type(x, h0, params["W_u"]))
    h = h0
    for t in range(T):
        h = H[:, t] = gru_step(x[:, t], h, params)
    return H


# ---------------------------------------------------------------------------------------------
# Conversions to and from torch's layout (described in the module docstring)


def _torch_blocks(weight_ih: Any, weight_hh: Any, bias_ih: Any, bias_hh: Any, k: int) -> tuple[np.ndarray, ...]:
    """The four torch arrays as NumPy, with shapes checked: (k n, d), (k n, n), (k n,), (k n,)."""
    w_ih, w_hh, b_ih, b_hh = (_as_numpy(a) for a in (weight_ih, weight_hh, bias_ih, bias_hh))
    if w_hh.ndim != 2 or w_hh.shape[0] % k or w_hh.shape[0] != k * w_hh.shape[1]:
        raise ValueError(f"weight_hh must be ({k}n, n), got shape {w_hh.shape}")
    n = w_hh.shape[1]
    if w_ih.ndim != 2 or w_ih.shape[0] != k * n or b_ih.shape != (k * n,) or b_hh.shape != (k * n,):
        raise ValueError(f"expected weight_ih ({k}n, d) and biases ({k}n,) with n={n}; got {w_ih.shape}, "
                         f"{b_ih.shape}, {b_hh.shape}")
    return w_ih, w_hh, b_ih, b_hh


def lstm_params_from_torch(weight_ih: Any, weight_hh: Any, bias_ih: Any, bias_hh: Any) -> Params:
    """Lecture-named LSTM params from torch's stacked (i, f, g, o) arrays: weight_ih (4n, d), weight_hh (4n, n),
    bias_ih and bias_hh (4n,); b_· is the sum of the two biases. Arrays or tensors in, NumPy copies out."""
    w_ih, w_hh, b_ih, b_hh = _torch_blocks(weight_ih, weight_hh, bias_ih, bias_hh, 4)
    b, n = b_ih + b_hh, w_hh.shape[1]
    rows = {g: slice(k * n, (k + 1) * n) for k, g in enumerate(TORCH_LSTM_GATES)}
    return {f"{m}_{g}": a[rows[g]].copy() for g in LSTM_GATES for m, a in (("W", w_hh), ("U", w_ih), ("b", b))}


def lstm_params_to_torch(params: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(weight_ih (4n, d), weight_hh (4n, n), bias_ih (4n,), bias_hh (4n,)) in torch's (i, f, g, o) order.
    b goes into bias_ih and bias_hh is zeros."""
    _sizes(params, LSTM_PARAM_NAMES, LSTM_GATES)
    W, U, b = _stack(params, TORCH_LSTM_GATES)
    return U, W, b, np.zeros_like(b)


def gru_params_from_torch(weight_ih: Any, weight_hh: Any, bias_ih: Any, bias_hh: Any) -> Params:
    """Lecture-named GRU params from torch's stacked (r, z, n) arrays: weight_ih (3n, d), weight_hh (3n, n),
    bias_ih and bias_hh (3n,). u's weights and bias are z's negated; b_c = bias_ih's n block, b_rc = bias_hh's."""
    w_ih, w_hh, b_ih, b_hh = _torch_blocks(weight_ih, weight_hh, bias_ih, bias_hh, 3)
    n = w_hh.shape[1]
    rows = {g: slice(k * n, (k + 1) * n) for k, g in enumerate(TORCH_GRU_GATES)}
    b = np.concatenate([(b_ih + b_hh)[: 2 * n], b_ih[2 * n :]])  # r, z: the sum; n: bias_ih only
    params = {}
    for g in GRU_GATES:
        sign = -1.0 if g == "u" else 1.0
        params |= {f"W_{g}": sign * w_hh[rows[g]], f"U_{g}": sign * w_ih[rows[g]], f"b_{g}": sign * b[rows[g]]}
    params["b_rc"] = b_hh[rows["c"]].copy()
    return params


def gru_params_to_torch(params: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(weight_ih (3n, d), weight_hh (3n, n), bias_ih (3n,), bias_hh (3n,)) in torch's (r, z, n) order, z = -u.
    bias_hh is zero except its n block, which is b_rc."""
    _sizes(params, GRU_PARAM_NAMES, GRU_GATES)
    negated = {k: -v if k.endswith("_u") else v for k, v in params.items()}
    W, U, b = _stack(negated, TORCH_GRU_GATES)
    return U, W, b, np.concatenate([np.zeros_like(b[: -len(params["b_rc"])]), params["b_rc"]])


# ---------------------------------------------------------------------------------------------
# One layer (and direction) of a torch.nn.LSTM / nn.GRU, read and written with the lecture's names

_TORCH_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _layer_tensors(layer: nn.Module, suffix: str) -> list:
    """The layer's weight_ih, weight_hh, bias_ih, bias_hh with ``suffix`` (biases None if ``bias=False``)."""
    if getattr(layer, "mode", None) not in ("LSTM", "GRU") or getattr(layer, "proj_size", 0):
        raise ValueError(f"expected a torch.nn.LSTM (without proj_size) or nn.GRU, got {type(layer).__name__}")
    if not hasattr(layer, "weight_ih" + suffix):
        raise ValueError(f"the {layer.mode} has no weight_ih{suffix}; the suffix is like '_l0', '_l1' or "
                         f"'_l0_reverse' (num_layers={layer.num_layers}, bidirectional={layer.bidirectional})")
    return [getattr(layer, name + suffix, None) for name in _TORCH_NAMES]


def torch_layer_params(layer: nn.Module, suffix: str = "_l0") -> Params:
    """The lecture-named float64 NumPy params of one layer/direction of an ``nn.LSTM`` or ``nn.GRU``.

    ``suffix`` names it as torch does: ``"_l0"`` (the first layer), ``"_l1"``, ``"_l0_reverse"``...
    """
    w_ih, w_hh, b_ih, b_hh = (None if t is None else _as_numpy(t).astype(np.float64) for t in
                              _layer_tensors(layer, suffix))
    if b_ih is None:  # bias=False
        b_ih = b_hh = np.zeros(w_hh.shape[0])
    from_torch = lstm_params_from_torch if layer.mode == "LSTM" else gru_params_from_torch
    return from_torch(w_ih, w_hh, b_ih, b_hh)


def set_torch_layer_params(layer: nn.Module, params: Params, suffix: str = "_l0") -> nn.Module:
    """Copy lecture-named params into one layer/direction of an ``nn.LSTM`` or ``nn.GRU`` (see
    :func:`torch_layer_params` for ``suffix``). The layer keeps its dtype and device; returns it."""
    import torch

    tensors = _layer_tensors(layer, suffix)
    arrays = (lstm_params_to_torch if layer.mode == "LSTM" else gru_params_to_torch)(params)
    if tensors[2] is None and (np.any(arrays[2]) or np.any(arrays[3])):
        raise ValueError("this layer has bias=False, but the params have nonzero biases")
    pairs = [(t, a) for t, a in zip(tensors, arrays, strict=True) if t is not None]
    for t, a in pairs:  # check every shape before changing anything
        if tuple(t.shape) != a.shape:
            raise ValueError(f"shape mismatch: the layer has {tuple(t.shape)}, the params give {a.shape}")
    with torch.no_grad():
        for t, a in pairs:
            t.copy_(torch.as_tensor(a, dtype=t.dtype, device=t.device))
    return layer
