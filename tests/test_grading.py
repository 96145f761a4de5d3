"""Tests for the exercise checker, lecture_code.grading (no kernel; a few seconds in all).

The wrong implementations below are written independently of the registered ``Mistake.fn``s
(loops, einsum, the math module, other names), the way a learner would write them: each must be
rejected AND named as the registered mistake, so the checker recognises a mistake by what the code
computes, not by how it is spelled. The correct implementations are written in several styles
(einsum vs @, loops, logaddexp, rng.choice vs inverse CDF vs Gumbel-max) and must all pass.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import json
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from lecture_code.grading import EXERCISES, EXPECT_VAR, REPORT_VAR, ExpectationError, Result, Status, check, sampling
from lecture_code.grading.checker import call, run_check
from lecture_code.numpy_rnn import softmax as softmax_ref

REJECTED = (Status.FAIL, Status.ERROR)


def _check(exercise_id: str, fn: Any, **kw: Any) -> Result:
    return check(exercise_id, fn, quiet=True, **kw)


# =============================================================================================
# Learner-style helpers (written here, independent of lecture_code.numpy_rnn)


def _lse(z: np.ndarray, keepdims: bool = False) -> np.ndarray:
    """log Σ exp over the last axis, with np.logaddexp (stable without an explicit max)."""
    return np.logaddexp.reduce(z, axis=-1, keepdims=keepdims)


def _row_softmax(row: np.ndarray) -> np.ndarray:
    top = max(row)
    weights = [math.exp(x - top) for x in row]
    total = math.fsum(weights)
    return np.array([w / total for w in weights])


def _target_logits(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    b, t = np.indices(targets.shape)
    return logits[b, t, targets]


# =============================================================================================
# rnn_step

# ----- wrong


def rnn_missing_tanh(e_t, h_prev, W_h, W_e, b1):
    return np.einsum("bj,ij->bi", h_prev, W_h) + np.einsum("bk,ik->bi", e_t, W_e) + b1


def rnn_sigmoid(e_t, h_prev, W_h, W_e, b1):
    a = np.dot(h_prev, W_h.T) + np.dot(e_t, W_e.T) + b1
    return 0.5 * (1.0 + np.tanh(a / 2.0))  # the logistic function, written via tanh


def rnn_relu(e_t, h_prev, W_h, W_e, b1):
    a = h_prev @ W_h.T + e_t @ W_e.T + b1
    return a * (a > 0)


def rnn_swapped(e_t, h_prev, W_h, W_e, b1):
    rows = []
    for x, h in zip(e_t, h_prev, strict=True):  # column-vector style, one example at a time
        rows.append(np.tanh(W_e @ h + W_h @ x + b1))
    return np.stack(rows)


def rnn_W_h_transposed(e_t, h_prev, W_h, W_e, b1):
    return np.tanh(np.einsum("bj,ji->bi", h_prev, W_h) + e_t @ W_e.T + b1)


def rnn_W_e_transposed(e_t, h_prev, W_h, W_e, b1):
    return np.tanh(h_prev @ W_h.T + np.einsum("bd,dn->bn", e_t, W_e) + b1)


def rnn_both_transposed(e_t, h_prev, W_h, W_e, b1):
    return np.tanh((W_h.T @ h_prev.T).T + (W_e.T @ e_t.T).T + b1)


def rnn_missing_bias(e_t, h_prev, W_h, W_e, b1):
    return np.tanh(np.einsum("bj,ij->bi", h_prev, W_h) + np.einsum("bk,ik->bi", e_t, W_e))


def rnn_bias_outside(e_t, h_prev, W_h, W_e, b1):
    return np.tanh(h_prev @ W_h.T + e_t @ W_e.T) + b1[None, :]


def rnn_no_memory(e_t, h_prev, W_h, W_e, b1):
    return np.tanh(np.inner(e_t, W_e) + b1)


# ----- correct


def rnn_einsum(e_t, h_prev, W_h, W_e, b1):
    return np.tanh(np.einsum("bj,ij->bi", h_prev, W_h) + np.einsum("bk,ik->bi", e_t, W_e) + b1)


def rnn_loop(e_t, h_prev, W_h, W_e, b1):
    out = np.zeros((e_t.shape[0], W_h.shape[0]))
    for i in range(e_t.shape[0]):
        out[i] = np.tanh(W_h @ h_prev[i] + W_e @ e_t[i] + b1)
    return out


def rnn_columns(e_t, h_prev, W_h, W_e, b1):
    return np.tanh(W_h @ h_prev.T + W_e @ e_t.T + b1[:, None]).T


# =============================================================================================
# softmax

# ----- wrong


def softmax_overflow(z):
    flat = z.reshape(-1, z.shape[-1])
    out = np.empty_like(flat)
    for i, row in enumerate(flat):
        e = np.exp(row)
        out[i] = e / e.sum()
    return out.reshape(z.shape)


def softmax_global_max(z):
    shifted = z - np.max(z)
    ez = np.exp(shifted)
    return ez / np.sum(ez, axis=-1, keepdims=True)


def softmax_axis0(z):
    ez = np.exp(z - np.amax(z, axis=0, keepdims=True))
    return ez / ez.sum(axis=0, keepdims=True)


def softmax_whole_array(z):
    return np.exp(z - np.logaddexp.reduce(z.ravel()))


def softmax_no_exp(z):
    return z / z.sum(-1)[..., None]


def softmax_no_keepdims(z):
    shifted = z - np.max(z, axis=-1, keepdims=True)
    num = np.exp(shifted)
    den = np.sum(num, axis=-1)
    return num / den


def softmax_log(z):
    return z - _lse(z, keepdims=True)


# ----- correct


def softmax_logaddexp(z):
    return np.exp(z - _lse(z, keepdims=True))


def softmax_math_loops(z):
    rows = [_row_softmax(row) for row in z.reshape(-1, z.shape[-1])]
    return np.array(rows).reshape(z.shape)


def softmax_shifted(z):
    p = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return p / np.add.reduce(p, axis=-1, keepdims=True)


# =============================================================================================
# lm_loss

# ----- wrong


def loss_sum(logits, targets):
    total = 0.0
    B, T, _ = logits.shape
    for b in range(B):
        for t in range(T):
            row = logits[b, t]
            top = row.max()
            total += top + math.log(np.exp(row - top).sum()) - row[targets[b, t]]
    return total


def loss_log_of_softmax(logits, targets):
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    p = p / p.sum(axis=-1, keepdims=True)
    onehot = np.eye(logits.shape[-1])[targets]
    return -np.mean(np.log((p * onehot).sum(axis=-1)))


def loss_overflow(logits, targets):
    p = np.exp(logits)
    p = p / p.sum(axis=-1, keepdims=True)
    b, t = np.indices(targets.shape)
    return -np.log(p[b, t, targets]).mean()


def loss_no_minus(logits, targets):
    return float(np.mean(_target_logits(logits, targets) - _lse(logits)))


def loss_log2(logits, targets):
    bits = (_lse(logits) - _target_logits(logits, targets)) * np.log2(np.e)
    return bits.mean()


def loss_over_vocab(logits, targets):
    return -np.mean(logits - _lse(logits, keepdims=True))


def loss_batch_summed(logits, targets):
    nll = _lse(logits) - _target_logits(logits, targets)
    return sum(seq.mean() for seq in nll)


def loss_no_softmax(logits, targets):
    return -np.mean(np.take_along_axis(logits, targets[..., None], -1))


def loss_fancy_index(logits, targets):
    logp = logits - _lse(logits, keepdims=True)
    return -logp[..., targets].mean()


# ----- correct


def loss_loops(logits, targets):
    B, T, _ = logits.shape
    terms = []
    for b in range(B):
        for t in range(T):
            row = list(logits[b, t])
            top = max(row)
            lse = top + math.log(math.fsum(math.exp(x - top) for x in row))
            terms.append(lse - row[targets[b, t]])
    return math.fsum(terms) / len(terms)


def loss_onehot(logits, targets):
    onehot = targets[..., None] == np.arange(logits.shape[-1])
    top = logits.max(axis=-1)
    lse = top + np.log(np.exp(logits - top[..., None]).sum(axis=-1))
    return float((lse - np.where(onehot, logits, 0.0).sum(axis=-1)).mean())


def loss_logaddexp(logits, targets):
    return np.mean(_lse(logits) - np.take_along_axis(logits, targets[..., None], axis=-1)[..., 0])


# =============================================================================================
# perplexity


def ppl_base2(mean_nll):
    return math.pow(2.0, mean_nll)


def ppl_exp_minus(mean_nll):
    return 1.0 / math.exp(mean_nll)


def ppl_identity(mean_nll):
    return math.log(math.exp(mean_nll))


def ppl_floor(mean_nll):
    return math.floor(math.exp(mean_nll))


def ppl_exp_reciprocal(mean_nll):
    return np.exp(np.reciprocal(mean_nll))


def ppl_math(mean_nll):
    return math.exp(mean_nll)


def ppl_power_e(mean_nll):
    return np.e**mean_nll


def ppl_power_2(mean_nll):
    return 2.0 ** (mean_nll * math.log2(math.e))


# =============================================================================================
# uniform_perplexity and rnn_lm_num_params: formulas in the sizes, derived by the learner


def uniform_ppl_exp_log(V):
    return math.exp(-math.log(1.0 / V))  # J = -log(1/V); perplexity = exp(J)


def uniform_ppl_product(V):
    T = 5  # the lecture's product over T positions, each of probability 1/V
    return float(np.prod(np.full(T, float(V))) ** (1.0 / T))


def uniform_ppl_loss(V):
    return math.log(V)


def uniform_ppl_probability(V):
    return np.float64(1) / V


def uniform_ppl_bits(V):
    return math.log(V, 2)


def uniform_ppl_base_mixed(V):
    return 2 ** math.log(V)


def uniform_ppl_exp_probability(V):
    return math.exp(1 / V)


def _shapes(V, d, n):
    """The chapter's table: E, W_h, W_e, b_1, U, b_2."""
    return {"E": (d, V), "W_h": (n, n), "W_e": (n, d), "b1": (n,), "U": (V, n), "b2": (V,)}


def params_by_shapes(V, d, n):
    return float(sum(np.prod(shape) for shape in _shapes(V, d, n).values()))  # a float: 1.0e3 parameters is a count


def params_grouped(V, d, n):
    return V * (d + n + 1) + n * (n + d + 1)


def params_by_init(V, d, n):
    from lecture_code.numpy_rnn import init_rnn_lm_params  # the chapter's own initialiser, at small sizes only
    if V * (d + n) > 10**6:
        return params_grouped(V, d, n)
    return sum(a.size for a in init_rnn_lm_params(V, d, n, np.random.default_rng(0)).values())


def _count(V, d, n, skip=()):
    return int(sum(np.prod(s) for k, s in _shapes(V, d, n).items() if k not in skip))


def params_no_biases(V, d, n):
    return _count(V, d, n, skip=("b1", "b2"))


def params_no_embeddings(V, d, n):
    return _count(V, d, n, skip=("E",))


def params_no_output_layer(V, d, n):
    return _count(V, d, n, skip=("U", "b2"))


def params_d_n_swapped(V, d, n):
    return _count(V, n, d)


def params_b2_of_size_n(V, d, n):
    return _count(V, d, n, skip=("b2",)) + n


# =============================================================================================
# sample_next


def _probs(z: np.ndarray) -> np.ndarray:
    w = np.exp(z - z.max(axis=1, keepdims=True))
    return w / w.sum(axis=1, keepdims=True)


def sample_temperature_multiplied(logits, temperature, rng):
    return np.argmax(logits * temperature + rng.gumbel(size=logits.shape), axis=1)


def sample_temperature_ignored(logits, temperature, rng):
    cdf = np.cumsum(_probs(logits), axis=1)
    u = rng.random(len(logits))
    return np.minimum((cdf < u[:, None]).sum(axis=1), logits.shape[1] - 1)


def sample_argmax(logits, temperature, rng):
    return np.argmax(logits, axis=1)


def sample_uniform(logits, temperature, rng):
    return rng.integers(logits.shape[1], size=logits.shape[0])


def sample_sign_flipped(logits, temperature, rng):
    return (-(logits / temperature) + rng.gumbel(size=logits.shape)).argmax(axis=-1)


def sample_temperature_after_softmax(logits, temperature, rng):
    p = _probs(logits) / temperature
    p = p / p.sum(axis=1, keepdims=True)
    return np.array([np.searchsorted(np.cumsum(row), u) for row, u in zip(p, rng.random(len(p)), strict=True)]).clip(
        0, logits.shape[1] - 1
    )


def sample_choice_per_row(logits, temperature, rng):
    p = _probs(logits / temperature)
    return np.array([rng.choice(len(row), p=row) for row in p])


def sample_inverse_cdf(logits, temperature, rng):
    cdf = np.cumsum(_probs(logits / temperature), axis=1)
    u = rng.random((len(cdf), 1))
    idx = (u > cdf).sum(axis=1)
    return np.minimum(idx, cdf.shape[1] - 1)


def sample_gumbel_max(logits, temperature, rng):
    return np.argmax(logits / temperature + rng.gumbel(size=logits.shape), axis=-1)


# =============================================================================================
# Every exercise: wrong implementations are rejected and named; correct ones pass

WRONG = [
    ("rnn_step", rnn_missing_tanh, "missing tanh"),
    ("rnn_step", rnn_sigmoid, "sigmoid instead of tanh"),
    ("rnn_step", rnn_relu, "ReLU instead of tanh"),
    ("rnn_step", rnn_swapped, "W_h and W_e swapped"),
    ("rnn_step", rnn_W_h_transposed, "W_h not transposed"),
    ("rnn_step", rnn_W_e_transposed, "W_e not transposed"),
    ("rnn_step", rnn_both_transposed, "both weights not transposed"),
    ("rnn_step", rnn_missing_bias, "missing bias"),
    ("rnn_step", rnn_bias_outside, "bias outside the tanh"),
    ("rnn_step", rnn_no_memory, "previous state ignored"),
    ("softmax", softmax_overflow, "softmax overflow"),
    ("softmax", softmax_global_max, "global max subtracted"),
    ("softmax", softmax_axis0, "wrong axis"),
    ("softmax", softmax_whole_array, "normalised over the whole array"),
    ("softmax", softmax_no_exp, "missing exp"),
    ("softmax", softmax_no_keepdims, "sum without keepdims"),
    ("softmax", softmax_log, "returned log-softmax"),
    ("lm_loss", loss_sum, "sum instead of mean"),
    ("lm_loss", loss_log_of_softmax, "log of a softmax that underflows"),
    ("lm_loss", loss_overflow, "softmax overflow"),
    ("lm_loss", loss_no_minus, "missing minus sign"),
    ("lm_loss", loss_log2, "log base 2"),
    ("lm_loss", loss_over_vocab, "averaged over the whole vocabulary"),
    ("lm_loss", loss_batch_summed, "summed over the batch"),
    ("lm_loss", loss_no_softmax, "no softmax"),
    ("lm_loss", loss_fancy_index, "fancy indexing picks every target"),
    ("perplexity", ppl_base2, "base 2"),
    ("perplexity", ppl_exp_minus, "exp of minus J"),
    ("perplexity", ppl_identity, "returned J itself"),
    ("perplexity", ppl_floor, "rounded to an integer"),
    ("perplexity", ppl_exp_reciprocal, "exp(1/J)"),
    ("uniform_perplexity", uniform_ppl_loss, "returned the loss log V"),
    ("uniform_perplexity", uniform_ppl_probability, "returned the probability 1/V"),
    ("uniform_perplexity", uniform_ppl_bits, "log base 2 of V"),
    ("uniform_perplexity", uniform_ppl_base_mixed, "2 to the power log V"),
    ("uniform_perplexity", uniform_ppl_exp_probability, "exp of the probability"),
    ("rnn_lm_num_params", params_no_biases, "biases forgotten"),
    ("rnn_lm_num_params", params_no_embeddings, "embeddings E forgotten"),
    ("rnn_lm_num_params", params_no_output_layer, "output layer forgotten"),
    ("rnn_lm_num_params", params_d_n_swapped, "d and n swapped"),
    ("rnn_lm_num_params", params_b2_of_size_n, "b_2 of size n"),
    ("sample_next", sample_temperature_multiplied, "temperature multiplied"),
    ("sample_next", sample_temperature_ignored, "temperature ignored"),
    ("sample_next", sample_argmax, "argmax instead of sampling"),
    ("sample_next", sample_uniform, "uniform sampling"),
    ("sample_next", sample_sign_flipped, "sign flipped"),
]

CORRECT = [
    ("rnn_step", rnn_einsum),
    ("rnn_step", rnn_loop),
    ("rnn_step", rnn_columns),
    ("softmax", softmax_logaddexp),
    ("softmax", softmax_math_loops),
    ("softmax", softmax_shifted),
    ("lm_loss", loss_loops),
    ("lm_loss", loss_onehot),
    ("lm_loss", loss_logaddexp),
    ("perplexity", ppl_math),
    ("perplexity", ppl_power_e),
    ("perplexity", ppl_power_2),
    ("uniform_perplexity", uniform_ppl_exp_log),
    ("uniform_perplexity", uniform_ppl_product),
    ("uniform_perplexity", lambda V: V),
    ("rnn_lm_num_params", params_by_shapes),
    ("rnn_lm_num_params", params_grouped),
    ("rnn_lm_num_params", params_by_init),
    ("sample_next", sample_choice_per_row),
    ("sample_next", sample_inverse_cdf),
    ("sample_next", sample_gumbel_max),
]

CLASSIC = ["missing tanh", "W_h and W_e swapped", "W_h not transposed", "missing bias", "softmax overflow",
           "log of a softmax that underflows", "sum instead of mean", "temperature multiplied"]


@pytest.mark.parametrize(("exercise", "fn", "mistake"), WRONG,
                         ids=[f"{ex}-{m}" for ex, _, m in WRONG])
def test_wrong_implementation_is_rejected_and_named(exercise: str, fn: Callable[..., Any], mistake: str) -> None:
    result = _check(exercise, fn)
    assert result.status in REJECTED, result.report()
    assert not result
    assert result.mistake == mistake, result.report()
    assert result.hint and result.hint.strip()
    assert result.hint in result.report()


@pytest.mark.parametrize(("exercise", "fn"), CORRECT, ids=[f"{ex}-{fn.__name__}" for ex, fn in CORRECT])
def test_correct_implementation_passes(exercise: str, fn: Callable[..., Any]) -> None:
    result = _check(exercise, fn)
    assert result.status is Status.PASS, result.report()
    assert result
    assert result.hint is None and result.mistake is None


def test_the_wrong_and_correct_sets_cover_every_exercise() -> None:
    for ex in (e.id for e in EXERCISES.values() if e.chapter == 1):  # set 2: tests/test_grading_02.py
        wrong = [(m, fn) for e, fn, m in WRONG if e == ex]
        assert len(wrong) >= 5, ex
        assert len({m for m, _ in wrong}) == len(wrong), f"{ex}: two test implementations aim at one mistake"
        assert len([fn for e, fn in CORRECT if e == ex]) >= 2, ex
    assert set(CLASSIC) <= {m for _, _, m in WRONG}


def test_temperature_after_softmax_is_named_as_the_documented_duplicate() -> None:
    # softmax(z) / τ renormalised IS softmax(z): the same distribution as "temperature ignored" (sampling.py).
    result = _check("sample_next", sample_temperature_after_softmax)
    assert result.status is Status.FAIL
    assert result.mistake == "temperature ignored"


def test_exp_of_reciprocal_written_with_python_division_is_named() -> None:
    result = _check("perplexity", lambda mean_nll: math.exp(1 / mean_nll))
    assert result.status is Status.FAIL
    assert result.mistake == "exp(1/J)"


# =============================================================================================
# Edge statuses


def _stub(*args: Any) -> Any:
    raise NotImplementedError("Replace this line with your code.")


def _sleepy(*args: Any) -> Any:
    time.sleep(2)


def _key_error(*args: Any) -> Any:
    lookup: dict[str, int] = {}
    return lookup["vocab"]


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_returning_none_mentions_return(exercise: str) -> None:
    def forgot_return(*args: Any) -> None:
        _ = args

    result = _check(exercise, forgot_return)
    assert result.status is Status.FAIL
    assert "return" in result.message


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_timeout_returns_quickly(exercise: str) -> None:
    start = time.perf_counter()
    result = _check(exercise, _sleepy, timeout=0.3)
    assert time.perf_counter() - start < 1.5
    assert result.status is Status.TIMEOUT
    assert "0.3" in result.message


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_exception_inside_is_an_error_naming_its_type(exercise: str) -> None:
    result = _check(exercise, _key_error)
    assert result.status is Status.ERROR
    assert "KeyError" in result.message
    if EXERCISES[exercise].kind != "custom":
        assert "lookup[" in result.message  # the learner's line is quoted


def test_sampler_error_quotes_the_learners_line() -> None:
    result = _check("sample_next", _key_error)
    assert result.status is Status.ERROR
    assert "lookup[" in result.message


@pytest.mark.parametrize("exercise", list(EXERCISES))
@pytest.mark.parametrize("exc", [SystemExit, KeyboardInterrupt, GeneratorExit])
def test_base_exceptions_never_escape(exercise: str, exc: type[BaseException]) -> None:
    def bail_out(*args: Any) -> Any:
        raise exc("stop")

    result = _check(exercise, bail_out)  # must not raise
    assert result.status is Status.ERROR
    assert exc.__name__ in result.message


@pytest.mark.parametrize("exercise", list(EXERCISES))
@pytest.mark.parametrize("thing", [None, 42, "rnn_step", np.zeros(3)], ids=["None", "int", "str", "array"])
def test_non_callable_is_an_error(exercise: str, thing: Any) -> None:
    result = _check(exercise, thing)
    assert result.status is Status.ERROR
    assert "expected a function" in result.message


def test_unknown_exercise_is_an_error_not_an_exception(capsys: pytest.CaptureFixture[str]) -> None:
    result = check("rnn_stepp", rnn_einsum)
    assert result.status is Status.ERROR
    assert "rnn_stepp" in result.message
    for known in EXERCISES:
        assert known in result.message
    assert "rnn_stepp" in capsys.readouterr().out


def test_nan_output_is_named() -> None:
    # the stable-softmax cases: an unshifted exp overflows to inf and inf / inf is NaN
    def naive(z):
        return np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)

    result = _check("softmax", naive)
    assert result.status is Status.FAIL
    assert "NaN" in result.message

    result = _check("perplexity", lambda j: float("nan"))
    assert result.status is Status.FAIL
    assert "nan" in result.message.lower()


def _rnn_out_of_place_into_h_prev(e_t, h_prev, W_h, W_e, b1):
    return np.tanh(h_prev @ W_h.T + e_t @ W_e.T + b1, out=h_prev)


def _rnn_plus_equals(e_t, h_prev, W_h, W_e, b1):
    h_prev += e_t @ W_e.T  # "saves memory"
    return np.tanh((h_prev - e_t @ W_e.T) @ W_h.T + e_t @ W_e.T + b1)


def _softmax_minus_equals(z):
    z -= z.max(axis=-1, keepdims=True)
    return np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)


def _loss_minus_equals(logits, targets):
    logits -= logits.max(axis=-1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    return -np.take_along_axis(logp, targets[..., None], -1).mean()


def _sample_divide_equals(logits, temperature, rng):
    logits /= temperature
    return sample_gumbel_max(logits, 1.0, rng)


IN_PLACE = [
    ("rnn_step", _rnn_out_of_place_into_h_prev, "h_prev"),
    ("rnn_step", _rnn_plus_equals, "h_prev"),
    ("softmax", _softmax_minus_equals, "z"),
    ("lm_loss", _loss_minus_equals, "logits"),
    ("sample_next", _sample_divide_equals, "logits"),
]


@pytest.mark.parametrize(("exercise", "fn", "arg"), IN_PLACE, ids=[f.__name__.strip("_") for _, f, _ in IN_PLACE])
def test_changing_an_input_in_place_names_it(exercise: str, fn: Callable[..., Any], arg: str) -> None:
    result = _check(exercise, fn)
    assert result.status is Status.FAIL, result.report()
    assert f"`{arg}`" in result.message
    assert "in place" in result.message


def test_float32_array_is_named() -> None:
    def rnn32(e_t, h_prev, W_h, W_e, b1):
        return np.tanh(h_prev @ W_h.T + e_t @ W_e.T + b1).astype(np.float32)

    def softmax32(z):
        z = z.astype(np.float32)
        p = np.exp(z - z.max(axis=-1, keepdims=True))
        return p / p.sum(axis=-1, keepdims=True)

    for ex, fn in (("rnn_step", rnn32), ("softmax", softmax32)):
        result = _check(ex, fn)
        assert result.status is Status.FAIL
        assert "float32" in result.message


def test_float32_scalar_is_named() -> None:
    result = _check("perplexity", lambda j: np.exp(np.float32(j)))
    assert result.status is Status.FAIL
    assert "float32" in result.message


def test_wrong_shape_and_transpose_are_named() -> None:
    result = _check("rnn_step", lambda *a: rnn_einsum(*a).T)
    assert result.status is Status.FAIL
    assert "shape" in result.message and "transpose" in result.message

    result = _check("softmax", lambda z: softmax_logaddexp(z)[..., None])
    assert result.status is Status.FAIL
    assert "shape" in result.message

    result = _check("lm_loss", lambda logits, targets: _lse(logits) - _target_logits(logits, targets))
    assert result.status is Status.FAIL
    assert "single real number" in result.message and "shape" in result.message

    result = _check("sample_next", lambda logits, t, rng: sample_gumbel_max(logits, t, rng)[:, None])
    assert result.status is Status.FAIL
    assert "shape" in result.message


def test_returning_probabilities_from_the_sampler_is_named() -> None:
    result = _check("sample_next", lambda logits, t, rng: _probs(logits / t))
    assert result.status is Status.FAIL
    assert "token id" in result.message


def test_sampler_edge_outputs() -> None:
    as_float = _check("sample_next", lambda logits, t, rng: sample_gumbel_max(logits, t, rng).astype(float))
    assert as_float.status is Status.FAIL and "integer" in as_float.message
    off_by_one = _check("sample_next", lambda logits, t, rng: sample_gumbel_max(logits, t, rng) + 1)
    assert off_by_one.status is Status.FAIL and "0..6" in off_by_one.message
    as_list = _check("sample_next", lambda logits, t, rng: sample_gumbel_max(logits, t, rng).tolist())
    assert as_list.status is Status.FAIL and "list" in as_list.message


def test_sampler_must_draw_from_the_given_rng() -> None:
    def global_random(logits, temperature, rng):
        return sample_gumbel_max(logits, temperature, np.random.default_rng())

    result = _check("sample_next", global_random)
    assert result.status is Status.FAIL
    assert "rng" in result.message


def test_sampler_with_its_own_fixed_seed_is_rejected() -> None:
    def own_seed(logits, temperature, rng):
        return sample_gumbel_max(logits, temperature, np.random.default_rng(0))

    assert _check("sample_next", own_seed).status in REJECTED


def test_torch_tensor_is_rejected() -> None:
    torch = pytest.importorskip("torch")

    def softmax_torch(z):
        return torch.softmax(torch.from_numpy(z), dim=-1)

    def loss_torch(logits, targets):
        return torch.nn.functional.cross_entropy(torch.from_numpy(logits).flatten(0, 1),
                                                 torch.from_numpy(targets).flatten())

    for ex, fn in (("softmax", softmax_torch), ("lm_loss", loss_torch)):
        result = _check(ex, fn)
        assert result.status is Status.FAIL, result.report()
        assert "torch" in result.message and "NumPy" in result.message


def test_scalar_exercises_reject_arrays_and_bools() -> None:
    assert _check("perplexity", lambda j: np.array([math.exp(j)])).status is Status.FAIL
    assert _check("perplexity", lambda j: True).status is Status.FAIL
    assert _check("perplexity", lambda j: np.array(math.exp(j))).status is Status.PASS  # 0-d is a number


HARD_CODED = [
    ("rnn_step", lambda e_t, h_prev, W_h, W_e, b1: np.tanh(h_prev @ W_h.T + e_t @ W_e.T + b1.reshape(1, 5))),
    ("rnn_step", lambda e_t, h_prev, W_h, W_e, b1: np.tanh(
        h_prev.reshape(-1, 5) @ W_h.T + e_t.reshape(-1, 4) @ W_e.T + b1)),
    ("softmax", lambda z: softmax_logaddexp(z.reshape(-1, 7)).reshape(z.shape)),
    ("softmax", lambda z: softmax_logaddexp(z.reshape(3, -1)).reshape(z.shape)),
    ("lm_loss", lambda logits, targets: float((_lse(logits) - _target_logits(logits, targets)).sum() / 6)),
    ("lm_loss", lambda logits, targets: float(np.mean(_lse(logits) - logits[np.arange(2)[:, None],
                                                                             np.arange(3), targets]))),
    ("sample_next", lambda logits, t, rng: sample_gumbel_max(logits, t, rng)[:3]),
    ("sample_next", lambda logits, t, rng: np.argmax(logits / t + rng.gumbel(size=(12000, 7)), axis=-1)[:9999]),
]


@pytest.mark.parametrize(("exercise", "fn"), HARD_CODED, ids=[f"{ex}-{i}" for i, (ex, _) in enumerate(HARD_CODED)])
def test_hard_coded_sizes_are_rejected(exercise: str, fn: Callable[..., Any]) -> None:
    result = _check(exercise, fn)
    assert result.status in REJECTED, result.report()


def test_a_checker_bug_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kw: Any) -> Result:
        raise RuntimeError("checker bug")

    monkeypatch.setattr("lecture_code.grading.run_check", broken)
    result = _check("softmax", softmax_logaddexp)
    assert result.status is Status.ERROR
    assert "checker itself failed" in result.message


def test_learner_exception_with_unprintable_message_does_not_escape() -> None:
    class Weird(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no str for you")

    def raises_weird(z):
        raise Weird()

    result = _check("softmax", raises_weird)
    assert result.status is Status.ERROR


# =============================================================================================
# LECTURE_CODE_EXPECT and LECTURE_CODE_GRADING_REPORT


def test_expect_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EXPECT_VAR, "pass")
    assert _check("softmax", softmax_logaddexp).status is Status.PASS
    with pytest.raises(ExpectationError, match="softmax"):
        _check("softmax", softmax_overflow)
    with pytest.raises(ExpectationError):
        _check("rnn_step", _stub)
    assert issubclass(ExpectationError, AssertionError)


def test_expect_not_implemented(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EXPECT_VAR, "not_implemented")
    for ex in EXERCISES:
        assert _check(ex, _stub).status is Status.NOT_IMPLEMENTED
    with pytest.raises(ExpectationError, match="not_implemented"):
        _check("perplexity", ppl_math)


def test_expect_invalid_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EXPECT_VAR, "passed")
    with pytest.raises(ExpectationError, match=EXPECT_VAR):
        _check("perplexity", ppl_math)


def test_expect_empty_value_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EXPECT_VAR, "  ")
    assert _check("perplexity", ppl_base2).status is Status.FAIL


def test_results_are_appended_as_json_lines(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    report = tmp_path / "report.jsonl"
    report.write_text('{"exercise": "earlier", "status": "pass"}\n', encoding="utf-8")
    monkeypatch.setenv(REPORT_VAR, str(report))
    _check("perplexity", ppl_math)
    _check("rnn_step", rnn_missing_tanh)
    _check("softmax", _stub)
    _check("nope", ppl_math)
    rows = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    assert [r["exercise"] for r in rows] == ["earlier", "perplexity", "rnn_step", "softmax", "nope"]
    assert [r["status"] for r in rows[1:]] == ["pass", "fail", "not_implemented", "error"]
    assert rows[2]["mistake"] == "missing tanh" and rows[2]["hint"]
    assert set(rows[1]) == {"exercise", "status", "message", "hint", "mistake", "case"}


def test_unwritable_report_does_not_break_the_check(monkeypatch: pytest.MonkeyPatch, tmp_path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(REPORT_VAR, str(tmp_path / "no" / "such" / "dir" / "report.jsonl"))
    assert _check("perplexity", ppl_math).status is Status.PASS
    assert "could not write" in capsys.readouterr().err


# =============================================================================================
# The checker's own inputs are strong enough (the registry-wide properties are in
# test_exercise_registry.py)


def test_cases_use_distinct_sizes_for_rnn_step() -> None:
    # a transposed weight only fails on its shape when d != n; at least one case needs d == n (W_e square)
    shapes = [(c.args[0].shape[1], c.args[1].shape[1]) for c in EXERCISES["rnn_step"].cases()]
    assert any(d != n for d, n in shapes) and any(d == n for d, n in shapes)
    assert any(c.args[0].shape[0] == 1 for c in EXERCISES["rnn_step"].cases())


def test_sampling_mistake_distributions_differ_from_the_target() -> None:
    documented_duplicate = "temperature applied after the softmax"
    names = [m.name for m in sampling.MISTAKES]
    assert documented_duplicate in names
    distinct = [m for m in sampling.MISTAKES if m.name != documented_duplicate]
    assert [m.name for m in sampling._DISTINCT_MISTAKES] == [m.name for m in distinct]
    for m in distinct:
        assert any(not sampling._agrees(m.fn(base, tau), softmax_ref(base / tau), sampling.N_PER_ROW)
                   for _, base, tau in sampling.CASES), m.name
    for a, b in itertools.combinations(distinct, 2):
        assert any(not np.allclose(a.fn(base, tau), b.fn(base, tau), atol=1e-3)
                   for _, base, tau in sampling.CASES), (a.name, b.name)
    # the duplicate is the same distribution as "temperature ignored", which is why it is never preferred
    dup = next(m for m in sampling.MISTAKES if m.name == documented_duplicate)
    ignored = next(m for m in sampling.MISTAKES if m.name == "temperature ignored")
    for _, base, tau in sampling.CASES:
        np.testing.assert_allclose(dup.fn(base, tau), ignored.fn(base, tau))
    assert len({m.hint for m in sampling.MISTAKES}) == len(sampling.MISTAKES)


def test_sampling_check_is_deterministic() -> None:
    a, b = _check("sample_next", sample_uniform), _check("sample_next", sample_uniform)
    assert a.to_dict() == b.to_dict()


# =============================================================================================
# The checker does not touch the caller's arrays


@pytest.mark.parametrize("exercise", [ex.id for ex in EXERCISES.values() if ex.kind != "custom"])
def test_case_inputs_are_unchanged_after_a_check(exercise: str) -> None:
    ex = EXERCISES[exercise]
    fixed = ex.cases()  # the same objects on every call, so a leak into them would show
    snapshot = copy.deepcopy(fixed)
    pinned = dataclasses.replace(ex, make_cases=lambda: fixed)

    def vandal(*args: Any) -> Any:
        for a in _arrays(args):
            if a.dtype.kind == "f":
                a *= -3.0
        raise ValueError("and then it fails")

    for fn in (vandal, ex.reference, *(m.fn for m in ex.mistakes)):
        run_check(pinned, fn)
    for before, after in zip(snapshot, fixed, strict=True):
        for x, y in zip(_arrays(before.args), _arrays(after.args), strict=True):
            np.testing.assert_array_equal(x, y)


def _arrays(x: Any) -> list[np.ndarray]:
    """Every array in ``x``, inside tuples, lists and dicts too (a cache is a tuple of arrays)."""
    if isinstance(x, np.ndarray):
        return [x]
    if isinstance(x, dict):
        x = list(x.values())
    return [a for item in x for a in _arrays(item)] if isinstance(x, tuple | list) else []


def test_sampler_check_leaves_its_base_logits_alone() -> None:
    snapshot = [(name, base.copy(), tau) for name, base, tau in sampling.CASES]
    _check("sample_next", _sample_divide_equals)
    _check("sample_next", sample_gumbel_max)
    for (name, base, tau), (name2, base2, tau2) in zip(snapshot, sampling.CASES, strict=True):
        assert (name, tau) == (name2, tau2)
        np.testing.assert_array_equal(base, base2)


def test_the_learners_own_array_is_untouched_when_checked() -> None:
    # run_check passes copies; a learner's array used elsewhere in the notebook is never an argument, but the
    # checker's copy semantics guarantee in-place code cannot reach the caller's data either
    z = np.arange(12.0).reshape(3, 4)
    out = call(_softmax_minus_equals, (z,), 5.0)
    assert out.ok
    np.testing.assert_array_equal(z, np.arange(12.0).reshape(3, 4))
    assert not np.array_equal(out.args_after[0], z)


# =============================================================================================
# The printed report and the Result object


@pytest.mark.parametrize(("fn", "mark", "word"), [(softmax_shifted, "✔", "PASS"), (softmax_overflow, "✘", "FAIL"),
                                                 (_stub, "…", "NOT IMPLEMENTED"), (_key_error, "✘", "ERROR")])
def test_printed_report(capsys: pytest.CaptureFixture[str], fn: Callable[..., Any], mark: str, word: str) -> None:
    result = check("softmax", fn)
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first.startswith(f"{mark} softmax: {word}.")
    assert out.strip() == result.report()
    if result.hint:
        assert f"Likely mistake ({result.mistake}): {result.hint}" in out


def test_quiet_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    check("softmax", softmax_overflow, quiet=True)
    check("nope", softmax_overflow, quiet=True)
    assert capsys.readouterr() == ("", "")


def test_result_bool_repr_and_dict() -> None:
    good, bad = _check("perplexity", ppl_math), _check("perplexity", ppl_base2)
    assert bool(good) is True and bool(bad) is False
    for r in (good, bad):
        assert "\n" not in repr(r)
        assert repr(r).startswith("Result(exercise='perplexity'")
        assert str(r) == r.report()
        json.dumps(r.to_dict())
    assert "mistake='base 2'" in repr(bad)
    assert bad.case is not None and bad.case in bad.message
    assert good.report().count("\n") == 0


# =============================================================================================
# The derived formulas: no constant passes, and a wrong value does not give the right one away


@pytest.mark.parametrize(("exercise", "fn"), [("uniform_perplexity", lambda V: 65.0),
                                              ("rnn_lm_num_params", lambda V, d, n: 144),
                                              ("rnn_lm_num_params", lambda V, d, n: d * V + n * n + n * d + V * n + 1)])
def test_a_derived_formula_is_checked_on_many_sizes_without_showing_the_answer(exercise: str,
                                                                              fn: Callable[..., Any]) -> None:
    result = _check(exercise, fn)
    assert result.status is Status.FAIL, result.report()
    assert "expected" not in result.message and "not the right value" in result.message, result.report()
    if fn(*EXERCISES[exercise].cases()[0].args) == EXERCISES[exercise].reference(*EXERCISES[exercise].cases()[0].args):
        assert result.case != EXERCISES[exercise].cases()[0].name  # right on the first sizes, wrong on others


def test_a_parameter_count_is_exact() -> None:
    assert _check("rnn_lm_num_params", lambda V, d, n: params_grouped(V, d, n) + 1).status is Status.FAIL
    assert _check("rnn_lm_num_params", lambda V, d, n: float(params_grouped(V, d, n))).status is Status.PASS
    assert _check("rnn_lm_num_params", lambda V, d, n: np.int64(params_grouped(V, d, n))).status is Status.PASS
