"""The one-unit RNN of Pascanu et al. (2013): loss, hand-written BPTT gradient, and clipped descent."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lecture_code.exploding import T_STEPS, TARGET, X0, cliff_loss, cliff_loss_and_grad, sgd_path
from lecture_code.gradients import clip_grad_norm


def _torch_loss_and_grad(w: float, b: float) -> tuple[float, np.ndarray]:
    wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    x = torch.tensor(X0, dtype=torch.float64)
    for _ in range(T_STEPS):
        x = wt * torch.sigmoid(x) + bt
    loss = (x - TARGET) ** 2
    loss.backward()
    return loss.item(), np.array([wt.grad.item(), bt.grad.item()])


@pytest.mark.parametrize(("w", "b"), [(5.0, -2.6124), (7.0, -3.0), (-1.0, 1.5), (9.0, -5.3)])
def test_gradient_matches_autograd_and_the_grid_loss(w: float, b: float) -> None:
    loss, g = cliff_loss_and_grad(w, b)
    loss_t, g_t = _torch_loss_and_grad(w, b)
    assert loss == pytest.approx(loss_t, rel=1e-12)
    np.testing.assert_allclose(g, g_t, rtol=1e-9)
    assert float(cliff_loss(w, b)) == pytest.approx(loss, rel=1e-12)


def test_the_cliff_is_steep_on_the_wall_and_gentle_beside_it() -> None:
    on_wall = np.linalg.norm(cliff_loss_and_grad(5.0, -2.6124)[1])
    beside = np.linalg.norm(cliff_loss_and_grad(5.0, -2.0)[1])
    assert on_wall > 1e4 > 1e2 > beside


def test_grid_broadcasts() -> None:
    W, B = np.meshgrid(np.linspace(0, 8, 5), np.linspace(-4, 2, 3))
    L = cliff_loss(W, B)
    assert L.shape == (3, 5)
    assert L[1, 2] == pytest.approx(float(cliff_loss(W[1, 2], B[1, 2])))


def test_clipped_steps_are_never_longer_than_lr_times_threshold() -> None:
    points, losses, norms = sgd_path(5.0, -2.6124, lr=0.1, steps=10, clip=1.0)
    steps = np.linalg.norm(np.diff(points, axis=0), axis=1)
    assert np.all(steps <= 0.1 * 1.0 + 1e-12)
    assert points.shape == (11, 2) and losses.shape == (11,) and norms.shape == (10,)


def test_the_first_clipped_step_equals_algorithm_1() -> None:
    _, g = cliff_loss_and_grad(5.0, -2.6124)
    clipped = clip_grad_norm({"g": g}, 1.0)["g"]
    points, _, _ = sgd_path(5.0, -2.6124, lr=0.1, steps=1, clip=1.0)
    np.testing.assert_allclose(points[1], np.array([5.0, -2.6124]) - 0.1 * clipped, rtol=1e-12)


def test_unclipped_float32_run_overflows_and_clipped_run_stays_finite() -> None:
    _, losses, _ = sgd_path(5.0, -2.6124, lr=100.0, steps=12, dtype=np.float32)
    assert not np.all(np.isfinite(losses))
    _, losses_clip, _ = sgd_path(5.0, -2.6124, lr=1.0, steps=12, clip=1.0, dtype=np.float32)
    assert np.all(np.isfinite(losses_clip))
