"""Tests for the Chapter 5 parts of lecture_code.models: ScratchLSTM, ScratchGRU, set_forget_bias,
copy_cell_weights and the RNNLM cells "scratch_lstm" and "scratch_gru".

In float64 the scratch cells must equal ``torch.nn.LSTM`` / ``nn.GRU`` with copied weights to 1e-10, in the
outputs, the final states and the gradients. Sizes (B, T, d, n) include T = 1, B = 1 and n != d.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lecture_code.models import (
    LM_CELLS,
    RNNLM,
    ScratchGRU,
    ScratchLSTM,
    copy_cell_weights,
    detach_state,
    set_forget_bias,
)
from lecture_code.numpy_lstm import (
    GRU_PARAM_NAMES,
    LSTM_PARAM_NAMES,
    gru_forward,
    init_gru_params,
    init_lstm_params,
    lstm_forward,
    lstm_params_from_torch,
    torch_layer_params,
)

SIZES = [(3, 5, 4, 6), (1, 1, 3, 2), (2, 4, 5, 3), (1, 6, 2, 5)]  # (B, T, d, n)
ATOL = 1e-10


def _pair(kind: str, d: int, n: int, seed: int = 0) -> tuple[nn.Module, nn.Module]:
    """(a float64 nn.LSTM/nn.GRU with torch's random init, a float64 scratch cell holding a copy of it)."""
    torch.manual_seed(seed)
    ref = {"lstm": nn.LSTM, "gru": nn.GRU}[kind](d, n, batch_first=True).double()
    scratch = {"lstm": ScratchLSTM, "gru": ScratchGRU}[kind](d, n).double()
    assert copy_cell_weights(ref, scratch) is scratch
    return ref, scratch


def _randn(*shape: int, seed: int = 1, grad: bool = False) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=torch.float64, generator=g).requires_grad_(grad)


# ----------------------------------------------------------------------------- construction


def test_scratch_lstm_parameters_and_row_order() -> None:
    d, n = 3, 5
    torch.manual_seed(0)
    m = ScratchLSTM(d, n, forget_bias=2.0)
    assert {k: tuple(p.shape) for k, p in m.named_parameters()} == {"W": (4 * n, n), "U": (4 * n, d), "b": (4 * n,)}
    assert float(m.W.detach().abs().max()) <= 1 / n**0.5 and float(m.U.detach().abs().max()) <= 1 / n**0.5
    p = m.lecture_params()
    assert tuple(p) == LSTM_PARAM_NAMES
    for k, g in enumerate("fioc"):  # rows stacked in the lecture's order (f, i, o, c̃)
        rows = slice(k * n, (k + 1) * n)
        assert torch.equal(p[f"W_{g}"], m.W[rows]) and torch.equal(p[f"U_{g}"], m.U[rows])
        assert torch.equal(p[f"b_{g}"], torch.full((n,), 2.0 if g == "f" else 0.0))
    p["W_f"] += 1  # a copy, not a view
    assert not torch.equal(m.lecture_params()["W_f"], p["W_f"])


def test_set_lecture_params_from_numpy_keeps_dtype(rng: np.random.Generator) -> None:
    params = init_lstm_params(3, 4, rng) | {"b_o": rng.normal(size=4)}
    m = ScratchLSTM(3, 4)
    assert m.set_lecture_params(params) is m
    assert m.W.dtype == torch.float32
    for k, v in m.lecture_params().items():
        np.testing.assert_allclose(v.numpy(), params[k], rtol=1e-6, atol=1e-7, err_msg=k)
    with pytest.raises(ValueError, match="missing"):
        m.set_lecture_params({k: v for k, v in params.items() if k != "U_c"})
    with pytest.raises(ValueError, match="shape mismatch for W_i"):
        m.set_lecture_params(params | {"W_i": params["W_i"][:3]})
    g = ScratchGRU(3, 4).set_lecture_params(init_gru_params(3, 4, rng))
    assert tuple(g.lecture_params()) == GRU_PARAM_NAMES


# ----------------------------------------------------------------------------- equal to torch.nn


@pytest.mark.parametrize(("B", "T", "d", "n"), SIZES)
def test_scratch_lstm_equals_nn_lstm(B: int, T: int, d: int, n: int) -> None:
    ref, m = _pair("lstm", d, n)
    x, h0, c0 = _randn(B, T, d, seed=1, grad=True), _randn(B, n, seed=2), _randn(B, n, seed=3)
    H, (h_T, c_T) = m(x, (h0, c0))
    out, (h_n, c_n) = ref(x, (h0[None], c0[None]))
    assert H.shape == (B, T, n) and h_T.shape == c_T.shape == (B, n)
    for a, b in ((H, out), (h_T, h_n[0]), (c_T, c_n[0])):
        torch.testing.assert_close(a, b, rtol=0, atol=ATOL)
    # the gradients agree too (b = bias_ih + bias_hh, so dJ/db is bias_ih's gradient)
    G = _randn(B, T, n, seed=4)
    gx = torch.autograd.grad((H * G).sum() + c_T.sum(), [x, *m.parameters()])
    gx_ref = torch.autograd.grad((out * G).sum() + c_n.sum(), [x, ref.weight_ih_l0, ref.weight_hh_l0, ref.bias_ih_l0])
    torch.testing.assert_close(gx[0], gx_ref[0], rtol=0, atol=ATOL)
    expected = lstm_params_from_torch(gx_ref[1], gx_ref[2], gx_ref[3], torch.zeros(4 * n))
    for g in "fioc":
        for k, grad in zip("WUb", gx[1:], strict=True):  # the stacked gradients, read with the lecture's names
            np.testing.assert_allclose(grad[m.gate_rows(g)].numpy(), expected[f"{k}_{g}"], rtol=0, atol=ATOL)


@pytest.mark.parametrize(("B", "T", "d", "n"), SIZES)
def test_scratch_gru_equals_nn_gru(B: int, T: int, d: int, n: int) -> None:
    ref, m = _pair("gru", d, n)
    x, h0 = _randn(B, T, d, seed=1, grad=True), _randn(B, n, seed=2)
    H, h_T = m(x, h0)
    out, h_n = ref(x, h0[None])
    torch.testing.assert_close(H, out, rtol=0, atol=ATOL)
    torch.testing.assert_close(h_T, h_n[0], rtol=0, atol=ATOL)
    G = _randn(B, T, n, seed=4)
    (dx,) = torch.autograd.grad((H * G).sum(), [x])
    (dx_ref,) = torch.autograd.grad((out * G).sum(), [x])
    torch.testing.assert_close(dx, dx_ref, rtol=0, atol=ATOL)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_scratch_cells_equal_the_numpy_code(kind: str, rng: np.random.Generator) -> None:
    B, T, d, n = 2, 5, 3, 4
    m = ScratchLSTM(d, n).double() if kind == "lstm" else ScratchGRU(d, n).double()
    init = init_lstm_params if kind == "lstm" else init_gru_params
    params = {k: v + (rng.normal(size=v.shape) if k.startswith("b") else 0) for k, v in init(d, n, rng).items()}
    m.set_lecture_params(params)
    x, h0, c0 = rng.normal(size=(B, T, d)), rng.normal(size=(B, n)), rng.normal(size=(B, n))
    with torch.no_grad():
        if kind == "lstm":
            H, (_, c_T) = m(torch.from_numpy(x), (torch.from_numpy(h0), torch.from_numpy(c0)))
            H_np, C_np, _ = lstm_forward(x, h0, c0, params)
            np.testing.assert_allclose(c_T.numpy(), C_np[:, -1], rtol=0, atol=ATOL)
        else:
            H, _ = m(torch.from_numpy(x), torch.from_numpy(h0))
            H_np = gru_forward(x, h0, params)
    np.testing.assert_allclose(H.numpy(), H_np, rtol=0, atol=ATOL)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_step_equals_forward_and_none_means_zeros(kind: str) -> None:
    B, T, d, n = 2, 4, 3, 5
    _, m = _pair(kind, d, n)
    x = _randn(B, T, d)
    with torch.no_grad():
        H, last = m(x, m.init_state(B))
        H_none, _ = m(x)
        state = m.init_state(B)
        for t in range(T):
            h, state = m.step(x[:, t], state)
            torch.testing.assert_close(h, H[:, t], rtol=0, atol=1e-12)
    assert torch.equal(H, H_none)
    for a, b in zip(detach_state(state), detach_state(last), strict=True) if kind == "lstm" else [(state, last)]:
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


def test_init_state() -> None:
    m = ScratchLSTM(3, 4)
    h, c = m.init_state(2)
    assert h.shape == c.shape == (2, 4) and h is not c and not h.any() and not c.any()
    assert m.double().init_state(1)[0].dtype == torch.float64
    assert ScratchGRU(3, 4).init_state(5).shape == (5, 4)


# ----------------------------------------------------------------------------- copying weights


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_copy_cell_weights_both_ways_and_with_suffix(kind: str) -> None:
    d, n = 3, 4
    ref, m = _pair(kind, d, n)
    torch.manual_seed(5)
    deep = {"lstm": nn.LSTM, "gru": nn.GRU}[kind](d, n, num_layers=2, bidirectional=True).double()
    layer1 = {"lstm": ScratchLSTM, "gru": ScratchGRU}[kind](2 * n, n).double()
    copy_cell_weights(deep, layer1, suffix="_l1_reverse")
    expected = torch_layer_params(deep, "_l1_reverse")
    for k, v in layer1.lecture_params().items():
        np.testing.assert_allclose(v.numpy(), expected[k], rtol=0, atol=1e-15, err_msg=k)
    bi = {"lstm": nn.LSTM, "gru": nn.GRU}[kind](d, n, bidirectional=True, batch_first=True).double()
    copy_cell_weights(m, bi, suffix="_l0_reverse")  # scratch -> nn, into the reverse direction
    x = _randn(2, 3, d)
    with torch.no_grad():
        out, _ = bi(x)
        H, _ = m(x.flip(1))  # the reverse direction reads the sequence backwards
    torch.testing.assert_close(out[..., n:], H.flip(1), rtol=0, atol=ATOL)
    other = {"lstm": ScratchGRU, "gru": ScratchLSTM}[kind](d, n)
    with pytest.raises(ValueError, match="copy an LSTM into an LSTM"):
        copy_cell_weights(ref, other)
    with pytest.raises(ValueError, match="copy an LSTM into an LSTM"):
        copy_cell_weights(nn.RNN(d, n), m)


def test_copy_keeps_float32() -> None:
    ref, _ = _pair("lstm", 3, 4)
    m = copy_cell_weights(ref, ScratchLSTM(3, 4))
    assert m.W.dtype == torch.float32
    torch.testing.assert_close(m.W[:4].double(), ref.weight_hh_l0[4:8], rtol=1e-6, atol=1e-7)  # W_f: torch's f block


# ----------------------------------------------------------------------------- forget bias


def test_set_forget_bias_nn_lstm_sets_the_sum() -> None:
    torch.manual_seed(0)
    n = 4
    lstm = nn.LSTM(3, n, num_layers=2, bidirectional=True)
    before = {k: v.detach().clone() for k, v in lstm.named_parameters()}
    assert set_forget_bias(lstm, 1.5) is lstm
    for sfx in ("_l0", "_l1", "_l0_reverse", "_l1_reverse"):
        p = torch_layer_params(lstm, sfx)
        np.testing.assert_allclose(p["b_f"], 1.5, rtol=0, atol=1e-7)  # bias_ih + bias_hh, f block
        b_sum = before["bias_ih" + sfx] + before["bias_hh" + sfx]
        for k, g in ((0, "i"), (2, "c"), (3, "o")):  # the other gates are untouched
            np.testing.assert_allclose(p[f"b_{g}"], b_sum[k * n : (k + 1) * n].numpy(), rtol=0, atol=1e-7)
    for name, v in lstm.named_parameters():
        assert torch.equal(v, before[name]) == (not name.startswith("bias")), name


def test_set_forget_bias_scratch_and_models() -> None:
    m = ScratchLSTM(3, 4)
    set_forget_bias(m, -2.0)
    assert torch.equal(m.lecture_params()["b_f"], torch.full((4,), -2.0))
    assert not m.lecture_params()["b_i"].any()
    model = RNNLM(7, 3, 4, cell="lstm", num_layers=2)
    set_forget_bias(model, 1.0)  # every nn.LSTM inside a module
    np.testing.assert_allclose(torch_layer_params(model.rnn, "_l1")["b_f"], 1.0, rtol=0, atol=1e-7)
    set_forget_bias(RNNLM(7, 3, 4, cell="scratch_lstm"), 3.0)
    with pytest.raises(ValueError, match=r"no nn\.LSTM or ScratchLSTM"):
        set_forget_bias(RNNLM(7, 3, 4, cell="gru"), 1.0)
    with pytest.raises(ValueError, match="bias=False"):
        set_forget_bias(nn.LSTM(3, 4, bias=False), 1.0)


def test_forget_one_input_zero_preserves_the_cell_exactly() -> None:
    """f = 1 and i = 0 exactly: ScratchLSTM keeps c(0) bit for bit over 1,000 steps, while h follows the input."""
    B, T, d, n = 2, 1000, 3, 4
    m = ScratchLSTM(d, n).double()
    with torch.no_grad():
        for g in "fi":
            m.W[m.gate_rows(g)] = 0
            m.U[m.gate_rows(g)] = 0
        set_forget_bias(m, 50.0)  # σ(50) == 1.0 in float64
        m.b[m.gate_rows("i")] = -800.0  # σ(-800) == 0.0
        c0 = _randn(B, n, seed=2)
        H, (_, c_T) = m(_randn(B, T, d, seed=1), (_randn(B, n, seed=3), c0))
    assert torch.equal(c_T, c0)
    assert H.std(dim=1).min() > 1e-3


# ----------------------------------------------------------------------------- in the language model


@pytest.mark.parametrize("cell", ["scratch_lstm", "scratch_gru"])
def test_rnnlm_with_scratch_gated_cells(cell: str) -> None:
    B, T, V, d, n = 3, 5, 7, 4, 6
    assert cell in LM_CELLS
    torch.manual_seed(0)
    model = RNNLM(V, d, n, cell=cell).double()
    x = torch.randint(0, V, (B, 2 * T), generator=torch.Generator().manual_seed(1))
    state = model.init_state(B)
    states = state if cell == "scratch_lstm" else (state,)
    assert all(s.shape == (B, n) and s.dtype == torch.float64 and not s.any() for s in states)
    logits, final = model(x)
    assert logits.shape == (B, 2 * T, V)
    with torch.no_grad():  # carrying the state across windows equals one long window
        first, st = model(x[:, :T])
        second, st = model(x[:, T:], detach_state(st))
    torch.testing.assert_close(torch.cat([first, second], 1), logits.detach(), rtol=0, atol=1e-12)
    for a, b in zip(detach_state(st if cell == "scratch_lstm" else (st,)),
                    final if cell == "scratch_lstm" else (final,), strict=True):
        torch.testing.assert_close(a, b.detach(), rtol=0, atol=1e-12)
    torch.nn.functional.cross_entropy(logits.reshape(-1, V), x.roll(-1, 1).reshape(-1)).backward()
    assert all(p.grad is not None and p.grad.abs().max() > 0 for p in model.parameters())
    with pytest.raises(ValueError, match="one layer"):
        RNNLM(V, d, n, cell=cell, num_layers=2)
