"""The committed notebooks: executed in order, stamped for Colab, exercises generated from solutions."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from lecture_code.grading.generator import BEGIN, END, generate

ROOT = Path(__file__).resolve().parents[1]
EXECUTED = sorted([*ROOT.glob("chapters/*.ipynb"), *ROOT.glob("solutions/*.ipynb")])
EXERCISES = sorted(ROOT.glob("exercises/*.ipynb"))


def _load_stamp():
    spec = importlib.util.spec_from_file_location("stamp_colab", ROOT / "scripts" / "stamp_colab.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _code_cells(path: Path) -> list[dict]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [c for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def test_there_are_notebooks():
    assert EXECUTED and EXERCISES


@pytest.mark.parametrize("path", EXECUTED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_committed_executed_in_order(path: Path):
    counts = [c["execution_count"] for c in _code_cells(path)]
    never = [i for i, n in enumerate(counts) if n is None]
    assert not never, f"{path.name}: code cells {never} were never executed; run `make execute`"
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: execution counts out of order: {counts}"
    errors = [o for c in _code_cells(path) for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, f"{path.name}: a stored output is an error"


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_exercises_are_clean_stubs(path: Path):
    text = path.read_text(encoding="utf-8")
    assert BEGIN not in text and END not in text
    assert "NotImplementedError" in text
    cells = _code_cells(path)
    assert all(c["execution_count"] is None and not c["outputs"] for c in cells)
    assert (ROOT / "solutions" / path.name).exists(), "every exercise notebook comes from a solution notebook"


def test_exercises_match_solutions():
    assert generate(ROOT / "solutions", ROOT / "exercises", check=True) == [], "run `make exercises`"


def test_every_notebook_carries_the_same_colab_cells():
    stamp = _load_stamp()
    url, branch = stamp.repository()
    setups = set()
    for path in stamp.notebooks():
        nb = json.loads(path.read_text(encoding="utf-8"))
        rel = path.relative_to(ROOT).as_posix()
        assert stamp.stamp(nb, rel, url, branch) is nb, f"{rel} is not stamped; run `make stamp`"
        *badge, setup = nb["cells"][: len(stamp.stamped_cells(rel, url, branch))]  # no badge while url is ""
        assert not url or f"/blob/{branch}/{rel})" in "".join(badge[0]["source"])
        setups.add("".join(setup["source"]))
    assert len(setups) == 1, "the setup cell differs between notebooks"
    assert url in setups.pop()


def test_repository_url_lives_only_in_config():
    url, _ = _load_stamp().repository()
    if not url:
        pytest.skip('the book is not published yet (repository url: "")')
    for path in [*ROOT.glob("*.md"), *ROOT.glob("lecture_code/**/*.py"), *ROOT.glob("scripts/*.py")]:
        if path.name != "README.md":
            assert url not in path.read_text(encoding="utf-8"), f"{path} repeats the repository URL"


CHAPTERS = sorted(ROOT.glob("chapters/*.ipynb"))
IGNORE = "nbval-ignore-output"


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_at_most_a_quarter_of_a_chapter_ignores_its_output(path: Path):
    """nbval must check what the chapters show: only outputs that cannot be compared are ignored."""
    cells = [c for c in _code_cells(path) if "remove-cell" not in _tags(c)]
    ignored = [c for c in cells if IGNORE in _tags(c)]
    assert 4 * len(ignored) <= len(cells), f"{path.name}: {len(ignored)} of {len(cells)} code cells ignore their output"


@pytest.mark.parametrize("path", EXECUTED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_progress_bars_on_the_pages(path: Path):
    """Notebooks are executed with LECTURE_CODE_PROGRESS=0: no tqdm bar is stored."""
    for c in _code_cells(path):
        for o in c["outputs"]:
            text = "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
            assert "it/s]" not in text, f"{path.name}: a stored output holds a progress bar"


HIDDEN_INPUT = {"hide-input", "remove-input", "remove-cell"}


def formatting_on_the_page(cells: list[dict]) -> list[int]:
    """Indices of shown code cells that build a table by hand (Markdown table rows in an f-string or a
    ``markdown_table`` call): bookkeeping a reader should not have to read. Such a cell goes behind a
    toggle (``hide-input``), or its formatting into ``lecture_code``."""
    return [i for i, c in enumerate(cells)
            if not HIDDEN_INPUT & set(_tags(c)) and re.search(r"\|---|markdown_table\(", "".join(c["source"]))]


def test_the_formatting_check_can_fail():
    cell = {"cell_type": "code", "metadata": {}, "source": ['rows = ["| a | b |", "|---|---|"]']}
    assert formatting_on_the_page([cell]) == [0]
    assert formatting_on_the_page([cell | {"metadata": {"tags": ["hide-input"]}}]) == []


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_tables_are_not_built_in_shown_code(path: Path):
    shown = formatting_on_the_page(_code_cells(path))
    assert not shown, f"{path.name}: code cells {shown} (of the non-empty code cells) format a table in view"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapters_state_their_claims(path: Path):
    """Every chapter checks what its prose says with lecture_code.claims, and stored no failed claim."""
    sources = "".join("".join(c["source"]) for c in _code_cells(path))
    assert "claims." in sources, f"{path.name} makes no claim"
    outputs = "".join("".join(o.get("text", "")) for c in _code_cells(path) for o in c["outputs"])
    assert "ClaimError" not in outputs
