"""Tests for lecture_code.numpy_rnn: the simple RNN-LM from scratch in NumPy.

The key test (the issue's requirement) checks that the NumPy forward pass gives the same logits and
loss, to 1e-10 in float64, as the PyTorch models (``RNNLM(cell="scratch")`` and ``RNNLM(cell="rnn")``,
i.e. ``torch.nn.RNN`` + ``Linear``) and as an independent ``torch.nn.RNN`` whose weights are set by hand.

Sizes are tiny and pairwise distinct (B, T, d, n, |V| = 3, 5, 4, 6, 7) so that a transposed matrix
or a swapped axis raises or gives wrong numbers instead of passing by accident.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from lecture_code.models import RNNLM, numpy_params_to_torch
from lecture_code.numpy_rnn import (
    PARAM_NAMES,
    init_rnn_lm_params,
    lm_loss,
    log_softmax,
    perplexity,
    rnn_forward,
    rnn_lm_forward,
    rnn_step,
    softmax,
)

B, T, D, N, V = 3, 5, 4, 6, 7


@pytest.fixture
def params() -> dict[str, np.ndarray]:
    # scale 0.5 so that tanh is visibly nonlinear and the logits are not all ~0
    return init_rnn_lm_params(V, D, N, np.random.default_rng(0), scale=0.5)


# ----------------------------------------------------------------------------- init


def test_init_shapes_dtype_range(params: dict[str, np.ndarray]) -> None:
    shapes = {"E": (D, V), "W_h": (N, N), "W_e": (N, D), "b1": (N,), "U": (V, N), "b2": (V,)}
    assert tuple(params) == PARAM_NAMES
    for name, shape in shapes.items():
        assert params[name].shape == shape, name
        assert params[name].dtype == np.float64, name
        assert np.all(np.abs(params[name]) <= 0.5), name
    assert len({float(p.std()) for p in params.values()}) == len(params)  # not all the same numbers


def test_init_seeding() -> None:
    a = init_rnn_lm_params(V, D, N, np.random.default_rng(7))
    b = init_rnn_lm_params(V, D, N, np.random.default_rng(7))
    c = init_rnn_lm_params(V, D, N, np.random.default_rng(8))
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(a[name], b[name])
        assert not np.array_equal(a[name], c[name])
        assert np.all(np.abs(a[name]) <= 0.1)  # default scale


# ----------------------------------------------------------------------------- one step


def test_rnn_step_equals_column_vector_loop(params: dict[str, np.ndarray], rng: np.random.Generator) -> None:
    e_t, h_prev = rng.normal(size=(B, D)), rng.normal(size=(B, N))
    W_h, W_e, b1 = params["W_h"], params["W_e"], params["b1"]
    got = rnn_step(e_t, h_prev, W_h, W_e, b1)
    assert got.shape == (B, N)
    expected = np.empty((B, N))
    for b in range(B):  # the slide's formula, one column vector at a time
        h_col, e_col = h_prev[b][:, None], e_t[b][:, None]
        expected[b] = np.tanh(W_h @ h_col + W_e @ e_col + b1[:, None])[:, 0]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-14)


# ----------------------------------------------------------------------------- softmax and friends


def test_softmax_sums_to_one_and_is_shift_invariant(rng: np.random.Generator) -> None:
    z = rng.normal(size=(B, T, V)) * 3
    p = softmax(z)
    assert p.shape == z.shape
    assert np.all(p > 0)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=0, atol=1e-14)
    shift = rng.normal(size=(B, T, 1)) * 100  # a different constant per row
    np.testing.assert_allclose(softmax(z + shift), p, rtol=0, atol=1e-14)


def test_softmax_matches_torch(rng: np.random.Generator) -> None:
    z = rng.normal(size=(B, T, V)) * 5
    expected = torch.softmax(torch.from_numpy(z), dim=-1).numpy()
    np.testing.assert_allclose(softmax(z), expected, rtol=0, atol=1e-12)
    expected_log = torch.log_softmax(torch.from_numpy(z), dim=-1).numpy()
    np.testing.assert_allclose(log_softmax(z), expected_log, rtol=0, atol=1e-12)


def test_softmax_is_stable_for_huge_logits() -> None:
    z = np.array([[1e3, -1e3, 0.0], [1e3, 1e3, -1e3], [-1e3, -1e3, -1e3]])
    expected = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    # Overflow, invalid operations (inf - inf, 0/0) and division by zero must not happen. Underflow
    # must: exp(-2000) is 0 in float64, which is the right answer, so errstate(all="raise") would
    # reject a correct softmax. We therefore raise on everything except underflow ...
    with np.errstate(all="raise", under="ignore"):
        p, logp = softmax(z), log_softmax(z)
    # ... and, with NumPy's default error handling, no warning may be emitted at all.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p2, logp2 = softmax(z), log_softmax(z)
    for probs in (p, p2):
        assert np.all(np.isfinite(probs))
        np.testing.assert_allclose(probs, expected, rtol=0, atol=1e-15)
    for lp in (logp, logp2):
        assert np.all(np.isfinite(lp))  # finite where softmax underflows to 0
    np.testing.assert_allclose(logp[0], [0.0, -2000.0, -1000.0], rtol=0, atol=1e-12)


def test_log_softmax_equals_log_of_softmax_where_safe(rng: np.random.Generator) -> None:
    z = rng.normal(size=(B, T, V)) * 4
    np.testing.assert_allclose(log_softmax(z), np.log(softmax(z)), rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.exp(log_softmax(z)).sum(axis=-1), 1.0, rtol=0, atol=1e-14)


def test_log_softmax_finite_where_softmax_underflows() -> None:
    z = np.array([0.0, -800.0, -5000.0])
    with np.errstate(under="ignore"):
        assert softmax(z)[1] == 0.0 and softmax(z)[2] == 0.0  # log(softmax) would be -inf
    np.testing.assert_allclose(log_softmax(z), z, rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------- loss and perplexity


def test_lm_loss_equals_torch_cross_entropy(rng: np.random.Generator) -> None:
    logits = rng.normal(size=(B, T, V)) * 2
    targets = rng.integers(0, V, size=(B, T))
    got = lm_loss(logits, targets)
    assert isinstance(got, float)
    expected = F.cross_entropy(torch.from_numpy(logits).reshape(-1, V), torch.from_numpy(targets).reshape(-1))
    assert abs(got - expected.item()) <= 1e-12


def test_lm_loss_of_uniform_prediction_is_log_v() -> None:
    assert lm_loss(np.zeros((B, T, V)), np.zeros((B, T), dtype=np.int64)) == pytest.approx(np.log(V), abs=1e-14)


def test_perplexity_is_exp() -> None:
    for j in (0.0, 0.5, np.log(V), 4.2):
        assert perplexity(j) == pytest.approx(np.exp(j), rel=1e-15)
    assert isinstance(perplexity(1.0), float)
    assert perplexity(float(np.log(V))) == pytest.approx(V, rel=1e-14)  # uniform guessing among |V| words


def test_perplexity_equals_product_form_on_a_forward_pass(
    params: dict[str, np.ndarray], rng: np.random.Generator
) -> None:
    # The slide's identity: perplexity = prod_t (1 / P(x(t+1) | x(1..t)))^(1/T) = exp(J).
    inputs = rng.integers(0, V, size=(B, T + 1))
    loss, cache = rnn_lm_forward(params, inputs, rng.normal(size=(B, N)) * 0.3)
    p_next = np.take_along_axis(cache["probs"], cache["targets"][..., None], axis=-1)[..., 0]
    assert p_next.shape == (B, T)
    product_form = np.prod(1.0 / p_next) ** (1.0 / p_next.size)
    assert perplexity(loss) == pytest.approx(product_form, rel=1e-12)


# ----------------------------------------------------------------------------- forward passes


def test_rnn_forward_shapes_and_values(params: dict[str, np.ndarray], rng: np.random.Generator) -> None:
    x = rng.integers(0, V, size=(B, T))
    h0 = rng.normal(size=(B, N))
    e, h = rnn_forward(params, x, h0)
    assert e.shape == (B, T, D) and h.shape == (B, T + 1, N)
    np.testing.assert_array_equal(h[:, 0], h0)
    onehot = np.eye(V)[x]  # (B, T, V)
    for b in range(B):
        h_col = h0[b][:, None]
        for t in range(T):
            e_col = params["E"] @ onehot[b, t][:, None]  # e(t) = E x(t) with one-hot x(t)
            np.testing.assert_allclose(e[b, t], e_col[:, 0], rtol=0, atol=1e-15)
            h_col = np.tanh(params["W_h"] @ h_col + params["W_e"] @ e_col + params["b1"][:, None])
            np.testing.assert_allclose(h[b, t + 1], h_col[:, 0], rtol=0, atol=1e-14)


def test_rnn_forward_rejects_non_2d_ids(params: dict[str, np.ndarray]) -> None:
    with pytest.raises(ValueError):
        rnn_forward(params, np.zeros(T, dtype=np.int64), np.zeros((B, N)))


def test_rnn_lm_forward_cache(params: dict[str, np.ndarray], rng: np.random.Generator) -> None:
    inputs = rng.integers(0, V, size=(B, T + 1))
    h0 = rng.normal(size=(B, N))
    loss, cache = rnn_lm_forward(params, inputs, h0)
    assert isinstance(loss, float)
    assert set(cache) == {"x", "targets", "e", "h", "logits", "probs", "params"}
    np.testing.assert_array_equal(cache["x"], inputs[:, :-1])
    np.testing.assert_array_equal(cache["targets"], inputs[:, 1:])
    assert cache["e"].shape == (B, T, D)
    assert cache["h"].shape == (B, T + 1, N)
    assert cache["logits"].shape == cache["probs"].shape == (B, T, V)
    np.testing.assert_array_equal(cache["h"][:, 0], h0)
    assert cache["params"] is params
    e, h = rnn_forward(params, inputs[:, :-1], h0)
    np.testing.assert_array_equal(cache["e"], e)
    np.testing.assert_array_equal(cache["h"], h)
    np.testing.assert_allclose(cache["logits"], h[:, 1:] @ params["U"].T + params["b2"], rtol=0, atol=1e-14)
    np.testing.assert_allclose(cache["probs"], softmax(cache["logits"]), rtol=0, atol=1e-15)
    assert loss == lm_loss(cache["logits"], inputs[:, 1:])


@pytest.mark.parametrize("shape", [(T + 1,), (B, 1), (B, 0), (B, T + 1, 1)])
def test_rnn_lm_forward_rejects_bad_inputs(params: dict[str, np.ndarray], shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="inputs must be"):
        rnn_lm_forward(params, np.zeros(shape, dtype=np.int64), np.zeros((B, N)))


# ----------------------------------------------------------------------------- THE KEY TEST: NumPy == PyTorch


def _torch_state(cell: str, h0: np.ndarray) -> torch.Tensor:
    h = torch.from_numpy(h0)
    return h if cell == "scratch" else h[None]  # (B, n) for ScratchRNN, (num_layers=1, B, n) for nn.RNN


@pytest.mark.parametrize("cell", ["scratch", "rnn"])
def test_numpy_forward_equals_torch_rnnlm(
    cell: str, params: dict[str, np.ndarray], rng: np.random.Generator
) -> None:
    inputs = rng.integers(0, V, size=(B, T + 1))
    h0 = rng.normal(size=(B, N)) * 0.5  # nonzero initial state, passed to the model as its state
    loss_np, cache = rnn_lm_forward(params, inputs, h0)

    torch.manual_seed(0)
    model = numpy_params_to_torch(params, RNNLM(V, D, N, cell=cell).double())
    x, y = torch.from_numpy(inputs[:, :-1]), torch.from_numpy(inputs[:, 1:])
    with torch.no_grad():
        logits, state = model(x, _torch_state(cell, h0))
        loss_t = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1)).item()
    assert logits.dtype == torch.float64 and logits.shape == (B, T, V)
    np.testing.assert_allclose(logits.numpy(), cache["logits"], rtol=0, atol=1e-10)
    assert abs(loss_t - loss_np) <= 1e-10
    last = state if cell == "scratch" else state[0]
    np.testing.assert_allclose(last.numpy(), cache["h"][:, -1], rtol=0, atol=1e-10)


def test_numpy_forward_equals_independent_torch(params: dict[str, np.ndarray], rng: np.random.Generator) -> None:
    """The same computation with plain torch ops and an nn.RNN filled by hand (no lecture_code.models)."""
    inputs = rng.integers(0, V, size=(B, T + 1))
    h0 = rng.normal(size=(B, N)) * 0.5
    loss_np, cache = rnn_lm_forward(params, inputs, h0)

    t = {k: torch.from_numpy(v) for k, v in params.items()}
    rnn = torch.nn.RNN(D, N, batch_first=True, nonlinearity="tanh").double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(t["W_e"])
        rnn.weight_hh_l0.copy_(t["W_h"])
        rnn.bias_ih_l0.copy_(0.25 * t["b1"])  # any split of b_1 over the two torch biases will do
        rnn.bias_hh_l0.copy_(0.75 * t["b1"])
        e = F.embedding(torch.from_numpy(inputs[:, :-1]), t["E"].T)  # row x of E^T is column x of E
        hs, h_last = rnn(e, torch.from_numpy(h0)[None])
        logits = F.linear(hs, t["U"], t["b2"])
        loss = F.cross_entropy(logits.reshape(-1, V), torch.from_numpy(inputs[:, 1:]).reshape(-1)).item()
    np.testing.assert_allclose(e.numpy(), cache["e"], rtol=0, atol=1e-15)
    np.testing.assert_allclose(hs.numpy(), cache["h"][:, 1:], rtol=0, atol=1e-10)
    np.testing.assert_allclose(h_last[0].numpy(), cache["h"][:, -1], rtol=0, atol=1e-10)
    np.testing.assert_allclose(logits.numpy(), cache["logits"], rtol=0, atol=1e-10)
    assert abs(loss - loss_np) <= 1e-10
