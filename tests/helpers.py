"""Shared test helpers: run a function on an exercise's own cases and compare outcomes the way the
checker's diagnosis does; print a summary past pytest's output capture."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lecture_code.grading import EXERCISES
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
