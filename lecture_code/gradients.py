"""Gradient tools: finite-difference checks of hand-written backward passes.

Chapter 4 adds the tools for vanishing and exploding gradients here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch is imported inside the functions that need it, so the NumPy tools stay light
    import torch

    from .models import RNNLM


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6,
                       index: np.ndarray | None = None) -> np.ndarray:
    """Central differences (f(x + eps) - f(x - eps)) / (2 eps) for entries of ``x``.

    ``f`` takes no arguments and reads ``x``, which is changed in place one entry at a time and
    restored. ``index`` (flat indices) limits the entries; the others are left as NaN.
    """
    grad = np.full(x.shape, np.nan)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat, x):
        raise ValueError("x must be contiguous, so that its entries can be perturbed in place")
    for i in range(flat.size) if index is None else index:
        old = flat[i]
        try:
            flat[i] = old + eps
            plus = f()
            flat[i] = old - eps
            minus = f()
        finally:
            flat[i] = old  # restored even if f raises
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray, floor: float = 1e-12) -> float:
    """||a - b|| / max(||a|| + ||b||, floor), over the entries where neither is NaN.

    A norm-wise error: an entry-wise ratio would be dominated by entries whose true gradient is
    nearly zero, where finite differences only have absolute accuracy (about 1e-10 here).
    """
    ok = ~(np.isnan(a) | np.isnan(b))
    if not ok.any():
        return 0.0
    a, b = a[ok], b[ok]
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), floor))


def grad_check(
    f: Callable[[Mapping[str, np.ndarray]], float],
    params: Mapping[str, np.ndarray],
    grads: Mapping[str, np.ndarray],
    eps: float = 1e-6,
    max_entries: int | None = None,
    rng: np.random.Generator | None = None,
) -> dict[str, float]:
    """Compare hand-written gradients with central differences, one parameter at a time.

    Args:
        f: the loss as a function of the parameter dict, returning a float.
        params: name -> float64 array; entries are perturbed in place and restored.
        grads: name -> the gradient to check, same shapes; names missing here are skipped.
        eps: the finite-difference step.
        max_entries: check at most this many randomly chosen entries per parameter (None: all).
        rng: the generator that picks those entries.

    Returns:
        name -> the relative error (see :func:`relative_error`). In float64 a correct gradient
        gives errors around 1e-8 or below; a wrong one gives errors near 1.
    """
    rng = rng or np.random.default_rng(0)
    report = {}
    for name, x in params.items():
        if name not in grads:
            continue
        if grads[name].shape != x.shape:
            raise ValueError(f"gradient {name!r} has shape {grads[name].shape}, parameter has {x.shape}")
        index = None if max_entries is None or x.size <= max_entries else rng.choice(x.size, max_entries,
                                                                                       replace=False)
        num = numerical_gradient(lambda: f(params), x, eps, index)
        report[name] = relative_error(np.asarray(grads[name], dtype=np.float64), num)
    return report


# ---------------------------------------------------------------------------------------------
# Vanishing and exploding gradients (Chapter 4)


def global_norm(grads: Mapping[str, np.ndarray]) -> float:
    """The Euclidean norm of all gradients together, as if flattened into one vector."""
    return float(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads.values())))


def clip_grad_norm(grads: Mapping[str, np.ndarray], threshold: float) -> dict[str, np.ndarray]:
    """Gradient-norm clipping exactly as Pascanu et al. (2013), Algorithm 1.

    ``g <- (threshold / ||g||) g`` if ``||g|| >= threshold``, where ``||g||`` is the global norm of
    all the gradients together. The direction is kept; only the length changes. Returns a new
    dict of new arrays (the input is not changed). A zero gradient is returned as it is.
    """
    if not threshold > 0:
        raise ValueError(f"threshold must be positive, got {threshold}")
    norm = global_norm(grads)
    scale = threshold / norm if norm >= threshold else 1.0
    return {name: g * scale for name, g in grads.items()}


def clip_grad_value(grads: Mapping[str, np.ndarray], value: float) -> dict[str, np.ndarray]:
    """Element-wise clipping of every entry to [-value, value]; unlike norm clipping it changes the direction."""
    return {name: np.clip(g, -value, value) for name, g in grads.items()}


def rnn_jacobians(W_h: np.ndarray, hs: np.ndarray) -> np.ndarray:
    """The step Jacobians dh(t)/dh(t-1) = diag(1 - h(t)^2) W_h of a tanh RNN, for t = 1..T.

    Args:
        W_h: (n, n) recurrent weights.
        hs: (T + 1, n) hidden states h(0), ..., h(T) of one sequence (rows, as stored batch-first).

    Returns:
        (T, n, n); entry [t-1][i, j] is dh_i(t) / dh_j(t-1) (numerator layout, column-vector convention).
    """
    return (1.0 - hs[1:] ** 2)[:, :, None] * W_h[None]


def jacobian_product(W_h: np.ndarray, hs: np.ndarray) -> np.ndarray:
    """dh(T)/dh(0) of a tanh RNN: the product J_T J_(T-1) ... J_1 of the step Jacobians.

    Args:
        W_h: (n, n); hs: (T + 1, n) hidden states h(0..T) of one sequence.

    Returns:
        (n, n) with entry [i, j] = dh_i(T) / dh_j(0). The latest step's Jacobian is on the left.
    """
    M = np.eye(W_h.shape[0])
    for J in rnn_jacobians(W_h, hs):
        M = J @ M
    return M


def gradient_norms_over_distance(W_h: np.ndarray, g: np.ndarray, L: int) -> np.ndarray:
    """||g W_h^l|| for l = 0, ..., L: a gradient (row vector) sent back l steps through a linear RNN.

    With sigma the identity, dJ/dh(i-l) = dJ/dh(i) W_h^l (lecture 6, "vanishing gradient proof
    sketch"). Returns an (L + 1,) array.
    """
    norms = np.empty(L + 1)
    for l in range(L + 1):
        norms[l] = np.linalg.norm(g)
        g = g @ W_h
    return norms


# ---------------------------------------------------------------------------------------------
# Chapter 4, continued: clipping torch gradients, the eigen-decomposition of the linear case,
# measured gradient norms over distance, and the bound on the step Jacobians.


def clip_grad_norm_(parameters: Iterable[torch.nn.Parameter], threshold: float) -> float:
    """Algorithm 1 of Pascanu et al. (2013) on the ``.grad`` of torch parameters, in place.

    The global norm ||g|| is taken over all the gradients together; if ``||g|| >= threshold``
    every gradient is multiplied by ``threshold / ||g||``. Parameters whose ``.grad`` is None are
    skipped. Returns ||g|| before clipping.

    ``torch.nn.utils.clip_grad_norm_(parameters, max_norm)`` does nearly the same: it always
    multiplies by ``min(1, max_norm / (||g|| + 1e-6))``. So its clipped norm is short of max_norm
    by a relative 1e-6 / ||g||, and gradients whose norm is exactly ``threshold`` (or within 1e-6
    above it) are shrunk very slightly by torch, while here they are multiplied by exactly 1.
    """
    import torch

    if not threshold > 0:
        raise ValueError(f"threshold must be positive, got {threshold}")
    grads = [p.grad for p in parameters if p.grad is not None]
    norm = sum(float(g.detach().double().square().sum()) for g in grads) ** 0.5  # summed in float64
    if norm >= threshold:
        with torch.no_grad():
            for g in grads:
                g.mul_(threshold / norm)
    return norm


def left_eigenvectors(W: np.ndarray, max_cond: float = 1e10) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues and LEFT eigenvectors of W: q_i W = lambda_i q_i for row vectors q_i.

    They are the (right) eigenvectors of W.T, complex in general. Args: W (n, n).
    Returns (lambda (n,), Q (n, n)) with q_i = Q[:, i] (unit norm, as ``np.linalg.eig`` gives them).

    Raises ValueError if W is (numerically) not diagonalisable, e.g. a Jordan block [[1, 1], [0, 1]]:
    its eigenvectors do not span R^n (the condition number of Q exceeds ``max_cond``), so a gradient
    cannot be written as a sum of eigenvectors.
    """
    lam, Q = np.linalg.eig(np.asarray(W).T)
    if not np.linalg.cond(Q) < max_cond:
        raise ValueError("W is not diagonalisable (its eigenvectors are nearly linearly dependent), "
                         "so g W^l has no eigenvector expansion")
    return lam, Q


def eigen_terms(W: np.ndarray, g: np.ndarray, ells: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The lecture's decomposition g W^l = sum_i c_i lambda_i^l q_i for a gradient ROW vector g.

    g is expanded in the left eigenvectors q_i of W (see :func:`left_eigenvectors`): g = sum_i c_i q_i,
    and then q_i W^l = lambda_i^l q_i. Terms with |lambda_i| < 1 shrink geometrically with l, terms with
    |lambda_i| > 1 grow.

    Args:
        W: (n, n) recurrent weights of a linear RNN. g: (n,) gradient dJ/dh(t). ells: distances l.

    Returns:
        lambda (n,) complex eigenvalues; c (n,) complex coefficients; magnitudes (len(ells), n) with
        entry [k, i] = |c_i lambda_i^l_k| ||q_i||, the length of term i after l_k steps.
        :func:`eigen_reconstruct` adds the terms up again.
    """
    lam, Q = left_eigenvectors(W)
    c = np.linalg.solve(Q, np.asarray(g, dtype=np.complex128))
    powers = lam[None, :] ** np.asarray(ells)[:, None]  # (len(ells), n); 0 ** 0 = 1
    return lam, c, np.abs(c * powers) * np.linalg.norm(Q, axis=0)


def eigen_reconstruct(W: np.ndarray, g: np.ndarray, ell: int) -> np.ndarray:
    """sum_i c_i lambda_i^l q_i, the eigen-expansion of g W^l, as a complex (n,) vector.

    Its real part equals ``g @ np.linalg.matrix_power(W, ell)`` and its imaginary part is ~0
    (complex eigenvalues of a real W come in conjugate pairs whose terms are conjugates).
    """
    lam, Q = left_eigenvectors(W)
    c = np.linalg.solve(Q, np.asarray(g, dtype=np.complex128))
    return Q @ (c * lam**ell)


def _recurrence_weights(model: RNNLM) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(W_h (n, n), W_e (n, d), b_1 (n,)) of a one-layer simple RNN, as tensors in the graph."""
    r = model.rnn
    if model.cell == "scratch":
        return r.W_h, r.W_e, r.b1
    if model.cell == "rnn" and model.num_layers == 1 and r.nonlinearity == "tanh":
        return r.weight_hh_l0, r.weight_ih_l0, r.bias_ih_l0 + r.bias_hh_l0
    raise ValueError("hidden_state_gradient_norms needs a one-layer tanh RNN (cell 'rnn' or 'scratch')")


def hidden_state_gradient_norms(model: RNNLM, tokens: torch.Tensor) -> np.ndarray:
    """||dJ(T)/dh(T - l)|| for l = 0, ..., T - 1: how much the last loss reaches back in time.

    The model reads ``tokens[:, :-1]`` (T tokens, from h(0) = 0) and J(T) is the cross-entropy of
    its prediction of the last token, ``tokens[:, -1]``, only. The recurrence
    h(t) = tanh(W_h h(t-1) + W_e e(t) + b_1) is run step by step with the model's own weights, and
    autograd gives the gradient with respect to each h(t).

    Args:
        model: a one-layer ``"rnn"`` or ``"scratch"`` :class:`RNNLM`; its ``.grad`` are not touched.
        tokens: (B, T + 1) token ids.

    Returns:
        (T,) float64; entry l is the batch mean of the per-example norms ||dJ_b(T)/dh_b(T - l)||,
        where J_b(T) is example b's own loss (not divided by B). Entry 0 is h(T), entry T - 1 is h(1).
    """
    import torch
    import torch.nn.functional as F

    x, y = tokens[:, :-1], tokens[:, -1]
    B, T = x.shape
    with torch.enable_grad():
        W_h, W_e, b1 = _recurrence_weights(model)
        e = model.embedding(x)  # (B, T, d)
        h, hs = e.new_zeros(B, model.n), []
        for t in range(T):
            h = torch.tanh(h @ W_h.T + e[:, t] @ W_e.T + b1)
            hs.append(h)
        loss = F.cross_entropy(model.head(h), y, reduction="sum")  # sum: grads are per-example
        grads = torch.autograd.grad(loss, hs)
    norms = torch.stack([gr.detach().double().norm(dim=1).mean() for gr in grads])  # (T,) for t = 1..T
    return norms.flip(0).numpy()  # reorder by distance l = T - t


def step_jacobian_norms(W_h: np.ndarray, hs: np.ndarray, activation: str = "tanh") -> np.ndarray:
    """Spectral norms ||diag(sigma'(a(t))) W_h||_2 of the step Jacobians dh(t)/dh(t-1), t = 1..T.

    sigma' is read off the states: 1 - h^2 for tanh, h (1 - h) for the logistic sigmoid.

    Args:
        W_h: (n, n). hs: (T + 1, n) hidden states h(0..T) of one sequence (h(0) is not used).
        activation: ``"tanh"`` or ``"sigmoid"``.

    Returns:
        (T,) array; never above :func:`jacobian_bound` ``(W_h, activation)``.
    """
    h = np.asarray(hs)[1:]
    if activation == "tanh":
        d = 1.0 - h**2
    elif activation == "sigmoid":
        d = h * (1.0 - h)
    else:
        raise ValueError(f"activation must be 'tanh' or 'sigmoid', got {activation!r}")
    return np.linalg.norm(d[:, :, None] * W_h[None], ord=2, axis=(1, 2))


def jacobian_bound(W_h: np.ndarray, activation: str = "tanh") -> float:
    """gamma ||W_h||_2, an upper bound on every step Jacobian's norm (Pascanu et al., 2013).

    gamma bounds |sigma'|: 1 for tanh, 1/4 for the sigmoid. If gamma ||W_h||_2 < 1 the gradient
    sent back l steps shrinks at least like (gamma ||W_h||_2)^l: it must vanish.
    """
    gamma = {"tanh": 1.0, "sigmoid": 0.25}.get(activation)
    if gamma is None:
        raise ValueError(f"activation must be 'tanh' or 'sigmoid', got {activation!r}")
    return gamma * float(np.linalg.norm(W_h, ord=2))
