"""Tests for lecture_code.gradients (numerical_gradient, relative_error, grad_check) and, with them, a
finite-difference check of the NumPy RNN-LM's BPTT gradients (every parameter and h0).

``relative_error`` is norm-wise, ||a - b|| / (||a|| + ||b||), so entries whose true gradient is nearly
zero (where central differences only have absolute accuracy, ~1e-10) do not dominate it. With central
differences at eps = 1e-6, a correct BPTT gradient measures ~1e-9 on these float64 models; the checks
assert < 1e-6, and a wrong gradient (transposed, halved, sign-flipped, ignored) measures > 0.1.

The largest relative errors measured are printed in a summary when the module finishes.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from helpers import print_uncaptured

from lecture_code.gradients import grad_check, numerical_gradient, relative_error
from lecture_code.numpy_rnn import PARAM_NAMES, init_rnn_lm_params, rnn_lm_backward, rnn_lm_forward

FD_EPS = 1e-6
FD_TOL = 1e-6

# ----------------------------------------------------------------------------- summary of measured errors

_MAX_ERR: dict[str, float] = {}


def _record(key: str, report: dict[str, float]) -> None:
    _MAX_ERR[key] = max(_MAX_ERR.get(key, 0.0), *report.values())


@pytest.fixture(scope="module", autouse=True)
def _print_summary(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if not _MAX_ERR:
        return
    lines = ["", "test_gradients: largest relative error reported by grad_check:"]
    lines += [f"  {key:<48s} {value:.2e}" for key, value in sorted(_MAX_ERR.items())]
    print_uncaptured(request, lines)


# ----------------------------------------------------------------------------- the RNN-LM, by finite differences


def _lm_problem(B: int, T: int, V: int, d: int, n: int, seed: int):
    rng = np.random.default_rng(seed)
    params = init_rnn_lm_params(V, d, n, rng, scale=0.5)
    inputs = rng.integers(0, V, size=(B, T + 1))
    h0 = rng.uniform(-1, 1, size=(B, n))
    return params, inputs, h0


def _lm_loss(inputs: np.ndarray):
    def f(p) -> float:
        return rnn_lm_forward({k: p[k] for k in PARAM_NAMES}, inputs, p["h0"])[0]

    return f


@pytest.mark.parametrize(("B", "T", "V", "d", "n", "seed"),
                         [(2, 3, 5, 3, 4, 0), (1, 1, 4, 2, 3, 1), (3, 4, 6, 4, 4, 2), (2, 6, 5, 3, 5, 3)])
def test_grad_check_rnn_lm_every_parameter_and_h0(B: int, T: int, V: int, d: int, n: int, seed: int) -> None:
    params, inputs, h0 = _lm_problem(B, T, V, d, n, seed)
    _, cache = rnn_lm_forward(params, inputs, h0)
    grads = rnn_lm_backward(cache)
    everything = {**params, "h0": h0}
    report = grad_check(_lm_loss(inputs), everything, grads, eps=FD_EPS)
    assert set(report) == {*PARAM_NAMES, "h0"}
    _record("rnn_lm_backward vs central differences", report)
    assert max(report.values()) < FD_TOL, report


def test_grad_check_rnn_lm_with_explicit_targets() -> None:
    params, inputs, h0 = _lm_problem(2, 4, 6, 3, 4, seed=4)
    x, y = inputs[:, :-1], inputs[:, 1:]
    _, cache = rnn_lm_forward(params, x, h0, targets=y)
    grads = rnn_lm_backward(cache)

    def f(p) -> float:
        return rnn_lm_forward({k: p[k] for k in PARAM_NAMES}, x, p["h0"], targets=y)[0]

    report = grad_check(f, {**params, "h0": h0}, grads, eps=FD_EPS)
    _record("rnn_lm_backward vs central differences", report)
    assert max(report.values()) < FD_TOL, report


def test_grad_check_rnn_lm_with_sampling() -> None:
    """A slightly larger model, checking 12 sampled entries per parameter."""
    params, inputs, h0 = _lm_problem(3, 5, 8, 4, 6, seed=5)
    _, cache = rnn_lm_forward(params, inputs, h0)
    grads = rnn_lm_backward(cache)
    report = grad_check(_lm_loss(inputs), {**params, "h0": h0}, grads, eps=1e-6, max_entries=12,
                        rng=np.random.default_rng(0))
    _record("rnn_lm_backward vs central differences (sampled)", report)
    assert max(report.values()) < FD_TOL, report


@pytest.mark.parametrize("mistake", ["transposed W_h", "h0 ignored", "dU halved", "b1 sign"])
def test_grad_check_catches_wrong_bptt_gradients(mistake: str) -> None:
    params, inputs, h0 = _lm_problem(2, 4, 5, 3, 4, seed=6)
    _, cache = rnn_lm_forward(params, inputs, h0)
    grads = rnn_lm_backward(cache)
    name = {"transposed W_h": "W_h", "h0 ignored": "h0", "dU halved": "U", "b1 sign": "b1"}[mistake]
    wrong = {"transposed W_h": grads["W_h"].T, "h0 ignored": np.zeros_like(h0), "dU halved": grads["U"] / 2,
             "b1 sign": -grads["b1"]}[mistake]
    report = grad_check(_lm_loss(inputs), {**params, "h0": h0}, {**grads, name: wrong}, eps=FD_EPS)
    assert report[name] > 0.1, report
    assert all(v < FD_TOL for k, v in report.items() if k != name), report


# ----------------------------------------------------------------------------- grad_check on a known gradient


@pytest.fixture
def quad(rng: np.random.Generator):
    """f(p) = sum(A * W**2) / 2 + b @ c: gradient A * W for W and c for b. W is square so .T keeps the shape."""
    A, c = rng.uniform(0.5, 2.0, size=(4, 4)), rng.normal(size=5)
    params = {"W": rng.normal(size=(4, 4)), "b": rng.normal(size=5)}

    def f(p) -> float:
        return float(np.sum(A * p["W"] ** 2) / 2 + p["b"] @ c)

    return f, params, {"W": A * params["W"], "b": c.copy()}


def test_grad_check_right_gradient_is_tiny(quad) -> None:
    f, params, grads = quad
    for eps in (1e-4, 1e-5, 1e-6):
        report = grad_check(f, params, grads, eps=eps)
        assert set(report) == {"W", "b"}
        _record("closed-form quadratic (right gradient)", report)
        assert max(report.values()) < 1e-7, (eps, report)


@pytest.mark.parametrize("mistake", ["twice", "transposed", "sign", "one entry"])
def test_grad_check_wrong_gradient_is_large(quad, mistake: str) -> None:
    f, params, grads = quad
    W = grads["W"]
    if mistake == "one entry":
        W = W.copy()
        W.flat[np.argmax(np.abs(W))] *= -1  # the largest entry, so that its share of the norm is >= 1/4
    wrong = {"twice": 2 * W, "transposed": W.T, "sign": -W, "one entry": W}[mistake]
    report = grad_check(f, params, {"W": wrong, "b": grads["b"]})
    assert report["W"] > 0.1, report
    assert report["b"] < 1e-7
    if mistake == "twice":
        assert report["W"] == pytest.approx(1 / 3, abs=1e-6)  # |2g - g| / (|2g| + |g|)
    if mistake == "sign":
        assert report["W"] == pytest.approx(1.0, abs=1e-6)


def test_grad_check_skips_names_without_gradient(quad) -> None:
    f, params, grads = quad
    assert set(grad_check(f, params, {"b": grads["b"]})) == {"b"}


def test_grad_check_restores_params_exactly(quad) -> None:
    f, params, grads = quad
    arrays = dict(params)
    before = {k: v.copy() for k, v in params.items()}
    grad_check(f, params, grads, eps=0.1)  # a large step, so an inexact restore (old + eps - eps) would show
    grad_check(f, params, grads, eps=1e-6, max_entries=3)
    for k in params:
        assert params[k] is arrays[k]  # perturbed in place, not replaced
        np.testing.assert_array_equal(params[k], before[k])  # bit for bit


def test_grad_check_shape_mismatch_is_value_error(quad) -> None:
    f, params, grads = quad
    with pytest.raises(ValueError, match="shape"):
        grad_check(f, params, {"W": grads["W"], "b": grads["b"][:-1]})
    with pytest.raises(ValueError, match="shape"):
        grad_check(f, params, {"W": grads["W"].reshape(2, 8)})


def test_grad_check_max_entries_evaluates_only_that_many(quad) -> None:
    f, params, grads = quad
    calls = {"n": 0}

    def counted(p) -> float:
        calls["n"] += 1
        return f(p)

    report = grad_check(counted, params, grads, max_entries=3)
    assert calls["n"] == 2 * (3 + 3)  # two evaluations per sampled entry, 3 of W's 16 and 3 of b's 5
    assert max(report.values()) < 1e-7
    calls["n"] = 0
    grad_check(counted, params, grads, max_entries=10)  # b has only 5 entries: all of them
    assert calls["n"] == 2 * (10 + 5)
    calls["n"] = 0
    grad_check(counted, params, grads)
    assert calls["n"] == 2 * (16 + 5)


def test_grad_check_sampling_only_sees_sampled_entries(quad) -> None:
    """A gradient wrong in one entry is caught when every entry is checked, and reproducibly sampled otherwise."""
    f, params, grads = quad
    wrong = grads["W"].copy()
    bad = int(np.argmax(np.abs(wrong)))
    wrong.flat[bad] *= 3
    assert grad_check(f, params, {"W": wrong})["W"] > 0.1
    seen = set()
    for seed in range(8):  # grad_check draws its sample as rng.choice(size, max_entries, replace=False)
        picked = np.random.default_rng(seed).choice(16, 4, replace=False)
        report = grad_check(f, params, {"W": wrong}, max_entries=4, rng=np.random.default_rng(seed))
        assert (report["W"] > 0.1) == (bad in picked), (seed, picked, report)
        if bad not in picked:
            assert report["W"] < 1e-7
        assert grad_check(f, params, {"W": wrong}, max_entries=4, rng=np.random.default_rng(seed)) == report
        seen.add(bool(bad in picked))
    assert seen == {True, False}  # both cases were exercised


# ----------------------------------------------------------------------------- numerical_gradient


def test_numerical_gradient_matches_the_closed_form(rng: np.random.Generator) -> None:
    A = rng.uniform(0.5, 2.0, size=(3, 5))
    W = rng.normal(size=(3, 5))
    before = W.copy()
    num = numerical_gradient(lambda: float(np.sum(A * W**2) / 2), W, eps=1e-5)
    assert num.shape == W.shape and num.dtype == np.float64
    np.testing.assert_allclose(num, A * W, rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(W, before)


def test_numerical_gradient_index_fills_only_those_entries(rng: np.random.Generator) -> None:
    W = rng.normal(size=(4, 6))
    index = np.array([0, 5, 17, 23])
    num = numerical_gradient(lambda: float(np.sum(W**3)), W, index=index)
    assert np.count_nonzero(~np.isnan(num)) == len(index)
    assert np.count_nonzero(np.isnan(num)) == W.size - len(index)
    np.testing.assert_allclose(num.flat[index], 3 * W.flat[index] ** 2, rtol=1e-7)


def test_numerical_gradient_calls_f_twice_per_entry() -> None:
    x = np.zeros(7)
    calls = []
    numerical_gradient(lambda: calls.append(x.copy()) or 0.0, x, eps=0.5, index=[2])
    assert len(calls) == 2
    np.testing.assert_array_equal(calls[0], [0, 0, 0.5, 0, 0, 0, 0])  # x + eps, then x - eps
    np.testing.assert_array_equal(calls[1], [0, 0, -0.5, 0, 0, 0, 0])


def test_numerical_gradient_refuses_non_contiguous_arrays() -> None:
    x = np.ones((4, 3)).T  # a transposed view: reshape(-1) would copy, so perturbations would be lost
    with pytest.raises(ValueError, match="contiguous"):
        numerical_gradient(lambda: float(x.sum()), x)


# ----------------------------------------------------------------------------- relative_error


def test_relative_error_identical_is_zero(rng: np.random.Generator) -> None:
    a = rng.normal(size=(3, 4))
    assert relative_error(a, a.copy()) == 0.0
    assert relative_error(np.zeros(5), np.zeros(5)) == 0.0  # 0 / floor, not 0 / 0


def test_relative_error_values_and_symmetry() -> None:
    assert relative_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    a, b = np.array([1.0, 10.0]), np.array([1.0, 11.0])
    expected = np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))  # norm-wise: 1 / (sqrt 101 + sqrt 122)
    assert relative_error(a, b) == pytest.approx(expected, rel=1e-12)
    a, b = np.array([2.0, -1.0, 0.5]), np.array([2.5, -1.0, 0.25])
    assert relative_error(a, b) == relative_error(b, a)
    assert relative_error(np.array([1.0]), np.array([-1.0])) == pytest.approx(1.0)  # opposite signs: 1
    assert relative_error(2 * a, a) == pytest.approx(1 / 3)  # 2x too big
    assert relative_error(a.reshape(3, 1), b.reshape(3, 1)) == pytest.approx(relative_error(a, b))  # any shape


def test_relative_error_is_norm_wise() -> None:
    """A tiny entry off by 100% does not dominate: the error is relative to the whole gradient's norm."""
    a, b = np.array([1e-9, 1.0, -2.0]), np.array([2e-9, 1.0, -2.0])
    assert relative_error(a, b) == pytest.approx(1e-9 / (2 * np.sqrt(5)), rel=1e-6)
    assert relative_error(a, b) < 1e-9


def test_relative_error_skips_nan() -> None:
    a = np.array([1.0, np.nan, 2.0, 5.0])
    b = np.array([1.0, 7.0, np.nan, 5.0])
    assert relative_error(a, b) == 0.0
    assert relative_error(np.array([1.0, np.nan]), np.array([3.0, 0.0])) == pytest.approx(0.5)
    assert relative_error(np.full(3, np.nan), np.ones(3)) == 0.0  # nothing to compare


def test_relative_error_floor() -> None:
    a, b = np.array([1e-14]), np.array([0.0])
    assert relative_error(a, b) == pytest.approx(1e-2)  # |a - b| / 1e-12 (default floor)
    assert relative_error(a, b, floor=1e-20) == pytest.approx(1.0)  # |a - b| / (|a| + |b|)
    assert relative_error(a, b, floor=1e-10) == pytest.approx(1e-4)
