"""The exercise checker: run a learner's function on seeded inputs and explain what is wrong.

An :class:`Exercise` bundles a reference implementation, a list of seeded input
:class:`Case` s (distinct sizes, plus edge cases), and the known :class:`Mistake` s, each
written as a small wrong implementation. :func:`run_check` calls the learner's function on
every case (in a thread, with a timeout), and the first problem it finds sets the status:

``not_implemented``  the function still raises ``NotImplementedError``;
``timeout``          a call ran past the time limit;
``error``            the function raised;
``fail``             wrong type, shape, dtype, NaN/Inf, an input changed in place, or wrong values;
``pass``             every case agrees with the reference in float64.

A learner's result that reproduces a known mistake's output on every case gets that
mistake's hint by name. The checker never raises at the learner.
"""

from __future__ import annotations

import copy
import dataclasses
import reprlib
import threading
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np


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
    """One seeded input: a readable name and the positional arguments."""

    name: str
    args: tuple[Any, ...]


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
    error_hints: Sequence[tuple[str, str]] = ()  # (text in the exception message, hint)
    validate: Validator | None = None

    def cases(self) -> list[Case]:
        return self.make_cases()


# --------------------------------------------------------------------------------------------
# Calling the learner's function safely


@dataclass
class Outcome:
    """What one call did: returned ``value``, raised ``error``, or ran past the time limit."""

    value: Any = None
    error: BaseException | None = None
    timed_out: bool = False
    args_after: tuple[Any, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None and not self.timed_out


def call(fn: Callable[..., Any], args: tuple[Any, ...], timeout: float) -> Outcome:
    """Call ``fn`` on a deep copy of ``args`` in a daemon thread, with floating-point warnings off."""
    args_copy = copy.deepcopy(args)
    out = Outcome(args_after=args_copy)

    def target() -> None:
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.value = fn(*args_copy)
        except BaseException as err:  # the learner's code may raise anything
            out.error = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        out.timed_out = True
    return out


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


# --------------------------------------------------------------------------------------------
# Comparing one output with the reference


def _is_real_scalar(x: Any) -> bool:
    if isinstance(x, bool | np.bool_):
        return False
    if isinstance(x, int | float | np.integer | np.floating):
        return True
    return isinstance(x, np.ndarray) and x.shape == () and np.issubdtype(x.dtype, np.number)


def _type_name(x: Any) -> str:
    t = type(x)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__.split('.')[0]}.{t.__name__}"


def compare(ex: Exercise, got: Any, expected: Any) -> str | None:
    """None if ``got`` agrees with ``expected``; otherwise a one-line description of the difference.

    A tuple or dict reference is compared entry by entry; each entry is an array, a real number, or
    again a tuple or dict of those.
    """
    if got is None:
        return "returned None: did you forget the `return` statement?"
    if ex.kind == "exact":
        return _compare_exact(got, expected)
    if isinstance(expected, tuple):
        names = list(ex.output_names) or [f"output {i + 1}" for i in range(len(expected))]
        if not isinstance(got, tuple | list) or len(got) != len(expected):
            return (f"expected a tuple of {len(expected)} results ({', '.join(names)}), got "
                    f"{_type_name(got)}" + (f" of length {len(got)}" if isinstance(got, tuple | list) else ""))
        for name, g, e in zip(names, got, expected, strict=True):
            problem = _compare_entry(ex, g, e)
            if problem:
                return f"{name}{problem}" if problem.startswith("[") else f"{name}: {problem}"
        return None
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return f"expected a dict with keys {sorted(expected)}, got {_type_name(got)}"
        if set(got) != set(expected):
            missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
            return "wrong keys: " + "; ".join(([f"missing {missing}"] if missing else [])
                                              + ([f"unexpected {extra}"] if extra else []))
        for key, e in expected.items():
            problem = _compare_entry(ex, got[key], e)
            if problem:
                return f"[{key!r}]{problem}" if problem.startswith("[") else f"[{key!r}]: {problem}"
        return None
    return _compare_leaf(ex, got, expected)


def _compare_entry(ex: Exercise, got: Any, expected: Any) -> str | None:
    """One entry of a tuple or dict result: a nested tuple or dict is compared like a whole result
    (e.g. ``(new_params, loss)``), anything else as an array or a real number."""
    if isinstance(expected, tuple | dict) and got is not None:
        return compare(dataclasses.replace(ex, output_names=()), got, expected)
    return _compare_leaf(ex, got, expected)


def _compare_leaf(ex: Exercise, got: Any, expected: Any) -> str | None:
    """Compare one array or one real number (which one is decided by the reference)."""
    if got is None:
        return "is None: did you forget to return it?"
    if type(got).__module__.startswith("torch"):
        return f"returned a {_type_name(got)}; this exercise works in NumPy, so return a NumPy array"
    if not isinstance(expected, np.ndarray):
        if not _is_real_scalar(got):
            shape = f" of shape {got.shape}" if isinstance(got, np.ndarray) else ""
            return f"expected a single real number, got {_type_name(got)}{shape}"
        g, e = float(got), float(expected)
        if np.isfinite(e) and not np.isfinite(g):
            return f"returned {g}, but the expected value is finite ({e:.6g})"
        if not np.isclose(g, e, rtol=ex.rtol, atol=ex.atol):
            msg = f"returned {g:.10g}, expected {e:.10g} (error {abs(g - e):.3g})"
            dtype = getattr(got, "dtype", None)
            if dtype is not None and np.issubdtype(dtype, np.floating) and dtype != np.float64:
                msg += f"; the result is {dtype}: keep the computation in float64"
            return msg
        return None
    if not isinstance(got, np.ndarray):
        return f"expected a NumPy array, got {_type_name(got)}"
    if got.shape != expected.shape:
        msg = f"wrong shape: expected {expected.shape}, got {got.shape}"
        if got.shape == expected.shape[::-1] and got.ndim > 1:
            msg += " (that is the transpose)"
        return msg
    if got.dtype != expected.dtype:
        return f"wrong dtype: expected {expected.dtype}, got {got.dtype} (keep the computation in {expected.dtype})"
    bad = ~np.isfinite(got) & np.isfinite(expected)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        return f"contains NaN or Inf ({int(bad.sum())} entries, first at index {idx}) where the reference is finite"
    if not np.allclose(got, expected, rtol=ex.rtol, atol=ex.atol, equal_nan=True):
        err = np.abs(got - expected)
        err = np.where(np.isnan(err), np.inf, err)
        idx = np.unravel_index(int(np.argmax(err)), err.shape)
        i = tuple(int(k) for k in idx)
        return (f"values differ from the reference: largest error {err[idx]:.3g} at index {i} "
                f"(expected {expected[idx]:.6g}, got {got[idx]:.6g})")
    return None


def _compare_exact(got: Any, expected: Any, where: str = "the result") -> str | None:
    """Exact equality of plain Python values (lists, tuples, strings, integers), with the first difference."""
    if isinstance(expected, list | tuple):
        kind = type(expected).__name__
        if type(got) is not type(expected):
            return f"{where} is {_type_name(got)} {reprlib.repr(got)}, expected a {kind} {reprlib.repr(expected)}"
        if len(got) != len(expected):
            return (f"{where} has {len(got)} item{'s' * (len(got) != 1)}, expected {len(expected)}: expected "
                    f"{reprlib.repr(expected)}, got {reprlib.repr(got)}")
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            label = f"item {i}" if where == "the result" else f"{where}[{i}]"
            problem = _compare_exact(g, e, label)
            if problem:
                whole = isinstance(e, list | tuple) and type(g) is type(e) and len(g) == len(e)
                return f"{label} is {g!r}, expected {e!r}" if whole else problem
        return None
    if isinstance(expected, str):
        ok = isinstance(got, str) and got == expected
    elif isinstance(expected, int | np.integer):
        ok = isinstance(got, int | np.integer) and not isinstance(got, bool) and got == expected
    else:
        ok = _is_real_scalar(got) and not isinstance(got, np.ndarray) and bool(got == expected)
    return None if ok else f"{where} is {_type_name(got)} {got!r}, expected {expected!r}"


def _same(a: Any, b: Any) -> bool:
    """Loose equality of two outputs (for recognising a known mistake), NaN equal to NaN."""
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if isinstance(a, tuple | list) or isinstance(b, tuple | list):
        return (isinstance(a, tuple | list) and isinstance(b, tuple | list) and len(a) == len(b)
                and all(_same(x, y) for x, y in zip(a, b, strict=True)))
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and set(a) == set(b) and all(_same(a[k], b[k]) for k in a)
    try:
        a_arr, b_arr = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return a_arr.shape == b_arr.shape and bool(np.allclose(a_arr, b_arr, rtol=1e-6, atol=1e-9, equal_nan=True))


def diagnose(ex: Exercise, learner: Sequence[Outcome], cases: Sequence[Case]) -> Mistake | None:
    """The known mistake whose outputs the learner reproduces on every case, if any.

    A case matches when both raised the same exception type, or both returned the same values.
    Mistakes matched on at least one returned value are preferred over matches on errors alone.
    """
    best: tuple[int, Mistake] | None = None
    for m in ex.mistakes:
        values_matched, ok = 0, True
        for case, out in zip(cases, learner, strict=True):
            if out.timed_out:
                ok = False
                break
            theirs = call(m.fn, case.args, timeout=ex.timeout)
            if out.error is not None or theirs.error is not None:
                ok = type(out.error) is type(theirs.error)
            else:
                ok = _same(out.value, theirs.value)
                values_matched += ok
            if not ok:
                break
        if ok and (best is None or values_matched > best[0]):
            best = (values_matched, m)
    return None if best is None else best[1]


# --------------------------------------------------------------------------------------------
# The check itself


def _differs(a: Any, b: Any) -> str | None:
    """'' if ``b`` (an argument after the call) no longer equals ``a`` (before), with a path for
    containers (e.g. "['W_h']" or "[2]"); None if nothing changed."""
    if isinstance(a, np.ndarray):
        same = isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
        return None if same else ""
    if isinstance(a, str):
        return None if a == b else ""
    if isinstance(a, dict):
        if not isinstance(b, dict) or set(a) != set(b):
            return ""
        return next((f"[{k!r}]{d}" for k in a if (d := _differs(a[k], b[k])) is not None), None)
    if isinstance(a, tuple | list):
        if not isinstance(b, tuple | list) or len(a) != len(b):
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


def run_check(ex: Exercise, fn: Any, timeout: float | None = None) -> Result:
    """Check ``fn`` against exercise ``ex``; see the module docstring for the statuses."""
    timeout = ex.timeout if timeout is None else timeout
    if not callable(fn):
        return Result(ex.id, Status.ERROR, f"expected a function, got {_type_name(fn)}. "
                      f"Pass the function itself: check({ex.id!r}, {ex.id}).")
    if ex.validate is not None:
        return ex.validate(ex, fn, timeout)
    cases = ex.cases()
    outcomes: list[Outcome] = []
    for case in cases:
        out = call(fn, case.args, timeout)
        outcomes.append(out)
        if isinstance(out.error, NotImplementedError):
            return Result(ex.id, Status.NOT_IMPLEMENTED,
                          f"Replace `raise NotImplementedError` in {ex.signature} with your code.")
        if out.timed_out:
            return Result(ex.id, Status.TIMEOUT, f"a call took longer than {timeout:g} s "
                          f"on case '{case.name}'. Look for an endless loop.", case=case.name)

    for case, out in zip(cases, outcomes, strict=True):
        problem = None
        if out.error is None:
            changed = _changed_arg(ex, case.args, out.args_after)
            if changed:
                shared = (" Copying a dict with .copy() still shares its arrays: build new arrays, e.g. "
                          "new[name] = params[name] - lr * grads[name]." if "[" in changed else "")
                return Result(ex.id, Status.FAIL, f"it changed its input `{changed}` in place on case "
                              f"'{case.name}'. Compute a new array instead of writing into an argument "
                              f"(avoid `+=`, `-=`, `out=` on inputs).{shared}", case=case.name)
            problem = compare(ex, out.value, ex.reference(*copy.deepcopy(case.args)))
        if out.error is None and problem is None:
            continue
        mistake = diagnose(ex, outcomes, cases)
        hint, name = (mistake.hint, mistake.name) if mistake else (None, None)
        if out.error is not None:
            err = out.error
            msg = f"case '{case.name}': it raised {type(err).__name__}: {err}{_learner_line(err)}"
            if hint is None:
                hint = next((h for pat, h in ex.error_hints if pat in str(err)), None)
            return Result(ex.id, Status.ERROR, msg, hint=hint, mistake=name, case=case.name)
        return Result(ex.id, Status.FAIL, f"case '{case.name}': {problem}.", hint=hint,
                      mistake=name, case=case.name)
    return Result(ex.id, Status.PASS, f"All {len(cases)} cases agree with the reference.")
