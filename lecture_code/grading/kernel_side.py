"""The grader's helper inside a learner's kernel: call one function of the notebook on plain data.

The grader never imports this module. It sends its source, together with that of :mod:`.wire`,
to the sandboxed kernel once the notebook has run, and then asks for one call at a time::

    call("rnn_step", '<JSON arguments>')  ->  '<JSON reply>'

The reply holds the encoded return value, or the exception's type, bases, message and the
learner's line; the arguments as they are after the call (to detect in-place changes); and the
functions of ``lecture_code`` that ran during the call (to recognise the shipped reference), seen
by a profile hook, plus any attempt during the call to replace that hook or to start a process.
Everything here runs in the learner's process and can be tampered with: the grader trusts none
of it beyond being data that it decodes strictly and compares itself.
"""

from __future__ import annotations

import builtins
import json
import linecache
import sys
import sysconfig
import threading
import traceback
from typing import Any

from .wire import decode, encode  # stripped in the kernel

_USER_NS: dict[str, Any] = {}
_PACKAGE_DIRS: tuple[str, ...] = ()
_LIBRARY_DIRS: tuple[str, ...] = ()
_SETPROFILE = sys.setprofile
_GETPROFILE = sys.getprofile
_MAX_SEEN = 200


def _guarded() -> dict[int, str]:
    """Builtins that a graded call has no reason to use: they could hide the reference from the profiler."""
    import os
    import posix

    names = {"sys.setprofile": sys.setprofile, "sys.settrace": sys.settrace}
    for mod in (os, posix):
        for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "execv", "execve", "system"):
            if hasattr(mod, name):
                names[f"os.{name}"] = getattr(mod, name)
    try:
        import _posixsubprocess

        names["subprocess"] = _posixsubprocess.fork_exec
    except ImportError:
        pass
    return {id(fn): name for name, fn in names.items()}


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


def _relative(filename: str) -> str | None:
    for d in _PACKAGE_DIRS:
        if filename.startswith(d):
            return filename[len(d):]
    return None


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

    def hook(frame: Any, event: str, arg: Any) -> None:
        if len(seen) >= _MAX_SEEN:
            return
        if event == "call":
            code = frame.f_code
            rel = _relative(code.co_filename)
            if rel is not None:
                seen.add((rel, code.co_qualname))
        elif event == "c_call" and id(arg) in _GUARDED and frame.f_code is not call.__code__:  # not our own
            seen.add(("<tampered>", _GUARDED[id(arg)]))

    reply: dict[str, Any] = {}
    _SETPROFILE(hook)
    threading.setprofile(hook)
    try:
        reply["value"] = fn(*args)
    except BaseException as err:  # everything the learner's code raises, KeyboardInterrupt included
        reply["error"] = _describe(err)
    finally:
        if _GETPROFILE() is not hook:
            seen.add(("<tampered>", "the profiler was replaced"))
        _SETPROFILE(None)
        threading.setprofile(None)  # type: ignore[arg-type]
    out = {"lecture_code": sorted(seen), "args_after": encode(tuple(args))}
    if "value" in reply:
        out["value"] = encode(reply["value"])
    else:
        out["error"] = reply["error"]
    return json.dumps(out, allow_nan=False, separators=(",", ":"))

