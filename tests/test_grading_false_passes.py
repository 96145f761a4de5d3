"""The checker without false passes (issue 14, part B): for every exercise, wrong implementations of the kinds
that used to pass are rejected, and correct ones written differently still pass.

The wrong ones are the generic kinds of ``learners.py`` (state kept between calls, squeezed results, objects
that lie when compared or raise SystemExit, NumPy patched) applied to a correct implementation of every
exercise, and the exercise-specific kinds of ``wrong_learners.py``. The correct ones are the learner-style
implementations of test_grading*.py plus a few here (tanh and sigmoid written through each other, stably).
The last test prints the table: wrong tried / rejected, correct tried / passed, per exercise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import learners
import numpy as np
import pytest
import test_grading
import test_grading_02
import test_grading_03
import test_grading_04
import test_grading_05
import test_grading_06
import wrong_learners
from helpers import print_uncaptured, quiet_check

from lecture_code.grading import EXERCISES, Status, check
from lecture_code.grading.checker import BROADCAST_ERROR

# ---------------------------------------------------------------------------------------------
# Correct implementations written differently


def _sigmoid_by_tanh(a: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def _tanh_by_sigmoid(a: np.ndarray) -> np.ndarray:
    return 2.0 / (1.0 + np.exp(-2.0 * a)) - 1.0  # exp(-2a) may overflow to inf: 2/inf - 1 = -1, still right


def _lstm_backward_fused(dh, dc, cache):
    """All four gates at once: one (B, 4n) gradient against the stacked (4n, n) and (4n, d) weights."""
    p, gates = cache["params"], "fioc"
    y = np.concatenate([cache[g] for g in ("f", "i", "o", "c_tilde")], axis=1)
    tanh_c = np.tanh(cache["c"])
    dc_total = dc + dh * cache["o"] * (1 - tanh_c**2)
    dy = np.concatenate([dc_total * cache["c_prev"], dc_total * cache["c_tilde"], dh * tanh_c,
                         dc_total * cache["i"]], axis=1)
    n = dh.shape[1]
    deriv = np.concatenate([y[:, :3 * n] * (1 - y[:, :3 * n]), 1 - y[:, 3 * n:] ** 2], axis=1)
    da = dy * deriv
    W = np.concatenate([p[f"W_{g}"] for g in gates])
    U = np.concatenate([p[f"U_{g}"] for g in gates])
    dW, dU, db = da.T @ cache["h_prev"], da.T @ cache["x_t"], da.sum(axis=0)
    grads = {}
    for k, g in enumerate(gates):
        rows = slice(k * n, (k + 1) * n)
        grads[f"W_{g}"], grads[f"U_{g}"], grads[f"b_{g}"] = dW[rows], dU[rows], db[rows]
    return da @ U, da @ W, dc_total * cache["f"], grads


def _lstm_params_by_reshape(w_ih, w_hh, b_ih, b_hh):
    n = w_hh.shape[1]
    U, W, b = w_ih.reshape(4, n, -1), w_hh.reshape(4, n, n), (b_ih + b_hh).reshape(4, n)
    return {f"{m}_{g}": a[k].copy() for k, g in enumerate("ifco") for m, a in (("W", W), ("U", U), ("b", b))}


def _norms_by_matrix_power(W_h, g, L):
    return np.linalg.norm(np.stack([g @ np.linalg.matrix_power(W_h, l) for l in range(L + 1)]), axis=1)


def _stacked_stable(x: np.ndarray, layers: list[dict[str, np.ndarray]], h0: np.ndarray | None = None) -> tuple:
    H = x
    for i, p in enumerate(layers):
        h = np.zeros((len(x), len(p["W_h"]))) if h0 is None else h0[i]
        H = wrong_learners._run(H, p, h, tanh=_tanh_by_sigmoid)
    return H, H[:, -1]


EXTRA_CORRECT: list[tuple[str, Callable[..., Any]]] = [
    ("rnn_step", lambda e, h, Wh, We, b: _tanh_by_sigmoid(np.hstack([h, e]) @ np.hstack([Wh, We]).T + b)),
    ("lstm_step", wrong_learners._lstm_with(_sigmoid_by_tanh, np.tanh)),
    ("lstm_step", wrong_learners._lstm_with(lambda a: 1.0 / (1.0 + np.exp(-a)), _tanh_by_sigmoid)),
    ("gru_step", wrong_learners._gru_with(_sigmoid_by_tanh, np.tanh)),
    ("stacked_rnn_forward", _stacked_stable),
    ("lstm_step_backward", _lstm_backward_fused),
    ("lstm_params_from_torch", _lstm_params_by_reshape),
    ("gradient_norms_over_distance", _norms_by_matrix_power),
    ("clip_grad_norm", lambda grads, t: {k: np.array(g) * min(1.0, t / max(np.linalg.norm(np.concatenate(
        [v.ravel() for v in grads.values()])), 1e-300)) for k, g in grads.items()}),
    ("entity_spans", lambda tags: [tuple(s) for s in wrong_learners._ref("entity_spans")(list(tags))]),
]


CORRECT: list[tuple[str, Callable[..., Any]]] = [
    *test_grading.CORRECT, *test_grading_02.CORRECT, *test_grading_03.CORRECT, *test_grading_04.CORRECT,
    *test_grading_05.CORRECT, *test_grading_06.CORRECT, *EXTRA_CORRECT,
]

# ---------------------------------------------------------------------------------------------
# Wrong implementations: every generic kind on a correct implementation of every exercise, and the specific ones

PATCH_MATTERS = {"rnn_step", "softmax", "lm_loss", "perplexity", "sample_next", "sgd_step", "masked_mean_loss",
                 "lstm_step", "lstm_step_backward", "gru_step", "birnn_forward", "stacked_rnn_forward"}
SCALAR = {"lm_loss", "perplexity", "masked_mean_loss", "uniform_perplexity", "rnn_lm_num_params",
          "jacobian_norm_bound", "lstm_num_params", "stacked_birnn_num_params"}
# A choice question's function takes no arguments and returns a string: state kept between calls, a mask or a
# squeeze cannot make its answer wrong, so only the kinds that change the answer apply.
STATELESS = ("cache keyed on shapes", "accumulator never reset", "call counter changes the answer",
             "a repeated input answered from a stale cache", "masked array hiding wrong values")


def _base(exercise: str) -> Callable[..., Any]:
    return next(fn for e, fn in CORRECT if e == exercise)


def _wrong() -> list[tuple[str, str, Callable[..., Any]]]:
    rows = []
    for exercise in EXERCISES:
        base = _base(exercise)
        kinds = dict(learners.GENERIC)
        if exercise in PATCH_MATTERS:
            kinds["np.exp, np.tanh, np.log patched before the reference"] = learners.patches_the_reference
        choice = EXERCISES[exercise].kind == "choice"
        if exercise not in SCALAR and exercise != "entity_spans" and not choice:
            kinds["result squeezed (B = 1, n = 1 lose an axis)"] = learners.squeezed
        if choice:
            for kind in STATELESS:
                del kinds[kind]
        if exercise == "entity_spans":
            kinds["mutable default argument spans=[]"] = learners.mutable_default_spans
            kinds["list subclass that always compares equal"] = learners.lying_list
            for kind in ("accumulator never reset", "call counter changes the answer", "masked array hiding wrong "
                         "values", "a repeated input answered from a stale cache"):
                del kinds[kind]
        rows += [(exercise, kind, wrap(EXERCISES[exercise].reference if "patched before" in kind else base))
                 for kind, wrap in kinds.items()]
        rows += [(exercise, kind, fn) for kind, fn in wrong_learners.SPECIFIC.get(exercise, {}).items()]
    return rows


WRONG = _wrong()


_SNAPSHOT = {m: dict(vars(m)) for m in (np, np.linalg, np.random, np.testing)}


def _restore_numpy() -> None:
    """Some wrong learners patch NumPy at run time: put it back as it was when this module was imported."""
    for module, attrs in _SNAPSHOT.items():
        for key, value in attrs.items():
            if vars(module).get(key) is not value:
                setattr(module, key, value)


def _try(exercise: str) -> tuple[list[str], list[str], list[str]]:
    """(kinds of the wrong implementations tried, those that passed, reports of correct ones that did not pass)."""
    wrong = [(kind, fn) for e, kind, fn in WRONG if e == exercise]
    false_passes = []
    for kind, fn in wrong:
        if quiet_check(exercise, fn).status is Status.PASS:
            false_passes.append(kind)
        _restore_numpy()  # a learner's patch must not leak into the next check
    false_fails = [result.report() for fn in CORRECT_BY_EXERCISE[exercise]
                   if not (result := quiet_check(exercise, fn))]
    TALLY[exercise] = (len(wrong), len(wrong) - len(false_passes), len(CORRECT_BY_EXERCISE[exercise]),
                       len(CORRECT_BY_EXERCISE[exercise]) - len(false_fails))
    return [k for k, _ in wrong], false_passes, false_fails


CORRECT_BY_EXERCISE = {e: [fn for ex, fn in CORRECT if ex == e] for e in EXERCISES}
TALLY: dict[str, tuple[int, int, int, int]] = {}
"""exercise -> (wrong tried, wrong rejected, correct tried, correct passed), filled by the tests."""


@pytest.fixture(autouse=True)
def _numpy_restored() -> Iterator[None]:
    yield
    _restore_numpy()


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_no_wrong_implementation_passes_and_every_correct_one_does(exercise: str) -> None:
    wrong, false_passes, false_fails = _try(exercise)
    assert not false_passes, f"wrong implementations that pass: {false_passes}"
    assert not false_fails, "\n".join(false_fails)
    assert len(wrong) >= 8 and len(CORRECT_BY_EXERCISE[exercise]) >= 2


# ---------------------------------------------------------------------------------------------
# check() never raises, whatever the learner's objects do; hints are specific


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_objects_that_raise_system_exit_never_escape_check(exercise: str) -> None:
    result = check(exercise, learners.explosive(_base(exercise)), quiet=True)  # printing the report too
    assert result.status is not Status.PASS
    assert result.report()


def test_a_patched_numpy_does_not_change_the_references() -> None:
    np.tanh = lambda a, *r, **k: np.asarray(a)  # the learner's notebook patched np.tanh before checking
    try:
        result = quiet_check("rnn_step", lambda e, h, Wh, We, b: h @ Wh.T + e @ We.T + b)
    finally:
        _restore_numpy()
    assert result.status is Status.FAIL and result.mistake == "missing tanh"


def test_masked_and_subclassed_results_are_named() -> None:
    result = quiet_check("softmax", learners.masked(_base("softmax")))
    assert result.status is Status.FAIL and "MaskedArray" in result.message and "np.asarray" in result.message
    result = quiet_check("softmax", learners.lying(_base("softmax")))
    assert "subclass of numpy.ndarray" in result.message


def test_returning_the_callers_arrays_is_named_where_new_ones_are_asked_for() -> None:
    result = quiet_check("clip_grad_norm", wrong_learners.clip_same_arrays_below)
    assert result.status is Status.FAIL
    assert "shares memory with, the caller's `grads[" in result.message and "new" in result.message


def test_state_kept_between_calls_is_named() -> None:
    result = quiet_check("rnn_step", learners.wrong_on_a_repeat(_base("rnn_step")))
    assert result.status is Status.FAIL and "second time with the same inputs" in result.message


@pytest.mark.parametrize(("exercise", "fn"), [("rnn_step", wrong_learners.rnn_step_bias_column),
                                              ("tagger_logits", wrong_learners.tagger_bias_column)])
def test_a_bias_of_the_wrong_shape_is_not_called_a_matrix_product(exercise: str, fn: Callable[..., Any]) -> None:
    result = quiet_check(exercise, fn)
    assert result.status is Status.ERROR and BROADCAST_ERROR in result.message
    assert result.hint and "matrix product" not in result.hint and "bias" in result.hint


def _signature(args: Any) -> str:
    return repr(learners.map_leaves(args, lambda a: a.shape if isinstance(a, np.ndarray) else type(a).__name__))


def test_every_case_set_meets_the_concepts() -> None:
    for exercise, ex in EXERCISES.items():
        if exercise == "sample_next" or ex.kind == "choice":  # no inputs: one question, asked twice by the checker
            continue
        cases = ex.cases()
        shapes = [_signature(c.args) for c in cases]
        assert len(set(shapes)) < len(shapes), f"{exercise}: two cases of the same shapes"
        if exercise not in ("perplexity", "entity_spans"):
            assert any("stress" in c.name for c in cases), exercise


def test_print_the_table(request: pytest.FixtureRequest) -> None:
    """The numbers per exercise (computed here for any exercise another xdist worker tried)."""
    for exercise in EXERCISES:
        if exercise not in TALLY:
            _try(exercise)
    lines = ["", f"{'exercise':30} {'wrong tried':>11} {'rejected':>9} {'correct tried':>13} {'passed':>7}"]
    rows = [TALLY[e] for e in EXERCISES]
    for exercise, row in zip(EXERCISES, rows, strict=True):
        lines.append(f"{exercise:30} {row[0]:>11} {row[1]:>9} {row[2]:>13} {row[3]:>7}")
    totals = [sum(column) for column in zip(*rows, strict=True)]
    lines.append(f"{'total':30} {totals[0]:>11} {totals[1]:>9} {totals[2]:>13} {totals[3]:>7}")
    print_uncaptured(request, lines)
    assert totals[0] == totals[1] and totals[2] == totals[3]


def test_check_with_a_non_string_exercise_id_reports_instead_of_raising():
    from lecture_code.grading import check

    for bad in (["rnn_step"], None, 3):
        result = check(bad, lambda *a: None, quiet=True)  # type: ignore[arg-type]
        assert result.status.value == "error" and "a string" in result.message
