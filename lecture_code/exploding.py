"""Exploding gradients on the smallest possible RNN: Pascanu et al.'s (2013) error-surface cliff.

The model has one unit and no input: x(t) = w sigmoid(x(t-1)) + b, with x(0) = 0.5, run for
T = 50 steps, and the loss is (x(T) - 0.7)^2. For some (w, b) a tiny change of b flips the
long-run behaviour of x(t), so the loss surface has a near-vertical wall (a "cliff") where the
gradient is enormous. A gradient step taken at the foot of the wall is thrown far away; norm
clipping (Algorithm 1, :func:`lecture_code.gradients.clip_grad_norm`) keeps the step short.
"""

from __future__ import annotations

import numpy as np

T_STEPS, X0, TARGET = 50, 0.5, 0.7


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # stable for large |z|


def cliff_loss(w: np.ndarray | float, b: np.ndarray | float, T: int = T_STEPS) -> np.ndarray:
    """The loss (x(T) - 0.7)^2 for every (w, b) pair (arrays broadcast, e.g. a grid)."""
    w, b = np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)
    x = np.full(np.broadcast(w, b).shape, X0)
    for _ in range(T):
        x = w * _sigmoid(x) + b
    return (x - TARGET) ** 2


def cliff_loss_and_grad(w: float, b: float, T: int = T_STEPS, dtype: type = np.float64
                        ) -> tuple[float, np.ndarray]:
    """The loss and its gradient (dL/dw, dL/db), by backpropagation through the T steps, in ``dtype``."""
    w, b = dtype(w), dtype(b)
    xs = [dtype(X0)]
    for _ in range(T):
        xs.append(w * _sigmoid(xs[-1]) + b)
    loss = (xs[-1] - TARGET) ** 2
    delta, dw, db = 2 * (xs[-1] - dtype(TARGET)), dtype(0), dtype(0)  # delta = dL/dx(t)
    for t in range(T, 0, -1):
        s = _sigmoid(xs[t - 1])  # (in float32, an overflow here yields inf and then NaN)
        dw += delta * s
        db += delta
        delta *= w * s * (1 - s)  # dx(t)/dx(t-1) = w sigmoid'(x(t-1))
    return float(loss), np.array([dw, db], dtype=dtype)


def sgd_path(w0: float, b0: float, lr: float, steps: int, clip: float | None = None,
             dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plain gradient descent on the cliff model, with optional norm clipping, computed in ``dtype``.

    Overflow is not an error: in float32 a run that blows up reaches inf and then NaN.
    Returns ``(points, losses, grad_norms)``: points (steps + 1, 2) of (w, b), the loss at each
    point, and the gradient norm before clipping at each of the first ``steps`` points.
    """
    theta = np.array([w0, b0], dtype=dtype)
    points, losses, norms = [theta.copy()], [], []
    for _ in range(steps):
        with np.errstate(all="ignore"):
            loss, g = cliff_loss_and_grad(*theta, dtype=dtype)
        losses.append(loss)
        with np.errstate(all="ignore"):
            norm = float(np.sqrt(np.sum(g.astype(np.float64) ** 2)))
        norms.append(norm)
        if clip is not None and norm >= clip:  # Algorithm 1 of Pascanu et al. (2013)
            g = g * dtype(clip / norm)
        with np.errstate(all="ignore"):
            theta = theta - dtype(lr) * g
        points.append(theta.copy())
    with np.errstate(all="ignore"):
        losses.append(cliff_loss_and_grad(*theta, dtype=dtype)[0])
    return np.array(points), np.array(losses), np.array(norms)
