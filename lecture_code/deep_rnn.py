"""Bidirectional and multi-layer RNNs in PyTorch, built on any cell's one-step interface (Chapter 6).

A cell is any module with ``init_state(B)`` and ``step(e_t (B, d), state) -> (h(t) (B, n), new state)``:
:class:`~lecture_code.models.ScratchRNN` (state h), :class:`~lecture_code.models.ScratchLSTM` (state (h, c)) or
:class:`~lecture_code.models.ScratchGRU` (state h).

- :func:`run_cell` runs one cell over a padded batch, left to right or right to left. Row b has
  ``lengths[b]`` real tokens; a mask keeps the state unchanged at padding, so the final state is the one at
  the last real token, and the outputs at padding are 0 (what ``pack_padded_sequence``/``pad_packed_sequence`` give).
  Right to left reverses each row WITHIN its length with an index gather, so the backward RNN starts at the
  last real token, not at the padded end.
- :class:`Bidirectional` is h(t) = [h_fwd(t); h_bwd(t)], two cells with separate weights.
- :class:`Stacked` feeds layer i's outputs to layer i+1 (optionally with residual connections).
- :func:`stacked_from_torch` copies an ``nn.RNN``/``nn.LSTM``/``nn.GRU`` (any ``num_layers``, bidirectional or
  not) into these modules, so that the from-scratch versions can be checked against torch.
- :class:`DeepRNNLM` is the fast (cuDNN-style, not step-by-step) deep LM of the chapter's depth experiments.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .models import CELLS, ScratchGRU, ScratchLSTM, ScratchRNN, State, copy_cell_weights

# ---------------------------------------------------------------------------------------------
# Running one cell over a padded batch


def lengths_tensor(lengths: Sequence[int] | torch.Tensor | None, B: int, T: int, device: torch.device
                   ) -> torch.Tensor:
    """``lengths`` as a (B,) int64 tensor on ``device`` (all T if None), after checking 1 <= lengths[b] <= T."""
    if lengths is None:
        return torch.full((B,), T, dtype=torch.long, device=device)
    L = torch.as_tensor(lengths, device=device)
    if L.shape != (B,):
        raise ValueError(f"lengths must have shape (B,) = ({B},), got {tuple(L.shape)}")
    if L.is_floating_point() or L.is_complex() or L.dtype == torch.bool:
        raise ValueError(f"lengths must be integers, got dtype {L.dtype}")
    if int(L.min()) < 1 or int(L.max()) > T:
        raise ValueError(f"every length must be between 1 and T={T}, got {L.tolist()}")
    return L.long()


def _where(real: torch.Tensor, new: State, old: State) -> State:
    """``new`` where ``real`` (B, 1) is True, else ``old``; for a state h or a pair (h, c)."""
    if isinstance(new, tuple):
        return tuple(torch.where(real, a, b) for a, b in zip(new, old, strict=True))  # type: ignore[return-value]
    return torch.where(real, new, old)


def reverse_index(lengths: torch.Tensor, T: int) -> torch.Tensor:
    """(B, T) time indices that reverse each row within its length: L-1-t for t < L, and t (padding stays put).

    Gathering with it twice is the identity, so the same index also puts reversed outputs back in place.
    """
    t = torch.arange(T, device=lengths.device)[None, :]
    L = lengths[:, None]
    return torch.where(t < L, L - 1 - t, t)


def _gather_time(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """x (B, T, k), idx (B, T) -> (B, T, k) with out[b, t] = x[b, idx[b, t]]."""
    return x.gather(1, idx[..., None].expand(-1, -1, x.shape[-1]))


def run_cell(cell: nn.Module, e: torch.Tensor, lengths: torch.Tensor | Sequence[int] | None = None,
             state: State | None = None, reverse: bool = False) -> tuple[torch.Tensor, State]:
    """Run a cell over the real tokens of a padded batch.

    Args:
        cell: a module with ``init_state(B)`` and ``step(e_t, state)``.
        e: (B, T, d) inputs. lengths: (B,) real lengths (None: all T).
        state: the initial state (the cell's zero state if None).
        reverse: run each row from its last real token, position lengths[b]-1, down to 0.

    Returns:
        ``(H, state)``: H (B, T, n) the cell's outputs, 0 at padding; state the final state, after position
        lengths[b]-1 (forward) or 0 (reverse) of each row.
    """
    if e.ndim != 3:
        raise ValueError(f"e must be (B, T, d) inputs, got shape {tuple(e.shape)}")
    B, T, _ = e.shape
    lengths = lengths_tensor(lengths, B, T, e.device)
    if reverse:
        idx = reverse_index(lengths, T)
        H, state = run_cell(cell, _gather_time(e, idx), lengths, state)
        return _gather_time(H, idx), state
    state = cell.init_state(B) if state is None else state
    outs = []
    for t in range(T):
        out, new = cell.step(e[:, t], state)
        real = (t < lengths)[:, None]  # (B, 1): is position t a real token of row b?
        state = _where(real, new, state)  # padding: keep the state of the last real token
        outs.append(torch.where(real, out, torch.zeros_like(out)))
    return torch.stack(outs, dim=1), state


# ---------------------------------------------------------------------------------------------
# Bidirectional and stacked


class Bidirectional(nn.Module):
    """h(t) = [h_fwd(t); h_bwd(t)]: a forward and a backward cell with separate weights, outputs concatenated."""

    def __init__(self, fwd_cell: nn.Module, bwd_cell: nn.Module) -> None:
        super().__init__()
        self.fwd, self.bwd = fwd_cell, bwd_cell

    def forward(self, e: torch.Tensor, lengths: torch.Tensor | Sequence[int] | None = None,
                state: tuple[State, State] | None = None) -> tuple[torch.Tensor, tuple[State, State]]:
        """e: (B, T, d), lengths: (B,) or None, state: (fwd state, bwd state) or None for zeros.

        Returns ``(H, (fwd final, bwd final))``: H (B, T, 2n), forward half first, 0 at padding; the forward
        final state is at each row's last real token, the backward one at position 0 (torch's ``h_n``).
        """
        s_fwd, s_bwd = (None, None) if state is None else state
        H_fwd, s_fwd = run_cell(self.fwd, e, lengths, s_fwd)
        H_bwd, s_bwd = run_cell(self.bwd, e, lengths, s_bwd, reverse=True)
        return torch.cat([H_fwd, H_bwd], dim=-1), (s_fwd, s_bwd)


class Stacked(nn.Module):
    """A multi-layer RNN: layer i+1 reads layer i's outputs (h^(i)(1..T)).

    Args:
        cells: the layers, bottom first: cells, or :class:`Bidirectional` pairs (a deep bidirectional RNN).
        residual: add a skip connection around every layer above the first whose output width equals its
            input width: h^(i)(t) = h^(i-1)(t) + RNN_i(h^(i-1))(t). The first layer reads the embeddings and
            gets none; nor does a layer whose width changes (there is nothing of the same size to add).
    """

    def __init__(self, cells: Sequence[nn.Module], residual: bool = False) -> None:
        super().__init__()
        if len(cells) == 0:
            raise ValueError("Stacked needs at least one cell")
        self.layers = nn.ModuleList(cells)
        self.residual = residual

    def forward(self, e: torch.Tensor, lengths: torch.Tensor | Sequence[int] | None = None,
                state: Sequence[State | tuple[State, State]] | None = None) -> tuple[torch.Tensor, list]:
        """e: (B, T, d), lengths: (B,) or None, state: one initial state per layer or None for zeros.

        Returns ``(H, states)``: H (B, T, n_top) the top layer's outputs (0 at padding) and a list of each layer's
        final state, bottom first (a Bidirectional layer's is a pair). :meth:`state_to_torch` gives torch's layout.
        """
        if state is not None and len(state) != len(self.layers):
            raise ValueError(f"state must hold one state per layer ({len(self.layers)}), got {len(state)}")
        h, finals = e, []
        for i, layer in enumerate(self.layers):
            s = None if state is None else state[i]
            if isinstance(layer, Bidirectional):
                out, s = layer(h, lengths, s)
            else:
                out, s = run_cell(layer, h, lengths, s)
            if self.residual and i > 0 and out.shape[-1] == h.shape[-1]:
                out = h + out  # the skip connection; padding stays 0 because both terms are 0 there
            h = out
            finals.append(s)
        return h, finals

    def state_to_torch(self, states: Sequence) -> State:
        """Per-layer final states -> torch's h_n (L * directions, B, n), or (h_n, c_n) for LSTM cells.

        torch orders them layer by layer, forward before backward: ``h_n[layer * directions + direction]``.
        """
        flat = []
        for layer, s in zip(self.layers, states, strict=True):
            flat.extend(s if isinstance(layer, Bidirectional) else [s])
        if isinstance(flat[0], tuple):
            return tuple(torch.stack(parts) for parts in zip(*flat, strict=True))  # type: ignore[return-value]
        return torch.stack(flat)

    def state_from_torch(self, state: State) -> list:
        """torch's h_0 (L * directions, B, n), or (h_0, c_0), -> the per-layer list that :meth:`forward` takes."""
        flat = list(zip(*state, strict=True)) if isinstance(state, tuple) else list(state)
        per_layer, k = [], 0
        for layer in self.layers:
            if isinstance(layer, Bidirectional):
                per_layer.append((flat[k], flat[k + 1]))
                k += 2
            else:
                per_layer.append(flat[k])
                k += 1
        if k != len(flat):
            raise ValueError(f"the state holds {len(flat)} layer-directions, the stack has {k}")
        return per_layer


# ---------------------------------------------------------------------------------------------
# Copying weights from torch.nn.RNN / LSTM / GRU


def _scratch_class(rnn: nn.RNNBase) -> type[nn.Module]:
    """The from-scratch cell class matching a torch recurrent module."""
    if isinstance(rnn, nn.RNN):
        if rnn.nonlinearity != "tanh":
            raise ValueError("only the tanh nn.RNN has a from-scratch cell")
        return ScratchRNN
    cls = {nn.LSTM: ScratchLSTM, nn.GRU: ScratchGRU}.get(type(rnn))
    if cls is None:
        raise ValueError(f"expected an nn.RNN, nn.LSTM or nn.GRU, got {type(rnn).__name__}")
    return cls


def copy_cell_from_torch(cell: nn.Module, rnn: nn.RNNBase, layer: int = 0, reverse: bool = False) -> nn.Module:
    """Copy one layer and direction of ``rnn`` (names like ``weight_ih_l1_reverse``) into a from-scratch cell.

    ScratchRNN gets W_e = weight_ih, W_h = weight_hh and b_1 = bias_ih + bias_hh; ScratchLSTM and ScratchGRU go
    through :func:`lecture_code.models.copy_cell_weights` (which reorders torch's gates). The cell keeps its dtype.
    """
    cls = _scratch_class(rnn)
    if not isinstance(cell, cls):
        raise ValueError(f"a {type(rnn).__name__} copies into a {cls.__name__}, not a {type(cell).__name__}")
    if not 0 <= layer < rnn.num_layers or (reverse and not rnn.bidirectional):
        raise ValueError(f"no layer {layer}{' reverse' if reverse else ''} in this {type(rnn).__name__} "
                         f"(num_layers={rnn.num_layers}, bidirectional={rnn.bidirectional})")
    sfx = f"_l{layer}" + ("_reverse" if reverse else "")
    if not isinstance(cell, ScratchRNN):
        return copy_cell_weights(rnn, cell, sfx)
    W_e, W_h = getattr(rnn, "weight_ih" + sfx), getattr(rnn, "weight_hh" + sfx)
    b1 = getattr(rnn, "bias_ih" + sfx) + getattr(rnn, "bias_hh" + sfx) if rnn.bias else torch.zeros(W_h.shape[0])
    pairs = [(cell.W_e, W_e), (cell.W_h, W_h), (cell.b1, b1)]
    for p, w in pairs:
        if p.shape != w.shape:
            raise ValueError(f"shape mismatch: cell has {tuple(p.shape)}, {type(rnn).__name__} {tuple(w.shape)}")
    with torch.no_grad():
        for p, w in pairs:
            p.copy_(w)
    return cell


def stacked_from_torch(rnn: nn.RNNBase) -> Stacked:
    """A :class:`Stacked` of from-scratch cells (:class:`Bidirectional` pairs if ``rnn.bidirectional``) holding
    a copy of ``rnn``'s weights, on ``rnn``'s device and in its dtype. Needs ``dropout=0`` (the copy has no dropout)."""
    if rnn.dropout != 0:
        raise ValueError(f"the from-scratch stack has no dropout between layers; got dropout={rnn.dropout}")
    if getattr(rnn, "proj_size", 0):
        raise ValueError("LSTMs with proj_size are not supported")
    cls, w = _scratch_class(rnn), rnn.weight_hh_l0
    dirs = 2 if rnn.bidirectional else 1

    def cell(layer: int, reverse: bool) -> nn.Module:
        d = rnn.input_size if layer == 0 else dirs * rnn.hidden_size
        return copy_cell_from_torch(cls(d, rnn.hidden_size).to(device=w.device, dtype=w.dtype), rnn, layer, reverse)

    layers = [Bidirectional(cell(i, False), cell(i, True)) if rnn.bidirectional else cell(i, False)
              for i in range(rnn.num_layers)]
    return Stacked(layers)


# ---------------------------------------------------------------------------------------------
# A deep LM for the depth experiments


class DeepRNNLM(nn.Module):
    """An RNN-LM with ``num_layers`` separate ``nn.LSTM``/``nn.GRU``/``nn.RNN`` layers and optional residuals.

    e(t) = E x(t); h^(0)(t) = e(t); for layer i = 1..L:
        plain:     h^(i)(t) = RNN_i(h^(i-1))(t)
        residual:  h^(i)(t) = h^(i-1)(t) + RNN_i(h^(i-1))(t)      for i >= 2 (layer 1 reads d-sized embeddings)
    logits(t) = U h^(L)(t) + b_2.

    The layers are separate torch modules (so the skip connections can go between them), each a fast fused
    kernel, not a step loop. The call convention is :class:`~lecture_code.models.RNNLM`'s, so
    :func:`lecture_code.train.train_lm` trains it: ``forward(x (B, T), state) -> (logits (B, T, V), state)`` with
    state (L, B, n) for rnn/gru and a pair of those for lstm (what ``detach_state`` expects).
    """

    def __init__(self, V: int, d: int, n: int, num_layers: int, cell: str = "lstm", residual: bool = False) -> None:
        super().__init__()
        if cell not in CELLS or cell == "scratch":
            raise ValueError(f"cell must be one of 'rnn', 'lstm', 'gru', got {cell!r}")
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        self.V, self.d, self.n, self.cell, self.num_layers, self.residual = V, d, n, cell, num_layers, residual
        rnn_cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.embedding = nn.Embedding(V, d)
        self.layers = nn.ModuleList(rnn_cls(d if i == 0 else n, n, batch_first=True) for i in range(num_layers))
        self.head = nn.Linear(n, V)

    def init_state(self, B: int) -> State:
        """The zero initial state: (L, B, n), or a pair of those (h, c) for an LSTM."""
        h = self.head.weight.new_zeros(self.num_layers, B, self.n)
        return (h, h.clone()) if self.cell == "lstm" else h

    def forward(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """x: (B, T) token ids -> (logits (B, T, V), final state in the layout of :meth:`init_state`)."""
        if x.ndim != 2:
            raise ValueError(f"x must be (B, T) token ids, got shape {tuple(x.shape)}")
        state = self.init_state(x.shape[0]) if state is None else state
        per_layer = list(zip(*(s.split(1) for s in state), strict=True)) if self.cell == "lstm" else state.split(1)
        h, finals = self.embedding(x), []  # (B, T, d)
        for i, (rnn, s) in enumerate(zip(self.layers, per_layer, strict=True)):
            out, s = rnn(h, s)  # (B, T, n); s is layer i's (1, B, n) state, or a pair of those
            h = h + out if self.residual and i > 0 else out
            finals.append(s)
        if self.cell == "lstm":
            return self.head(h), (torch.cat([s[0] for s in finals]), torch.cat([s[1] for s in finals]))
        return self.head(h), torch.cat(finals)
