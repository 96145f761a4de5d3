"""Tests for lecture_code.deep_feedforward: deep MLPs, per-layer gradient norms, training."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lecture_code.deep_feedforward import (
    KINDS,
    DeepMLP,
    layer_grad_norms,
    make_regression,
    train_mlp,
    weight_grad_norms,
)


@pytest.mark.parametrize("kind", KINDS)
def test_shapes(kind: str) -> None:
    m = DeepMLP(kind, depth=4, width=6, d_in=3, d_out=2)
    out = m(torch.randn(5, 3))
    assert out.shape == (5, 2)
    assert len(m.acts) == 5 and all(a.shape == (5, 6) for a in m.acts)


@pytest.mark.parametrize("kind", KINDS)
def test_layer_grad_norms_match_autograd(kind: str, rng: np.random.Generator) -> None:
    torch.manual_seed(0)
    x, y = make_regression(16, 3, rng)
    m = DeepMLP(kind, depth=5, width=6, d_in=3, d_out=1, activation="tanh")
    got = layer_grad_norms(m, x, y)
    assert got.shape == (5,)
    # independently: torch.autograd.grad with respect to the stored activations of a fresh forward pass
    loss = torch.nn.functional.mse_loss(m(x), y)
    grads = torch.autograd.grad(loss, m.acts[1:])
    np.testing.assert_allclose(got, [g.norm().item() for g in grads], rtol=1e-5)
    w = weight_grad_norms(m, x, y)
    assert w.shape == (5,) and (w > 0).all()


def test_highway_gate_bias() -> None:
    m = DeepMLP("highway", depth=3, width=4, d_in=2, d_out=1)
    assert all(torch.all(g.bias == -2.0) for g in m.gates)
    assert all(torch.all(g.bias == -3.0) for g in DeepMLP("highway", 2, 4, 2, 1, highway_bias=-3.0).gates)


def test_dense_input_sizes() -> None:
    m = DeepMLP("dense", depth=4, width=5, d_in=3, d_out=1)
    assert [layer.in_features for layer in m.layers] == [5, 10, 15, 20]
    assert all(layer.out_features == 5 for layer in m.layers)


def test_plain_gradients_vanish() -> None:
    torch.manual_seed(0)
    x, y = make_regression(64, 4, np.random.default_rng(0))
    g = layer_grad_norms(DeepMLP("plain", depth=20, width=16, d_in=4, d_out=1), x, y)
    assert g[-1] / g[0] > 1e3  # the bottom layer gets far less gradient than the top one


def test_train_mlp_reduces_loss() -> None:
    torch.manual_seed(0)
    x = torch.randn(64, 3)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    losses = train_mlp(DeepMLP("residual", depth=2, width=16, d_in=3, d_out=1), x, y, steps=100, lr=1e-2)
    assert len(losses) == 100 and losses[-1] < 0.1 * losses[0]


def test_make_regression_standardised(rng: np.random.Generator) -> None:
    x, y = make_regression(500, 4, rng, d_out=2)
    assert x.shape == (500, 4) and y.shape == (500, 2)
    assert torch.allclose(y.mean(0), torch.zeros(2), atol=1e-5)
    assert torch.allclose(y.std(0, unbiased=False), torch.ones(2), atol=1e-4)


def test_bad_kind() -> None:
    with pytest.raises(ValueError):
        DeepMLP("wide", 2, 4, 2, 1)
