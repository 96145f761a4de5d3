"""Published numbers the book compares its own against, each with its source (a key of ``references.bib``).

Kept apart from everything measured, so that a table or a claim can say which of its numbers are published
and which this machine produced. Perplexities are per word on each paper's test set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple


class Result(NamedTuple):
    """One published number: what was measured, by which model, where it is published, and the value."""

    model: str
    source: str  # a citation key of references.bib
    value: float
    corpus: str = ""


# The lecture's perplexity table: One Billion Word benchmark (Chelba et al. 2013), test perplexity.
ONE_BILLION_WORD: tuple[Result, ...] = (
    Result("Interpolated Kneser-Ney 5-gram", "chelba2013one", 67.6, "One Billion Word"),
    Result("RNN-1024 + MaxEnt 9-gram", "chelba2013one", 51.3, "One Billion Word"),
    Result("RNN-2048 + BlackOut sampling", "ji2016blackout", 68.3, "One Billion Word"),
    Result("Sparse non-negative matrix factorization", "shazeer2015sparse", 52.9, "One Billion Word"),
    Result("LSTM-2048", "jozefowicz2016exploring", 43.7, "One Billion Word"),
    Result("2-layer LSTM-8192-1024", "jozefowicz2016exploring", 30.6, "One Billion Word"),
    Result("LSTM-2048 with adaptive softmax", "grave2017efficient", 43.9, "One Billion Word"),
    Result("2-layer LSTM-2048 with adaptive softmax", "grave2017efficient", 39.8, "One Billion Word"),
)

# Penn Treebank (Mikolov split), test perplexity.
MIKOLOV_2011_RNN_PTB = Result("RNN-LM", "mikolov2011empirical", 124.7, "Penn Treebank")
ZAREMBA_SMALL_VALID = Result("2 x 200 LSTM, no dropout (valid)", "zaremba2014recurrent", 120.7, "Penn Treebank")
ZAREMBA_SMALL_TEST = Result("2 x 200 LSTM, no dropout", "zaremba2014recurrent", 114.5, "Penn Treebank")

# WNUT-17 emerging entities: the best system's entity F1 on the test set (Derczynski et al. 2017, results table).
WNUT17_BEST_ENTITY_F1 = Result("best shared-task system", "derczynski2017results", 0.4186, "WNUT-17")


def perplexity_table(published: Sequence[Result], measured: Sequence[tuple[str, str, str, str]]) -> str:
    """A Markdown table of published rows (cited) and measured rows.

    ``measured`` rows are ``(model, where, corpus, value text)``, e.g. ``("Unigram (ours)", "`lecture_code.ngram`",
    "Penn Treebank", "684.7 (measured)")``.
    """
    rows = ["| model | source | corpus | test perplexity |", "|---|---|---|---|"]
    rows += [f"| {r.model} | {{cite}}`{r.source}` | {r.corpus} | {r.value} (published) |" for r in published]
    rows += [f"| {m} | {w} | {c} | {v} |" for m, w, c, v in measured]
    return "\n".join(rows)
