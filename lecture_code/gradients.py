"""Gradient tools: finite-difference checks of hand-written backward passes.

Chapter 4 adds the tools for vanishing and exploding gradients here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np


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
