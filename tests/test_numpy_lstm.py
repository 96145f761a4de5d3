"""Tests for lecture_code.numpy_lstm: the LSTM and GRU from scratch in NumPy.

Everything is float64. The forward passes must equal ``torch.nn.LSTM`` / ``nn.GRU`` (whose weights, including
both of torch's biases, are random) to 1e-10; the fused sequence code must equal the readable step code to
1e-12; the hand-written backward passes must equal torch.autograd to 1e-10 and central differences to a
relative 1e-6. Sizes (B, T, d, n) include T = 1, B = 1 and n != d, so that a transposed matrix or a swapped
axis fails instead of passing by accident.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lecture_code.gradients import numerical_gradient, relative_error
from lecture_code.numpy_lstm import (
    GRU_PARAM_NAMES,
    LSTM_PARAM_NAMES,
    gru_forward,
    gru_params_from_torch,
    gru_params_to_torch,
    gru_step,
    init_gru_params,
    init_lstm_params,
    lstm_backward,
    lstm_forward,
    lstm_params_from_torch,
    lstm_params_to_torch,
    lstm_step,
    lstm_step_backward,
    lstm_step_forward,
    set_torch_layer_params,
    sigmoid,
    torch_layer_params,
)

SIZES = [(3, 5, 4, 6), (1, 1, 3, 2), (2, 4, 5, 3), (1, 6, 2, 5)]  # (B, T, d, n)
ATOL = 1e-10


def _layer(kind: str, d: int, n: int, seed: int = 0, **kw) -> nn.Module:
    """A float64 nn.LSTM / nn.GRU with torch's random init (both biases nonzero), batch-first."""
    torch.manual_seed(seed)
    return {"lstm": nn.LSTM, "gru": nn.GRU}[kind](d, n, batch_first=True, **kw).double()


def _inputs(B: int, T: int, d: int, n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(B, T, d)), rng.normal(size=(B, n)), rng.normal(size=(B, n))


def _t(a: np.ndarray, grad: bool = False) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


# ----------------------------------------------------------------------------- initialisation


def test_init_lstm_params() -> None:
    d, n = 3, 5
    p = init_lstm_params(d, n, np.random.default_rng(0), forget_bias=1.5)
    assert tuple(p) == LSTM_PARAM_NAMES == ("W_f", "U_f", "b_f", "W_i", "U_i", "b_i", "W_o", "U_o", "b_o",
                                            "W_c", "U_c", "b_c")
    for g in "fioc":
        assert p[f"W_{g}"].shape == (n, n) and p[f"U_{g}"].shape == (n, d) and p[f"b_{g}"].shape == (n,)
        assert np.abs(p[f"W_{g}"]).max() <= 1 / np.sqrt(n) and np.abs(p[f"U_{g}"]).max() <= 1 / np.sqrt(n)
        np.testing.assert_array_equal(p[f"b_{g}"], 1.5 if g == "f" else 0.0)
    assert len({float(p[k].std()) for k in p if k[0] in "WU"}) == 8  # eight different random matrices
    again = init_lstm_params(d, n, np.random.default_rng(0))
    np.testing.assert_array_equal(again["W_c"], p["W_c"])
    np.testing.assert_array_equal(again["b_f"], 0.0)


def test_init_gru_params() -> None:
    p = init_gru_params(3, 5, np.random.default_rng(0))
    assert tuple(p) == GRU_PARAM_NAMES == ("W_u", "U_u", "b_u", "W_r", "U_r", "b_r", "W_c", "U_c", "b_c", "b_rc")
    assert p["W_c"].shape == (5, 5) and p["U_c"].shape == (5, 3) and p["b_rc"].shape == (5,)


def test_sigmoid_is_exact_and_quiet_at_the_extremes() -> None:
    a = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with np.errstate(all="raise", under="ignore"):
        s = sigmoid(a)
    assert s[0] == 0.0 and s[2] == 0.5 and s[3] == 1.0 and s[4] == 1.0
    np.testing.assert_allclose(sigmoid(a[1:4]), torch.sigmoid(torch.from_numpy(a[1:4])).numpy(), rtol=1e-15)


# ----------------------------------------------------------------------------- one step


def test_lstm_step_is_the_six_equations_on_column_vectors(rng: np.random.Generator) -> None:
    d, n, B = 4, 3, 2
    p = init_lstm_params(d, n, rng, forget_bias=0.3)
    p |= {f"b_{g}": rng.normal(size=n) for g in "ioc"}
    x, h0, c0 = rng.normal(size=(B, d)), rng.normal(size=(B, n)), rng.normal(size=(B, n))
    h, c = lstm_step(x, h0, c0, p)
    for b in range(B):  # the slide's formulas, one column vector at a time
        xc, hc, cc = x[b][:, None], h0[b][:, None], c0[b][:, None]
        gate = {g: p[f"W_{g}"] @ hc + p[f"U_{g}"] @ xc + p[f"b_{g}"][:, None] for g in "fioc"}
        f, i, o = (1 / (1 + np.exp(-gate[g])) for g in "fio")
        c_col = f * cc + i * np.tanh(gate["c"])
        np.testing.assert_allclose(c[b], c_col[:, 0], rtol=0, atol=1e-14)
        np.testing.assert_allclose(h[b], (o * np.tanh(c_col))[:, 0], rtol=0, atol=1e-14)


def test_lstm_step_forward_cache(rng: np.random.Generator) -> None:
    p = init_lstm_params(4, 3, rng)
    x, h0, c0 = rng.normal(size=(2, 4)), rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    h, c, cache = lstm_step_forward(x, h0, c0, p)
    assert set(cache) == {"x_t", "h_prev", "c_prev", "f", "i", "o", "c_tilde", "c", "params"}
    h2, c2 = lstm_step(x, h0, c0, p)
    assert np.array_equal(h, h2) and np.array_equal(c, c2) and np.array_equal(cache["c"], c)
    assert cache["params"] is p and cache["h_prev"] is h0
    np.testing.assert_allclose(cache["f"], sigmoid(h0 @ p["W_f"].T + x @ p["U_f"].T + p["b_f"]), rtol=0, atol=0)


# ----------------------------------------------------------------------------- forward == torch.nn


@pytest.mark.parametrize(("B", "T", "d", "n"), SIZES)
def test_lstm_forward_equals_nn_lstm_and_the_step_code(B: int, T: int, d: int, n: int) -> None:
    lstm = _layer("lstm", d, n)
    x, h0, c0 = _inputs(B, T, d, n)
    with torch.no_grad():
        out, (h_n, c_n) = lstm(_t(x), (_t(h0)[None], _t(c0)[None]))
    params = lstm_params_from_torch(lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0)
    H, C, _ = lstm_forward(x, h0, c0, params)
    assert H.shape == C.shape == (B, T, n) and H.dtype == np.float64
    np.testing.assert_allclose(H, out.numpy(), rtol=0, atol=ATOL)
    np.testing.assert_allclose(H[:, -1], h_n[0].numpy(), rtol=0, atol=ATOL)
    np.testing.assert_allclose(C[:, -1], c_n[0].numpy(), rtol=0, atol=ATOL)
    h, c = h0, c0
    for t in range(T):  # the fused sequence code equals the readable step code
        h, c = lstm_step(x[:, t], h, c, params)
        np.testing.assert_allclose(H[:, t], h, rtol=0, atol=1e-12)
        np.testing.assert_allclose(C[:, t], c, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("B", "T", "d", "n"), SIZES)
def test_gru_forward_equals_nn_gru(B: int, T: int, d: int, n: int) -> None:
    gru = _layer("gru", d, n)
    x, h0, _ = _inputs(B, T, d, n)
    with torch.no_grad():
        out, h_n = gru(_t(x), _t(h0)[None])
    params = gru_params_from_torch(gru.weight_ih_l0, gru.weight_hh_l0, gru.bias_ih_l0, gru.bias_hh_l0)
    H = gru_forward(x, h0, params)
    assert H.shape == (B, T, n)
    np.testing.assert_allclose(H, out.numpy(), rtol=0, atol=ATOL)
    np.testing.assert_allclose(gru_step(x[:, -1], H[:, -2] if T > 1 else h0, params), h_n[0].numpy(),
                               rtol=0, atol=ATOL)


def test_float32_in_float32_out(rng: np.random.Generator) -> None:
    p = {k: v.astype(np.float32) for k, v in init_lstm_params(4, 3, rng).items()}
    x, h0, c0 = (a.astype(np.float32) for a in _inputs(2, 5, 4, 3))
    H, C, caches = lstm_forward(x, h0, c0, p)
    assert H.dtype == C.dtype == np.float32
    dx, dh0, dc0, grads = lstm_backward(np.ones_like(H), caches)
    assert dx.dtype == dh0.dtype == dc0.dtype == grads["W_f"].dtype == np.float32
    H64, _, _ = lstm_forward(x.astype(np.float64), h0, c0, {k: v.astype(np.float64) for k, v in p.items()})
    np.testing.assert_allclose(H, H64, rtol=0, atol=1e-6)


# ----------------------------------------------------------------------------- backward


def _loss_weights(B: int, T: int, n: int, seed: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random G (B, T, n), g_h, g_c (B, n) for the loss J = sum(G H) + sum(g_h h(T)) + sum(g_c c(T))."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(B, T, n)), rng.normal(size=(B, n)), rng.normal(size=(B, n))


@pytest.mark.parametrize(("B", "T", "d", "n"), SIZES)
def test_lstm_backward_equals_autograd(B: int, T: int, d: int, n: int) -> None:
    lstm = _layer("lstm", d, n, seed=3)
    x, h0, c0 = _inputs(B, T, d, n)
    G, g_h, g_c = _loss_weights(B, T, n)
    xt, h0t, c0t = _t(x, True), _t(h0, True), _t(c0, True)
    out, (h_n, c_n) = lstm(xt, (h0t[None], c0t[None]))
    ((out * _t(G)).sum() + (h_n[0] * _t(g_h)).sum() + (c_n[0] * _t(g_c)).sum()).backward()

    params = torch_layer_params(lstm)
    _, _, caches = lstm_forward(x, h0, c0, params)
    dx, dh0, dc0, grads = lstm_backward(G, caches, dh_T=g_h, dc_T=g_c)
    # b = bias_ih + bias_hh, so dJ/db is either bias's gradient (not their sum)
    expected = lstm_params_from_torch(lstm.weight_ih_l0.grad, lstm.weight_hh_l0.grad, lstm.bias_ih_l0.grad,
                                      torch.zeros_like(lstm.bias_hh_l0))
    assert set(grads) == set(LSTM_PARAM_NAMES)
    for name in LSTM_PARAM_NAMES:
        assert grads[name].shape == params[name].shape
        np.testing.assert_allclose(grads[name], expected[name], rtol=0, atol=ATOL, err_msg=name)
    for got, t in ((dx, xt), (dh0, h0t), (dc0, c0t)):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=0, atol=ATOL)


@pytest.mark.parametrize(("B", "T", "d", "n"), [(2, 3, 3, 2), (1, 1, 2, 3)])
def test_lstm_backward_equals_finite_differences(B: int, T: int, d: int, n: int) -> None:
    rng = np.random.default_rng(5)
    params = init_lstm_params(d, n, rng, forget_bias=0.5)
    params |= {f"b_{g}": rng.normal(size=n) for g in "fioc"}
    x, h0, c0 = _inputs(B, T, d, n, seed=6)
    G, g_h, g_c = _loss_weights(B, T, n, seed=7)

    def J() -> float:
        H, C, _ = lstm_forward(x, h0, c0, params)
        return float((G * H).sum() + (g_h * H[:, -1]).sum() + (g_c * C[:, -1]).sum())

    _, _, caches = lstm_forward(x, h0, c0, params)
    dx, dh0, dc0, grads = lstm_backward(G, caches, dh_T=g_h, dc_T=g_c)
    for name, got, arr in [*((k, grads[k], params[k]) for k in LSTM_PARAM_NAMES),
                           ("x", dx, x), ("h0", dh0, h0), ("c0", dc0, c0)]:
        num = numerical_gradient(J, arr)
        assert np.abs(num).max() > 1e-3, name  # every gradient is really exercised
        assert relative_error(got, num) < 1e-6, name


def test_lstm_step_backward_alone(rng: np.random.Generator) -> None:
    d, n, B = 4, 3, 2
    params = init_lstm_params(d, n, rng) | {f"b_{g}": rng.normal(size=n) for g in "fioc"}
    x, h0, c0 = rng.normal(size=(B, d)), rng.normal(size=(B, n)), rng.normal(size=(B, n))
    dh, dc = rng.normal(size=(B, n)), rng.normal(size=(B, n))

    def J() -> float:
        h, c = lstm_step(x, h0, c0, params)
        return float((dh * h).sum() + (dc * c).sum())

    _, _, cache = lstm_step_forward(x, h0, c0, params)
    dx, dh0, dc0, grads = lstm_step_backward(dh, dc, cache)
    assert dx.shape == (B, d) and dh0.shape == dc0.shape == (B, n) and set(grads) == set(LSTM_PARAM_NAMES)
    for name, got, arr in [*((k, grads[k], params[k]) for k in LSTM_PARAM_NAMES),
                           ("x", dx, x), ("h0", dh0, h0), ("c0", dc0, c0)]:
        assert relative_error(got, numerical_gradient(J, arr)) < 1e-6, name
    # and to 1e-10 against autograd on the same equations written with torch ops
    tp = {k: _t(v, True) for k, v in params.items()}
    xt, ht, ct = _t(x, True), _t(h0, True), _t(c0, True)
    a = {g: ht @ tp[f"W_{g}"].T + xt @ tp[f"U_{g}"].T + tp[f"b_{g}"] for g in "fioc"}
    c = torch.sigmoid(a["f"]) * ct + torch.sigmoid(a["i"]) * torch.tanh(a["c"])
    ((_t(dh) * torch.sigmoid(a["o"]) * torch.tanh(c)).sum() + (_t(dc) * c).sum()).backward()
    for k in LSTM_PARAM_NAMES:
        np.testing.assert_allclose(grads[k], tp[k].grad.numpy(), rtol=0, atol=ATOL, err_msg=k)
    for got, t in ((dx, xt), (dh0, ht), (dc0, ct)):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=0, atol=ATOL)


@pytest.mark.parametrize(("B", "T", "d", "n"), SIZES)
def test_fused_backward_equals_chained_step_backward(B: int, T: int, d: int, n: int) -> None:
    params = torch_layer_params(_layer("lstm", d, n, seed=8))
    x, h0, c0 = _inputs(B, T, d, n)
    G, g_h, g_c = _loss_weights(B, T, n)
    _, _, caches = lstm_forward(x, h0, c0, params)
    dx, dh0, dc0, grads = lstm_backward(G, caches, dh_T=g_h, dc_T=g_c)
    h, c, steps = h0, c0, []
    for t in range(T):
        h, c, cache = lstm_step_forward(x[:, t], h, c, params)
        steps.append(cache)
    dh, dc, total = g_h, g_c, {k: 0.0 for k in LSTM_PARAM_NAMES}
    for t in reversed(range(T)):
        dx_t, dh, dc, g = lstm_step_backward(G[:, t] + dh, dc, steps[t])
        np.testing.assert_allclose(dx[:, t], dx_t, rtol=0, atol=1e-12)
        total = {k: total[k] + g[k] for k in total}
    np.testing.assert_allclose(dh0, dh, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dc0, dc, rtol=0, atol=1e-12)
    for k in LSTM_PARAM_NAMES:
        np.testing.assert_allclose(grads[k], total[k], rtol=0, atol=1e-12, err_msg=k)


def test_backward_without_final_gradients_means_zeros(rng: np.random.Generator) -> None:
    params = init_lstm_params(3, 4, rng)
    x, h0, c0 = _inputs(2, 3, 3, 4)
    G = rng.normal(size=(2, 3, 4))
    _, _, caches = lstm_forward(x, h0, c0, params)
    a = lstm_backward(G, caches)
    b = lstm_backward(G, caches, dh_T=np.zeros((2, 4)), dc_T=np.zeros((2, 4)))
    for u, v in zip(a[:3], b[:3], strict=True):
        np.testing.assert_array_equal(u, v)


# ----------------------------------------------------------------------------- torch's layout


def test_lstm_torch_layout_is_i_f_g_o(rng: np.random.Generator) -> None:
    d, n = 3, 4
    p = init_lstm_params(d, n, rng) | {f"b_{g}": rng.normal(size=n) for g in "fioc"}
    w_ih, w_hh, b_ih, b_hh = lstm_params_to_torch(p)
    assert w_ih.shape == (4 * n, d) and w_hh.shape == (4 * n, n) and b_ih.shape == b_hh.shape == (4 * n,)
    for k, g in enumerate("ifco"):  # torch's (i, f, g, o), g being c̃
        rows = slice(k * n, (k + 1) * n)
        assert np.array_equal(w_ih[rows], p[f"U_{g}"]) and np.array_equal(w_hh[rows], p[f"W_{g}"])
        assert np.array_equal(b_ih[rows], p[f"b_{g}"])
    assert not b_hh.any()
    back = lstm_params_from_torch(w_ih, w_hh, b_ih, b_hh)
    assert tuple(back) == LSTM_PARAM_NAMES
    for k in LSTM_PARAM_NAMES:
        assert np.array_equal(back[k], p[k]), k
    # torch -> lecture -> torch keeps the weights, and the sum of the biases
    lstm = _layer("lstm", d, n)
    t = [getattr(lstm, f"{w}_l0").detach().numpy() for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    again = lstm_params_to_torch(lstm_params_from_torch(*t))
    assert np.array_equal(again[0], t[0]) and np.array_equal(again[1], t[1])
    np.testing.assert_allclose(again[2] + again[3], t[2] + t[3], rtol=0, atol=1e-15)


def test_a_wrong_gate_order_fails() -> None:
    B, T, d, n = 2, 4, 3, 5
    lstm = _layer("lstm", d, n)
    x, h0, c0 = _inputs(B, T, d, n)
    with torch.no_grad():
        out, _ = lstm(_t(x), (_t(h0)[None], _t(c0)[None]))
    t = [getattr(lstm, f"{w}_l0").detach().numpy() for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    swap = np.r_[n : 2 * n, 0:n, 2 * n : 4 * n]  # read the blocks as (f, i, g, o): i and f swapped
    H_right, _, _ = lstm_forward(x, h0, c0, lstm_params_from_torch(*t))
    H_wrong, _, _ = lstm_forward(x, h0, c0, lstm_params_from_torch(*(a[swap] for a in t)))
    np.testing.assert_allclose(H_right, out.numpy(), rtol=0, atol=ATOL)
    assert np.abs(H_wrong - out.numpy()).max() > 1e-2


def test_gru_torch_layout_negates_the_update_gate(rng: np.random.Generator) -> None:
    d, n = 3, 4
    p = init_gru_params(d, n, rng) | {k: rng.normal(size=n) for k in ("b_u", "b_r", "b_c", "b_rc")}
    w_ih, w_hh, b_ih, b_hh = gru_params_to_torch(p)
    assert np.array_equal(w_hh[:n], p["W_r"]) and np.array_equal(w_hh[n : 2 * n], -p["W_u"])
    assert np.array_equal(w_ih[2 * n :], p["U_c"]) and np.array_equal(b_ih[n : 2 * n], -p["b_u"])
    assert np.array_equal(b_hh, np.r_[np.zeros(2 * n), p["b_rc"]])
    back = gru_params_from_torch(w_ih, w_hh, b_ih, b_hh)
    assert tuple(back) == GRU_PARAM_NAMES
    for k in GRU_PARAM_NAMES:
        assert np.array_equal(back[k], p[k]), k
    # into a real nn.GRU: the same function
    gru = set_torch_layer_params(_layer("gru", d, n), p)
    x, h0, _ = _inputs(2, 3, d, n)
    with torch.no_grad():
        out, _ = gru(_t(x), _t(h0)[None])
    np.testing.assert_allclose(gru_forward(x, h0, p), out.numpy(), rtol=0, atol=ATOL)
    # without negating z, the update gate would be read as 1 - u: the output differs
    wrong = gru_params_from_torch(w_ih, w_hh, b_ih, b_hh) | {k: -back[k] for k in ("W_u", "U_u", "b_u")}
    assert np.abs(gru_forward(x, h0, wrong) - out.numpy()).max() > 1e-2


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_layer_helpers_with_suffixes(kind: str) -> None:
    d, n = 3, 4
    deep = _layer(kind, d, n, num_layers=2, bidirectional=True)
    before = {k: v.detach().clone() for k, v in deep.named_parameters()}
    src = torch_layer_params(_layer(kind, 2 * n, n, seed=9))  # layer 1 reads 2n inputs (both directions)
    assert set_torch_layer_params(deep, src, "_l1_reverse") is deep
    got = torch_layer_params(deep, "_l1_reverse")
    for k, v in src.items():
        np.testing.assert_allclose(got[k], v, rtol=0, atol=1e-15, err_msg=k)
    for name, p in deep.named_parameters():  # only that layer and direction changed
        assert torch.equal(p, before[name]) != name.endswith("_l1_reverse"), name
    assert deep.bias_hh_l1_reverse.abs().max() == 0 or kind == "gru"
    with pytest.raises(ValueError, match="no weight_ih_l2"):
        torch_layer_params(deep, "_l2")
    with pytest.raises(ValueError, match="shape mismatch"):
        set_torch_layer_params(deep, src, "_l0")  # layer 0 reads d = 3 inputs, not 2n = 8
    with pytest.raises(ValueError, match=r"expected a torch\.nn\.LSTM"):
        torch_layer_params(nn.RNN(d, n))


def test_layer_without_bias() -> None:
    lstm = nn.LSTM(3, 4, bias=False).double()
    p = torch_layer_params(lstm)
    assert not any(p[f"b_{g}"].any() for g in "fioc")
    set_torch_layer_params(lstm, p)
    with pytest.raises(ValueError, match="bias=False"):
        set_torch_layer_params(lstm, p | {"b_f": np.ones(4)})


# ----------------------------------------------------------------------------- the cell keeps its value


def test_forget_one_input_zero_preserves_the_cell_exactly() -> None:
    """f = 1 and i = 0 exactly (the lecture's example): c(t) = c(0) bit for bit for 1,000 steps."""
    B, T, d, n = 2, 1000, 3, 4
    rng = np.random.default_rng(10)
    params = init_lstm_params(d, n, rng) | {f"b_{g}": rng.normal(size=n) for g in "oc"}
    params |= {"W_f": np.zeros((n, n)), "U_f": np.zeros((n, d)), "b_f": np.full(n, 50.0),  # σ(50) == 1.0
               "W_i": np.zeros((n, n)), "U_i": np.zeros((n, d)), "b_i": np.full(n, -800.0)}  # σ(-800) == 0.0
    x, h0, c0 = _inputs(B, T, d, n, seed=11)
    H, C, _ = lstm_forward(x, h0, c0, params)
    assert np.array_equal(C[:, -1], c0) and np.array_equal(C, np.broadcast_to(c0[:, None], C.shape))
    assert np.abs(H).max() > 0.1  # h(t) = o(t) tanh(c(0)) still changes with the inputs
    h, c = h0, c0
    for t in range(T):
        h, c = lstm_step(x[:, t], h, c, params)
    assert np.array_equal(c, c0)
    # a forget gate just below 1 (σ(5) ≈ 0.9933) loses the value: after 1,000 steps almost nothing is left
    _, C_leak, _ = lstm_forward(x, h0, c0, params | {"b_f": np.full(n, 5.0)})
    assert np.abs(C_leak[:, -1]).max() < 1e-2 * np.abs(c0).max()


# ----------------------------------------------------------------------------- bad input


def test_bad_input_is_a_clear_value_error(rng: np.random.Generator) -> None:
    p = init_lstm_params(3, 4, rng)
    x, h0, c0 = _inputs(2, 5, 3, 4)
    with pytest.raises(ValueError, match="missing"):
        lstm_forward(x, h0, c0, {k: v for k, v in p.items() if k != "b_o"})
    with pytest.raises(ValueError, match=r"W_i must have shape \(4, 4\)"):
        lstm_step(x[:, 0], h0, c0, p | {"W_i": p["W_i"][:, :3]})
    with pytest.raises(ValueError, match=r"x must be \(B, T, d\) with d=3"):
        lstm_forward(x[..., :2], h0, c0, p)
    with pytest.raises(ValueError, match=r"c0 must be \(B, n\)"):
        lstm_forward(x, h0, c0[:1], p)
    _, _, caches = lstm_forward(x, h0, c0, p)
    with pytest.raises(ValueError, match=r"dH must be \(B, T, n\)"):
        lstm_backward(np.zeros((2, 4, 4)), caches)
    with pytest.raises(ValueError, match=r"weight_hh must be \(4n, n\)"):
        lstm_params_from_torch(np.zeros((12, 3)), np.zeros((12, 4)), np.zeros(12), np.zeros(12))
    with pytest.raises(ValueError, match="n=4"):
        gru_params_from_torch(np.zeros((12, 3)), np.zeros((12, 4)), np.zeros(12), np.zeros(11))
    with pytest.raises(ValueError, match=r"h0 must be \(B, n\)"):
        gru_forward(x, h0.T, init_gru_params(3, 4, rng))
