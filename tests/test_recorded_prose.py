"""The numbers the prose quotes from recorded runs are the numbers in ``results/``.

The chapters' prose quotes recorded runs (``results/NAME.json``, made by ``python -m lecture_code.reproduce``)
by hand: "an LSTM reaches 117.9 on the test set". Re-record a run, and the prose must follow. Every decimal
number and every percentage in a paragraph of a chapter that names a recorded run (as `` `NAME` `` or
``results/NAME.``) must be one of that run's numbers, rounded as printed, or one of the few values derived from
them listed in :data:`DERIVED`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "results").glob("*.json"))}
CHAPTERS = sorted((ROOT / "chapters").glob("0*.ipynb"))
NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?%|\d+\.\d+)(?!\w|\.\d)")

# Values the prose computes from a run's numbers instead of copying one: run -> functions of its JSON.
DERIVED: dict[str, list[Callable[[dict], float]]] = {
    # "the LSTM ends 16% below Kneser-Ney on test"
    "ptb_lm": [lambda r: 100 * (1 - r["metrics"]["test_perplexity"]["lstm"] / r["metrics"]["test_perplexity"]["kn5"])],
    # "two layers end about 0.05 nats per character below one layer" (equal steps, means of the seeds)
    "depth": [lambda r: (m := r["metrics"]["comparisons"]["equal_steps"]["mean"])["1"] - m["2"]],
}


def _leaves(x: object) -> Iterator[float]:
    if isinstance(x, dict):
        for v in x.values():
            yield from _leaves(v)
    elif isinstance(x, list):
        for v in x:
            yield from _leaves(v)
    elif isinstance(x, (int, float)) and not isinstance(x, bool):
        yield float(x)


def _values(name: str) -> list[float]:
    return [*_leaves(RESULTS[name]), *(f(RESULTS[name]) for f in DERIVED.get(name, []))]


def quoted_numbers(markdown: str) -> Iterator[tuple[list[str], str, str]]:
    """(runs named, number as printed, context) for each number in a paragraph that names a recorded run.

    Directive options (``:width: 80%``) are not prose and are skipped.
    """
    for para in re.split(r"\n\s*\n", markdown):
        names = [n for n in RESULTS if re.search(rf"`{n}`|results/{n}\.", para)]
        if not names:
            continue
        prose = "\n".join(line for line in para.splitlines() if not re.match(r"\s*:width:", line))
        for m in NUMBER.finditer(prose):
            yield names, m.group(1), prose[max(0, m.start() - 60): m.end() + 20].replace("\n", " ")


def matches(printed: str, names: list[str]) -> bool:
    """Is ``printed`` ("117.9", "16%") one of the named runs' values, rounded as printed?"""
    text = printed.rstrip("%")
    decimals = len(text.split(".")[1]) if "." in text else 0
    return any(round(v, decimals) == float(text) for n in names for v in _values(n))


def _markdown(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_recorded_numbers_in_the_prose_match_the_results(path: Path) -> None:
    wrong = [f"{num} ({', '.join(names)}): …{context}…"
             for names, num, context in quoted_numbers(_markdown(path)) if not matches(num, names)]
    assert not wrong, f"{path.name} quotes numbers that are not in the recorded results:\n" + "\n".join(wrong)


def test_the_check_covers_the_quoted_numbers_and_catches_a_wrong_one() -> None:
    quoted = [q for p in CHAPTERS for q in quoted_numbers(_markdown(p))]
    assert len(quoted) >= 30, f"only {len(quoted)} recorded numbers found in the prose: is the scan broken?"
    assert {n for names, _, _ in quoted for n in names} == set(RESULTS), "a recorded run is never quoted"
    lstm = RESULTS["ptb_lm"]["metrics"]["test_perplexity"]["lstm"]
    assert matches(f"{lstm:.1f}", ["ptb_lm"]) and not matches(f"{lstm + 0.3:.1f}", ["ptb_lm"])
    assert matches("16%", ["ptb_lm"]) and not matches("19%", ["ptb_lm"])
    ((names, num, _),) = quoted_numbers(f"The recorded run `ptb_lm` reached {lstm + 1:.1f}.\n\n:width: 80%")
    assert names == ["ptb_lm"] and not matches(num, names)
