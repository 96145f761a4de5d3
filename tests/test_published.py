"""Tests for lecture_code.published: every published number cites a key of references.bib."""

from __future__ import annotations

import re
from pathlib import Path

from lecture_code import published

BIB_KEYS = set(re.findall(r"^@\w+\{([^,]+),", (Path(__file__).parents[1] / "references.bib").read_text(), re.M))


def _results() -> list[published.Result]:
    out = list(published.ONE_BILLION_WORD)
    out += [v for v in vars(published).values() if isinstance(v, published.Result)]
    return out


def test_every_published_number_cites_a_bibliography_entry():
    results = _results()
    assert len(results) > 8
    for r in results:
        assert r.source in BIB_KEYS, r
        assert r.value > 0 and r.corpus


def test_perplexity_table_marks_published_and_measured_rows():
    ours = ("Unigram (ours)", "`lecture_code.ngram`", "Penn Treebank", "684.7 (measured)")
    table = published.perplexity_table(published.ONE_BILLION_WORD[:2], [ours])
    lines = table.splitlines()
    assert lines[0] == "| model | source | corpus | test perplexity |" and len(lines) == 5
    kn = "| Interpolated Kneser-Ney 5-gram | {cite}`chelba2013one` | One Billion Word | 67.6 (published) |"
    assert lines[2] == kn
    assert lines[-1].endswith("| 684.7 (measured) |")
