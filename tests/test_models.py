"""Tests for lecture_code.models: ScratchRNN, RNNLM, state handling and the NumPy <-> torch conversions.

Sizes B, T, d, n, |V| = 3, 5, 4, 6, 7 are pairwise distinct so that transposed weights or swapped axes fail.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from lecture_code.models import (
    CELLS,
    RNNLM,
    ScratchRNN,
    detach_state,
    num_params,
    numpy_params_to_torch,
    torch_to_numpy_params,
)
from lecture_code.numpy_rnn import PARAM_NAMES, init_rnn_lm_params

B, T, D, N, V = 3, 5, 4, 6, 7

CONFIGS = [("rnn", 1), ("scratch", 1), ("lstm", 1), ("gru", 1), ("rnn", 2), ("lstm", 2), ("gru", 2)]


def _model(cell: str, num_layers: int = 1, seed: int = 0) -> RNNLM:
    torch.manual_seed(seed)
    return RNNLM(V, D, N, cell=cell, num_layers=num_layers)


def _ids(shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    return torch.randint(0, V, shape, generator=torch.Generator().manual_seed(seed))


def _states(state) -> tuple[torch.Tensor, ...]:
    return state if isinstance(state, tuple) else (state,)


def _expected_state_shape(cell: str, num_layers: int) -> tuple[int, ...]:
    return (B, N) if cell == "scratch" else (num_layers, B, N)


# ----------------------------------------------------------------------------- construction


def test_cells() -> None:
    assert set(CELLS) == {"rnn", "scratch", "lstm", "gru"}


def test_bad_cell_is_value_error() -> None:
    with pytest.raises(ValueError, match="cell must be one of"):
        RNNLM(V, D, N, cell="transformer")


def test_scratch_has_one_layer() -> None:
    with pytest.raises(ValueError, match="one layer"):
        RNNLM(V, D, N, cell="scratch", num_layers=2)


def test_scratch_rnn_parameters_and_forward() -> None:
    torch.manual_seed(0)
    r = ScratchRNN(D, N)
    assert dict((k, tuple(p.shape)) for k, p in r.named_parameters()) == {"W_h": (N, N), "W_e": (N, D), "b1": (N,)}
    bound = 1 / N**0.5
    assert all(float(p.detach().abs().max()) <= bound for p in r.parameters())
    e, h0 = torch.randn(B, T, D), torch.randn(B, N)
    hs, last = r(e, h0)
    assert hs.shape == (B, T, N) and last.shape == (B, N)
    assert torch.equal(hs[:, -1], last)
    h = h0
    for t in range(T):  # the slide's formula with column vectors
        h = torch.tanh(r.W_h @ h.T + r.W_e @ e[:, t].T + r.b1[:, None]).T
        torch.testing.assert_close(hs[:, t], h, rtol=0, atol=1e-6)


# ----------------------------------------------------------------------------- shapes and states


@pytest.mark.parametrize(("cell", "num_layers"), CONFIGS)
def test_output_and_state_shapes(cell: str, num_layers: int) -> None:
    model = _model(cell, num_layers)
    logits, state = model(_ids((B, T)))
    assert logits.shape == (B, T, V)
    assert isinstance(state, tuple) == (cell == "lstm")
    states = _states(state)
    assert len(states) == (2 if cell == "lstm" else 1)
    for s in states:
        assert s.shape == _expected_state_shape(cell, num_layers)


@pytest.mark.parametrize(("cell", "num_layers"), CONFIGS)
def test_init_state_is_zeros(cell: str, num_layers: int) -> None:
    model = _model(cell, num_layers)
    state = model.init_state(B)
    for s in _states(state):
        assert s.shape == _expected_state_shape(cell, num_layers)
        assert s.dtype == torch.float32
        assert torch.count_nonzero(s) == 0
    if cell == "lstm":
        assert state[0] is not state[1]  # h(0) and c(0) are separate tensors
    # After .double() the zero state follows the parameters' dtype.
    for s in _states(model.double().init_state(B)):
        assert s.dtype == torch.float64
    # No state means the zero state.
    x = _ids((B, T))
    logits_none, _ = model(x)
    logits_zero, _ = model(x, model.init_state(B))
    assert torch.equal(logits_none, logits_zero)


@pytest.mark.parametrize(("cell", "num_layers"), CONFIGS)
def test_carrying_state_equals_one_long_window(cell: str, num_layers: int) -> None:
    model = _model(cell, num_layers).double()
    x = _ids((B, 2 * T + 1))
    with torch.no_grad():
        full, full_state = model(x)
        first, state = model(x[:, :T])
        second, state = model(x[:, T:], state)
    both = torch.cat([first, second], dim=1)
    if cell == "scratch":  # the same torch ops in the same order: bit-for-bit
        assert torch.equal(both, full)
        assert torch.equal(state, full_state)
    else:
        # torch's CPU RNN/LSTM/GRU kernels precompute the input projections for the whole window in one
        # matrix product, so a different window length may change the last bit (seen: 5.6e-17 for LSTM/GRU).
        torch.testing.assert_close(both, full, rtol=0, atol=1e-12)
        for a, b in zip(_states(state), _states(full_state), strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("cell", "num_layers"), CONFIGS)
def test_detach_state_cuts_the_graph(cell: str, num_layers: int) -> None:
    model = _model(cell, num_layers)
    _, state = model(_ids((B, T)))
    for s in _states(state):
        assert s.requires_grad and s.grad_fn is not None
    cut = detach_state(state)
    assert type(cut) is type(state)
    for before, after in zip(_states(state), _states(cut), strict=True):
        assert not after.requires_grad and after.grad_fn is None
        assert torch.equal(before, after)
    # A loss on the next window reaches the parameters but not the previous window's graph.
    logits, _ = model(_ids((B, T), seed=1), cut)
    logits.sum().backward()
    assert model.head.weight.grad is not None


def test_detach_state_on_plain_tensors() -> None:
    w = torch.ones(2, requires_grad=True)
    h = w * 3
    assert detach_state(h).grad_fn is None
    pair = detach_state((h, 2 * h))
    assert isinstance(pair, tuple) and len(pair) == 2
    assert all(not s.requires_grad for s in pair)
    assert torch.equal(pair[1], torch.full((2,), 6.0))


# ----------------------------------------------------------------------------- parameter counts


def test_num_params_rnn_by_hand() -> None:
    model = _model("rnn")
    assert num_params(model) == V * D + N * D + N * N + 2 * N + N * V + V
    assert num_params(_model("scratch")) == V * D + N * D + N * N + N + N * V + V  # one bias
    model.embedding.weight.requires_grad_(False)  # frozen parameters are not counted
    assert num_params(model) == N * D + N * N + 2 * N + N * V + V


def test_num_params_lstm_gru_two_layers() -> None:
    def rec(gates: int) -> int:  # two layers: the second reads n inputs instead of d
        return gates * (N * D + N * N + 2 * N) + gates * (N * N + N * N + 2 * N)

    outer = V * D + N * V + V
    assert num_params(_model("lstm", 2)) == outer + rec(4)
    assert num_params(_model("gru", 2)) == outer + rec(3)


# ----------------------------------------------------------------------------- gradients


def test_gradients_of_scratch_and_nn_rnn_agree() -> None:
    params = init_rnn_lm_params(V, D, N, np.random.default_rng(3), scale=0.5)
    x, y = _ids((B, T), seed=2), _ids((B, T), seed=3)
    h0 = torch.randn(B, N, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    grads = {}
    for cell in ("scratch", "rnn"):
        model = numpy_params_to_torch(params, _model(cell).double())
        h = h0.clone().requires_grad_(True)
        logits, _ = model(x, h if cell == "scratch" else h[None])
        F.cross_entropy(logits.reshape(-1, V), y.reshape(-1)).backward()
        g = {"E": model.embedding.weight.grad, "U": model.head.weight.grad, "b2": model.head.bias.grad, "h0": h.grad}
        if cell == "scratch":
            g |= {"W_h": model.rnn.W_h.grad, "W_e": model.rnn.W_e.grad, "b1": model.rnn.b1.grad}
        else:
            g |= {"W_h": model.rnn.weight_hh_l0.grad, "W_e": model.rnn.weight_ih_l0.grad,
                  "b1": model.rnn.bias_ih_l0.grad, "b1_hh": model.rnn.bias_hh_l0.grad}
        grads[cell] = g
    s, r = grads["scratch"], grads["rnn"]
    for name in ("E", "U", "b2", "h0", "W_h", "W_e", "b1"):
        assert s[name].abs().max() > 0, name
        torch.testing.assert_close(s[name], r[name], rtol=0, atol=1e-10, msg=name)
    torch.testing.assert_close(r["b1_hh"], r["b1"], rtol=0, atol=1e-15)  # b1 = b_ih + b_hh: same gradient


# ----------------------------------------------------------------------------- NumPy <-> torch conversions


@pytest.mark.parametrize("cell", ["scratch", "rnn"])
def test_round_trip_numpy_torch_numpy(cell: str) -> None:
    params = init_rnn_lm_params(V, D, N, np.random.default_rng(5))
    model = _model(cell).double()
    assert numpy_params_to_torch(params, model) is model
    back = torch_to_numpy_params(model)
    assert tuple(back) == PARAM_NAMES
    for name in PARAM_NAMES:
        assert back[name].dtype == np.float64 and back[name].shape == params[name].shape, name
        np.testing.assert_array_equal(back[name], params[name], err_msg=name)
    # the returned arrays are copies, not views of the parameters
    back["W_h"][0, 0] += 1.0
    assert torch_to_numpy_params(model)["W_h"][0, 0] == params["W_h"][0, 0]


def test_numpy_params_to_torch_keeps_float32_and_zeroes_bias_hh() -> None:
    params = init_rnn_lm_params(V, D, N, np.random.default_rng(5))
    model = numpy_params_to_torch(params, _model("rnn"))
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert torch.count_nonzero(model.rnn.bias_hh_l0) == 0
    back = torch_to_numpy_params(model)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(back[name], params[name], rtol=1e-6, atol=1e-8, err_msg=name)


def test_torch_to_numpy_sums_the_two_biases() -> None:
    model = _model("rnn", seed=6).double()
    assert torch.count_nonzero(model.rnn.bias_hh_l0) > 0  # torch's default init: two nonzero biases
    params = torch_to_numpy_params(model)
    expected = (model.rnn.bias_ih_l0 + model.rnn.bias_hh_l0).detach().numpy()
    np.testing.assert_allclose(params["b1"], expected, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(params["E"], model.embedding.weight.detach().numpy().T)
    np.testing.assert_array_equal(params["W_e"], model.rnn.weight_ih_l0.detach().numpy())
    np.testing.assert_array_equal(params["W_h"], model.rnn.weight_hh_l0.detach().numpy())
    # the converted parameters describe the same function
    other = numpy_params_to_torch(params, _model("scratch", seed=7).double())
    x = _ids((B, T), seed=8)
    with torch.no_grad():
        torch.testing.assert_close(other(x)[0], model(x)[0], rtol=0, atol=1e-12)


def test_conversion_shape_mismatch_is_clear() -> None:
    params = init_rnn_lm_params(V + 1, D, N, np.random.default_rng(0))  # vocabulary one too big
    with pytest.raises(ValueError, match="shape mismatch"):
        numpy_params_to_torch(params, _model("rnn"))
    params = init_rnn_lm_params(V, D, N, np.random.default_rng(0))
    params["W_h"] = params["W_h"][:, :-1]
    with pytest.raises(ValueError, match="shape mismatch"):
        numpy_params_to_torch(params, _model("scratch"))
    params = init_rnn_lm_params(V, D, N, np.random.default_rng(0))
    params["W_e"] = params["W_e"].T  # (d, n) instead of (n, d)
    with pytest.raises(ValueError, match="shape mismatch"):
        numpy_params_to_torch(params, _model("rnn"))


@pytest.mark.parametrize(("cell", "num_layers"), [("lstm", 1), ("gru", 1), ("rnn", 2)])
def test_conversion_refuses_other_models(cell: str, num_layers: int) -> None:
    params = init_rnn_lm_params(V, D, N, np.random.default_rng(0))
    model = _model(cell, num_layers)
    with pytest.raises(ValueError, match="one-layer simple RNN"):
        numpy_params_to_torch(params, model)
    with pytest.raises(ValueError, match="one-layer simple RNN"):
        torch_to_numpy_params(model)


def test_rnn_cell_is_tanh_nn_rnn() -> None:
    model = _model("rnn")
    assert isinstance(model.rnn, nn.RNN) and model.rnn.nonlinearity == "tanh" and model.rnn.batch_first
    assert isinstance(_model("lstm").rnn, nn.LSTM) and isinstance(_model("gru").rnn, nn.GRU)
