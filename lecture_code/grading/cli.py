"""The instructor's and maintainer's command line.

    python -m lecture_code.grading SUBMISSIONS... [-j N] [--csv F] [--feedback DIR] [--timeout S]
    python -m lecture_code.grading list                     the exercises in the registry
    python -m lecture_code.grading generate [--check]       write exercises/ from solutions/

Grading runs each notebook in its own sandboxed kernel (:mod:`.sandbox`), then checks each
exercise of its chapter from the grader's process (:mod:`.grade`): the learner's kernel reports
nothing that is trusted. It prints a table, can write it as CSV and a feedback file per notebook,
and exits 0 only if every exercise of every notebook passed (1 otherwise, 2 on a usage error).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from . import EXERCISES
from .generator import MarkerError, generate
from .grade import Graded, Row, chapter_exercises, grade_notebook
from .sandbox import Limits, isolation

COLUMNS = ("notebook", "exercise", "status", "hint")


def _notebooks(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(q for q in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts)
        elif p.suffix == ".ipynb" and p.exists():
            found.append(p)
        else:
            raise SystemExit(f"error: {p} is not a notebook (.ipynb) or a folder")
    return found


def _quiet_unraisable(unraisable: Any) -> None:
    """Drop the complaints of event loops that the kernel client leaves to the garbage collector
    ("Exception ignored in BaseEventLoop.__del__ ... Invalid file descriptor"): kernel machinery, not a
    grade, and no traceback for the instructor's terminal. Anything else goes to Python's default hook."""
    where = f"{unraisable.object!r} {unraisable.exc_value!r}"
    if "EventLoop" in where or "Invalid file descriptor" in where or "zmq" in where:
        return
    sys.__unraisablehook__(unraisable)


def _quiet() -> None:
    sys.unraisablehook = _quiet_unraisable


def _read(nb: Path) -> bytes | None:
    try:
        return nb.read_bytes()
    except OSError:  # the sandbox reads it again, and the error becomes this notebook's grade
        return None


def _grade_all(notebooks: list[Path], limits: Limits, jobs: int) -> Iterator[Graded]:
    """Grade the notebooks, ``jobs`` at a time (each in a grader process of its own when jobs > 1), in order.

    Every notebook is read before the first one runs, so a submission that deletes or rewrites the others
    (possible where the sandbox cannot run it as another user) changes no one's grade.
    """
    sources = [_read(nb) for nb in notebooks]
    if jobs <= 1 or len(notebooks) <= 1:
        for nb, source in zip(notebooks, sources, strict=True):
            yield grade_notebook(nb, limits, source)
        return
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=_quiet) as pool:
        futures = [pool.submit(grade_notebook, nb, limits, source)
                   for nb, source in zip(notebooks, sources, strict=True)]
        for nb, future in zip(notebooks, futures, strict=True):
            try:
                yield future.result()
            except Exception as err:  # a grader process that died: that notebook's grade, not a traceback
                why = f"the grader process failed: {type(err).__name__}"
                yield Graded(str(nb), [Row(str(nb), ex, "error", why) for ex in chapter_exercises(nb) or ["-"]])


def _table(rows: list[Row]) -> str:
    cells = [r.as_dict() for r in rows]
    width = {c: max(len(c), *(len(r[c]) for r in cells)) for c in COLUMNS[:3]}
    line = "  ".join(f"{c:<{width[c]}}" for c in COLUMNS[:3]) + "  hint"
    out = [line, "-" * len(line)]
    for r in cells:
        hint = r["hint"] if len(r["hint"]) <= 100 else r["hint"][:97] + "..."
        out.append("  ".join(f"{r[c]:<{width[c]}}" for c in COLUMNS[:3]) + f"  {hint}")
    return "\n".join(out)


def feedback(graded: Graded) -> str:
    """The short feedback file of one notebook (markdown): each exercise's status and hint."""
    passed = sum(r.status == "pass" for r in graded.rows)
    lines = [f"# Feedback on {Path(graded.notebook).name}", "", f"{passed} of {len(graded.rows)} exercises passed.", ""]
    if graded.problems:
        lines += ["While your notebook ran:", *(f"- {p.status}: {p.message}" for p in graded.problems), ""]
    for r in graded.rows:
        lines += [f"## {r.exercise}: {r.status}", ""]
        detail = r.message if r.message and r.status != "pass" else r.hint
        lines += [detail or "Well done.", ""]
    return "\n".join(lines)


def _feedback_name(nb: str, taken: set[str]) -> str:
    stem = Path(nb).stem
    name, k = f"{stem}.md", 1
    while name in taken:
        k += 1
        name = f"{stem}-{k}.md"
    taken.add(name)
    return name


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _quiet()
    if argv[:1] == ["list"]:
        for ex in EXERCISES.values():
            print(f"chapter {ex.chapter}  {ex.id:<12} {ex.signature}\n    {ex.summary}")
        return 0
    if argv[:1] == ["generate"]:
        p = argparse.ArgumentParser(prog="python -m lecture_code.grading generate")
        p.add_argument("--solutions", default="solutions")
        p.add_argument("--exercises", default="exercises")
        p.add_argument("--check", action="store_true", help="only report drift; exit 1 if any")
        a = p.parse_args(argv[1:])
        try:
            changed = generate(Path(a.solutions), Path(a.exercises), check=a.check)
        except MarkerError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        for c in changed:
            print(("out of date: " if a.check else "wrote ") + str(c))
        return 1 if (a.check and changed) else 0
    p = argparse.ArgumentParser(prog="python -m lecture_code.grading",
                                description="Grade notebooks: run each one in a sandbox and check every exercise "
                                "from outside it. Other commands: 'list', 'generate [--check]'.")
    p.add_argument("paths", nargs="+", help="notebooks, or folders searched for *.ipynb")
    p.add_argument("-j", "--jobs", type=int, default=1, help="grade this many notebooks at once (default 1)")
    p.add_argument("--csv", help="also write the table to this CSV file")
    p.add_argument("--feedback", help="write a feedback file (markdown) per notebook into this folder")
    p.add_argument("--timeout", type=float, default=600, help="seconds allowed per cell (default 600)")
    p.add_argument("--wall", type=float, default=1800, help="seconds allowed per notebook (default 1800)")
    p.add_argument("--memory", type=float, default=3.0, help="GiB of memory per notebook (default 3)")
    a = p.parse_args(argv)
    notebooks = _notebooks(a.paths)
    limits = Limits(cell_timeout=a.timeout, wall=max(a.wall, a.timeout), memory_gb=a.memory)
    print(isolation().describe(), file=sys.stderr)
    graded = list(_grade_all(notebooks, limits, a.jobs))
    rows = [r for g in graded for r in g.rows]
    if rows:
        print(_table(rows))
    passed = sum(r.status == "pass" for r in rows)
    print(f"\n{passed} of {len(rows)} exercises passed.")
    if a.csv:
        with open(a.csv, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=COLUMNS)
            w.writeheader()
            w.writerows(r.as_dict() for r in rows)
    if a.feedback:
        os.makedirs(a.feedback, exist_ok=True)
        taken: set[str] = set()
        for g in graded:
            Path(a.feedback, _feedback_name(g.notebook, taken)).write_text(feedback(g), encoding="utf-8")
    return 0 if rows and passed == len(rows) else 1
