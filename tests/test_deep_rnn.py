"""Tests for lecture_code.deep_rnn: Bidirectional and Stacked over from-scratch cells against torch.nn in float64,
and DeepRNNLM.

Sizes B, T, d, n = 3, 5, 4, 6 are pairwise distinct so that transposed weights or swapped axes fail.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lecture_code.deep_rnn import (
    Bidirectional,
    DeepRNNLM,
    Stacked,
    copy_cell_from_torch,
    lengths_tensor,
    reverse_index,
    run_cell,
    stacked_from_torch,
)
from lecture_code.models import RNNLM, ScratchGRU, ScratchLSTM, ScratchRNN
from lecture_code.numpy_deep_rnn import birnn_forward, numpy_params_from_torch
from lecture_code.train import train_lm

B, T, D, N, V = 3, 5, 4, 6, 7
ATOL = 1e-10
TORCH = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
KINDS = list(TORCH)
LENGTHS = [[5, 2, 3], [1, 4, 5], [1, 1, 1]]


def _torch(kind: str, seed: int = 0, **kw) -> nn.RNNBase:
    torch.manual_seed(seed)
    return TORCH[kind](D, N, batch_first=True, **kw).double()


def _x(seed: int = 0, b: int = B, t: int = T, d: int = D) -> torch.Tensor:
    return torch.randn(b, t, d, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def _packed(rnn: nn.RNNBase, x: torch.Tensor, lengths, h0=None):
    """torch's padded output (B, T, dirs*n) and final state for a packed batch."""
    packed = pack_padded_sequence(x, torch.as_tensor(lengths), batch_first=True, enforce_sorted=False)
    out, state = rnn(packed, h0)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    return out, state


def _close(a, b) -> None:
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for u, v in zip(a, b, strict=True):
            _close(u, v)
        return
    assert a.shape == b.shape, (a.shape, b.shape)
    torch.testing.assert_close(a, b, rtol=0, atol=ATOL)


def _h0(kind: str, layers_dirs: int, seed: int = 5):
    g = torch.Generator().manual_seed(seed)
    h = torch.randn(layers_dirs, B, N, dtype=torch.float64, generator=g)
    return (h, torch.randn(layers_dirs, B, N, dtype=torch.float64, generator=g)) if kind == "lstm" else h


# ----------------------------------------------------------------------------- against torch.nn


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lengths", LENGTHS)
def test_bidirectional_equals_torch_packed(kind: str, lengths: list[int]) -> None:
    rnn, x = _torch(kind, bidirectional=True), _x()
    want, want_state = _packed(rnn, x, lengths)
    stack = stacked_from_torch(rnn)
    bi = stack.layers[0]
    assert isinstance(bi, Bidirectional)
    with torch.no_grad():
        H, (s_fwd, s_bwd) = bi(x, torch.tensor(lengths))
    _close(H, want)
    _close(stack.state_to_torch([(s_fwd, s_bwd)]), want_state)  # h_n[0] forward, h_n[1] backward (and c_n)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("k", [2, 3])
def test_stacked_equals_torch(kind: str, k: int) -> None:
    rnn, x = _torch(kind, seed=k, num_layers=k, dropout=0.0), _x()
    h0 = _h0(kind, k)
    want, want_state = rnn(x, h0)
    stack = stacked_from_torch(rnn)
    with torch.no_grad():
        H, states = stack(x, None, stack.state_from_torch(h0))
    assert len(states) == k
    _close(H, want)
    _close(stack.state_to_torch(states), want_state)


@pytest.mark.parametrize("kind", KINDS)
def test_deep_bidirectional_equals_torch_packed(kind: str) -> None:
    rnn, x, lengths = _torch(kind, num_layers=2, bidirectional=True), _x(), [5, 2, 3]
    h0 = _h0(kind, 4)
    want, want_state = _packed(rnn, x, lengths, h0)
    stack = stacked_from_torch(rnn)
    with torch.no_grad():
        H, states = stack(x, lengths, stack.state_from_torch(h0))
    assert H.shape == (B, T, 2 * N)
    _close(H, want)
    _close(stack.state_to_torch(states), want_state)


@pytest.mark.parametrize("kind", KINDS)
def test_padded_batch_equals_each_sequence_alone(kind: str) -> None:
    rnn, x, lengths = _torch(kind, num_layers=2, bidirectional=True), _x(), [5, 2, 3]
    stack = stacked_from_torch(rnn)
    with torch.no_grad():
        H, states = stack(x, lengths)
        flat = stack.state_to_torch(states)
        for b, L in enumerate(lengths):
            alone, s = stack(x[b : b + 1, :L])  # unpadded, no lengths
            _close(H[b : b + 1, :L], alone)
            assert torch.all(H[b, L:] == 0)
            one = stack.state_to_torch(s)
            _close(tuple(f[:, b : b + 1] for f in flat) if kind == "lstm" else flat[:, b : b + 1], one)


def test_gradients_equal_torch() -> None:
    rnn, lengths = _torch("rnn", num_layers=2, bidirectional=True), [5, 2, 3]
    x1, x2 = _x().requires_grad_(), _x().requires_grad_()
    stack = stacked_from_torch(rnn)
    want, _ = _packed(rnn, x1, lengths)
    H, _ = stack(x2, lengths)
    w = _x(seed=9, d=2 * N)
    (want * w).sum().backward()
    (H * w).sum().backward()
    _close(x2.grad, x1.grad)
    _close(stack.layers[1].bwd.W_h.grad, rnn.weight_hh_l1_reverse.grad)


def test_bidirectional_rnn_equals_numpy_reference() -> None:
    rnn, x, lengths = _torch("rnn", bidirectional=True), _x(), np.array([1, 4, 5])
    want = birnn_forward(x.numpy(), lengths, numpy_params_from_torch(rnn, 0), numpy_params_from_torch(rnn, 0, True))
    with torch.no_grad():
        H, _ = stacked_from_torch(rnn).layers[0](x, torch.from_numpy(lengths))
    np.testing.assert_allclose(H.numpy(), want, rtol=0, atol=ATOL)


# ----------------------------------------------------------------------------- run_cell, residual, states


def test_reverse_index_reverses_within_length() -> None:
    idx = reverse_index(torch.tensor([5, 2, 3]), T)
    assert idx.tolist() == [[4, 3, 2, 1, 0], [1, 0, 2, 3, 4], [2, 1, 0, 3, 4]]
    assert torch.equal(idx.gather(1, idx), torch.arange(T).expand(3, T))  # its own inverse


def test_run_cell_masks_padding_and_keeps_last_real_state() -> None:
    torch.manual_seed(0)
    cell, x, lengths = ScratchRNN(D, N).double(), _x(), torch.tensor([5, 2, 3])
    with torch.no_grad():
        H, h = run_cell(cell, x, lengths)
        full, _ = cell(x, cell.init_state(B))
    for b, L in enumerate(lengths.tolist()):
        _close(H[b, :L], full[b, :L])  # a row's real steps do not depend on its padding
        assert torch.all(H[b, L:] == 0)
        _close(h[b], full[b, L - 1])


def test_stacked_residual_adds_skips_above_the_first_layer() -> None:
    torch.manual_seed(0)
    c1, c2, c3 = ScratchRNN(D, N).double(), ScratchRNN(N, N).double(), ScratchRNN(N, 7).double()
    x, lengths = _x(), [5, 2, 3]
    with torch.no_grad():
        H, states = Stacked([c1, c2, c3], residual=True)(x, lengths)
        h1, s1 = run_cell(c1, x, lengths)  # first layer: no skip (it reads d-sized inputs)
        h2, s2 = run_cell(c2, h1, lengths)
        h3, s3 = run_cell(c3, h1 + h2, lengths)  # widths 6 -> 7: nothing of the same size to add
        plain, _ = Stacked([c1, c2, c3])(x, lengths)
    _close(H, h3)
    for got, want in zip(states, [s1, s2, s3], strict=True):
        _close(got, want)
    assert H.shape == (B, T, 7) and (H - plain).abs().max() > 1e-3
    assert torch.all(H[1, 2:] == 0)


def test_state_round_trip_and_count_check() -> None:
    stack = stacked_from_torch(_torch("rnn", num_layers=2, bidirectional=True))
    h0 = _h0("rnn", 4)
    per_layer = stack.state_from_torch(h0)
    assert len(per_layer) == 2 and isinstance(per_layer[0], tuple)
    assert torch.equal(stack.state_to_torch(per_layer), h0)
    with pytest.raises(ValueError, match="layer-directions"):
        stack.state_from_torch(_h0("rnn", 6))
    with pytest.raises(ValueError, match="one state per layer"):
        stack(_x(), None, per_layer[:1])


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("lengths", "match"),
    [([6, 2, 3], "between 1 and T=5"), ([5, 0, 3], "between 1 and T=5"), ([5, 2], r"shape \(B,\)"),
     ([5.0, 2.0, 3.0], "integers")],
)
def test_bad_lengths(lengths: list, match: str) -> None:
    torch.manual_seed(0)
    bi = Bidirectional(ScratchRNN(D, N).double(), ScratchRNN(D, N).double())
    with pytest.raises(ValueError, match=match):
        bi(_x(), torch.tensor(lengths))
    with pytest.raises(ValueError, match=match):
        lengths_tensor(lengths, B, T, torch.device("cpu"))


def test_bad_shapes_and_copies() -> None:
    torch.manual_seed(0)
    with pytest.raises(ValueError, match=r"e must be \(B, T, d\)"):
        run_cell(ScratchRNN(D, N), torch.randn(B, D))
    with pytest.raises(ValueError, match="at least one"):
        Stacked([])
    rnn = _torch("rnn")
    with pytest.raises(ValueError, match="shape mismatch"):
        copy_cell_from_torch(ScratchRNN(N, D), rnn)
    with pytest.raises(ValueError, match="no layer 0 reverse"):
        copy_cell_from_torch(ScratchRNN(D, N), rnn, reverse=True)
    with pytest.raises(ValueError, match="dropout"):
        stacked_from_torch(nn.RNN(D, N, num_layers=2, dropout=0.5))
    with pytest.raises(ValueError, match="tanh"):
        stacked_from_torch(nn.RNN(D, N, nonlinearity="relu"))
    with pytest.raises(ValueError, match="copies into a ScratchRNN"):
        copy_cell_from_torch(ScratchLSTM(D, N), rnn)
    with pytest.raises(ValueError, match="copies into a ScratchGRU"):
        copy_cell_from_torch(ScratchLSTM(D, N), _torch("gru"))
    with pytest.raises(ValueError, match=r"expected an nn\.RNN, nn\.LSTM or nn\.GRU"):
        copy_cell_from_torch(ScratchGRU(D, N), nn.Linear(D, N))


# ----------------------------------------------------------------------------- DeepRNNLM


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_deep_rnnlm_matches_rnnlm_without_residual(cell: str) -> None:
    torch.manual_seed(0)
    deep, ref = DeepRNNLM(V, D, N, 2, cell=cell).double(), RNNLM(V, D, N, cell=cell, num_layers=2).double()
    with torch.no_grad():  # the same weights: layer i's *_l0 tensors are the stacked module's *_l{i}
        ref.embedding.weight.copy_(deep.embedding.weight)
        ref.head.load_state_dict(deep.head.state_dict())
        for i, layer in enumerate(deep.layers):
            for name, p in layer.named_parameters():
                getattr(ref.rnn, name.replace("_l0", f"_l{i}")).copy_(p)
    x = torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(0))
    state = ref.init_state(B)
    state = tuple(s.normal_() for s in state) if cell == "lstm" else state.normal_()
    logits, s = deep(x, state)
    want, s_want = ref(x, state)
    assert logits.shape == (B, T, V)
    _close(logits, want)
    _close(s, s_want)


def test_deep_rnnlm_residual_form() -> None:
    torch.manual_seed(0)
    m = DeepRNNLM(V, D, N, 3, cell="gru", residual=True).double()
    x = torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(1))
    h0 = m.init_state(B)
    with torch.no_grad():
        logits, state = m(x)
        h1, _ = m.layers[0](m.embedding(x), h0[:1])
        h2 = h1 + m.layers[1](h1, h0[1:2])[0]
        h3 = h2 + m.layers[2](h2, h0[2:])[0]
    _close(logits, m.head(h3))
    assert state.shape == (3, B, N)


def test_deep_rnnlm_trains_with_train_lm() -> None:
    torch.manual_seed(0)
    m = DeepRNNLM(V, 8, 8, 3, cell="lstm", residual=True)  # d == n: still no skip around layer 1
    ids = np.tile(np.arange(V), 60)  # a periodic stream: easy to learn
    hist = train_lm(m, ids, ids[:100], steps=20, B=4, T=12, lr=2e-2, progress=False)
    assert hist.steps == 20 and np.isfinite(hist.train_loss).all()
    assert np.mean(hist.train_loss[-5:]) < 0.5 * np.mean(hist.train_loss[:5])
    assert len(hist.valid_loss) == 1
    h, c = m.init_state(2)
    assert h.shape == c.shape == (3, 2, 8)


def test_deep_rnnlm_bad_arguments() -> None:
    with pytest.raises(ValueError, match="cell must be one of"):
        DeepRNNLM(V, D, N, 2, cell="scratch")
    with pytest.raises(ValueError, match="num_layers"):
        DeepRNNLM(V, D, N, 0)
    with pytest.raises(ValueError, match=r"\(B, T\) token ids"):
        DeepRNNLM(V, D, N, 1)(torch.zeros(B, T, D, dtype=torch.long))
