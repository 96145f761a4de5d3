"""Comparing a learner's result, already turned into plain data (see :mod:`.plain`), with the reference.

Every function here works on exact ``ndarray`` s, NumPy scalars and Python values only, with the
ufuncs :mod:`.plain` took at import time, so nothing a learner assigns to ``np.allclose`` or
``np.isfinite`` changes a verdict.
"""

from __future__ import annotations

import reprlib
from typing import Any

import numpy as np

from .plain import (
    ABSOLUTE,
    ADD,
    ASARRAY,
    EQUAL,
    ERRSTATE,
    ISFINITE,
    ISNAN,
    LESS_EQUAL,
    LOGICAL_AND,
    LOGICAL_NOT,
    LOGICAL_OR,
    MAXIMUM,
    MULTIPLY,
    NDARRAY,
    SUBTRACT,
    Refused,
    type_name,
)


def is_real_scalar(x: Any) -> bool:
    """A real number: int or float (Python or NumPy, not bool), or a 0-d numeric array."""
    if isinstance(x, bool | np.bool_):
        return False
    if isinstance(x, int | float | np.integer | np.floating):
        return True
    return type(x) is NDARRAY and x.shape == () and x.dtype.kind in "iuf"


def _all(mask: np.ndarray) -> bool:
    return bool(LOGICAL_AND.reduce(mask, axis=None))


def identical(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise equality of two arrays of one shape and dtype, NaN equal to NaN."""
    eq = EQUAL(a, b)
    return LOGICAL_OR(eq, LOGICAL_AND(ISNAN(a), ISNAN(b))) if a.dtype.kind in "fc" else eq


def close(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    """np.isclose(got, expected, rtol, atol, equal_nan=True), from ufuncs only."""
    with ERRSTATE(all="ignore"):
        diff = ABSOLUTE(SUBTRACT(got, expected))
        near = LESS_EQUAL(diff, ADD(atol, MULTIPLY(rtol, ABSOLUTE(expected))))
    near = LOGICAL_AND(near, LOGICAL_AND(ISFINITE(got), ISFINITE(expected)))  # infinities must be equal
    return LOGICAL_OR(LOGICAL_OR(near, EQUAL(got, expected)), LOGICAL_AND(ISNAN(got), ISNAN(expected)))


def compare(got: Any, expected: Any, *, rtol: float, atol: float, names: tuple[str, ...] = (),
            exact: bool = False) -> str | None:
    """None if ``got`` agrees with ``expected``; otherwise a one-line description of the difference.

    A tuple or dict reference is compared entry by entry; each entry is an array, a real number, or
    again a tuple or dict of those. ``exact`` compares plain Python values for equality.
    """
    if got is None:
        return "returned None: did you forget the `return` statement?"
    if isinstance(got, Refused) and got.reason:
        return got.reason
    if exact:
        return compare_exact(got, expected)
    if isinstance(expected, tuple):
        labels = list(names) or [f"output {i + 1}" for i in range(len(expected))]
        if type(got) not in (tuple, list) or len(got) != len(expected):
            return (f"expected a tuple of {len(expected)} results ({', '.join(labels)}), got "
                    f"{type_name(got)}" + (f" of length {len(got)}" if type(got) in (tuple, list) else ""))
        for label, g, e in zip(labels, got, expected, strict=True):
            problem = _compare_entry(g, e, rtol, atol)
            if problem:
                return f"{label}{problem}" if problem.startswith("[") else f"{label}: {problem}"
        return None
    if isinstance(expected, dict):
        if type(got) is not dict:
            return f"expected a dict with keys {sorted(expected)}, got {type_name(got)}"
        if set(got) != set(expected):
            missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected), key=repr)
            return "wrong keys: " + "; ".join(([f"missing {missing}"] if missing else [])
                                              + ([f"unexpected {extra}"] if extra else []))
        for key, e in expected.items():
            problem = _compare_entry(got[key], e, rtol, atol)
            if problem:
                return f"[{key!r}]{problem}" if problem.startswith("[") else f"[{key!r}]: {problem}"
        return None
    return _compare_leaf(got, expected, rtol, atol)


def _compare_entry(got: Any, expected: Any, rtol: float, atol: float) -> str | None:
    """One entry of a tuple or dict result: a nested tuple or dict is compared like a whole result
    (e.g. ``(new_params, loss)``), anything else as an array or a real number."""
    if isinstance(expected, tuple | dict) and got is not None:
        return compare(got, expected, rtol=rtol, atol=atol)
    return _compare_leaf(got, expected, rtol, atol)


def _compare_leaf(got: Any, expected: Any, rtol: float, atol: float) -> str | None:
    """Compare one array or one real number (which one is decided by the reference)."""
    if got is None:
        return "is None: did you forget to return it?"
    if isinstance(got, Refused) and got.reason:
        return got.reason
    if type(expected) is not NDARRAY:
        return _compare_scalar(got, float(expected), rtol, atol)
    if type(got) is not NDARRAY:
        return f"expected a NumPy array, got {type_name(got)}"
    if got.shape != expected.shape:
        msg = f"wrong shape: expected {expected.shape}, got {got.shape}"
        if got.shape == expected.shape[::-1] and got.ndim > 1:
            msg += " (that is the transpose)"
        return msg
    if got.dtype != expected.dtype:
        return f"wrong dtype: expected {expected.dtype}, got {got.dtype} (keep the computation in {expected.dtype})"
    bad = LOGICAL_AND(LOGICAL_NOT(ISFINITE(got)), ISFINITE(expected))
    if bool(LOGICAL_OR.reduce(bad, axis=None)):
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        return (f"contains NaN or Inf ({int(ADD.reduce(bad, axis=None, dtype=np.int64))} entries, first at index "
                f"{idx}) where the reference is finite")
    ok = close(got, expected, rtol, atol)
    if not _all(ok):
        with ERRSTATE(all="ignore"):
            err = ABSOLUTE(SUBTRACT(got, expected))
        err = np.where(ISNAN(err), np.inf, err)
        flat = int(np.argmax(err))
        idx = np.unravel_index(flat, err.shape)
        i = tuple(int(k) for k in idx)
        return (f"values differ from the reference: largest error {float(MAXIMUM.reduce(err, axis=None)):.3g} at "
                f"index {i} (expected {float(expected[idx]):.6g}, got {float(got[idx]):.6g})")
    return None


def _compare_scalar(got: Any, e: float, rtol: float, atol: float) -> str | None:
    if not is_real_scalar(got):
        shape = f" of shape {got.shape}" if type(got) is NDARRAY else ""
        return f"expected a single real number, got {type_name(got)}{shape}"
    g = float(got)
    if e - e == 0.0 and not g - g == 0.0:  # x - x is 0 exactly when x is finite
        return f"returned {g}, but the expected value is finite ({e:.6g})"
    diff = g - e if g >= e else e - g
    tol = atol + rtol * (e if e >= 0 else -e)
    if not (diff <= tol or g == e or (g != g and e != e)):
        msg = f"returned {g:.10g}, expected {e:.10g} (error {diff:.3g})"
        dtype = getattr(got, "dtype", None)
        if dtype is not None and dtype.kind == "f" and dtype != np.float64:
            msg += f"; the result is {dtype}: keep the computation in float64"
        return msg
    return None


def compare_exact(got: Any, expected: Any, where: str = "the result") -> str | None:
    """Exact equality of plain Python values (lists, tuples, strings, integers), with the first difference."""
    if isinstance(got, Refused):
        return got.reason or f"{where} is a {got.type_name}, expected {reprlib.repr(expected)}"
    if isinstance(expected, list | tuple):
        kind = type(expected).__name__
        if type(got) is not type(expected):
            return f"{where} is {type_name(got)} {reprlib.repr(got)}, expected a {kind} {reprlib.repr(expected)}"
        if len(got) != len(expected):
            return (f"{where} has {len(got)} item{'s' * (len(got) != 1)}, expected {len(expected)}: expected "
                    f"{reprlib.repr(expected)}, got {reprlib.repr(got)}")
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            label = f"item {i}" if where == "the result" else f"{where}[{i}]"
            problem = compare_exact(g, e, label)
            if problem:
                whole = isinstance(e, list | tuple) and type(g) is type(e) and len(g) == len(e)
                return f"{label} is {g!r}, expected {e!r}" if whole else problem
        return None
    if isinstance(expected, str):
        ok = type(got) is str and got == expected
    elif isinstance(expected, int | np.integer):
        ok = isinstance(got, int | np.integer) and not isinstance(got, bool) and got == expected
    else:
        ok = is_real_scalar(got) and type(got) is not NDARRAY and bool(got == expected)
    return None if ok else f"{where} is {type_name(got)} {got!r}, expected {expected!r}"


def same(a: Any, b: Any) -> bool:
    """Loose equality of two plain outputs (for recognising a known mistake), NaN equal to NaN."""
    if isinstance(a, Refused) or isinstance(b, Refused):
        return False
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if isinstance(a, tuple | list) or isinstance(b, tuple | list):
        return (isinstance(a, tuple | list) and isinstance(b, tuple | list) and len(a) == len(b)
                and all(same(x, y) for x, y in zip(a, b, strict=True)))
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and set(a) == set(b) and all(same(a[k], b[k]) for k in a)
    if a is None or b is None:
        return a is b
    try:
        a_arr, b_arr = ASARRAY(a, dtype=np.float64), ASARRAY(b, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return a_arr.shape == b_arr.shape and _all(close(a_arr, b_arr, 1e-6, 1e-9))
