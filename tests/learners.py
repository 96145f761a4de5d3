"""Wrong implementations that real learners plausibly write, of kinds that apply to every exercise.

Each wrapper takes a correct implementation and adds one learner habit: state kept between calls
(a cache keyed on shapes, an accumulator never reset, a mutable default argument), a result
squeezed, an object that lies when compared (ndarray subclasses, masked arrays, float/int/str
subclasses), an object that raises ``SystemExit`` when touched, or NumPy patched so that a
comparison always agrees. None of them is one of the registry's named mistakes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Fn = Callable[..., Any]


def map_leaves(out: Any, f: Callable[[Any], Any]) -> Any:
    """``f`` applied to every array, number and string of a result made of tuples, lists and dicts."""
    if isinstance(out, tuple):
        return tuple(map_leaves(o, f) for o in out)
    if isinstance(out, list):
        return [map_leaves(o, f) for o in out]
    if isinstance(out, dict):
        return {k: map_leaves(v, f) for k, v in out.items()}
    return f(out)


def _garbage(x: Any) -> Any:
    """A wrong value of the same kind as ``x``."""
    if isinstance(x, np.ndarray):
        return np.full_like(x, 7)
    if isinstance(x, str):
        return "???"
    if isinstance(x, int | np.integer):
        return 999
    return 42.0


def _shapes(args: tuple[Any, ...]) -> str:
    return repr(map_leaves(args, lambda a: getattr(a, "shape", type(a).__name__)))


# ---------------------------------------------------------------------------------------------
# State kept between calls


def cached_by_shape(fn: Fn) -> Fn:
    """Memoises on the shapes of the arguments ("the same sizes give the same result")."""
    memo: dict[str, Any] = {}

    def learner(*args: Any) -> Any:
        key = _shapes(args)
        if key not in memo:
            memo[key] = fn(*args)
        return memo[key]
    return learner


def accumulates(fn: Fn) -> Fn:
    """Adds every result into a module-level buffer per shape and returns the buffer (never reset)."""
    buffers: dict[str, Any] = {}

    def learner(*args: Any) -> Any:
        out = fn(*args)
        key = _shapes(args)
        if key not in buffers:
            buffers[key] = out
            return out

        def add(a: Any, b: Any) -> Any:
            if isinstance(a, tuple | list):
                return type(a)(add(x, y) for x, y in zip(a, b, strict=True))
            if isinstance(a, dict):
                return {k: add(a[k], b[k]) for k in a}
            return a + b if isinstance(a, np.ndarray | float | int | np.number) and not isinstance(a, bool) else a
        buffers[key] = add(buffers[key], out)
        return buffers[key]
    return learner


def mutable_default_spans(fn: Fn) -> Fn:
    """``def entity_spans(tags, spans=[])``: every call appends to the same list."""
    def learner(tags: list[str], spans: list = []) -> list:  # noqa: B006 - the learner's bug
        spans.extend(fn(tags))
        return spans
    return learner


def counts_calls(fn: Fn) -> Fn:
    """A global step counter that changes the answer from the second call on (e.g. a decaying learning rate)."""
    state = {"calls": 0}

    def learner(*args: Any) -> Any:
        state["calls"] += 1
        out = fn(*args)
        return out if state["calls"] == 1 else map_leaves(out, lambda x: x * 0.999 if _is_number(x) else x)
    return learner


def wrong_on_a_repeat(fn: Fn) -> Fn:
    """Remembers every input it has seen (by its bytes) and answers a repeated one from a stale cache entry."""
    seen: set[str] = set()

    def learner(*args: Any) -> Any:
        key = repr(map_leaves(args, lambda a: a.tobytes() if isinstance(a, np.ndarray) else
                              a if isinstance(a, int | float | str) or a is None else type(a).__name__))
        out = fn(*args)
        if key in seen:
            return map_leaves(out, lambda x: x * 0.999 if _is_number(x) else x)
        seen.add(key)
        return out
    return learner


def _is_number(x: Any) -> bool:
    return isinstance(x, np.ndarray | float | np.floating) and not isinstance(x, bool)


# ---------------------------------------------------------------------------------------------
# Results squeezed (B = 1 and n = 1 lose an axis)


def squeezed(fn: Fn) -> Fn:
    return lambda *args: map_leaves(fn(*args), lambda x: np.squeeze(x) if isinstance(x, np.ndarray) else x)


# ---------------------------------------------------------------------------------------------
# Objects that lie when compared


class AlwaysEqual(np.ndarray):
    """An array subclass whose comparisons and NumPy functions always agree."""

    def __eq__(self, other: object) -> Any:  # type: ignore[override]
        return True

    def __ne__(self, other: object) -> Any:  # type: ignore[override]
        return False

    __hash__ = None  # type: ignore[assignment]

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if func.__name__ in ("allclose", "array_equal", "isclose", "array_equiv", "all"):
            return True
        if func.__name__ == "isfinite":
            return np.ones(self.shape, dtype=bool)
        return super().__array_function__(func, types, args, kwargs)


class LyingFloat(float):
    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    def __sub__(self, other: object) -> float:
        return 0.0

    __rsub__ = __sub__

    def __float__(self) -> float:
        return 1.0

    __hash__ = float.__hash__


def _always_equal(base: type) -> type:
    """A subclass of ``base`` whose ``==`` is always True and ``!=`` always False."""
    return type(f"Lying{base.__name__.title()}", (base,), {"__eq__": lambda self, other: True,
                                                           "__ne__": lambda self, other: False,
                                                           "__hash__": base.__hash__})


LyingInt = _always_equal(int)
LyingStr = _always_equal(str)


class LyingList(list):
    def __eq__(self, other: object) -> bool:
        return True

    def __len__(self) -> int:
        return 0

    __hash__ = None  # type: ignore[assignment]


def _lie(x: Any) -> Any:
    wrong = _garbage(x)
    if isinstance(wrong, np.ndarray):
        return np.asarray(wrong).view(AlwaysEqual)
    if isinstance(wrong, str):
        return LyingStr(wrong)
    if isinstance(wrong, int):
        return LyingInt(wrong)
    return LyingFloat(wrong)


def lying(fn: Fn) -> Fn:
    """Wrong values in objects whose ``==`` (and, for arrays, np.allclose and friends) always agree."""
    return lambda *args: map_leaves(fn(*args), _lie)


def lying_list(fn: Fn) -> Fn:
    """The spans in a list subclass whose ``==`` always agrees and whose ``len`` is 0."""
    return lambda *args: LyingList(map_leaves(fn(*args), _garbage))


def masked(fn: Fn) -> Fn:
    """Every array and real number replaced by a masked array whose wrong entries are all masked."""
    def mask(x: Any) -> Any:
        real = isinstance(x, np.ndarray | float | np.floating)
        return np.ma.masked_array(_garbage(x), mask=True) if real else x
    return lambda *args: map_leaves(fn(*args), mask)


class Explosive:
    """Raises SystemExit from every method a checker might call."""

    def _boom(self, *args: Any, **kw: Any) -> Any:
        raise SystemExit("the learner's object exits")

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __array__ = __float__ = __int__ = __index__ = _boom
    __len__ = __iter__ = __getitem__ = __bool__ = __sub__ = __rsub__ = __abs__ = __str__ = __repr__ = _boom
    __hash__ = None  # type: ignore[assignment]


def explosive(fn: Fn) -> Fn:
    """Every leaf of the result replaced by an object that raises SystemExit when touched."""
    return lambda *args: map_leaves(fn(*args), lambda x: Explosive())


# ---------------------------------------------------------------------------------------------
# NumPy patched


def _true(*args: Any, **kw: Any) -> bool:
    return True


def patches_comparisons(fn: Fn) -> Fn:
    """Replaces NumPy's comparison functions by ones that always agree, then returns wrong values."""
    def learner(*args: Any) -> Any:
        np.allclose = np.array_equal = np.array_equiv = _true
        np.isclose = lambda a, b, *r, **k: np.ones(np.broadcast(a, b).shape, dtype=bool)
        np.isfinite = lambda x, *r, **k: np.ones(np.shape(x), dtype=bool)
        np.testing.assert_allclose = lambda *a, **k: None
        return map_leaves(fn(*args), _garbage)
    return learner


def patches_the_reference(fn: Fn) -> Fn:
    """Makes np.exp, np.tanh and np.log do nothing, so that a reference computed after the call would agree with
    the learner's wrong values (computed by ``fn`` under the patch)."""
    def learner(*args: Any) -> Any:
        np.exp = np.tanh = np.log = lambda x, *a, **k: np.asarray(x, dtype=np.float64)
        return fn(*args)
    return learner


GENERIC: dict[str, Callable[[Fn], Fn]] = {
    "cache keyed on shapes": cached_by_shape,
    "accumulator never reset": accumulates,
    "call counter changes the answer": counts_calls,
    "a repeated input answered from a stale cache": wrong_on_a_repeat,
    "array subclass / float, int, str subclass that always compares equal": lying,
    "masked array hiding wrong values": masked,
    "object raising SystemExit when compared": explosive,
    "np.allclose, np.isclose, np.isfinite patched": patches_comparisons,
}
"""Every generic kind, applied to a correct implementation of every exercise."""
