"""The exercise checker: run a learner's function on seeded inputs and explain what is wrong.

An :class:`Exercise` bundles a reference implementation, a list of seeded input
:class:`Case` s (distinct sizes, edge cases, and the concept cases of :mod:`.cases`), and the
known :class:`Mistake` s, each written as a small wrong implementation. :func:`run_check` first
computes every reference (with NumPy as it was at import time), then calls the learner's function
on every case, twice over (in a thread, with a timeout; the result and the arguments are turned
into plain data inside that thread, see :mod:`.plain`), and the first problem it finds sets the
status:

``not_implemented``  the function still raises ``NotImplementedError``;
``timeout``          a call ran past the time limit;
``error``            the function raised;
``fail``             wrong type, shape, dtype, NaN/Inf, an input changed in place, wrong values, a
                     different answer the second time, or (where the text asks for new objects)
                     the caller's objects returned;
``pass``             every case agrees with the reference in float64, both times.

A learner's result that reproduces a known mistake's output on every case gets that
mistake's hint by name. The checker never raises at the learner.
"""

from __future__ import annotations

import copy
import re
import threading
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

from .compare import compare, identical, same
from .plain import LOGICAL_AND, NDARRAY, pristine_numpy, shared_with, to_plain, type_name

_same = same  # the name the tests know
_type_name = type_name


class Status(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    NOT_IMPLEMENTED = "not_implemented"
    ERROR = "error"
    TIMEOUT = "timeout"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Case:
    """One seeded input: a readable name and the positional arguments; ``concept`` marks the cases that the
    shared builders of :mod:`.cases` made (B = 1, n = 1, stress), which repeat sizes on purpose."""

    name: str
    args: tuple[Any, ...]
    concept: bool = False


@dataclass(frozen=True)
class Mistake:
    """A known mistake: its name, the hint a learner sees, and a wrong implementation of it."""

    name: str
    hint: str
    fn: Callable[..., Any]


@dataclass
class Result:
    """What :func:`check` found. ``bool(result)`` is True only for a pass."""

    exercise: str
    status: Status
    message: str
    hint: str | None = None
    mistake: str | None = None
    case: str | None = None
    details: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.status is Status.PASS

    def report(self) -> str:
        """The few plain lines printed for the learner."""
        mark = {Status.PASS: "✔", Status.NOT_IMPLEMENTED: "…"}.get(self.status, "✘")
        label = self.status.value.replace("_", " ").upper()
        lines = [f"{mark} {self.exercise}: {label}. {self.message[:1].upper()}{self.message[1:]}"]
        lines += [f"  {d}" for d in self.details]
        if self.hint:
            lines.append(f"  Likely mistake ({self.mistake}): {self.hint}" if self.mistake else f"  Hint: {self.hint}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report()

    def __repr__(self) -> str:
        return f"Result(exercise={self.exercise!r}, status={self.status.value!r}, mistake={self.mistake!r})"

    def _ipython_display_(self) -> None:
        # check() has already printed the report; showing it again as the cell's value would repeat it.
        pass

    def to_dict(self) -> dict[str, Any]:
        return {"exercise": self.exercise, "status": self.status.value, "message": self.message,
                "hint": self.hint, "mistake": self.mistake, "case": self.case}


Validator = Callable[["Exercise", Callable[..., Any], float], Result]


@dataclass
class Exercise:
    """An exercise: the reference, the seeded cases, the known mistakes, and how to compare.

    The reference's result decides how a learner's result is compared: an array, a real number,
    or a tuple or dict of those. ``kind="exact"`` compares plain Python values (lists, tuples,
    strings, integers) for exact equality, e.g. a list of ``(type, start, end)`` spans.
    ``kind="custom"`` hands the whole check to ``validate`` (e.g. for sampling, whose result is random).
    """

    id: str
    chapter: int
    signature: str
    summary: str
    reference: Callable[..., Any]
    make_cases: Callable[[], list[Case]]
    mistakes: Sequence[Mistake] = ()
    arg_names: Sequence[str] = ()
    output_names: Sequence[str] = ()  # names of the entries of a tuple result, for messages
    kind: str = "array"
    rtol: float = 1e-9
    atol: float = 1e-12
    timeout: float = 10.0
    error_hints: Sequence[tuple[str, str]] = ()  # (regular expression found in the exception text, hint)
    validate: Validator | None = None
    fresh_output: bool = False  # the text asks for new objects: the result may share nothing with the arguments

    def cases(self) -> list[Case]:
        return self.make_cases()


# --------------------------------------------------------------------------------------------
# Calling the learner's function safely

_ERRSTATE, _CATCH_WARNINGS, _SIMPLEFILTER, _THREAD = np.errstate, warnings.catch_warnings, warnings.simplefilter, \
    threading.Thread


@dataclass
class Outcome:
    """What one call did: returned ``value`` (as plain data), raised ``error``, or ran past the time limit.

    ``args_after`` holds the arguments after the call (plain data), ``shared`` the path of an argument
    the raw result was or shared memory with (only when asked for), ``error_text`` the exception as
    "Type: message (line N: `code`)", made in the worker thread.
    """

    value: Any = None
    error: BaseException | None = None
    timed_out: bool = False
    args_after: tuple[Any, ...] = ()
    shared: str | None = None
    error_text: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None and not self.timed_out


def call(fn: Callable[..., Any], args: tuple[Any, ...], timeout: float, *, fresh: bool = False,
         names: Sequence[str] = ()) -> Outcome:
    """Call ``fn(*args)`` on a deep copy of ``args`` in a daemon thread, with floating-point warnings off.

    Everything that touches the learner's objects runs in that thread, under the time limit and with
    every exception caught: the call, turning the result and the arguments into plain data, and (with
    ``fresh``) looking for an argument the result still shares.
    """
    args_copy = copy.deepcopy(args)
    out = Outcome(args_after=args_copy)

    def target() -> None:
        try:
            with _ERRSTATE(all="ignore"), _CATCH_WARNINGS():
                _SIMPLEFILTER("ignore")
                value = fn(*args_copy)
                if fresh:
                    out.shared = shared_with(value, args_copy, tuple(names))
                out.args_after = to_plain(args_copy)
                out.value = to_plain(value)
        except BaseException as err:  # the learner's code may raise anything
            out.error, out.error_text = err, _describe(err)

    thread = _THREAD(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        out.timed_out = True
    return out


def _describe(err: BaseException) -> str:
    """'Type: message (line N: `code`)', even for an exception whose __str__ raises."""
    try:
        text = str(err)
    except BaseException:
        text = "(its message could not be printed)"
    try:
        line = _learner_line(err)
    except Exception:
        line = ""
    return f"{type(err).__name__}: {text}{line}"


def _learner_line(err: BaseException) -> str:
    """The last traceback line that is not inside lecture_code's grading, as '(line N: `code`)'."""
    here = str(Path(__file__).parent)
    frames = [f for f in traceback.extract_tb(err.__traceback__) if not f.filename.startswith(here)]
    if not frames:
        return ""
    f = frames[-1]
    if "lecture_code" in f.filename or "site-packages" in f.filename or "/numpy/" in f.filename:
        learner = [g for g in frames if "site-packages" not in g.filename and "/numpy/" not in g.filename]
        if not learner:
            return ""
        f = learner[-1]
    code = (f.line or "").strip()
    return f" (line {f.lineno}: `{code}`)" if code else f" (line {f.lineno})"


def diagnose(ex: Exercise, learner: Sequence[Outcome], cases: Sequence[Case]) -> Mistake | None:
    """The known mistake whose outputs the learner reproduces on every case, if any.

    A case matches when both raised the same exception type, or both returned the same values; a case where
    the learner returned a value and the mistake raised says nothing (einsum, unlike @, broadcasts a size-1
    axis, so a learner's einsum may run where the mistake's matmul cannot). Mistakes matched on at least
    one returned value are preferred over matches on errors alone, and only they may skip cases.
    The mistakes run with NumPy as it was at import time.
    """
    best: tuple[int, Mistake] | None = None
    with pristine_numpy():
        for m in ex.mistakes:
            values_matched, skipped, ok = 0, 0, True
            for case, out in zip(cases, learner, strict=True):
                if out.timed_out:
                    ok = False
                    break
                theirs = call(m.fn, case.args, timeout=ex.timeout)
                if out.error is None and theirs.error is not None:
                    skipped += 1
                elif out.error is not None or theirs.error is not None:
                    ok = type(out.error) is type(theirs.error)
                else:
                    ok = same(out.value, theirs.value)
                    values_matched += ok
                if not ok:
                    break
            if ok and (values_matched or not skipped) and (best is None or values_matched > best[0]):
                best = (values_matched, m)
    return None if best is None else best[1]


# --------------------------------------------------------------------------------------------
# Hints chosen by the text of an exception

MATMUL_ERRORS = ("matmul", "not aligned", "remapped shapes")  # @ and np.matmul, np.dot, np.einsum
BROADCAST_ERROR = "could not be broadcast together with shapes"  # an element-wise +, -, *, /


def shape_hints(matmul: str, broadcast: str) -> tuple[tuple[str, str], ...]:
    """``error_hints`` that tell a matrix product with mismatched shapes (``matmul``) from an element-wise
    operation between arrays that do not broadcast (``broadcast``), e.g. a bias of the wrong shape."""
    return (*((pattern, matmul) for pattern in MATMUL_ERRORS), (BROADCAST_ERROR, broadcast))


def error_hint(ex: Exercise, text: str) -> str | None:
    """The first of the exercise's ``error_hints`` whose pattern (a regular expression) the text matches."""
    return next((hint for pattern, hint in ex.error_hints if re.search(pattern, text)), None)


# --------------------------------------------------------------------------------------------
# The check itself

FRESH = ("{fn} must return new objects, so that changing the result later cannot change the caller's data: "
         "build a new dict of new arrays (e.g. g * scale, or g.copy() where nothing changes).")
STATE = ("The first call on these inputs was right, so the function keeps something between calls (a global, a "
         "mutable default argument, a cache, a counter): compute the result from the arguments alone.")


def _differs(a: Any, b: Any) -> str | None:
    """'' if ``b`` (an argument after the call, plain data) no longer equals ``a`` (before), with a path for
    containers (e.g. "['W_h']" or "[2]"); None if nothing changed."""
    if type(a) is NDARRAY:
        same_array = (type(b) is NDARRAY and a.shape == b.shape and a.dtype == b.dtype
                      and bool(LOGICAL_AND.reduce(identical(a, b), axis=None)))
        return None if same_array else ""
    if isinstance(a, str):
        return None if type(b) is str and a == b else ""
    if isinstance(a, dict):
        if type(b) is not dict or set(a) != set(b):
            return ""
        return next((f"[{k!r}]{d}" for k in a if (d := _differs(a[k], b[k])) is not None), None)
    if isinstance(a, tuple | list):
        if type(b) not in (tuple, list) or len(a) != len(b):
            return ""
        return next((f"[{i}]{d}" for i, (x, y) in enumerate(zip(a, b, strict=True))
                     if (d := _differs(x, y)) is not None), None)
    return None


def _changed_arg(ex: Exercise, before: tuple[Any, ...], after: tuple[Any, ...]) -> str | None:
    for i, (a, b) in enumerate(zip(before, after, strict=True)):
        path = _differs(a, b)
        if path is not None:
            return (ex.arg_names[i] if i < len(ex.arg_names) else f"argument {i + 1}") + path
    return None


def _problem(ex: Exercise, case: Case, out: Outcome, expected: Any) -> tuple[Status, str] | None:
    """What is wrong with one call's outcome (the status and a sentence), or None. (A right result that shares
    an argument's memory is :func:`_shared_problem`'s, reported only if nothing else is wrong.)"""
    if out.error is not None:
        return Status.ERROR, f"case '{case.name}': it raised {out.error_text}"
    changed = _changed_arg(ex, case.args, out.args_after)
    if changed:
        shared = (" Copying a dict with .copy() still shares its arrays: build new arrays, e.g. "
                  "new[name] = params[name] - lr * grads[name]." if "[" in changed else "")
        return Status.FAIL, (f"it changed its input `{changed}` in place on case '{case.name}'. Compute a new "
                             f"array instead of writing into an argument (avoid `+=`, `-=`, `out=` on inputs).{shared}")
    problem = compare(out.value, expected, rtol=ex.rtol, atol=ex.atol, names=tuple(ex.output_names),
                      exact=ex.kind == "exact")
    return None if problem is None else (Status.FAIL, f"case '{case.name}': {problem}.")


def _shared_problem(ex: Exercise, cases: Sequence[Case], outcomes: Sequence[Outcome]) -> Result | None:
    """The first case whose result is, or shares memory with, one of the caller's arguments, if any."""
    for case, out in zip(cases, outcomes, strict=True):
        if out.shared is not None:
            return Result(ex.id, Status.FAIL, f"case '{case.name}': the values are right, but the result is, or "
                          f"shares memory with, the caller's `{out.shared}`. " + FRESH.format(fn=ex.signature),
                          case=case.name)
    return None


def run_check(ex: Exercise, fn: Any, timeout: float | None = None) -> Result:
    """Check ``fn`` against exercise ``ex``; see the module docstring for the statuses.

    The cases and their references are made first, with NumPy as it was at import time; then the learner's
    function runs on every case, twice over (the second round must agree too); then the outcomes are compared.
    """
    timeout = ex.timeout if timeout is None else timeout
    if not callable(fn):
        return Result(ex.id, Status.ERROR, f"expected a function, got {type_name(fn)}. "
                      f"Pass the function itself: check({ex.id!r}, {ex.id}).")
    if ex.validate is not None:
        return ex.validate(ex, fn, timeout)
    with pristine_numpy():
        cases = ex.cases()
        expected = [ex.reference(*copy.deepcopy(case.args)) for case in cases]
    rounds: list[list[Outcome]] = [[], []]
    for outcomes in rounds:
        for case in cases:
            out = call(fn, case.args, timeout, fresh=ex.fresh_output, names=ex.arg_names)
            outcomes.append(out)
            if issubclass(type(out.error), NotImplementedError):
                return Result(ex.id, Status.NOT_IMPLEMENTED,
                              f"Replace `raise NotImplementedError` in {ex.signature} with your code.")
            if out.timed_out:
                return Result(ex.id, Status.TIMEOUT, f"a call took longer than {timeout:g} s "
                              f"on case '{case.name}'. Look for an endless loop.", case=case.name)
    first, second = rounds
    with pristine_numpy():
        for case, out, exp in zip(cases, first, expected, strict=True):
            found = _problem(ex, case, out, exp)
            if found is None:
                continue
            status, msg = found
            mistake = diagnose(ex, first, cases)
            hint, name = (mistake.hint, mistake.name) if mistake else (None, None)
            if status is Status.ERROR and hint is None:
                hint = error_hint(ex, out.error_text)
            return Result(ex.id, status, msg, hint=hint, mistake=name, case=case.name)
        for case, out, exp in zip(cases, second, expected, strict=True):
            found = _problem(ex, case, out, exp)
            if found is not None:
                return Result(ex.id, found[0], f"called a second time with the same inputs, "
                              f"{found[1][:1].lower()}{found[1][1:]} {STATE}", case=case.name)
    shared = _shared_problem(ex, cases, first)
    if shared is not None:
        return shared
    return Result(ex.id, Status.PASS, f"All {len(cases)} cases agree with the reference, each called twice.")
