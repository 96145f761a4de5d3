"""Benchmark the Kneser-Ney baseline on Penn Treebank: fit and evaluation time, valid and test perplexity.

    LECTURE_CODE_DATA=/path/to/data python benchmarks/bench_ngram.py

Prints a markdown table (one row per order, each fitted on its own) and the time of the shared counting
pass ``KneserNeyLM.fit_orders`` that the book's chapter can use instead. Reference: Mikolov et al. (2011)
report test perplexity 141.2 for a sentence-level KN5 on this split; our models read the flat stream.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lecture_code.ngram import KneserNeyLM

ORDERS = (2, 3, 4, 5)


def load_ptb(split: str) -> list[str]:
    """One PTB split as a flat token stream: ``line.split() + ["<eos>"]`` per line."""
    data = os.environ.get("LECTURE_CODE_DATA")
    if data is None:
        sys.exit("set LECTURE_CODE_DATA to the folder holding ptb/ptb.{train,valid,test}.txt")
    path = Path(data) / "ptb" / f"ptb.{split}.txt"
    return [w for line in path.read_text().splitlines() for w in [*line.split(), "<eos>"]]


def main() -> None:
    train, valid, test = (load_ptb(s) for s in ("train", "valid", "test"))
    print(f"PTB tokens: train {len(train):,}, valid {len(valid):,}, test {len(test):,}")
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, {os.cpu_count()} CPUs\n")
    print("| order | fit (s) | eval valid+test (s) | valid ppl | test ppl |")
    print("|---:|---:|---:|---:|---:|")
    total = 0.0
    for n in ORDERS:
        t0 = time.perf_counter()
        lm = KneserNeyLM(n).fit(train)
        t1 = time.perf_counter()
        ppl_valid, ppl_test = lm.perplexity(valid), lm.perplexity(test)
        t2 = time.perf_counter()
        total += t2 - t0
        print(f"| {n} | {t1 - t0:.2f} | {t2 - t1:.2f} | {ppl_valid:.1f} | {ppl_test:.1f} |")
    print(f"\nSeparate fits, all orders: {total:.2f} s (fit + eval)")

    t0 = time.perf_counter()
    models = KneserNeyLM.fit_orders(train, ORDERS)
    t1 = time.perf_counter()
    for model in models.values():
        model.perplexity(valid), model.perplexity(test)
    t2 = time.perf_counter()
    print(f"KneserNeyLM.fit_orders{ORDERS}: fit {t1 - t0:.2f} s, eval {t2 - t1:.2f} s, total {t2 - t0:.2f} s")


if __name__ == "__main__":
    main()
