"""The instructor's and maintainer's command line.

    python -m lecture_code.grading NOTEBOOK_OR_FOLDER ...   grade: run each notebook, print a table
    python -m lecture_code.grading list                     the exercises in the registry
    python -m lecture_code.grading generate [--check]       write exercises/ from solutions/

Grading executes each notebook in a fresh kernel (errors in a cell do not stop the rest),
collects every ``check`` result, and exits 0 only if every exercise of every notebook passed.
An exercise whose check never ran counts as ``not run``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import tempfile
from pathlib import Path

from . import EXERCISES, REPORT_VAR
from .generator import MarkerError, generate

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


def _expected(nb: Path) -> list[str]:
    """Exercises a notebook should check: those of its chapter, from a name like '01_rnn_lm.ipynb'."""
    m = re.match(r"(\d+)_", nb.name)
    return [] if m is None else [e.id for e in EXERCISES.values() if e.chapter == int(m.group(1))]


def grade_notebook(nb: Path, timeout: int = 600) -> list[dict[str, str]]:
    """Execute ``nb`` and return one row per exercise: notebook, exercise, status, hint."""
    import nbformat
    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.jsonl"
        report.touch()
        old = os.environ.get(REPORT_VAR)
        os.environ[REPORT_VAR] = str(report)
        crash = None
        try:
            book = nbformat.read(nb, as_version=4)
            NotebookClient(book, timeout=timeout, kernel_name="python3", allow_errors=True,
                           resources={"metadata": {"path": str(nb.parent)}}).execute()
        except Exception as err:  # a broken notebook is a grade, not a crash of the grader
            crash = f"{type(err).__name__}: {err}".splitlines()[0]
        finally:
            if old is None:
                os.environ.pop(REPORT_VAR, None)
            else:
                os.environ[REPORT_VAR] = old
        results: dict[str, dict[str, str]] = {}
        for line in report.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            results[r["exercise"]] = r  # the last check of an exercise counts
    rows = []
    for ex in dict.fromkeys([*_expected(nb), *results]):
        r = results.get(ex)
        if r is None:
            rows.append({"notebook": str(nb), "exercise": ex, "status": "not run",
                         "hint": crash or "its check(...) never ran (an earlier cell may have failed)"})
        else:
            rows.append({"notebook": str(nb), "exercise": ex, "status": r["status"],
                         "hint": r["hint"] or ("" if r["status"] == "pass" else r["message"])})
    if not rows:
        rows.append({"notebook": str(nb), "exercise": "-", "status": "not run",
                     "hint": crash or "no check(...) ran in this notebook"})
    return rows


def _table(rows: list[dict[str, str]]) -> str:
    width = {c: max(len(c), *(len(r[c]) for r in rows)) for c in COLUMNS[:3]}
    line = "  ".join(f"{c:<{width[c]}}" for c in COLUMNS[:3]) + "  hint"
    out = [line, "-" * len(line)]
    for r in rows:
        hint = r["hint"] if len(r["hint"]) <= 100 else r["hint"][:97] + "..."
        out.append("  ".join(f"{r[c]:<{width[c]}}" for c in COLUMNS[:3]) + f"  {hint}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
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
                                description="Grade notebooks: run each one and report every exercise's status. "
                                "Other commands: 'list', 'generate [--check]'.")
    p.add_argument("paths", nargs="+", help="notebooks, or folders searched for *.ipynb")
    p.add_argument("--csv", help="also write the table to this CSV file")
    p.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell (default 600)")
    a = p.parse_args(argv)
    rows = [r for nb in _notebooks(a.paths) for r in grade_notebook(nb, a.timeout)]
    print(_table(rows))
    passed = sum(r["status"] == "pass" for r in rows)
    print(f"\n{passed} of {len(rows)} exercises passed.")
    if a.csv:
        with open(a.csv, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=COLUMNS)
            w.writeheader()
            w.writerows(rows)
    return 0 if passed == len(rows) else 1
