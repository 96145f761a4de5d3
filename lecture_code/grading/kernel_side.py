"""The grader's helper inside a learner's kernel: call one function of the notebook on plain data.

The grader never imports this module. It sends its source, together with that of :mod:`.wire`,
to the sandboxed kernel once the notebook has run, and then asks for one call at a time::

    call("rnn_step", '<JSON arguments>')  ->  '<JSON reply>'

The reply holds the encoded return value, or the exception's type, bases, message and the
learner's line; the arguments as they are after the call (to detect in-place changes); and the
functions of ``lecture_code`` that ran during the call (to recognise the shipped reference), seen
by a profile hook, plus any use during the call of the few builtins that could hide something from
that hook (replacing it, reaching its record through the garbage collector, starting a thread or a process).
Everything here runs in the learner's process and can be tampered with: the grader trusts none
of it beyond being data that it decodes strictly and compares itself.
"""

from __future__ import annotations

import builtins
import json
import linecache
import sys
import sysconfig
import traceback
from typing import Any

from .wire import decode, encode  # stripped in the kernel

_USER_NS: dict[str, Any] = {}
_PACKAGE_DIRS: tuple[str, ...] = ()
_LIBRARY_DIRS: tuple[str, ...] = ()
_SETPROFILE = sys.setprofile
_GETPROFILE = sys.getprofile
_MAX_SEEN = 200


def _genuine(fn: Any, name: str) -> bool:
    """True if ``fn`` is the sys module's own builtin ``name`` (not replaced by the notebook)."""
    return getattr(fn, "__self__", None) is sys and getattr(fn, "__name__", None) == name and \
        type(fn).__name__ == "builtin_function_or_method"


_PROFILER_OK = _genuine(_SETPROFILE, "setprofile") and _genuine(_GETPROFILE, "getprofile")


def _guarded() -> tuple[tuple[Any, str], ...]:
    """Builtins that a graded call has no reason to use: they could hide the reference from the profiler
    (by replacing it, reaching its record through the garbage collector, or running code in another thread
    or process). Walking frames from a traceback is not caught (see the README)."""
    import _thread
    import gc
    import os
    import posix

    names: dict[str, Any] = {f"sys.{n}": getattr(sys, n) for n in ("setprofile", "getprofile", "settrace")}
    names.update({f"gc.{n}": getattr(gc, n) for n in ("get_referrers", "get_referents", "get_objects")})
    names["_thread.start_new_thread"] = _thread.start_new_thread
    for mod in (os, posix):
        for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "execv", "execve", "system", "dup2"):
            if hasattr(mod, name):
                names[f"os.{name}"] = getattr(mod, name)
    try:
        import _posixsubprocess

        names["subprocess"] = _posixsubprocess.fork_exec
    except ImportError:
        pass
    return tuple((fn, name) for name, fn in names.items())


_GUARDED = _guarded()


def setup(user_ns: dict[str, Any], package_dirs: list[str]) -> None:
    """Remember the notebook's namespace and where lecture_code lives (the grader's and this kernel's copy)."""
    global _USER_NS, _PACKAGE_DIRS, _LIBRARY_DIRS
    _USER_NS = user_ns
    dirs = list(package_dirs)
    try:
        import importlib.util

        spec = importlib.util.find_spec("lecture_code")
        if spec is not None and spec.origin:
            dirs.append(spec.origin.rsplit("/", 1)[0] + "/")
    except (ImportError, ValueError):
        pass
    _PACKAGE_DIRS = tuple(dict.fromkeys(dirs))
    paths = sysconfig.get_paths()
    _LIBRARY_DIRS = tuple(p for p in (paths.get("stdlib"), paths.get("purelib"), paths.get("platlib")) if p)


def defined(names: list[str]) -> str:
    """JSON list of the names that are callables in the notebook's namespace."""
    return json.dumps([n for n in names if callable(_USER_NS.get(n))])


def _learner_line(err: BaseException) -> str:
    """' (line N: `code`)' for the last traceback frame in the learner's own code, or ''."""
    skip = (*_PACKAGE_DIRS, *_LIBRARY_DIRS, "<lecture_code grader>")
    frames = [f for f in traceback.extract_tb(err.__traceback__) if not f.filename.startswith(skip)]
    if not frames:
        return ""
    f = frames[-1]
    code = (f.line or linecache.getline(f.filename, f.lineno or 0)).strip()
    return f" (line {f.lineno}: `{code[:200]}`)" if code else f" (line {f.lineno})"


def _describe(err: BaseException) -> dict[str, Any]:
    t = type(err)
    bases = [c.__name__ for c in t.__mro__ if c.__module__ == "builtins" and getattr(builtins, c.__name__, None) is c]
    try:
        message = str(err)
    except Exception:  # a learner's exception whose __str__ raises
        message = ""
    return {"type": str(t.__name__)[:100], "module": str(t.__module__)[:100], "bases": bases,
            "message": message[:2000], "line": _learner_line(err)}


def call(name: str, payload: str) -> str:
    """Call the notebook's function ``name`` on the decoded arguments; the JSON reply."""
    fn = _USER_NS.get(name)
    if not callable(fn):
        return json.dumps({"missing": True})
    args = decode(json.loads(payload))
    seen: set[tuple[str, str]] = set()
    if not _PROFILER_OK:
        seen.add(("<tampered>", "sys.setprofile, replaced before grading"))
    # The hook reads only what it closes over, and calls no builtin the notebook could have replaced.
    dirs, guarded, own, limit, add, size = _PACKAGE_DIRS, _GUARDED, call.__code__, _MAX_SEEN, seen.add, seen.__len__

    def hook(frame: Any, event: str, arg: Any) -> None:
        if size() >= limit:
            return
        if event == "call":
            code = frame.f_code
            for d in dirs:
                if code.co_filename.startswith(d):
                    add((code.co_filename[d.__len__():], code.co_qualname))
        elif event == "c_call" and frame.f_code is not own:  # our own setprofile(None) at the end is fine
            for fn, name in guarded:
                if arg is fn:
                    add(("<tampered>", name))

    reply: dict[str, Any] = {}
    _SETPROFILE(hook)
    try:
        reply["value"] = fn(*args)
    except BaseException as err:  # everything the learner's code raises, KeyboardInterrupt included
        reply["error"] = _describe(err)
    finally:
        if _GETPROFILE() is not hook and not any(rel == "<tampered>" for rel, _ in seen):
            seen.add(("<tampered>", "a replacement of the profiler"))
        _SETPROFILE(None)
    out = {"lecture_code": sorted(seen), "args_after": encode(tuple(args))}
    if "value" in reply:
        out["value"] = encode(reply["value"])
    else:
        out["error"] = reply["error"]
    return json.dumps(out, allow_nan=False, separators=(",", ":"))

