"""Plain data between the grader and a learner's kernel: JSON, never pickle.

What can travel: ``None``, booleans, integers, floats (NaN and ±Inf included), strings, lists,
tuples, dicts with string or integer keys, NumPy arrays and scalars of a numeric or boolean
dtype (as dtype, shape and base64 bytes), and NumPy random generators (as their bit generator's
state). Anything else is sent as an *opaque* marker that names its type, so the checker can say
"returned a torch.Tensor" without the object ever leaving the learner's process.

:func:`decode` is strict: it accepts exactly the forms that :func:`encode` writes, rebuilds fresh
arrays and plain values, and rejects everything else with :class:`WireError`. The module needs
only the standard library and NumPy, because the grader also runs its source inside the learner's
kernel (it is not imported there).
"""

from __future__ import annotations

import base64
import json
import math
import re
from typing import Any

import numpy as np

DTYPES = frozenset({"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                    "float16", "float32", "float64", "complex64", "complex128"})
BIT_GENERATORS = frozenset({"PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"})
MAX_DEPTH = 32
MAX_ITEMS = 1_000_000
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,99}$")


class WireError(ValueError):
    """A message that is not plain data in the agreed form."""


def _type_label(x: Any) -> str:
    t = type(x)
    name = f"{t.__module__}.{t.__qualname__}"
    return name if _NAME.match(name) else "object"


def _array(a: np.ndarray) -> dict[str, Any]:
    a = a if a.flags.c_contiguous else a.copy(order="C")
    return {"$t": "nd", "dtype": a.dtype.name, "shape": list(a.shape),
            "b64": base64.b64encode(a.tobytes()).decode("ascii")}


def encode(x: Any, depth: int = 0) -> Any:
    """``x`` as JSON-ready plain data; an unsupported object becomes an opaque marker naming its type."""
    if depth > MAX_DEPTH:
        return {"$t": "opaque", "type": "too deeply nested"}
    if x is None or isinstance(x, bool | str) or type(x) is int:
        return x
    if type(x) is float:
        return x if math.isfinite(x) else {"$t": "float", "v": repr(x)}
    if isinstance(x, np.ndarray):
        return _array(x) if x.dtype.name in DTYPES else {"$t": "opaque", "type": f"numpy.ndarray[{x.dtype.name}]"}
    if isinstance(x, np.generic):
        if x.dtype.name in DTYPES:
            return {"$t": "np", **{k: v for k, v in _array(np.asarray(x)).items() if k != "$t"}}
        return {"$t": "opaque", "type": _type_label(x)}
    if isinstance(x, np.random.Generator):
        bg = x.bit_generator
        return {"$t": "rng", "bg": type(bg).__name__, "state": encode(bg.state, depth + 1)}
    if type(x) in (list, tuple):
        items = [encode(v, depth + 1) for v in x]
        return items if type(x) is list else {"$t": "tuple", "items": items}
    if type(x) is dict and all(type(k) in (str, int) for k in x):
        return {"$t": "dict", "items": [[k, encode(v, depth + 1)] for k, v in x.items()]}
    return {"$t": "opaque", "type": _type_label(x)}


def dumps(x: Any) -> str:
    """:func:`encode` then JSON text (ASCII, one line)."""
    return json.dumps(encode(x), allow_nan=False, separators=(",", ":"))


class Opaque:
    """Stands for a value of a type that cannot travel; ``type(o).__name__`` is the original type's."""

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__name__}>"


_OPAQUE: dict[str, type] = {}


def opaque(label: str) -> Opaque:
    """An :class:`Opaque` instance whose class carries the (sanitised) module and name of ``label``."""
    if not _NAME.match(label.replace("[", "_").replace("]", "")):
        label = "object"
    if label not in _OPAQUE:
        module, _, name = label.rpartition(".")
        _OPAQUE[label] = type(name or "object", (Opaque,), {"__module__": module or "builtins"})
    return _OPAQUE[label]()


def _nd(obj: dict[str, Any]) -> np.ndarray:
    dtype, shape, b64 = obj.get("dtype"), obj.get("shape"), obj.get("b64")
    if dtype not in DTYPES or not isinstance(b64, str) or not isinstance(shape, list):
        raise WireError("malformed array")
    if not all(type(n) is int and 0 <= n for n in shape) or len(shape) > 32:
        raise WireError("malformed array shape")
    raw = base64.b64decode(b64.encode("ascii"), validate=True)
    dt = np.dtype(dtype)
    if len(raw) != math.prod(shape) * dt.itemsize:
        raise WireError("array size does not match its shape")
    return np.frombuffer(raw, dtype=dt).reshape(shape).copy()


class _Budget:
    def __init__(self) -> None:
        self.items = 0

    def take(self) -> None:
        self.items += 1
        if self.items > MAX_ITEMS:
            raise WireError("too many items")


def decode(obj: Any, depth: int = 0, budget: _Budget | None = None) -> Any:
    """The value :func:`encode` encoded, as fresh NumPy arrays and plain Python values. Strict."""
    budget = budget or _Budget()
    budget.take()
    if depth > MAX_DEPTH + 2:
        raise WireError("too deeply nested")
    if obj is None or isinstance(obj, bool | str) or type(obj) is int:
        return obj
    if type(obj) is float:
        return obj
    if type(obj) is list:
        return [decode(v, depth + 1, budget) for v in obj]
    if type(obj) is not dict:
        raise WireError(f"unexpected {type(obj).__name__}")
    tag = obj.get("$t")
    if tag == "nd":
        return _nd(obj)
    if tag == "np":
        return _nd(obj)[()] if obj.get("shape") == [] else _fail("a NumPy scalar has shape ()")
    if tag == "float":
        if obj.get("v") not in ("nan", "inf", "-inf"):
            raise WireError("malformed float")
        return float(obj["v"])
    if tag == "tuple" and type(obj.get("items")) is list:
        return tuple(decode(v, depth + 1, budget) for v in obj["items"])
    if tag == "dict" and type(obj.get("items")) is list:
        out = {}
        for pair in obj["items"]:
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) not in (str, int):
                raise WireError("malformed dict")
            out[pair[0]] = decode(pair[1], depth + 1, budget)
        return out
    if tag == "rng" and obj.get("bg") in BIT_GENERATORS:
        gen = np.random.Generator(getattr(np.random, obj["bg"])())
        try:
            gen.bit_generator.state = decode(obj.get("state"), depth + 1, budget)
        except (TypeError, ValueError, KeyError) as err:
            raise WireError(f"malformed generator state: {err}") from None
        return gen
    if tag == "opaque" and isinstance(obj.get("type"), str):
        return opaque(obj["type"][:100])
    raise WireError(f"unknown form {str(tag)[:40]!r}")


def _fail(why: str) -> Any:
    raise WireError(why)


def parse(text: str, limit: int = 512 * 2**20) -> Any:
    """JSON text of at most ``limit`` characters, parsed but not yet decoded."""
    if not isinstance(text, str) or len(text) > limit:
        raise WireError("message too large" if isinstance(text, str) else "not text")
    try:
        return json.loads(text)
    except (RecursionError, json.JSONDecodeError) as err:
        raise WireError(f"not valid JSON: {str(err)[:80]}") from None


def loads(text: str, limit: int = 512 * 2**20) -> Any:
    """Parse and :func:`decode` JSON text of at most ``limit`` characters."""
    try:
        return decode(parse(text, limit))
    except RecursionError:
        raise WireError("too deeply nested") from None
