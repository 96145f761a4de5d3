"""Grade one submitted notebook: run it in a sandbox, then check each exercise from the grader.

The grade never comes from the learner's kernel. The notebook runs in its :class:`~.sandbox.Sandbox`
(its own ``check(...)`` calls print there and are ignored); then, for each exercise of its chapter,
the grader takes the notebook's function of that name and runs the exercise's cases on it through
a :class:`~.remote.RemoteFunction`, comparing the results with the reference in its own process.

Statuses, besides the checker's (``pass``, ``fail``, ``not_implemented``, ``error``, ``timeout``):

``not run``       the notebook defines no function of that name;
``not own work``  the function is, or calls, the shipped reference (or the checker's code);
``timeout``       also: a cell ran past its limit, or the notebook past its wall-clock limit;
``memory``        a cell ran out of memory (the sandbox's limit);
``processes``     a cell reached the sandbox's process limit (e.g. forking in a loop);
``crashed``       the kernel stopped (it crashed, exited, or was killed at a limit).
"""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from . import EXERCISES
from .checker import Result, Status, run_check
from .remote import ChannelError, RemoteFunction, defined, install
from .sandbox import KernelGone, Limits, Problem, Sandbox

NOT_RUN, NOT_OWN_WORK, CRASHED = "not run", "not own work", "crashed"
CALL_MARGIN = 3.0  # the proxy's own per-call limit exceeds the checker's by this much (seconds)
MAX_RESTARTS = 2  # fresh sandboxes for the exercises left when the kernel dies during a check


@dataclass
class Row:
    """One exercise of one notebook: what the table, the CSV and the feedback file show."""

    notebook: str
    exercise: str
    status: str
    hint: str = ""
    message: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"notebook": self.notebook, "exercise": self.exercise, "status": self.status, "hint": self.hint}


@dataclass
class Graded:
    """A whole notebook: its rows and what happened while it ran."""

    notebook: str
    rows: list[Row]
    problems: list[Problem] = field(default_factory=list)


def chapter_exercises(nb: Path) -> list[str]:
    """Exercises a notebook should have: those of its chapter, from a name like '01_rnn_lm.ipynb'."""
    m = re.match(r"(\d+)_", nb.name)
    return [] if m is None else [e.id for e in EXERCISES.values() if e.chapter == int(m.group(1))]


def _row_from_result(nb: str, result: Result) -> Row:
    status = result.status.value
    hint = "" if result.status is Status.PASS else (result.hint or result.message)
    return Row(nb, result.exercise, status, hint, result.report())


def _check(sb: Sandbox, nb: str, ex_id: str) -> Row:
    """Check one exercise through the proxy; the reference and the comparison stay here."""
    ex = EXERCISES[ex_id]
    proxy = RemoteFunction(sb, ex_id, ex.timeout + CALL_MARGIN)
    try:
        result = run_check(ex, proxy)
    except Exception as err:  # a bug in the checker must not stop the class's grading
        line = traceback.format_exception_only(err)[-1].strip()
        result = Result(ex_id, Status.ERROR, f"the checker itself failed: {line}")
    proxy.wait(ex.timeout + CALL_MARGIN + 10)
    if sb.gone is not None:
        return Row(nb, ex_id, sb.gone.reason, f"while checking {ex_id}: {sb.gone}")
    borrowed = proxy.borrowed(ex)
    if borrowed:
        what = (borrowed if borrowed.startswith("during")
                else f"it is, or calls, code shipped with the course ({borrowed})")
        return Row(nb, ex_id, NOT_OWN_WORK, f"{ex_id}: {what}; write the function yourself.")
    return _row_from_result(nb, result)


def grade_notebook(path: Path, limits: Limits | None = None, source: bytes | None = None) -> Graded:
    """Run ``path`` in a sandbox and check every exercise of its chapter (see the module docstring).

    ``source`` is the notebook's content, read before any notebook ran: where the sandbox cannot run a
    submission as another user, it can delete or rewrite the other submissions, and each is then still
    graded as it was handed in. Without it, ``path`` is read when its sandbox starts.

    A notebook without a chapter number in its name is checked on the exercises it defines. If the
    kernel dies or hangs while one exercise is checked, the notebook runs again in a fresh sandbox
    for the exercises left (at most ``MAX_RESTARTS`` times).
    """
    limits = limits or Limits()
    nb = str(path)
    expected = chapter_exercises(path)
    problems: list[Problem] = []
    rows: dict[str, Row] = {}
    todo: list[str] | None = None  # the exercises left to check, once the first run has told which exist
    try:
        for attempt in range(MAX_RESTARTS + 1):
            with Sandbox(path, limits, source) as sb:
                run_problems = sb.run_notebook()
                problems = run_problems if todo is None else problems
                try:
                    install(sb)
                    present = defined(sb, expected or EXERCISES)
                except (ChannelError, KernelGone) as err:
                    gone = sb.gone or KernelGone("error", str(err))
                    problems.append(Problem(gone.reason, str(gone)))
                    break
                if todo is None:
                    todo = [*(e for e in expected if e in present), *sorted(present - set(expected))]
                while todo and sb.alive():
                    ex_id = todo.pop(0)
                    rows[ex_id] = (_check(sb, nb, ex_id) if ex_id in present
                                   else Row(nb, ex_id, CRASHED, "not checked: not defined when the notebook ran again"))
                if not todo:
                    break
                gone = sb.gone or KernelGone(CRASHED, "the kernel stopped")
                if attempt == MAX_RESTARTS:
                    rows.update({e: Row(nb, e, gone.reason, f"not checked: {gone}") for e in todo})
    except KernelGone as gone:
        problems.append(Problem(gone.reason, str(gone)))
    except Exception as err:  # the grader must go on with the other notebooks
        problems.append(Problem("error", "grading failed: " + traceback.format_exception_only(err)[-1].strip()))
    worst = problems[0] if problems else None
    for ex_id in expected:
        if ex_id in rows:
            continue
        if worst is None:
            rows[ex_id] = Row(nb, ex_id, NOT_RUN, f"the notebook defines no function `{ex_id}`")
        else:  # the notebook's own trouble explains why the function is missing
            rows[ex_id] = Row(nb, ex_id, worst.status, f"no function `{ex_id}` after the run: {worst.message}")
    ordered = [rows[e] for e in dict.fromkeys([*expected, *rows])]
    if not ordered:
        ordered = [Row(nb, "-", worst.status if worst else NOT_RUN,
                       worst.message if worst else "no exercise function found in this notebook")]
    return Graded(nb, ordered, problems)
