"""Time every notebook of the book in a fresh kernel and print a Markdown table.

    LECTURE_CODE_DATA=../shared/data python benchmarks/time_notebooks.py [NOTEBOOK ...]

Notebooks are executed in memory (nothing is written). The mode (quick unless
LECTURE_CODE_FULL=1) and the machine are printed with the table; record the output in
benchmarks/README.md. The target is about a minute per chapter in quick mode on 2 CPU cores.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

import nbformat
import torch
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def run(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=3600, kernel_name="python3", allow_errors=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - start


def main(args: list[str]) -> None:
    paths = [Path(a) for a in args] or sorted(
        p for folder in ("chapters", "solutions", "exercises") for p in (ROOT / folder).glob("*.ipynb"))
    mode = "full" if os.environ.get("LECTURE_CODE_FULL") == "1" else "quick"
    print(f"mode: {mode}; machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"torch {torch.__version__} with {torch.get_num_threads()} threads; Python {platform.python_version()}\n")
    print("| notebook | seconds |\n|---|---:|")
    for p in paths:
        print(f"| {p.relative_to(ROOT) if p.is_absolute() else p} | {run(p.resolve()):.1f} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
