"""Shared test helpers: run a function on an exercise's own cases and compare outcomes the way the
checker's diagnosis does; print a summary past pytest's output capture."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lecture_code.grading import EXERCISES, Result, Status, check
from lecture_code.grading.checker import Outcome, _same, call


def outcomes(exercise: str, fn: Callable[..., Any]) -> list[Outcome]:
    """``fn`` called on every case of ``exercise``, in order."""
    ex = EXERCISES[exercise]
    return [call(fn, c.args, ex.timeout) for c in ex.cases()]


def same_outcome(a: Outcome, b: Outcome) -> bool:
    """Indistinguishable for the checker: the same exception type, or the same values."""
    if a.error is not None or b.error is not None:
        return type(a.error) is type(b.error)
    return _same(a.value, b.value)


def print_uncaptured(request: pytest.FixtureRequest, lines: list[str]) -> None:
    """Print past pytest's output capture, e.g. a module's summary of measured errors."""
    capman = request.config.pluginmanager.getplugin("capturemanager")
    if capman is None:
        print("\n".join(lines))
        return
    with capman.global_and_fixture_disabled():
        print("\n".join(lines))


# ---------------------------------------------------------------------------------------------
# The per-set checker tests (test_grading_03 ... _06): a wrong implementation must be rejected AND
# named as the registered mistake; a correct one must pass; every exercise of the set needs at least
# five wrong and two correct implementations, the wrong ones naming every registered mistake.

REJECTED = (Status.FAIL, Status.ERROR)


def quiet_check(exercise: str, fn: Any, **kw: Any) -> Result:
    """``check`` without printing the report."""
    return check(exercise, fn, quiet=True, **kw)


def assert_rejected_and_named(exercise: str, fn: Callable[..., Any], mistake: str) -> None:
    result = quiet_check(exercise, fn)
    assert result.status in REJECTED, result.report()
    assert result.mistake == mistake, result.report()
    assert result.hint and result.hint in result.report()


def assert_passes(exercise: str, fn: Callable[..., Any]) -> None:
    result = quiet_check(exercise, fn)
    assert result, result.report()


def assert_wrong_and_correct_cover(exercises: list[str], wrong: list[tuple], correct: list[tuple]) -> None:
    for exercise in exercises:
        names = {m for e, _, m in wrong if e == exercise}
        assert names == {m.name for m in EXERCISES[exercise].mistakes} and len(names) >= 5
        assert sum(e == exercise for e, _ in correct) >= 2
