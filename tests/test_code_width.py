"""The chapters' code cells fit the book's code box: no line scrolls sideways, no cell runs on.

At 1400 px the code box of a chapter shows about 88 characters per line; a longer line scrolls
sideways. A code cell of more than 15 lines is split at a natural boundary (computation / claims).
Cells tagged ``remove-cell`` are not on the page and are not checked.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The chapters whose code is formatted for the code box. Add a chapter here once it is.
CHAPTERS = [
    "01_rnn_lm",
    "02_bptt",
    "03_other_uses",
    "04_vanishing_exploding",
    "05_lstm",
    "06_bidirectional_multilayer",
]
MAX_CHARS = 88  # characters per line that the code box shows at 1400 px
MAX_LINES = 15  # lines per code cell
HIDDEN = {"remove-cell", "remove_cell"}  # tags that keep a cell off the page


def problems(nb: dict) -> list[str]:
    """Every line longer than MAX_CHARS and every cell longer than MAX_LINES, in shown code cells."""
    found = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code" or HIDDEN & set(cell.get("metadata", {}).get("tags", [])):
            continue
        src = cell.get("source", "")
        lines = ("".join(src) if isinstance(src, list) else src).splitlines()
        if len(lines) > MAX_LINES:
            found.append(f"cell {i}: {len(lines)} lines (at most {MAX_LINES})")
        found += [f"cell {i}, line {n}: {len(line)} characters (at most {MAX_CHARS}): {line.strip()[:60]}"
                  for n, line in enumerate(lines, start=1) if len(line) > MAX_CHARS]
    return found


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_code_fits_the_code_box(chapter: str) -> None:
    nb = json.loads((ROOT / "chapters" / f"{chapter}.ipynb").read_text(encoding="utf-8"))
    found = problems(nb)
    assert not found, f"{chapter}: reformat by hand (not `ruff format`):\n" + "\n".join(found)


def _nb(*sources: str, tags: tuple[str, ...] = ()) -> dict:
    return {"cells": [{"cell_type": "code", "metadata": {"tags": list(tags)}, "outputs": [], "source": s}
                      for s in sources]}


def test_code_at_the_limits_passes() -> None:
    cell = "\n".join(["x" * MAX_CHARS] * MAX_LINES)
    assert problems(_nb(cell)) == []
    assert problems({"cells": [{"cell_type": "code", "metadata": {}, "source": [cell + "\n"]}]}) == []


def test_a_long_line_fails() -> None:
    found = problems(_nb("x = 1", "y = 2\n" + "z" * (MAX_CHARS + 1)))
    assert len(found) == 1 and found[0].startswith(f"cell 1, line 2: {MAX_CHARS + 1} characters")


def test_a_long_cell_fails() -> None:
    found = problems(_nb("\n".join(["x = 1"] * (MAX_LINES + 1))))
    assert found == [f"cell 0: {MAX_LINES + 1} lines (at most {MAX_LINES})"]


def test_hidden_cells_and_markdown_are_not_checked() -> None:
    long = "\n".join(["x" * (MAX_CHARS + 1)] * (MAX_LINES + 1))
    assert problems(_nb(long, tags=("remove-cell",))) == []
    assert problems({"cells": [{"cell_type": "markdown", "metadata": {}, "source": long}]}) == []
    assert len(problems(_nb(long, tags=("remove-input",)))) == 1 + MAX_LINES + 1
