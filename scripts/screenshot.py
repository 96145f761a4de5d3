#!/usr/bin/env python3
"""Render a page of the built book in headless Chromium, with the network cut off.

Usage::

    python scripts/screenshot.py _build/html/chapters/01_x.html /tmp/ch1.png
    python scripts/screenshot.py _build/html/chapters/01_x.html /tmp/ch1.png --width 1400 --height 3000
    python scripts/screenshot.py _build/html/chapters/01_x.html /tmp/ch1.png --width 400   # a phone
    python scripts/screenshot.py _build/html/chapters/01_x.html --dump-dom > /tmp/ch1.html
    python scripts/screenshot.py _build/html/chapters/01_x.html --dump-dom --console   # + JS console on stderr

TARGET may be a file, a directory (its index.html is used) or a URL.  The page
gets ``--virtual-time-budget`` ms of (virtual) time to run its JavaScript, so
MathJax typesetting and the Jupyter widget manager have finished before the
screenshot / DOM dump is taken.

By default every host name resolves to "not found" (``--host-resolver-rules``),
so a page that still needs a CDN visibly fails here even on a machine that has
network access; pass ``--allow-network`` to turn that off.  Each run uses a
fresh, throw-away profile directory.

Also importable (``render(...)``, ``dump_dom(...)``), which is what
``tests/test_book_offline.py`` does.  Standard library only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

MIN_WINDOW = 500
"""Headless Chromium's narrowest window, in px: a narrower page is laid out in an iframe of that width."""

FRAME = """<!DOCTYPE html><html><body style="margin:0"><iframe src="{src}" width="{width}" height="{height}"
style="border:0"></iframe></body></html>"""


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome binary ($CHROMIUM wins), or None."""
    env = os.environ.get("CHROMIUM")
    if env:
        return shutil.which(env) or (env if Path(env).is_file() else None)
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def to_url(target: str | os.PathLike[str]) -> str:
    text = os.fspath(target)
    if "://" in text:
        return text
    path = Path(text).resolve()
    if path.is_dir():
        path = path / "index.html"
    if not path.is_file():
        raise FileNotFoundError(f"no such page: {path}")
    return path.as_uri()


def render(
    target: str | os.PathLike[str],
    screenshot: str | os.PathLike[str] | None = None,
    *,
    dump_dom: bool = False,
    width: int = 1200,
    height: int = 2000,
    budget_ms: int = 10000,
    allow_network: bool = False,
    console: bool = False,
    chromium: str | None = None,
    timeout: float = 90,
) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium once; returns the CompletedProcess (stdout = DOM when dump_dom)."""
    if (screenshot is None) == (not dump_dom):
        raise ValueError("give exactly one of screenshot=PATH or dump_dom=True")
    exe = chromium or find_chromium()
    if exe is None:
        raise FileNotFoundError("no chromium/chrome executable found (set $CHROMIUM)")
    url, window = to_url(target), width
    if width < MIN_WINDOW and dump_dom:
        raise ValueError(f"width {width}: Chromium's window is at least {MIN_WINDOW} px, and --dump-dom would dump "
                         "a wrapper page; lay the page out in an iframe (see tests/test_book_layout.py)")
    with tempfile.TemporaryDirectory(prefix="book-chromium-") as profile:
        if width < MIN_WINDOW:  # a real `width`-px viewport (media queries apply), at the left of the shot
            frame = Path(profile) / "frame.html"
            frame.write_text(FRAME.format(src=url, width=width, height=height), encoding="utf-8")
            url, window = frame.as_uri(), MIN_WINDOW
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--mute-audio",
            f"--user-data-dir={profile}",
            f"--window-size={window},{height}",
            f"--virtual-time-budget={budget_ms}",
        ]
        if not allow_network:
            # Every host lookup fails; file:// is unaffected.  (Loopback stays reachable.)
            cmd.append("--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1 , EXCLUDE [::1]")
        if console:
            cmd += ["--enable-logging=stderr", "--v=0"]
        if dump_dom:
            cmd.append("--dump-dom")
        else:
            out = Path(screenshot).resolve()  # type: ignore[arg-type]
            out.parent.mkdir(parents=True, exist_ok=True)
            if out.exists():
                out.unlink()
            cmd.append(f"--screenshot={out}")
        cmd.append(url)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"chromium exited with {proc.returncode}:\n{proc.stderr[-3000:]}")
    if not dump_dom and not Path(screenshot).is_file():  # type: ignore[arg-type]
        raise RuntimeError(f"chromium did not write {screenshot}:\n{proc.stderr[-3000:]}")
    return proc


def dump_dom(target: str | os.PathLike[str], **kwargs) -> str:
    """The page's DOM after its scripts ran (MathJax output, rendered widgets...)."""
    return render(target, dump_dom=True, **kwargs).stdout


def console_lines(stderr: str) -> list[str]:
    """Pick the JavaScript console messages out of Chromium's --enable-logging output."""
    return [line for line in stderr.splitlines() if "CONSOLE" in line or ":INFO:CONSOLE" in line]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Screenshot (or dump the rendered DOM of) a built page with headless Chromium, offline."
    )
    parser.add_argument("target", help="HTML file, directory (uses index.html) or URL")
    parser.add_argument("out", nargs="?", help="PNG to write (omit with --dump-dom)")
    parser.add_argument("--width", type=int, default=1200)
    parser.add_argument("--height", type=int, default=2000)
    parser.add_argument(
        "--budget", type=int, default=10000, help="virtual time budget in ms for page JS (default 10000)"
    )
    parser.add_argument("--dump-dom", action="store_true", help="print the rendered DOM to stdout instead")
    parser.add_argument("--console", action="store_true", help="print the page's JS console messages to stderr")
    parser.add_argument("--allow-network", action="store_true", help="do not block host name resolution")
    parser.add_argument("--chromium", default=None, help="browser executable (default: $CHROMIUM or PATH)")
    parser.add_argument("--timeout", type=float, default=90, help="wall-clock limit in seconds")
    args = parser.parse_args(argv)
    if bool(args.out) == args.dump_dom:
        parser.error("give OUT.png, or --dump-dom (not both)")
    try:
        proc = render(
            args.target,
            args.out,
            dump_dom=args.dump_dom,
            width=args.width,
            height=args.height,
            budget_ms=args.budget,
            allow_network=args.allow_network,
            console=args.console,
            chromium=args.chromium,
            timeout=args.timeout,
        )
    except (FileNotFoundError, RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.console:
        for line in console_lines(proc.stderr):
            print(line, file=sys.stderr)
    if args.dump_dom:
        sys.stdout.write(proc.stdout)
    else:
        print(f"wrote {Path(args.out).resolve()} ({args.width}x{args.height})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
