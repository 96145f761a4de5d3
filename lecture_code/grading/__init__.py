"""Exercises with automatic feedback.

Learners call :func:`check` on their function::

    from lecture_code.grading import check
    check("rnn_step", rnn_step)

It prints a few plain lines (pass, or what is wrong and the likely mistake by name) and
returns a :class:`Result`. It never raises at the learner, with one deliberate exception:
when the environment variable ``LECTURE_CODE_EXPECT`` is ``pass`` or ``not_implemented``
and the status differs, it raises :class:`ExpectationError`. CI uses this to assert that
the solutions pass and that the generated exercise stubs report ``not_implemented``.

Instructors grade notebooks with ``python -m lecture_code.grading NOTEBOOK_OR_FOLDER ...``
(:mod:`.cli`). That command does not use what ``check`` prints or returns in the learner's
kernel: it runs each notebook in a sandbox and checks every exercise itself, from its own
process (:mod:`.grade`). ``python -m lecture_code.grading list`` prints the registry :data:`EXERCISES`.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any

from .checker import Case, Exercise, Mistake, Result, Status, run_check
from .exercises_01 import EXERCISES_01
from .exercises_02 import EXERCISES_02
from .exercises_03 import EXERCISES_03
from .exercises_04 import EXERCISES_04
from .exercises_05 import EXERCISES_05
from .exercises_06 import EXERCISES_06

EXERCISES: dict[str, Exercise] = {ex.id: ex for ex in (*EXERCISES_01, *EXERCISES_02, *EXERCISES_03, *EXERCISES_04,
                                                           *EXERCISES_05, *EXERCISES_06)}
"""Every exercise by id; ``EXERCISES[id].reference`` is its reference implementation."""

EXPECT_VAR = "LECTURE_CODE_EXPECT"
REPORT_VAR = "LECTURE_CODE_GRADING_REPORT"
"""If set, ``check`` appends each result to this file as a JSON line: a log for the learner's own
scripts. The grading command neither sets it nor reads it (a kernel's report can say anything)."""

__all__ = ["EXERCISES", "Case", "Exercise", "ExpectationError", "Mistake", "Result", "Status", "check"]


class ExpectationError(AssertionError):
    """Raised only when ``LECTURE_CODE_EXPECT`` is set and a check's status differs from it."""


def check(exercise_id: str, fn: Any, *, timeout: float | None = None, quiet: bool = False) -> Result:
    """Check a learner's implementation of exercise ``exercise_id``; print and return the result.

    Args:
        exercise_id: an id from :data:`EXERCISES` (e.g. ``"rnn_step"``).
        fn: the learner's function.
        timeout: seconds allowed per call (default: the exercise's own limit).
        quiet: do not print the report.
    """
    if not isinstance(exercise_id, str) or exercise_id not in EXERCISES:
        known = ", ".join(sorted(EXERCISES))
        name = str.__str__(exercise_id)[:60] if isinstance(exercise_id, str) else f"<{type(exercise_id).__name__}>"
        result = Result(name, Status.ERROR, f"there is no exercise called {name!r}: the first argument is the "
                        f"exercise's name, a string. Known exercises: {known}.")
    else:
        try:
            result = run_check(EXERCISES[exercise_id], fn, timeout=timeout)
        except KeyboardInterrupt:  # the learner's code runs in a worker thread: only the user interrupts here
            raise
        except BaseException:  # a bug in the checker itself must not break the learner's notebook
            result = Result(exercise_id, Status.ERROR, "the checker itself failed; please report this with "
                            "the lines below.", details=traceback.format_exc().strip().splitlines()[-3:])
    if not quiet:
        print(result.report())
    _record(result)
    expected = os.environ.get(EXPECT_VAR, "").strip()
    if expected:
        if expected not in (Status.PASS.value, Status.NOT_IMPLEMENTED.value):
            raise ExpectationError(f"{EXPECT_VAR} must be 'pass' or 'not_implemented', got {expected!r}")
        if result.status.value != expected:
            raise ExpectationError(f"{exercise_id}: expected status {expected!r}, got {result.status.value!r}\n"
                                   + result.report())
    return result


def _record(result: Result) -> None:
    """Append the result as a JSON line to $LECTURE_CODE_GRADING_REPORT (never read by the grader)."""
    path = os.environ.get(REPORT_VAR)
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(result.to_dict()) + "\n")
    except OSError as err:
        print(f"(could not write the grading report to {path}: {err})", file=sys.stderr)
