"""The learner's function as seen from the grader: a proxy that runs it in the sandboxed kernel.

:class:`RemoteFunction` is what the grader hands to :func:`~lecture_code.grading.checker.run_check`
instead of the learner's function. Calling it sends the arguments as plain data (:mod:`.wire`)
to the kernel, where the notebook's function of that name runs; the result, the arguments as
they are after the call, and any exception come back as plain data. The proxy rebuilds them as
fresh NumPy arrays and Python values, writes the arguments back into the objects it was given
(so the checker still sees a change made in place), and raises the learner's exception again:
the same builtin type where it is one (``NotImplementedError`` stays ``NotImplementedError``),
otherwise an exception class of the same name. The reference and the comparison stay in the
grader's process; only data crosses.
"""

from __future__ import annotations

import ast
import builtins
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from . import kernel_side, wire
from .checker import Exercise
from .sandbox import KernelGone, Sandbox

PACKAGE_DIR = str(Path(__file__).resolve().parent.parent) + "/"
NAMESPACE = "_lecture_code_grader"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")


class ChannelError(RuntimeError):
    """The kernel's answer was not a well-formed reply (broken or tampered with)."""


def harness_source() -> str:
    """The source run in the kernel: :mod:`.wire` and :mod:`.kernel_side`, without package imports."""
    parts = []
    for module in (wire, kernel_side):
        text = Path(module.__file__ or "").read_text(encoding="utf-8")
        parts.append("\n".join(line for line in text.splitlines()
                               if not line.startswith("from __future__") and "# stripped in the kernel" not in line))
    return "\n\n".join(parts)


def install(sb: Sandbox, timeout: float = 60.0) -> None:
    """Put the harness into the kernel, after the notebook has run."""
    code = (f"import builtins as _lc_builtins\n{NAMESPACE} = {{'__name__': 'lecture_code_grader'}}\n"
            f"_lc_builtins.exec(_lc_builtins.compile({harness_source()!r}, '<lecture_code grader>', 'exec'), "
            f"{NAMESPACE})\n{NAMESPACE}['setup'](_lc_builtins.globals(), [{PACKAGE_DIR!r}])\n")
    reply = sb.execute(code, timeout, silent=True, wall=False)
    if reply.get("status") != "ok":
        raise ChannelError(f"the grader could not set itself up in this kernel ({reply.get('ename', '?')}: "
                           f"{str(reply.get('evalue', ''))[:120]})")


def _expression(sb: Sandbox, code: str, expression: str, timeout: float) -> str:
    """Run ``code`` and return the string value of ``expression`` (checked to be a plain string)."""
    reply = sb.execute(code, timeout, silent=True, wall=False, expressions={"out": expression})
    if reply.get("status") != "ok":
        raise ChannelError(f"the call could not run ({str(reply.get('ename', '?'))[:60]})")
    out = (reply.get("user_expressions") or {}).get("out") or {}
    text = (out.get("data") or {}).get("text/plain") if isinstance(out, dict) else None
    if not isinstance(text, str) or len(text) > 600 * 2**20:
        raise ChannelError("no answer came back from the kernel")
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise ChannelError("the kernel's answer is not a string") from None
    if not isinstance(value, str):
        raise ChannelError("the kernel's answer is not a string")
    return value


def defined(sb: Sandbox, names: Iterable[str]) -> set[str]:
    """Which of ``names`` are functions (callables) in the notebook's namespace."""
    names = [n for n in names if _NAME.match(n)]
    text = _expression(sb, "pass", f"{NAMESPACE}['defined']({names!r})", 30.0)
    found = wire.parse(text)
    if not isinstance(found, list):
        raise ChannelError("malformed list of names")
    return {n for n in found if isinstance(n, str) and n in names}


# ------------------------------------------------------------------------------ exceptions

_CLASSES: dict[tuple[str, type], type] = {}


def learner_exception(info: Any) -> Exception:
    """The learner's exception, rebuilt from its description: a builtin type where it was one."""
    info = info if isinstance(info, dict) else {}
    name = str(info.get("type", "Exception"))
    name = name if _NAME.match(name) else "Exception"
    text = str(info.get("message", ""))[:2000] + str(info.get("line", ""))[:300]
    if info.get("module") == "builtins":
        cls = getattr(builtins, name, None)
        if isinstance(cls, type) and issubclass(cls, Exception):
            try:
                return cls(text)
            except Exception:  # e.g. UnicodeDecodeError needs five arguments
                pass
    bases = info.get("bases") if isinstance(info.get("bases"), list) else []
    base: type = Exception
    for b in bases:
        cls = getattr(builtins, b, None) if isinstance(b, str) else None
        if isinstance(cls, type) and issubclass(cls, Exception) and not issubclass(cls, UnicodeError):
            base = cls
            break
    key = (name, base)
    if key not in _CLASSES:
        _CLASSES[key] = type(name, (base,), {"__module__": "learner"})
    try:
        return _CLASSES[key](text)
    except Exception:  # a base whose constructor wants other arguments
        return type(name, (Exception,), {"__module__": "learner"})(text)


# ------------------------------------------------------------------------------ arguments written back


def _write_back(target: Any, new: Any) -> Any:
    """Make ``target`` equal ``new`` in place where it is mutable; return what to store in its place."""
    if isinstance(target, np.ndarray):
        if not isinstance(new, np.ndarray):
            return new
        try:
            if target.shape != new.shape:
                target.shape = new.shape
            target[...] = new
        except (ValueError, TypeError, AttributeError):
            if target.size:  # cannot take the new shape or dtype: at least make the change visible
                target[...] = ~target if target.dtype == bool else target + 1
        return target
    if isinstance(target, np.random.Generator) and isinstance(new, np.random.Generator):
        try:
            target.bit_generator.state = new.bit_generator.state
        except (TypeError, ValueError):
            pass
        return target
    if isinstance(target, dict) and isinstance(new, dict):
        for key in [k for k in target if k not in new]:
            del target[key]
        for key, value in new.items():
            target[key] = _write_back(target[key], value) if key in target else value
        return target
    if isinstance(target, list) and isinstance(new, list | tuple):
        common = min(len(target), len(new))
        for i in range(common):
            target[i] = _write_back(target[i], new[i])
        target[common:] = list(new[common:])
        return target
    if isinstance(target, tuple) and isinstance(new, tuple | list):
        for old, value in zip(target, new, strict=False):
            _write_back(old, value)
        return target
    return new


# ------------------------------------------------------------------------------ the proxy


def code_location(fn: Any) -> tuple[str, str] | None:
    """(path inside lecture_code, qualified name) of a Python function of lecture_code, else None."""
    code = getattr(fn, "__code__", None)
    if code is None or not code.co_filename.startswith(PACKAGE_DIR):
        return None
    return code.co_filename[len(PACKAGE_DIR):], code.co_qualname


class RemoteFunction:
    """Calls the notebook's function ``name`` in the sandbox; see the module docstring.

    ``limit`` caps each call (the kernel is interrupted after it); it should exceed the checker's
    own per-call timeout, so that the checker reports the timeout first. Calls are serialised.
    """

    def __init__(self, sb: Sandbox, name: str, limit: float) -> None:
        self.sb, self.name, self.limit = sb, name, limit
        self.lock = threading.Lock()
        self.ran: set[tuple[str, str]] = set()  # lecture_code functions that ran during a call
        self.__name__ = name

    def __call__(self, *args: Any) -> Any:
        with self.lock:
            return self._call(args)

    def wait(self, timeout: float) -> None:
        """Wait until a call still running (e.g. one the checker gave up on) has ended."""
        if self.lock.acquire(timeout=timeout):
            self.lock.release()

    def _call(self, args: tuple[Any, ...]) -> Any:
        payload = wire.dumps(args)
        code = f"{NAMESPACE}_out = {NAMESPACE}['call']({self.name!r}, {payload!r})"
        try:
            text = _expression(self.sb, code, f"{NAMESPACE}_out", self.limit)
        except KernelGone as gone:
            if gone.reason == "timeout":
                raise TimeoutError(str(gone)) from None
            raise
        reply = wire.parse(text)
        if not isinstance(reply, dict):
            raise ChannelError("malformed reply")
        if reply.get("missing"):
            raise NameError(f"name {self.name!r} is not defined")
        for item in reply.get("lecture_code") or []:
            if isinstance(item, list) and len(item) == 2 and all(isinstance(s, str) for s in item):
                self.ran.add((item[0][:300], item[1][:300]))
        after = wire.decode(reply.get("args_after"))
        if isinstance(after, tuple) and len(after) == len(args):
            for old, new in zip(args, after, strict=True):
                _write_back(old, new)
        if "error" in reply:
            raise learner_exception(reply["error"])
        return wire.decode(reply.get("value"))

    def borrowed(self, ex: Exercise) -> str | None:
        """The shipped code this function used, if any: the exercise's reference, a known mistake, the checker."""
        shipped = {loc for loc in (code_location(f) for f in (ex.reference, *(m.fn for m in ex.mistakes))) if loc}
        for rel, qualname in sorted(self.ran):
            if rel == "<tampered>":
                return f"during the call it used {qualname}, which would hide what ran"
            if (rel, qualname) in shipped or rel.startswith("grading/"):
                return f"lecture_code/{rel}: {qualname}"
        return None

