"""What the checker keeps of a learner's result: plain data, and NumPy as it was at import time.

A learner's function may return anything: an ndarray subclass whose ``__eq__`` or
``__array_function__`` lies, a masked array, a ``str`` or ``int`` subclass, a list subclass whose
``__len__`` lies, or an object whose methods raise ``SystemExit``. So, still inside the worker
thread that ran the learner's function (under its time limit, with every exception caught),
:func:`to_plain` turns the result into plain data: exact ``ndarray`` copies of numeric dtype,
exact ``int``/``float``/``str``/``bool``, NumPy scalars, and tuples, lists and dicts of those.
Containers are read through the base classes' own methods (``tuple.__getitem__``,
``dict.items``), never through methods a subclass could override. Anything else becomes a
:class:`Refused`, which the comparison reports with a clear message.

The comparison uses only the private ufunc references below, taken when this module is imported,
so a learner who replaces ``np.allclose`` or ``np.isfinite`` changes nothing. :func:`pristine_numpy`
puts NumPy's module attributes back as they were at import time while the checker computes
references, and then gives the learner's replacements back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

# Private references, taken at import time: ufuncs are C objects that cannot be patched, and these
# names keep pointing at them whatever a learner later assigns to np.isfinite and the like.
ABSOLUTE, SUBTRACT, ADD, MULTIPLY = np.absolute, np.subtract, np.add, np.multiply
ISFINITE, ISNAN, EQUAL, LESS_EQUAL = np.isfinite, np.isnan, np.equal, np.less_equal
LOGICAL_AND, LOGICAL_OR, LOGICAL_NOT, MAXIMUM = np.logical_and, np.logical_or, np.logical_not, np.maximum
NDARRAY = np.ndarray
ERRSTATE = np.errstate
ASARRAY = np.asarray
MAY_SHARE_MEMORY = np.may_share_memory
_COPY = np.ndarray.copy
_MASKED = np.ma.MaskedArray
_SCALAR_TYPES = frozenset(t for t in set(np.sctypeDict.values()) if issubclass(t, np.number | np.bool_))
_NUMERIC_KINDS = frozenset("biufc")
MAX_DEPTH = 12
MAX_ITEMS = 1_000_000


@dataclass(frozen=True)
class Refused:
    """Something in a learner's result that the checker does not compare: its type's name, and (when
    there is more to say than "expected X, got this type") a sentence for the learner."""

    type_name: str
    reason: str = ""


def type_name(x: Any) -> str:
    """``x``'s type as a learner knows it: ``list``, ``numpy.ndarray``, ``torch.Tensor``."""
    if isinstance(x, Refused):
        return x.type_name
    t = type(x)
    module = getattr(t, "__module__", "") or ""
    name = getattr(t, "__qualname__", "object")
    return name if module == "builtins" else f"{module.split('.')[0]}.{name}"


def to_plain(x: Any, depth: int = 0) -> Any:
    """``x`` as plain data (see the module docstring); never calls a method a subclass could override."""
    t = type(x)
    if x is None or t in (bool, int, float, str) or t in _SCALAR_TYPES:
        return x
    if depth > MAX_DEPTH:
        return Refused(type_name(x), "the result is nested too deeply to be compared")
    if t is NDARRAY:
        if x.dtype.kind not in _NUMERIC_KINDS:
            return Refused(f"numpy.ndarray of dtype {x.dtype}", f"returned an array of dtype {x.dtype}, not of "
                           "numbers: build it from numbers, e.g. with np.array(values, dtype=np.float64)")
        return _COPY(x)
    name = type_name(x)
    if issubclass(t, NDARRAY):
        masked = " with its masked entries filled in (np.ma.filled)" if issubclass(t, _MASKED) else ""
        return Refused(name, f"returned a {name}, a subclass of numpy.ndarray: return a plain NumPy array"
                       f"{masked}, e.g. np.asarray(result)")
    if name.startswith("torch."):
        return Refused(name, f"returned a {name}; this exercise works in NumPy, so return a NumPy array")
    # type(x), unlike isinstance, cannot be fooled by a `__class__` property
    if issubclass(t, str):  # also NumPy's np.str_, e.g. a tag taken from an array of tags
        return str.__str__(x)
    if issubclass(t, bool | np.generic):
        return Refused(name)
    if issubclass(t, int):
        return int.__int__(x)
    if issubclass(t, float):
        return float.__float__(x)
    if issubclass(t, tuple | list):
        base = tuple if issubclass(t, tuple) else list
        n = base.__len__(x)
        if n > MAX_ITEMS:
            return Refused(name, f"returned a {name} of {n} items, far more than expected")
        return base(to_plain(base.__getitem__(x, i), depth + 1) for i in range(n))
    if issubclass(t, dict):
        out = {}
        for key, value in dict.items(x):
            plain_key = to_plain(key, depth + 1)
            if type(plain_key) not in (str, int):
                return Refused(name, f"returned a dict with a key of type {type_name(key)}: use the names "
                               "given (strings) as keys")
            out[plain_key] = to_plain(value, depth + 1)
        return out
    return Refused(name)


def shared_with(value: Any, args: tuple[Any, ...], names: tuple[str, ...] = ()) -> str | None:
    """The path (e.g. "grads['W_h']") of an argument, or an array inside one, that the learner's raw
    result ``value`` is or shares memory with; None if the result is all new objects."""
    inputs: list[tuple[str, Any]] = []

    def collect(x: Any, path: str, depth: int) -> None:
        if type(x) in (tuple, list, dict) or issubclass(type(x), NDARRAY):
            inputs.append((path, x))
        if depth < MAX_DEPTH and type(x) in (tuple, list):
            for i, item in enumerate(x):
                collect(item, f"{path}[{i}]", depth + 1)
        elif depth < MAX_DEPTH and type(x) is dict:
            for k, item in x.items():
                collect(item, f"{path}[{k!r}]", depth + 1)

    for i, arg in enumerate(args):
        collect(arg, names[i] if i < len(names) else f"argument {i + 1}", 0)

    def find(x: Any, depth: int) -> str | None:
        for path, obj in inputs:
            if x is obj or (type(x) is NDARRAY and type(obj) is NDARRAY and MAY_SHARE_MEMORY(x, obj)):
                return path
        if depth >= MAX_DEPTH:
            return None
        items: list[Any] = []
        t = type(x)
        if issubclass(t, tuple | list):
            base = tuple if issubclass(t, tuple) else list
            items = [base.__getitem__(x, i) for i in range(min(base.__len__(x), MAX_ITEMS))]
        elif issubclass(t, dict):
            items = [v for _, v in dict.items(x)]
        return next((p for item in items if (p := find(item, depth + 1)) is not None), None)

    return find(value, 0)


_MODULES = (np, np.linalg, np.random)
_SNAPSHOT = {m.__name__: dict(vars(m)) for m in _MODULES}
_ABSENT = object()


@contextlib.contextmanager
def pristine_numpy() -> Iterator[None]:
    """NumPy's module attributes as they were at import time, for the duration of the block; the
    learner's replacements (e.g. ``np.exp = my_exp``) are put back afterwards."""
    replaced: list[tuple[Any, str, Any]] = []
    for module in _MODULES:
        current = vars(module)
        for key, original in _SNAPSHOT[module.__name__].items():
            now = current.get(key, _ABSENT)
            if now is not original:
                replaced.append((module, key, now))
                setattr(module, key, original)
    try:
        yield
    finally:
        for module, key, value in replaced:
            if value is _ABSENT:
                delattr(module, key)
            else:
                setattr(module, key, value)
