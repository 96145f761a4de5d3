"""Tests for backpropagation through time: ``numpy_rnn``'s backward passes and ``lecture_code.bptt``.

The issue's requirement: the hand-written NumPy BPTT gradients of the RNN-LM's mean loss (E, W_h, W_e,
b1, U, b2 and h0) equal torch.autograd's on the same float64 weights to 1e-10, for several sizes
(T = 1, B = 1, n != d and n = d), against two references: an independent tanh RNN written below with
plain torch ops (one-hot matmul for E x(t), F.cross_entropy with mean reduction), and
``models.RNNLM(cell="rnn")`` (``torch.nn.RNN``) filled by ``numpy_params_to_torch``.

The largest differences measured against autograd are printed in a summary when the module finishes.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch
from helpers import print_uncaptured
from torch.nn import functional as F

from lecture_code import bptt
from lecture_code.models import RNNLM, num_params, numpy_params_to_torch, torch_to_numpy_params
from lecture_code.numpy_rnn import (
    PARAM_NAMES,
    init_rnn_lm_params,
    rnn_backward,
    rnn_lm_backward,
    rnn_lm_forward,
    rnn_step,
    rnn_step_backward,
    rnn_step_forward,
)

ATOL = 1e-10  # the tolerance against autograd, float64

# (B, T, |V|, d, n): T = 1, B = 1, n != d, one n = d, and a longer sequence; all five sizes distinct where
# possible, so that a transposed matrix or a swapped axis raises or gives wrong numbers.
SIZES = [
    (3, 5, 7, 4, 6),
    (1, 1, 5, 3, 4),  # B = 1 and T = 1
    (2, 1, 6, 5, 3),  # T = 1, n < d
    (1, 6, 4, 2, 5),  # B = 1
    (4, 3, 9, 5, 5),  # n = d
    (2, 12, 11, 6, 8),  # longer: the recurrent path matters
]
SIZE_IDS = ["B{}-T{}-V{}-d{}-n{}".format(*s) for s in SIZES]

GRAD_NAMES = (*PARAM_NAMES, "h0")

# ----------------------------------------------------------------------------- summary of measured errors

_MAX_ERR: dict[str, float] = {}


def _record(key: str, got: np.ndarray, expected: np.ndarray) -> float:
    err = float(np.max(np.abs(np.asarray(got) - np.asarray(expected)), initial=0.0))
    _MAX_ERR[key] = max(_MAX_ERR.get(key, 0.0), err)
    return err


@pytest.fixture(scope="module", autouse=True)
def _print_summary(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if not _MAX_ERR:
        return
    lines = ["", "test_bptt: largest |NumPy - autograd| (max abs difference over all entries):"]
    lines += [f"  {key:<42s} {value:.2e}" for key, value in sorted(_MAX_ERR.items())]
    print_uncaptured(request, lines)


# ----------------------------------------------------------------------------- helpers


def _problem(size: tuple[int, int, int, int, int], seed: int, scale: float = 0.5):
    """Random float64 parameters (scale 0.5 so tanh is visibly nonlinear), tokens (B, T+1) and a nonzero h0."""
    B, T, V, d, n = size
    rng = np.random.default_rng(seed)
    params = init_rnn_lm_params(V, d, n, rng, scale=scale)
    inputs = rng.integers(0, V, size=(B, T + 1))
    h0 = rng.uniform(-0.8, 0.8, size=(B, n))
    return params, inputs, h0


def _leaves(arrays: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in arrays.items()}


def _independent_torch_loss(t: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The slides' RNN-LM in plain torch ops, written independently of lecture_code.

    e(t) = E x(t) with x(t) one-hot (a matmul, so dE comes from autograd of a product, not of indexing),
    h(t) = tanh(W_h h(t-1) + W_e e(t) + b_1) on column vectors (transposed to batch rows here),
    logits = U h(t) + b_2, and the mean cross-entropy over all B*T predictions.
    """
    V = t["U"].shape[0]
    onehot = F.one_hot(x, V).to(torch.float64)  # (B, T, V)
    e = torch.einsum("dv,btv->btd", t["E"], onehot)  # (B, T, d)
    h, hs = t["h0"], []
    for step in range(x.shape[1]):
        a = torch.einsum("ij,bj->bi", t["W_h"], h) + torch.einsum("ij,bj->bi", t["W_e"], e[:, step]) + t["b1"]
        h = torch.tanh(a)
        hs.append(h)
    logits = torch.einsum("vn,btn->btv", t["U"], torch.stack(hs, dim=1)) + t["b2"]
    return F.cross_entropy(logits.reshape(-1, V), y.reshape(-1), reduction="mean")


def _dlogits(cache: dict) -> np.ndarray:
    """d(mean CE)/dlogits = (softmax - onehot) / (B T), written here from the cache's probabilities."""
    probs, targets = cache["probs"], cache["targets"]
    B, T, V = probs.shape
    return (probs - np.eye(V)[targets]) / (B * T)


# ----------------------------------------------------------------------------- rnn_lm_backward vs autograd


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_lm_backward_equals_independent_torch_autograd(size: tuple[int, int, int, int, int]) -> None:
    params, inputs, h0 = _problem(size, seed=sum(size))
    loss, cache = rnn_lm_forward(params, inputs, h0)
    grads = rnn_lm_backward(cache)

    t = _leaves({**params, "h0": h0})
    loss_t = _independent_torch_loss(t, torch.from_numpy(inputs[:, :-1]), torch.from_numpy(inputs[:, 1:]))
    loss_t.backward()
    assert abs(loss_t.item() - loss) <= ATOL

    assert set(grads) == set(GRAD_NAMES)
    for name in GRAD_NAMES:
        expected = t[name].grad.numpy()
        assert grads[name].shape == expected.shape, name
        assert grads[name].dtype == np.float64, name
        _record("rnn_lm_backward vs independent torch", grads[name], expected)
        np.testing.assert_allclose(grads[name], expected, rtol=0, atol=ATOL, err_msg=name)
    assert np.abs(grads["W_h"]).max() > 1e-6 or size[1] == 1  # not trivially zero (W_h only matters for T > 1)
    assert np.abs(grads["h0"]).max() > 1e-6


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_lm_backward_equals_nn_rnn_rnnlm(size: tuple[int, int, int, int, int]) -> None:
    _, _, V, d, n = size
    params, inputs, h0 = _problem(size, seed=100 + sum(size))
    loss, cache = rnn_lm_forward(params, inputs, h0)
    grads = rnn_lm_backward(cache)

    torch.manual_seed(0)
    model = numpy_params_to_torch(params, RNNLM(V, d, n, cell="rnn").double())
    h0_t = torch.tensor(h0[None], requires_grad=True)  # nn.RNN's state is (num_layers, B, n)
    logits, _ = model(torch.from_numpy(inputs[:, :-1]), h0_t)
    loss_t = F.cross_entropy(logits.reshape(-1, V), torch.from_numpy(inputs[:, 1:]).reshape(-1))
    loss_t.backward()
    assert abs(loss_t.item() - loss) <= ATOL

    r = model.rnn
    torch_grads = {
        "E": model.embedding.weight.grad.numpy().T,  # nn.Embedding's weight is E^T, so its grad is dE^T
        "W_h": r.weight_hh_l0.grad.numpy(),
        "W_e": r.weight_ih_l0.grad.numpy(),
        "b1": r.bias_ih_l0.grad.numpy(),
        "b1 (bias_hh)": r.bias_hh_l0.grad.numpy(),  # b_1 = b_ih + b_hh, so both get b_1's gradient
        "U": model.head.weight.grad.numpy(),
        "b2": model.head.bias.grad.numpy(),
        "h0": h0_t.grad[0].numpy(),
    }
    for name, expected in torch_grads.items():
        mine = grads[name.split()[0]]
        assert mine.shape == expected.shape, name
        _record("rnn_lm_backward vs RNNLM(nn.RNN)", mine, expected)
        np.testing.assert_allclose(mine, expected, rtol=0, atol=ATOL, err_msg=name)


def test_lm_backward_accumulates_repeated_tokens() -> None:
    """Every input is the same token: all B*T embedding gradients land in one column of dE."""
    B, T, V, d, n = 3, 4, 6, 3, 5
    params, _, h0 = _problem((B, T, V, d, n), seed=7)
    inputs = np.full((B, T + 1), 2)
    inputs[:, -1] = 4
    _, cache = rnn_lm_forward(params, inputs, h0)
    grads = rnn_lm_backward(cache)
    t = _leaves({**params, "h0": h0})
    _independent_torch_loss(t, torch.from_numpy(inputs[:, :-1]), torch.from_numpy(inputs[:, 1:])).backward()
    _record("rnn_lm_backward vs independent torch", grads["E"], t["E"].grad.numpy())
    np.testing.assert_allclose(grads["E"], t["E"].grad.numpy(), rtol=0, atol=ATOL)
    unused = [v for v in range(V) if v != 2]
    assert np.all(grads["E"][:, unused] == 0) and np.abs(grads["E"][:, 2]).max() > 1e-6


def test_lm_backward_does_not_change_the_cache() -> None:
    params, inputs, h0 = _problem(SIZES[0], seed=3)
    _, cache = rnn_lm_forward(params, inputs, h0)
    before = {k: np.copy(v) for k, v in cache.items() if isinstance(v, np.ndarray)}
    rnn_lm_backward(cache)
    rnn_lm_backward(cache)  # twice: same cache, same answer
    for k, v in before.items():
        np.testing.assert_array_equal(cache[k], v, err_msg=k)


# ----------------------------------------------------------------------------- one step and a whole sequence


def test_rnn_step_backward_equals_autograd(rng: np.random.Generator) -> None:
    B, d, n = 3, 4, 5
    arrays = {"e_t": rng.normal(size=(B, d)), "h_prev": rng.uniform(-1, 1, size=(B, n)),
              "W_h": rng.normal(size=(n, n)) * 0.5, "W_e": rng.normal(size=(n, d)) * 0.5, "b1": rng.normal(size=n)}
    dh = rng.normal(size=(B, n))
    h, cache = rnn_step_forward(*arrays.values())
    np.testing.assert_array_equal(h, rnn_step(*arrays.values()))
    assert len(cache) == 5
    np.testing.assert_array_equal(cache[2], h)

    out = rnn_step_backward(dh, cache)
    assert len(out) == 5
    t = _leaves(arrays)
    h_t = torch.tanh(t["h_prev"] @ t["W_h"].T + t["e_t"] @ t["W_e"].T + t["b1"])
    np.testing.assert_allclose(h_t.detach().numpy(), h, rtol=0, atol=1e-15)
    (h_t * torch.from_numpy(dh)).sum().backward()  # loss = <h, dh>, so dloss/dh = dh
    for got, name in zip(out, ("e_t", "h_prev", "W_h", "W_e", "b1"), strict=True):
        expected = t[name].grad.numpy()
        assert got.shape == expected.shape, name
        _record("rnn_step_backward vs autograd", got, expected)
        np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL, err_msg=name)


def _sequence(rng: np.random.Generator, B: int, T: int, d: int, n: int):
    arrays = {"e": rng.normal(size=(B, T, d)), "h0": rng.uniform(-1, 1, size=(B, n)),
              "W_h": rng.normal(size=(n, n)) * 0.6, "W_e": rng.normal(size=(n, d)) * 0.6,
              "b1": rng.normal(size=n) * 0.3}
    h = np.empty((B, T + 1, n))
    h[:, 0] = arrays["h0"]
    for s in range(T):
        h[:, s + 1] = rnn_step(arrays["e"][:, s], h[:, s], arrays["W_h"], arrays["W_e"], arrays["b1"])
    return arrays, h


def _torch_sequence(t: dict[str, torch.Tensor], W_h_at: list[torch.Tensor]) -> torch.Tensor:
    h, hs = t["h0"], []
    for s in range(t["e"].shape[1]):
        h = torch.tanh(h @ W_h_at[s].T + t["e"][:, s] @ t["W_e"].T + t["b1"])
        hs.append(h)
    return torch.stack(hs, dim=1)


@pytest.mark.parametrize(("B", "T", "d", "n"), [(3, 6, 4, 5), (1, 1, 2, 3), (2, 9, 4, 4)])
def test_rnn_backward_equals_autograd_for_any_upstream_gradient(
    B: int, T: int, d: int, n: int, rng: np.random.Generator
) -> None:
    arrays, h = _sequence(rng, B, T, d, n)
    G = rng.normal(size=(B, T, n))  # loss = sum(h[:, 1:] * G), so dloss/dh(t) through the outputs is G
    de, dh0, dW_h, dW_e, db1 = rnn_backward(G, (arrays["e"], h, arrays["W_h"], arrays["W_e"]))

    t = _leaves(arrays)
    hs = _torch_sequence(t, [t["W_h"]] * T)
    np.testing.assert_allclose(hs.detach().numpy(), h[:, 1:], rtol=0, atol=1e-14)
    (hs * torch.from_numpy(G)).sum().backward()
    for got, name in zip((de, dh0, dW_h, dW_e, db1), ("e", "h0", "W_h", "W_e", "b1"), strict=True):
        expected = t[name].grad.numpy()
        assert got.shape == expected.shape, name
        _record("rnn_backward(dh_all=G) vs autograd", got, expected)
        np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL, err_msg=name)


def test_rnn_backward_steps_are_per_occurrence_gradients(rng: np.random.Generator) -> None:
    """With a separate copy of W_h at every step, autograd's gradient for copy t is NumPy's step term t."""
    B, T, d, n = 2, 5, 3, 4
    arrays, h = _sequence(rng, B, T, d, n)
    G = rng.normal(size=(B, T, n))
    steps: list[np.ndarray] = []
    _, _, dW_h, _, _ = rnn_backward(G, (arrays["e"], h, arrays["W_h"], arrays["W_e"]), steps=steps)

    assert len(steps) == T and all(s.shape == (n, n) for s in steps)
    total = np.zeros((n, n))
    for s in steps:
        total += s
    np.testing.assert_allclose(total, dW_h, rtol=0, atol=1e-12)
    assert not any(s is dW_h for s in steps)  # the running sum does not alias a recorded step

    # backward order: the first entry is step T, whose only upstream gradient is G[:, T-1]
    da_T = G[:, -1] * (1 - h[:, T] ** 2)
    np.testing.assert_allclose(steps[0], da_T.T @ h[:, T - 1], rtol=0, atol=1e-14)

    t = _leaves({k: v for k, v in arrays.items() if k != "W_h"})
    copies = [torch.tensor(arrays["W_h"], requires_grad=True) for _ in range(T)]
    (_torch_sequence(t, copies) * torch.from_numpy(G)).sum().backward()
    per_step = np.stack([c.grad.numpy() for c in copies])  # step 1..T
    _record("rnn_backward steps vs per-copy autograd", np.stack(steps[::-1]), per_step)
    np.testing.assert_allclose(np.stack(steps[::-1]), per_step, rtol=0, atol=1e-12)


def test_rnn_backward_steps_none_and_appending(rng: np.random.Generator) -> None:
    arrays, h = _sequence(rng, 2, 3, 3, 4)
    G = rng.normal(size=(2, 3, 4))
    cache = (arrays["e"], h, arrays["W_h"], arrays["W_e"])
    plain = rnn_backward(G, cache)
    marker = np.full((4, 4), -1.0)
    steps = [marker]
    recorded = rnn_backward(G, cache, steps=steps)
    for a, b in zip(plain, recorded, strict=True):
        np.testing.assert_array_equal(a, b)  # recording changes nothing
    assert len(steps) == 4 and steps[0] is marker  # appended after what was there


@pytest.mark.parametrize(("B", "T", "V", "d", "n"), [(3, 6, 7, 4, 5), (1, 1, 5, 3, 4), (2, 10, 6, 5, 5)])
def test_lm_steps_equal_bptt_per_occurrence_grads(B: int, T: int, V: int, d: int, n: int) -> None:
    """For the LM loss: NumPy's per-step terms (reversed) = autograd's per-copy gradients, and both sum to dJ/dW_h."""
    params, inputs, h0 = _problem((B, T, V, d, n), seed=11 * T + n)
    _, cache = rnn_lm_forward(params, inputs, h0)
    grads = rnn_lm_backward(cache)
    steps: list[np.ndarray] = []
    rnn_backward(_dlogits(cache) @ params["U"], (cache["e"], cache["h"], params["W_h"], params["W_e"]), steps=steps)

    per_step, shared = bptt.per_occurrence_grads(params, inputs, h0)
    assert per_step.shape == (T, n, n) and shared.shape == (n, n)
    assert per_step.dtype == np.float64 and shared.dtype == np.float64
    _record("LM steps vs bptt.per_occurrence_grads", np.stack(steps[::-1]), per_step)
    np.testing.assert_allclose(np.stack(steps[::-1]), per_step, rtol=0, atol=1e-12)
    _record("sum of per-occurrence vs shared (torch)", per_step.sum(axis=0), shared)
    np.testing.assert_allclose(per_step.sum(axis=0), shared, rtol=0, atol=1e-12)
    _record("rnn_lm_backward W_h vs shared (torch)", grads["W_h"], shared)
    np.testing.assert_allclose(grads["W_h"], shared, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sum(steps), grads["W_h"], rtol=0, atol=1e-12)
    if T > 1:  # the occurrences differ: the identity is a real sum, not T copies of one term
        assert np.abs(per_step[0] - per_step[-1]).max() > 1e-6


def test_per_occurrence_grads_accepts_int32_ids() -> None:
    params, inputs, h0 = _problem((2, 3, 5, 3, 4), seed=0)
    expected = bptt.per_occurrence_grads(params, inputs, h0)
    got = bptt.per_occurrence_grads(params, inputs.astype(np.int32), h0)
    np.testing.assert_array_equal(got[1], expected[1])


# ----------------------------------------------------------------------------- explicit targets


def test_explicit_targets_equal_the_shifted_form() -> None:
    params, inputs, h0 = _problem((3, 5, 7, 4, 6), seed=5)
    loss_a, cache_a = rnn_lm_forward(params, inputs, h0)
    loss_b, cache_b = rnn_lm_forward(params, inputs[:, :-1], h0, targets=inputs[:, 1:])
    assert loss_a == loss_b
    for key in ("x", "targets", "e", "h", "logits", "probs"):
        np.testing.assert_array_equal(cache_a[key], cache_b[key], err_msg=key)
    ga, gb = rnn_lm_backward(cache_a), rnn_lm_backward(cache_b)
    for name in GRAD_NAMES:
        np.testing.assert_array_equal(ga[name], gb[name], err_msg=name)


def test_explicit_targets_allow_t_equal_one_and_lists() -> None:
    params, _, h0 = _problem((2, 1, 5, 3, 4), seed=6)
    loss, cache = rnn_lm_forward(params, [[1], [3]], h0, targets=[[4], [0]])
    ref, _ = rnn_lm_forward(params, np.array([[1, 4], [3, 0]]), h0)
    assert loss == ref and cache["logits"].shape == (2, 1, 5)


@pytest.mark.parametrize(("x_shape", "y_shape"), [((3, 5), (3, 4)), ((3, 5), (2, 5)), ((3, 5), (3, 5, 1)),
                                                  ((15,), (15,)), ((3, 5), (5, 3))])
def test_explicit_targets_shape_mismatch_is_value_error(x_shape: tuple[int, ...], y_shape: tuple[int, ...]) -> None:
    params, _, _ = _problem((3, 5, 7, 4, 6), seed=0)
    with pytest.raises(ValueError, match="inputs and targets"):
        rnn_lm_forward(params, np.zeros(x_shape, dtype=np.int64), np.zeros((3, 6)),
                       targets=np.zeros(y_shape, dtype=np.int64))


# ----------------------------------------------------------------------------- bptt.lm_gradient / truncation_error


def _torch_model(V: int = 7, d: int = 4, n: int = 6, seed: int = 0, cell: str = "rnn") -> RNNLM:
    torch.manual_seed(seed)
    return RNNLM(V, d, n, cell=cell).double()


def _tokens(B: int, T: int, V: int, seed: int) -> torch.Tensor:
    return torch.randint(0, V, (B, T + 1), generator=torch.Generator().manual_seed(seed))


def test_lm_gradient_full_equals_plain_autograd() -> None:
    """k=None is ordinary backprop of the mean loss; on a tiny model with small weights (almost linear tanh)."""
    V, d, n, B, T = 5, 3, 4, 2, 6
    model = _torch_model(V, d, n, seed=1)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(0.3)  # tanh near its linear range
    tokens = _tokens(B, T, V, seed=2)
    g = bptt.lm_gradient(model, tokens)
    assert g["W_h"].shape == (n * n,) and g["all"].shape == (num_params(model),)

    model.zero_grad(set_to_none=True)
    logits, _ = model(tokens[:, :-1])
    F.cross_entropy(logits.reshape(-1, V), tokens[:, 1:].reshape(-1)).backward()
    expected_all = torch.cat([p.grad.reshape(-1) for p in model.parameters()])
    _record("bptt.lm_gradient(k=None) vs autograd", g["all"].numpy(), expected_all.numpy())
    torch.testing.assert_close(g["all"], expected_all, rtol=0, atol=1e-12)
    torch.testing.assert_close(g["W_h"], model.rnn.weight_hh_l0.grad.reshape(-1), rtol=0, atol=1e-12)

    # and it is the NumPy BPTT gradient (h0 = 0, b1 = b_ih + b_hh)
    params = torch_to_numpy_params(model)
    _, cache = rnn_lm_forward(params, tokens.numpy(), np.zeros((B, n)))
    grads = rnn_lm_backward(cache)
    _record("bptt.lm_gradient(k=None) vs NumPy BPTT", grads["W_h"].reshape(-1), g["W_h"].numpy())
    np.testing.assert_allclose(grads["W_h"].reshape(-1), g["W_h"].numpy(), rtol=0, atol=ATOL)


@pytest.mark.parametrize("k", [3, 1, 4, 8])
def test_lm_gradient_truncated_equals_numpy_windows(k: int) -> None:
    """Truncation = BPTT inside each window of k steps, the hidden state carried over without its gradient."""
    V, d, n, B, T = 6, 3, 5, 2, 8
    model = _torch_model(V, d, n, seed=3)
    tokens = _tokens(B, T, V, seed=4)
    g = bptt.lm_gradient(model, tokens, k)

    params = torch_to_numpy_params(model)
    _, cache = rnn_lm_forward(params, tokens.numpy(), np.zeros((B, n)))
    dh_all = _dlogits(cache) @ params["U"]
    dW_h = np.zeros((n, n))
    for s in range(0, T, k):
        window = (cache["e"][:, s : s + k], cache["h"][:, s : s + k + 1], params["W_h"], params["W_e"])
        dW_h += rnn_backward(dh_all[:, s : s + k], window)[2]
    _record("bptt.lm_gradient(k) vs NumPy windows", dW_h.reshape(-1), g["W_h"].numpy())
    np.testing.assert_allclose(dW_h.reshape(-1), g["W_h"].numpy(), rtol=0, atol=ATOL)


def test_lm_gradient_with_k_at_least_t_is_the_full_gradient() -> None:
    V, T = 7, 6
    model = _torch_model(V, seed=5)
    tokens = _tokens(3, T, V, seed=6)
    full = bptt.lm_gradient(model, tokens)
    for k in (T, T + 1, 100):
        g = bptt.lm_gradient(model, tokens, k)
        for name in ("W_h", "all"):
            torch.testing.assert_close(g[name], full[name], rtol=0, atol=1e-12)
    short = bptt.lm_gradient(model, tokens, 1)
    assert (short["W_h"] - full["W_h"]).norm() / full["W_h"].norm() > 1e-3
    # the returned tensors are copies: a later call does not overwrite an earlier result
    torch.testing.assert_close(full["W_h"], bptt.lm_gradient(model, tokens)["W_h"], rtol=0, atol=0)


def test_truncation_error_rows() -> None:
    V, T = 7, 6
    model = _torch_model(V, seed=7)
    tokens = _tokens(3, T, V, seed=8)
    ks = [1, 2, 3, T, T + 4]
    rows = bptt.truncation_error(model, tokens, ks)
    assert len(rows) == len(ks)
    for row, k in zip(rows, ks, strict=True):
        assert set(row) == {"k", "cos_W_h", "rel_W_h", "cos_all", "rel_all"}
        assert row["k"] == k
        for name in ("W_h", "all"):
            assert isinstance(row[f"cos_{name}"], float) and isinstance(row[f"rel_{name}"], float)
            assert -1.0 <= row[f"cos_{name}"] <= 1.0 + 1e-12
            assert row[f"rel_{name}"] >= 0.0
    for row in rows[-2:]:  # k >= T: nothing is cut
        for name in ("W_h", "all"):
            assert abs(row[f"cos_{name}"] - 1.0) <= 1e-12 and row[f"rel_{name}"] <= 1e-12
    assert rows[0]["rel_W_h"] > 1e-3 and rows[0]["cos_W_h"] < 1.0  # k = 1 drops every recurrent path
    assert rows[0]["rel_all"] > 0.0


def test_truncation_error_k_none_row() -> None:
    model = _torch_model(seed=9)
    (row,) = bptt.truncation_error(model, _tokens(2, 5, 7, seed=10), [None])
    assert row["k"] is None and abs(row["cos_all"] - 1.0) <= 1e-12 and row["rel_all"] <= 1e-12


def test_lm_gradient_on_a_scratch_model() -> None:
    params = torch_to_numpy_params(_torch_model(seed=11))
    scratch = numpy_params_to_torch(params, _torch_model(seed=12, cell="scratch"))
    tokens = _tokens(2, 5, 7, seed=13)
    g = bptt.lm_gradient(scratch, tokens, 2)
    torch.testing.assert_close(g["W_h"], bptt.lm_gradient(_torch_model(seed=11), tokens, 2)["W_h"])


def test_occurrence_contributions_sum_to_the_full_gradient_and_shrink_with_a_small_radius():
    contrib, gap = bptt.occurrence_contributions(0.5, T=12)
    assert contrib.shape == gap.shape == (12,)
    assert gap[-1] < 1e-12  # all occurrences summed: the full gradient
    assert gap[0] > 1e-3  # the nearest occurrence alone is not the whole gradient
    assert contrib[10] < 0.05 * contrib[0]
    big, _ = bptt.occurrence_contributions(1.0, T=12)
    assert big[10] / big[0] > contrib[10] / contrib[0]
