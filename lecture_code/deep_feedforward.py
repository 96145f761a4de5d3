"""Vanishing gradients are not only an RNN problem: deep feed-forward networks, and their fixes.

A plain stack of tanh layers multiplies the backward signal by one Jacobian per layer, just as an
RNN does per time step, so the gradient reaching the bottom layers can be orders of magnitude smaller
than at the top. The lecture's fixes all add a more direct path for the gradient:

- ``"plain"``:     x_{i+1} = σ(W_i x_i + b_i)
- ``"residual"``:  x_{i+1} = x_i + σ(W_i x_i + b_i)                        (He et al. 2016, ResNet)
- ``"dense"``:     x_{i+1} = σ(W_i [x_0; x_1; ...; x_i] + b_i)              (Huang et al. 2017, DenseNet)
- ``"highway"``:   x_{i+1} = T ⊙ σ(W_i x_i + b_i) + (1 − T) ⊙ x_i,
                   T = sigmoid(W_T x_i + b_T)                              (Srivastava et al. 2015)

:func:`layer_grad_norms` measures ||dJ/dx_i|| for every hidden layer i; :func:`train_mlp` shows what
that does to training. The data (:func:`make_regression`) are synthetic, generated in code.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

KINDS = ("plain", "residual", "dense", "highway")
ACTIVATIONS = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}


class DeepMLP(nn.Module):
    """A deep MLP whose hidden layers are plain, residual, dense or highway layers.

    Layout: x_0 = W_in x + b_in (a linear input projection to ``width``), then ``depth`` hidden layers
    producing x_1..x_depth (each (B, width)), then a linear head on x_depth giving (B, d_out).
    All layers use PyTorch's default ``nn.Linear`` initialisation.

    Args:
        kind: ``"plain"``, ``"residual"``, ``"dense"`` or ``"highway"`` (formulas in the module docstring).
        depth: number of hidden layers.
        width: features per hidden layer.
        d_in, d_out: input and output sizes.
        activation: σ, one of ``"tanh"``, ``"sigmoid"``, ``"relu"``.

    Dense layers: layer i (1-based) reads the concatenation of x_0..x_{i-1}, i.e. ``i * width`` features,
    and outputs ``width`` new ones (a DenseNet "growth rate" equal to ``width``, but without the
    DenseNet habit of concatenating the new features onto the old: the concatenation is formed on the
    fly, so every x_i stays (B, width) and the head still reads x_depth). With depth 50 and width 32
    the largest layer is 1600 -> 32.

    Highway layers: the transform gate T works like an LSTM's gates. T ≈ 0 copies x_i unchanged (the
    "carry" path, like a forget gate near 1 keeping the cell state); its bias b_T starts at
    ``highway_bias`` = −2, as in the paper, so each layer starts out mostly carrying its input. The carry
    path scales the gradient by about 1 − sigmoid(b_T) per layer (0.88 for −2), so very deep highway
    nets want a more negative bias: at depth 50 (width 32, tanh) the top/bottom ratio of ||dJ/dx_i|| is
    about 460 with −2, 11 with −3 and 2.5 with −4 (plain: about 1e12).

    After ``forward``, ``self.acts`` holds [x_0, x_1, ..., x_depth] (with ``retain_grad`` if
    ``self.retain = True``).
    """

    def __init__(
        self,
        kind: str,
        depth: int,
        width: int,
        d_in: int,
        d_out: int,
        activation: str = "tanh",
        highway_bias: float = -2.0,
    ) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {tuple(ACTIVATIONS)}, got {activation!r}")
        self.kind, self.depth, self.width, self.activation = kind, depth, width, activation
        self.act = ACTIVATIONS[activation]
        self.inp = nn.Linear(d_in, width)
        fan_in = [(i + 1) * width if kind == "dense" else width for i in range(depth)]
        self.layers = nn.ModuleList(nn.Linear(f, width) for f in fan_in)
        if kind == "highway":
            self.gates = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
            with torch.no_grad():
                for g in self.gates:
                    g.bias.fill_(highway_bias)
        self.head = nn.Linear(width, d_out)
        self.acts: list[torch.Tensor] = []
        self.retain = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, d_in) -> (B, d_out). Stores the hidden activations x_0..x_depth in ``self.acts``."""
        h = self.inp(x)
        acts = [h]
        for i, layer in enumerate(self.layers):
            if self.kind == "plain":
                h = self.act(layer(h))
            elif self.kind == "residual":
                h = h + self.act(layer(h))
            elif self.kind == "dense":
                h = self.act(layer(torch.cat(acts, dim=-1)))
            else:  # highway
                T = torch.sigmoid(self.gates[i](h))
                h = T * self.act(layer(h)) + (1 - T) * h
            if self.retain and h.requires_grad:
                h.retain_grad()
            acts.append(h)
        self.acts = acts
        return self.head(h)


def _loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error for float targets y (B, d_out); cross-entropy for integer class ids y (B,)."""
    if y.dtype in (torch.int64, torch.int32):
        return F.cross_entropy(out, y)
    return F.mse_loss(out, y)


def layer_grad_norms(model: DeepMLP, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """||dJ/dx_i|| for the output x_i of every hidden layer i = 1..depth, from one backward pass.

    Args:
        model: a :class:`DeepMLP`.
        x: (B, d_in) inputs; y: (B, d_out) float targets (MSE) or (B,) class ids (cross-entropy).

    Returns:
        (depth,) float array; entry i-1 is the Frobenius norm of the gradient of the batch loss with
        respect to the (B, width) activation x_i. Index 0 is the bottom layer, index depth-1 the top.
        Leaves the parameter gradients of this pass in ``.grad`` (see :func:`weight_grad_norms`).
    """
    model.zero_grad(set_to_none=True)
    model.retain = True
    try:
        loss = _loss(model(x), y)
        loss.backward()
    finally:
        model.retain = False
    return np.array([a.grad.norm().item() for a in model.acts[1:]])


def weight_grad_norms(model: DeepMLP, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """(depth,) norms of dJ/dW_i for each hidden layer's weight matrix W_i (bottom layer first)."""
    layer_grad_norms(model, x, y)
    return np.array([layer.weight.grad.norm().item() for layer in model.layers])


def make_regression(
    n: int, d_in: int, rng: np.random.Generator, d_out: int = 1, n_features: int = 16
) -> tuple[torch.Tensor, torch.Tensor]:
    """A synthetic regression data set from a random smooth teacher function (generated here, no download).

    x ~ N(0, I) (n, d_in); y = sin(x A + c) B, a random sum of ``n_features`` sine ridges, then
    standardised to mean 0 and variance 1 per output. So predicting the mean gives MSE ≈ 1.

    Returns:
        ``(x, y)`` as float32 torch tensors, x (n, d_in), y (n, d_out).
    """
    x = rng.standard_normal((n, d_in))
    A = rng.standard_normal((d_in, n_features)) / np.sqrt(d_in)
    c = rng.uniform(0, 2 * np.pi, n_features)
    Bm = rng.standard_normal((n_features, d_out))
    y = np.sin(x @ A + c) @ Bm
    y = (y - y.mean(0)) / y.std(0)
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)


def train_mlp(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, lr: float = 1e-3) -> list[float]:
    """Full-batch Adam for ``steps`` steps on MSE (float y) or cross-entropy (integer y); the loss per step."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = _loss(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses
