"""Execute notebooks in place, the way they are committed: fresh kernel, widget state saved.

    python scripts/execute_notebooks.py chapters/01_rnn_lm.ipynb solutions/01_rnn_lm.ipynb

Run from the repository root with LECTURE_CODE_DATA set when offline. Prints each notebook's
wall-clock time. Progress bars are switched off (LECTURE_CODE_PROGRESS=0), and torch uses one thread
unless OMP_NUM_THREADS says otherwise.
Exercise notebooks are generated, not executed (see `make exercises`).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path, timeout: int = 1200) -> float:
    os.environ["LECTURE_CODE_PROGRESS"] = "0"  # no progress bars on the pages (the kernel inherits it)
    # One torch thread unless told otherwise: the stored outputs come from one setting on every machine, and
    # threads that spin-wait never make a busy machine slower still.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    seconds = time.perf_counter() - start
    nbformat.write(nb, path)
    return seconds


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(f"{arg}: {execute(Path(arg)):.1f} s", flush=True)
