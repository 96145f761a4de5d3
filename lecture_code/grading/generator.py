"""Write ``exercises/`` from ``solutions/``: each marked solution block becomes a stub.

In a solution notebook, a learner's code sits between the nbgrader-style markers::

    def rnn_step(e_t, h_prev, W_h, W_e, b1):
        ### BEGIN SOLUTION
        return np.tanh(h_prev @ W_h.T + e_t @ W_e.T + b1)
        ### END SOLUTION

The generator replaces each block, markers included, with ``raise NotImplementedError(...)``
at the marker's indentation, clears every output and execution count, drops saved
widget state, leaves out cells tagged ``solutions-only``, and tags every code cell
``nbval-ignore-output`` (an exercise copy stores no outputs for nbval to compare). Unbalanced or nested
markers are an error that names the notebook and cell.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
SOLUTIONS_ONLY = "solutions-only"  # cells with this tag are left out of the exercise copy
IGNORE_OUTPUT = "nbval-ignore-output"
STUB = 'raise NotImplementedError("Replace this line with your code.")'


class MarkerError(ValueError):
    """Unbalanced or nested solution markers."""


def strip_solutions(source: str, where: str = "cell") -> str:
    """Replace every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` block in ``source`` with a stub."""
    out: list[str] = []
    inside_since: int | None = None
    for i, line in enumerate(source.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside_since is not None:
                raise MarkerError(f"{where}, line {i}: {BEGIN} inside the block opened on line {inside_since}")
            inside_since = i
            indent = re.match(r"\s*", line).group(0)  # type: ignore[union-attr]
            out.append(f"{indent}{STUB}\n")
        elif stripped == END:
            if inside_since is None:
                raise MarkerError(f"{where}, line {i}: {END} without a matching {BEGIN}")
            inside_since = None
        elif BEGIN in line or END in line:
            raise MarkerError(f"{where}, line {i}: a solution marker must stand alone on its line")
        elif inside_since is None:
            out.append(line)
    if inside_since is not None:
        raise MarkerError(f"{where}, line {inside_since}: {BEGIN} is never closed by {END}")
    text = "".join(out)
    return text.rstrip("\n") if not source.endswith("\n") else text


SOLUTIONS_TITLE = "# Solutions to exercise set"  # a solutions notebook's title; its exercise copy says "Exercise set"


def exercise_notebook(nb: dict[str, Any], where: str = "notebook") -> dict[str, Any]:
    """The exercise version of a solution notebook (a new dict; the input is not changed)."""
    nb = json.loads(json.dumps(nb))
    kept = []
    for k, cell in enumerate(nb["cells"]):  # k: the cell's index in the solution notebook, for error messages
        if SOLUTIONS_ONLY in cell.get("metadata", {}).get("tags", []):
            continue
        kept.append(cell)
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "code":
            src = strip_solutions(src, f"{where}, cell {k}")
            cell["outputs"], cell["execution_count"] = [], None
            meta = cell.setdefault("metadata", {})
            meta.pop("execution", None)  # nbclient's timings
            if "lecture_code_stamp" not in meta and IGNORE_OUTPUT not in meta.setdefault("tags", []):
                meta["tags"].append(IGNORE_OUTPUT)  # no stored outputs to compare; nbval still fails on errors
        elif BEGIN in src or END in src:
            raise MarkerError(f"{where}, cell {k}: solution markers belong in code cells")
        if cell.get("metadata", {}).get("lecture_code_stamp") == "badge":  # the Colab badge opens this copy
            src = src.replace("/solutions/", "/exercises/")
        if cell["cell_type"] == "markdown" and src.startswith(SOLUTIONS_TITLE):  # the page's title
            src = "# Exercise set" + src[len(SOLUTIONS_TITLE):]
        cell["source"] = src.splitlines(keepends=True)
    nb["cells"] = kept
    nb.get("metadata", {}).pop("widgets", None)
    return nb


def dumps(nb: dict[str, Any]) -> str:
    """Serialise a notebook the way Jupyter does (one-space indent, trailing newline)."""
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def generate(solutions: Path, exercises: Path, check: bool = False) -> list[Path]:
    """Write (or with ``check=True`` only compare) every ``exercises/X.ipynb`` from ``solutions/X.ipynb``.

    Returns the exercise notebooks that were written (or that differ, when checking).
    """
    changed = []
    for src in sorted(Path(solutions).glob("*.ipynb")):
        dst = Path(exercises) / src.name
        text = dumps(exercise_notebook(json.loads(src.read_text(encoding="utf-8")), str(src)))
        if not dst.exists() or dst.read_text(encoding="utf-8") != text:
            changed.append(dst)
            if not check:
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.write_text(text, encoding="utf-8")
    return changed
