"""PyTorch versions of the lecture's models.

``ScratchRNN``, ``ScratchLSTM`` and ``ScratchGRU`` write the cells with torch ops and the lecture's
parameter names, each with ``init_state(B)``, ``step(x_t, state)`` and ``forward(e, state)``;
``RNNLM`` is the language model e(t) = E x(t), h(t) = RNN(h(t-1), e(t)), logits = U h(t) + b_2,
built on ``torch.nn.RNN`` (or LSTM/GRU) or on a scratch cell.

Weight layouts. ``torch.nn.Embedding`` stores E transposed: its weight is (|V|, d) = E^T.
``torch.nn.RNN`` stores W_e as ``weight_ih_l0`` (n, d) and W_h as ``weight_hh_l0`` (n, n),
and has two biases whose sum is the lecture's b_1. ``torch.nn.Linear(n, |V|)`` stores U (|V|, n)
and b_2. :func:`numpy_params_to_torch` and :func:`torch_to_numpy_params` convert in one place.
For the LSTM and GRU, :mod:`lecture_code.numpy_lstm` describes torch's layout and converts;
:func:`copy_cell_weights` copies between the scratch cells and ``nn.LSTM``/``nn.GRU`` through it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

from .numpy_lstm import GRU_GATES, LSTM_GATES, TORCH_LSTM_GATES, set_torch_layer_params, torch_layer_params

State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]

CELLS = ("rnn", "scratch", "lstm", "gru")
LM_CELLS = (*CELLS, "scratch_lstm", "scratch_gru")  # every cell RNNLM accepts (CELLS: those of Chapters 1-4)


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


class _GatedCell(nn.Module):
    """What ScratchLSTM and ScratchGRU share: the gates' parameters stacked by rows, W (k n, n), U (k n, d) and
    b (k n,), in the order ``gates``, so that one matrix product computes every gate; lecture-named access."""

    gates: tuple[str, ...]

    def __init__(self, d: int, n: int) -> None:
        super().__init__()
        k, bound = len(self.gates), 1.0 / n**0.5  # torch.nn.LSTM/GRU's weight initialisation
        self.d, self.n = d, n
        self.W = nn.Parameter(torch.empty(k * n, n).uniform_(-bound, bound))
        self.U = nn.Parameter(torch.empty(k * n, d).uniform_(-bound, bound))
        self.b = nn.Parameter(torch.zeros(k * n))

    def gate_rows(self, g: str) -> slice:
        """The rows of ``W``, ``U`` and ``b`` that belong to gate ``g`` (one of ``gates``)."""
        k = self.gates.index(g)
        return slice(k * self.n, (k + 1) * self.n)

    def _views(self) -> dict[str, torch.Tensor]:
        """The parameters under the lecture's names: views of row blocks of W, U, b, and any others as they are."""
        stacked = {"W": self.W, "U": self.U, "b": self.b}
        views = {f"{m}_{g}": p[self.gate_rows(g)] for g in self.gates for m, p in stacked.items()}
        return views | {k: p for k, p in self.named_parameters() if k not in stacked}

    def lecture_params(self) -> dict[str, torch.Tensor]:
        """Detached copies of the parameters under the lecture's names (W_· (n, n), U_· (n, d), b_· (n,))."""
        return {k: v.detach().clone() for k, v in self._views().items()}

    def set_lecture_params(self, params: Mapping[str, np.ndarray | torch.Tensor]) -> _GatedCell:
        """Copy lecture-named parameters (NumPy arrays or tensors, any float dtype) in; returns the module."""
        targets = self._views()
        missing = [k for k in targets if k not in params]
        if missing:
            raise ValueError(f"params is missing {missing}; expected the keys {tuple(targets)}")
        for k, t in targets.items():  # check every shape before changing anything
            if tuple(t.shape) != tuple(np.shape(params[k])):
                raise ValueError(f"shape mismatch for {k}: the module has {tuple(t.shape)}, params "
                                 f"{tuple(np.shape(params[k]))}")
        with torch.no_grad():
            for k, t in targets.items():
                t.copy_(torch.as_tensor(params[k], dtype=t.dtype, device=t.device))
        return self


class ScratchLSTM(_GatedCell):
    """The LSTM written with torch ops (equations in :mod:`lecture_code.numpy_lstm`); state (h, c), each (B, n).

    Parameters, stacked so that one product computes the four gates: ``W`` (4n, n), ``U`` (4n, d) and ``b``
    (4n,) hold the rows of (f, i, o, c̃), the lecture's order ``LSTM_GATES`` (torch.nn.LSTM uses another):
    ``W[:n]`` is W_f, ``U[n:2n]`` is U_i, ... :meth:`lecture_params` and :meth:`set_lecture_params` use the
    lecture's names. Weights start uniform in ±1/sqrt(n); biases at 0, except b_f = ``forget_bias``.
    """

    gates = LSTM_GATES

    def __init__(self, d: int, n: int, forget_bias: float = 0.0) -> None:
        super().__init__(d, n)
        with torch.no_grad():
            self.b[self.gate_rows("f")] = forget_bias

    def init_state(self, B: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The zero state (h(0), c(0)), each (B, n)."""
        h = self.W.new_zeros(B, self.n)
        return h, h.clone()

    def _cell(self, a: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
              ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """One step from a = U x(t) + b (B, 4n): the six equations, the four gates from one product."""
        h, c = state
        a_f, a_i, a_o, a_c = torch.addmm(a, h, self.W.T).chunk(4, dim=1)  # W h(t-1) + U x(t) + b, 4 gates
        f, i, o, c_tilde = torch.sigmoid(a_f), torch.sigmoid(a_i), torch.sigmoid(a_o), torch.tanh(a_c)
        c = f * c + i * c_tilde
        h = o * torch.tanh(c)
        return h, (h, c)

    def step(self, x_t: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
             ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """One step: x_t (B, d), state (h, c) -> (h(t) (B, n), the new state (h(t), c(t)))."""
        return self._cell(torch.addmm(self.b, x_t, self.U.T), state)

    def forward(self, e: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """e (B, T, d), state (h(0), c(0)) or None for zeros -> (H (B, T, n), the final state (h(T), c(T)))."""
        state = self.init_state(e.shape[0]) if state is None else state
        hs = []
        for a_t in (e @ self.U.T + self.b).unbind(1):  # U x(t) + b for all t in one product; unbind, not
            h, state = self._cell(a_t, state)  # a[:, t], whose backward would write a full-size zero tensor
            hs.append(h)
        return torch.stack(hs, dim=1), state


class ScratchGRU(_GatedCell):
    """The GRU written with torch ops (equations in :mod:`lecture_code.numpy_lstm`); state h (B, n).

    ``W`` (3n, n), ``U`` (3n, d) and ``b`` (3n,) stack the rows of (u, r, h̃), the order ``GRU_GATES``; ``b_rc``
    (n,) is the bias inside the reset gate's product. Weights start uniform in ±1/sqrt(n), biases at 0.
    """

    gates = GRU_GATES

    def __init__(self, d: int, n: int) -> None:
        super().__init__(d, n)
        self.b_rc = nn.Parameter(torch.zeros(n))

    def init_state(self, B: int) -> torch.Tensor:
        """The zero state h(0): (B, n)."""
        return self.W.new_zeros(B, self.n)

    def _cell(self, a: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One step from a = U x(t) + b (B, 3n)."""
        a_u, a_r, a_h = a.chunk(3, dim=1)
        w_u, w_r, w_c = (h @ self.W.T).chunk(3, dim=1)  # W_u h, W_r h, W_c h from one product
        u, r = torch.sigmoid(a_u + w_u), torch.sigmoid(a_r + w_r)
        h_tilde = torch.tanh(a_h + r * (w_c + self.b_rc))
        h = (1 - u) * h + u * h_tilde
        return h, h

    def step(self, x_t: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One step: x_t (B, d), h (B, n) -> (h(t) (B, n), the new state, which is h(t) again)."""
        return self._cell(torch.addmm(self.b, x_t, self.U.T), h)

    def forward(self, e: torch.Tensor, h0: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """e (B, T, d), h0 (B, n) or None for zeros -> (H (B, T, n), the last state h(T) (B, n))."""
        h, hs = self.init_state(e.shape[0]) if h0 is None else h0, []
        for a_t in (e @ self.U.T + self.b).unbind(1):
            out, h = self._cell(a_t, h)
            hs.append(out)
        return torch.stack(hs, dim=1), h


class RNNLM(nn.Module):
    """An RNN language model: embedding, recurrent layer(s), and a linear output layer.

    Args:
        V: vocabulary size |V|.
        d: embedding size.
        n: hidden size.
        cell: ``"rnn"`` (``torch.nn.RNN``, tanh), ``"scratch"`` (:class:`ScratchRNN`),
            ``"lstm"``, ``"gru"``, ``"scratch_lstm"`` (:class:`ScratchLSTM`) or ``"scratch_gru"``
            (:class:`ScratchGRU`).
        num_layers: stacked recurrent layers (not for the scratch cells).

    ``forward(x, state)`` takes token ids x: (B, T) and returns logits (B, T, V) and the
    final state, which is (num_layers, B, n) for rnn/gru, a pair of those for lstm,
    (B, n) for scratch and scratch_gru, and a pair of (B, n) for scratch_lstm.
    """

    def __init__(self, V: int, d: int, n: int, cell: str = "rnn", num_layers: int = 1) -> None:
        super().__init__()
        if cell not in LM_CELLS:
            raise ValueError(f"cell must be one of {LM_CELLS}, got {cell!r}")
        scratch = {"scratch": ScratchRNN, "scratch_lstm": ScratchLSTM, "scratch_gru": ScratchGRU}.get(cell)
        if scratch is not None and num_layers != 1:
            raise ValueError(f"the from-scratch cell {cell!r} has one layer")
        self.V, self.d, self.n, self.cell, self.num_layers = V, d, n, cell, num_layers
        self.embedding = nn.Embedding(V, d)
        if scratch is not None:
            self.rnn: nn.Module = scratch(d, n)
        else:
            rnn_cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
            self.rnn = rnn_cls(d, n, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(n, V)

    def init_state(self, B: int) -> State:
        """The zero initial state h(0) (and c(0) for an LSTM) for a batch of B sequences."""
        if self.cell.startswith("scratch"):
            return self.rnn.init_state(B)  # (B, n), or ((B, n), (B, n)) for scratch_lstm
        p = self.head.weight
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


# ---------------------------------------------------------------------------------------------
# Chapter 5: LSTM/GRU weights between the from-scratch cells and torch.nn.LSTM / nn.GRU


def _kind(m: nn.Module) -> str:
    """"LSTM" for ScratchLSTM and nn.LSTM, "GRU" for ScratchGRU and nn.GRU, else ""."""
    if isinstance(m, _GatedCell):
        return "LSTM" if isinstance(m, ScratchLSTM) else "GRU"
    return getattr(m, "mode", "") if isinstance(m, (nn.LSTM, nn.GRU)) else ""


def copy_cell_weights(src: nn.Module, dst: nn.Module, suffix: str = "_l0") -> nn.Module:
    """Copy an LSTM's or a GRU's weights into another: ScratchLSTM <-> nn.LSTM, ScratchGRU <-> nn.GRU (or two of
    the same kind). ``suffix`` picks the layer/direction of an nn.LSTM/nn.GRU on either side ("_l0", "_l1",
    "_l0_reverse", ...). Copies are exact (through float64); ``dst`` keeps its dtype. Returns ``dst``."""
    if not _kind(src) or _kind(src) != _kind(dst):
        raise ValueError(f"copy an LSTM into an LSTM or a GRU into a GRU (ScratchLSTM, nn.LSTM, ScratchGRU, "
                         f"nn.GRU); got {type(src).__name__} -> {type(dst).__name__}")
    if isinstance(src, _GatedCell):
        params = {k: v.cpu().double().numpy() for k, v in src.lecture_params().items()}
    else:
        params = torch_layer_params(src, suffix)
    if isinstance(dst, _GatedCell):
        return dst.set_lecture_params(params)
    return set_torch_layer_params(dst, params, suffix)


def set_forget_bias(module: nn.Module, value: float) -> nn.Module:
    """Set the forget gate's bias b_f to ``value`` in every nn.LSTM and ScratchLSTM inside ``module``.

    ``torch.nn.LSTM`` splits b into ``bias_ih`` + ``bias_hh`` (every layer and direction): the f block of
    ``bias_ih`` gets ``value`` and that of ``bias_hh`` 0, so the gate sees the sum ``value``. Returns ``module``.
    """
    found = False
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, ScratchLSTM):
                m.b[m.gate_rows("f")] = value
            elif isinstance(m, nn.LSTM):
                if not m.bias:
                    raise ValueError("this nn.LSTM has bias=False: there is no forget bias to set")
                k, n = TORCH_LSTM_GATES.index("f"), m.hidden_size
                for name, p in m.named_parameters():
                    if name.startswith("bias_"):
                        p[k * n : (k + 1) * n] = value if name.startswith("bias_ih") else 0.0
            else:
                continue
            found = True
    if not found:
        raise ValueError(f"{type(module).__name__} contains no nn.LSTM or ScratchLSTM")
    return module
