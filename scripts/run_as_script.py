"""Run a notebook's code cells as one plain Python script, without Jupyter.

    python scripts/run_as_script.py chapters/01_rnn_lm.ipynb

Used by CI to show that a chapter runs in a fresh environment holding only the wheel of
``lecture_code`` and its declared dependencies, as on Colab. Runs in the notebook's folder,
with Matplotlib's non-interactive backend. Standard library only.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main(path: Path) -> None:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.chdir(path.parent)
    namespace: dict[str, object] = {"__name__": "__main__"}
    start = time.perf_counter()
    for k, cell in enumerate(cells):
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), f"{path.name}, cell {k}", "exec"), namespace)
    print(f"{path.name}: all code cells ran in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        main(Path(arg).resolve())
