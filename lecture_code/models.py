"""PyTorch versions of the lecture's models.

``ScratchRNN`` writes the simple RNN with torch ops and the lecture's parameter names;
``RNNLM`` is the language model e(t) = E x(t), h(t) = RNN(h(t-1), e(t)), logits = U h(t) + b_2,
built on ``torch.nn.RNN`` (or LSTM/GRU) or on ``ScratchRNN``.

Weight layouts. ``torch.nn.Embedding`` stores E transposed: its weight is (|V|, d) = E^T.
``torch.nn.RNN`` stores W_e as ``weight_ih_l0`` (n, d) and W_h as ``weight_hh_l0`` (n, n),
and has two biases whose sum is the lecture's b_1. ``torch.nn.Linear(n, |V|)`` stores U (|V|, n)
and b_2. :func:`numpy_params_to_torch` and :func:`torch_to_numpy_params` convert in one place.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]

CELLS = ("rnn", "scratch", "lstm", "gru")


class ScratchRNN(nn.Module):
    """The simple RNN written with torch ops: h(t) = tanh(W_h h(t-1) + W_e e(t) + b_1).

    Parameters ``W_h`` (n, n), ``W_e`` (n, d) and ``b1`` (n,) carry the lecture's names.
    """

    def __init__(self, d: int, n: int) -> None:
        super().__init__()
        bound = 1.0 / n**0.5  # torch.nn.RNN's default initialisation
        self.W_h = nn.Parameter(torch.empty(n, n).uniform_(-bound, bound))
        self.W_e = nn.Parameter(torch.empty(n, d).uniform_(-bound, bound))
        self.b1 = nn.Parameter(torch.empty(n).uniform_(-bound, bound))

    def init_state(self, B: int) -> torch.Tensor:
        """The zero state h(0): (B, n)."""
        return self.W_h.new_zeros(B, self.W_h.shape[0])

    def step(self, e_t: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One step: e_t (B, d), h (B, n) -> (h(t) (B, n), the new state, which is h(t) again)."""
        h = torch.tanh(h @ self.W_h.T + e_t @ self.W_e.T + self.b1)
        return h, h

    def forward(self, e: torch.Tensor, h0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """e: (B, T, d), h0: (B, n) -> (all hidden states (B, T, n), last state (B, n))."""
        h, hs = h0, []
        for t in range(e.shape[1]):
            out, h = self.step(e[:, t], h)
            hs.append(out)
        return torch.stack(hs, dim=1), h


class RNNLM(nn.Module):
    """An RNN language model: embedding, recurrent layer(s), and a linear output layer.

    Args:
        V: vocabulary size |V|.
        d: embedding size.
        n: hidden size.
        cell: ``"rnn"`` (``torch.nn.RNN``, tanh), ``"scratch"`` (:class:`ScratchRNN`),
            ``"lstm"`` or ``"gru"``.
        num_layers: stacked recurrent layers (not for ``"scratch"``).

    ``forward(x, state)`` takes token ids x: (B, T) and returns logits (B, T, V) and the
    final state, which is (num_layers, B, n) for rnn/gru, a pair of those for lstm,
    and (B, n) for scratch.
    """

    def __init__(self, V: int, d: int, n: int, cell: str = "rnn", num_layers: int = 1) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
        if cell == "scratch" and num_layers != 1:
            raise ValueError("the scratch RNN has one layer")
        self.V, self.d, self.n, self.cell, self.num_layers = V, d, n, cell, num_layers
        self.embedding = nn.Embedding(V, d)
        if cell == "scratch":
            self.rnn: nn.Module = ScratchRNN(d, n)
        else:
            rnn_cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
            self.rnn = rnn_cls(d, n, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(n, V)

    def init_state(self, B: int) -> State:
        """The zero initial state h(0) (and c(0) for an LSTM) for a batch of B sequences."""
        p = self.head.weight
        if self.cell == "scratch":
            return p.new_zeros(B, self.n)
        h = p.new_zeros(self.num_layers, B, self.n)
        return (h, h.clone()) if self.cell == "lstm" else h

    def forward(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        if state is None:
            state = self.init_state(x.shape[0])
        e = self.embedding(x)  # (B, T, d): e(t) = E x(t)
        hs, state = self.rnn(e, state)  # (B, T, n)
        return self.head(hs), state


def detach_state(state: State) -> State:
    """Cut the graph between truncated-BPTT windows, keeping the values."""
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)  # type: ignore[return-value]
    return state.detach()


def num_params(model: nn.Module) -> int:
    """The number of trainable scalars in a model."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def numpy_params_to_torch(params: dict[str, np.ndarray], model: RNNLM) -> RNNLM:
    """Copy NumPy RNN-LM parameters (lecture names) into a one-layer ``rnn`` or ``scratch`` RNNLM.

    ``torch.nn.RNN`` has two biases; b_1 goes into ``bias_ih_l0`` and ``bias_hh_l0`` is zeroed.
    The model keeps its dtype; call ``model.double()`` first for float64 comparisons.
    """
    if model.cell not in ("rnn", "scratch") or model.num_layers != 1:
        raise ValueError("only a one-layer simple RNN (cell 'rnn' or 'scratch') has these parameters")

    r = model.rnn
    pairs = [(model.embedding.weight, params["E"].T), (model.head.weight, params["U"]), (model.head.bias, params["b2"])]
    if model.cell == "scratch":
        pairs += [(r.W_h, params["W_h"]), (r.W_e, params["W_e"]), (r.b1, params["b1"])]
    else:
        pairs += [(r.weight_hh_l0, params["W_h"]), (r.weight_ih_l0, params["W_e"]), (r.bias_ih_l0, params["b1"]),
                  (r.bias_hh_l0, np.zeros_like(params["b1"]))]
    for t, a in pairs:  # check every shape before changing anything
        if tuple(t.shape) != a.shape:
            raise ValueError(f"shape mismatch: model has {tuple(t.shape)}, params have {a.shape}")
    with torch.no_grad():
        for t, a in pairs:
            t.copy_(torch.as_tensor(a, dtype=t.dtype))
    return model


def torch_to_numpy_params(model: RNNLM) -> dict[str, np.ndarray]:
    """The lecture-named float64 NumPy parameters of a one-layer ``rnn`` or ``scratch`` RNNLM."""
    if model.cell not in ("rnn", "scratch") or model.num_layers != 1:
        raise ValueError("only a one-layer simple RNN (cell 'rnn' or 'scratch') has these parameters")

    def get(t: torch.Tensor) -> np.ndarray:
        return t.detach().cpu().double().numpy().copy()

    r = model.rnn
    if model.cell == "scratch":
        W_h, W_e, b1 = get(r.W_h), get(r.W_e), get(r.b1)
    else:
        W_h, W_e, b1 = get(r.weight_hh_l0), get(r.weight_ih_l0), get(r.bias_ih_l0) + get(r.bias_hh_l0)
    return {"E": get(model.embedding.weight).T.copy(), "W_h": W_h, "W_e": W_e, "b1": b1,
            "U": get(model.head.weight), "b2": get(model.head.bias)}
