"""The committed notebooks: executed in order, stamped for Colab, exercises generated from solutions."""

from __future__ import annotations

import importlib.util
import json
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
        badge, setup = nb["cells"][:2]
        assert f"/blob/{branch}/{rel})" in "".join(badge["source"])
        setups.add("".join(setup["source"]))
    assert len(setups) == 1, "the setup cell differs between notebooks"
    assert url in setups.pop()


def test_repository_url_lives_only_in_config():
    url, _ = _load_stamp().repository()
    for path in [*ROOT.glob("*.md"), *ROOT.glob("lecture_code/**/*.py"), *ROOT.glob("scripts/*.py")]:
        if path.name != "README.md":
            assert url not in path.read_text(encoding="utf-8"), f"{path} repeats the repository URL"
