"""Tests for lecture_code.ngram: interpolated modified Kneser-Ney (Chen & Goodman 1999)."""

from __future__ import annotations

import math
import os
from collections import Counter, defaultdict
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from lecture_code import ngram
from lecture_code.ngram import UNK, KneserNeyLM, estimate_discounts

# ----------------------------------------------------------------------------- the hand-worked example
#
# Corpus (one flat stream):  a b a b a b a b c c c          vocabulary {a, b, c} + "<unk>" slot: V = 4
#
# Order 2 (highest order, raw bigram counts):
#   c(a b) = 4   c(b a) = 3   c(b c) = 1   c(c c) = 2          count-of-counts n1..n4 = 1, 1, 1, 1
#   Y = n1/(n1 + 2 n2) = 1/3
#   D1 = 1 - 2Y n2/n1 = 1/3     D2 = 2 - 3Y n3/n2 = 1     D3+ = 3 - 4Y n4/n3 = 5/3
#
# Order 1 (continuation counts N1+(• w) = distinct left neighbours; the first "a" has none):
#   N1+(• a) = |{b}| = 1   N1+(• b) = |{a}| = 1   N1+(• c) = |{b, c}| = 2      n1..n4 = 2, 1, 0, 0
#   Y = 2/4 = 1/2,  D1 = 1 - 2(1/2)(1/2) = 1/2,  D2 = 2 - 3(1/2)(0/1) = 2,  D3+ = 3 - 4(1/2)(0/0 := 0) = 3
#   total = 1 + 1 + 2 = 4,  gamma = (D1 N1 + D2 N2) / 4 = (1/2 * 2 + 2 * 1) / 4 = 3/4
#   p1(a) = (1 - 1/2)/4 + 3/4 * 1/4 = 5/16      p1(b) = 5/16
#   p1(c) = (2 - 2)/4   + 3/4 * 1/4 = 3/16      p1(<unk>) = 3/16            (sum: 16/16)
#
# Order 2, per context (the context count is c(h •) = sum over followers, so c(c •) = 2, not 3):
#   h = a:  c(a •) = 4, one follower with count 4:  gamma(a) = D3+ * 1 / 4 = 5/12
#           p(b|a) = (4 - 5/3)/4 + 5/12 * 5/16 = 7/12 + 25/192 = 137/192
#           p(a|a) = 5/12 * 5/16 = 25/192           p(c|a) = 5/12 * 3/16 = 5/64
#   h = b:  c(b •) = 4, followers a:3, c:1:  gamma(b) = (D1 * 1 + D3+ * 1)/4 = (1/3 + 5/3)/4 = 1/2
#           p(a|b) = (3 - 5/3)/4 + 1/2 * 5/16 = 1/3 + 5/32 = 47/96
#           p(c|b) = (1 - 1/3)/4 + 1/2 * 3/16 = 1/6 + 3/32 = 25/96
#           p(zzz|b) = p(<unk>|b) = 1/2 * 3/16 = 3/32 (never-seen word -> the "<unk>" slot)
#   h = c:  c(c •) = 2, follower c:2:  gamma(c) = D2 * 1 / 2 = 1/2
#           p(c|c) = (2 - 1)/2 + 1/2 * 3/16 = 19/32
#   h unseen ("zzz"): gamma = 1, p(w|zzz) = p1(w), e.g. p(a|zzz) = 5/16
HAND = "a b a b a b a b c c c".split()
HAND_PROBS = [
    ("b", "a", Fraction(137, 192)),
    ("a", "a", Fraction(25, 192)),
    ("c", "a", Fraction(5, 64)),
    ("a", "b", Fraction(47, 96)),
    ("c", "b", Fraction(25, 96)),
    ("b", "b", Fraction(5, 32)),
    ("zzz", "b", Fraction(3, 32)),
    ("c", "c", Fraction(19, 32)),
    ("a", "zzz", Fraction(5, 16)),
    (UNK, "zzz", Fraction(3, 16)),
]


def test_hand_worked_bigram_example():
    lm = KneserNeyLM(2).fit(HAND)
    assert lm.vocab == {"a", "b", "c"}
    assert lm.count_of_counts == {2: (1, 1, 1, 1), 1: (2, 1, 0, 0)}
    assert lm.discounts[2] == pytest.approx((1 / 3, 1.0, 5 / 3), abs=1e-12)
    assert lm.discounts[1] == pytest.approx((1 / 2, 2.0, 3.0), abs=1e-12)
    assert [lm.count([w]) for w in "abc"] == [1, 1, 2]  # continuation counts
    assert [lm.count(g.split()) for g in ("a b", "b a", "b c", "c c", "a c")] == [4, 3, 1, 2, 0]
    for word, context, expected in HAND_PROBS:
        assert lm.prob(word, [context]) == pytest.approx(float(expected), abs=1e-12), (word, context)
    assert sum(lm.distribution(["a"]).values()) == pytest.approx(1.0, abs=1e-12)


def test_estimate_discounts_formula_and_clamps():
    n1, n2, n3, n4 = 1000, 400, 200, 120
    y = n1 / (n1 + 2 * n2)
    expected = (1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3)
    assert estimate_discounts(n1, n2, n3, n4) == pytest.approx(expected, abs=1e-12)
    # degenerate: all singletons (n2 = 0) -> ratios with zero denominators count as 0
    assert estimate_discounts(5, 0, 0, 0) == (1.0, 2.0, 3.0)
    # negative estimates are floored, nothing exceeds k
    d1, d2, d3 = estimate_discounts(30, 14, 25, 72)
    assert 0 < d1 <= 1 and d2 == d3 == pytest.approx(0.1)
    assert estimate_discounts(0, 0, 0, 0) == (1.0, 2.0, 3.0)


# ----------------------------------------------------------------------------- an independent reference
def reference_kn(tokens: list[str], order: int):
    """A slow, literal dictionary version of Chen & Goodman's interpolated modified Kneser-Ney."""
    vocab_size = len(set(tokens) | {UNK})
    raw = {k: Counter(tuple(tokens[i : i + k]) for i in range(len(tokens) - k + 1)) for k in range(1, order + 1)}
    followers: dict[int, dict[tuple, dict[str, int]]] = {}
    discounts = {}
    for k in range(1, order + 1):
        counts = raw[k] if k == order else Counter(g[1:] for g in raw[k + 1])  # N1+(• g)
        discounts[k] = estimate_discounts(*(sum(v == r for v in counts.values()) for r in (1, 2, 3, 4)))
        followers[k] = defaultdict(dict)
        for gram, v in counts.items():
            followers[k][gram[:-1]][gram[-1]] = v

    def discount(k: int, c: int) -> float:
        return 0.0 if c == 0 else discounts[k][min(c, 3) - 1]

    def prob(word: str, history: tuple) -> float:
        k = len(history) + 1
        lower = 1 / vocab_size if k == 1 else prob(word, history[1:])
        seen = followers[k].get(history, {})
        total = sum(seen.values())
        if total == 0:
            return lower
        gamma = sum(discount(k, c) for c in seen.values()) / total
        c = seen.get(word, 0)
        return (c - discount(k, c)) / total + gamma * lower

    return prob


def markov_corpus(n_tokens: int, seed: int) -> list[str]:
    """Text from a sparse second-order Markov chain over 40 words (Zipf-ish, with "<eos>")."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(39)] + ["<eos>"]
    zipf = 1 / np.arange(1, len(words) + 1)
    table = {}
    out = ["<eos>", "<eos>"]
    for _ in range(n_tokens):
        key = (out[-2], out[-1])
        if key not in table:
            succ = rng.choice(len(words), size=4, replace=False, p=zipf / zipf.sum())
            table[key] = (succ, rng.dirichlet(np.ones(4)))
        succ, p = table[key]
        out.append(words[succ[rng.choice(4, p=p)]])
    return out[2:]


CORPUS = markov_corpus(5000, seed=0)
TRAIN, HELD_OUT = CORPUS[:4000], CORPUS[4000:]  # held-out text: the same chain, later on


def contexts_to_try(rng: np.random.Generator) -> list[list[str]]:
    """Seen, unseen, partially seen, too short and too long contexts, and unknown words in them."""
    out: list[list[str]] = [[], ["zzz"], ["zzz", "zzz", "zzz", "zzz"], [UNK, "w0"], ["w1", "zzz", "w0"]]
    for _ in range(25):
        i, n = int(rng.integers(0, len(TRAIN) - 6)), int(rng.integers(1, 6))
        out.append(TRAIN[i : i + n])
        j = int(rng.integers(0, len(HELD_OUT) - 6))
        out.append(HELD_OUT[j : j + n])
        out.append([str(w) for w in rng.choice(sorted(set(TRAIN)), size=n)])  # mostly unseen n-grams
    return out


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
def test_distribution_sums_to_one_and_agrees_with_prob(order):
    lm = KneserNeyLM(order).fit(TRAIN)
    rng = np.random.default_rng(order)
    for context in contexts_to_try(rng):
        dist = lm.distribution(context)
        assert set(dist) == lm.vocab | {UNK}
        assert sum(dist.values()) == pytest.approx(1.0, abs=1e-10)
        assert min(dist.values()) > 0
        for word in [*rng.choice(sorted(dist), size=5), "never-seen"]:
            expected = dist[word] if word in dist else dist[UNK]
            assert lm.prob(str(word), context) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_matches_literal_reference_implementation(order):
    lm = KneserNeyLM(order).fit(TRAIN)
    ref = reference_kn(TRAIN, order)
    rng = np.random.default_rng(10 + order)
    for context in contexts_to_try(rng)[:30]:
        known = tuple(w if w in lm.vocab else UNK for w in context)
        history = known[-(order - 1) :] if order > 1 else ()
        for word in rng.choice(sorted(lm.vocab), size=4):
            assert lm.prob(str(word), context) == pytest.approx(ref(str(word), history), abs=1e-12)


def test_log_prob_stream_semantics_and_fit_orders():
    lm = KneserNeyLM(3).fit(TRAIN)
    stream = HELD_OUT[:50]
    by_hand = sum(math.log(lm.prob(w, stream[max(0, i - 2) : i])) for i, w in enumerate(stream))
    assert lm.log_prob(stream) == pytest.approx(by_hand, abs=1e-9)
    assert lm.perplexity(HELD_OUT) == pytest.approx(math.exp(-lm.log_prob(HELD_OUT) / len(HELD_OUT)), rel=1e-12)
    models = KneserNeyLM.fit_orders(TRAIN, [1, 3, 5])
    for n, model in models.items():
        alone = KneserNeyLM(n).fit(TRAIN)
        assert model.discounts == alone.discounts
        assert model.log_prob(HELD_OUT) == alone.log_prob(HELD_OUT)


def test_higher_order_beats_unigram_on_held_out_text():
    ppl = {n: KneserNeyLM(n).fit(TRAIN).perplexity(HELD_OUT) for n in (1, 2, 3)}
    assert ppl[3] < ppl[2] < ppl[1]


def test_unknown_words_get_positive_finite_probability():
    for order in (1, 3):
        lm = KneserNeyLM(order).fit(HAND)  # HAND has no "<unk>": the slot only gets uniform mass
        for context in ([], ["a"], ["zzz", "b"]):
            p = lm.prob("never-seen", context)
            assert 0 < p < 1 and math.isfinite(math.log(p))
        assert math.isfinite(lm.perplexity(["q", "r", "a", "s"]))


def test_errors():
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError):
            KneserNeyLM(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        KneserNeyLM(2).fit([])
    lm = KneserNeyLM(2)
    for call in (lambda: lm.prob("a", []), lambda: lm.distribution([]), lambda: lm.log_prob(["a"])):
        with pytest.raises(RuntimeError, match="fit"):
            call()
    with pytest.raises(ValueError):
        KneserNeyLM(2).fit(HAND).perplexity([])


def test_stream_shorter_than_order():
    lm = KneserNeyLM(5).fit(["a", "b"])
    assert sum(lm.distribution(["a", "b", "a", "b"]).values()) == pytest.approx(1.0, abs=1e-12)
    assert math.isfinite(lm.perplexity(["a", "b", "a"]))


# ----------------------------------------------------------------------------- Penn Treebank
def ptb_dir() -> Path | None:
    here = Path(__file__).resolve().parents[1]
    if "LECTURE_CODE_DATA" in os.environ:
        candidates = [Path(os.environ["LECTURE_CODE_DATA"])]
    else:
        candidates = [here / "shared" / "data", here.parent / "shared" / "data"]
    return next((c / "ptb" for c in candidates if (c / "ptb" / "ptb.test.txt").exists()), None)


def load_ptb_split(split: str) -> list[str]:
    """PTB as one token stream, ``line.split() + ["<eos>"]`` per line.

    Uses ``lecture_code.data.load_ptb`` when ``LECTURE_CODE_DATA`` is set (it then never touches the
    network), and otherwise reads the file found by :func:`ptb_dir` the same way.
    """
    if "LECTURE_CODE_DATA" in os.environ:
        try:
            from lecture_code.data import load_ptb
        except ImportError:
            pass
        else:
            return list(load_ptb(split))  # type: ignore[arg-type]
    path = ptb_dir() / f"ptb.{split}.txt"  # type: ignore[operator]
    return [w for line in path.read_text().splitlines() for w in [*line.split(), "<eos>"]]


@pytest.mark.skipif(ptb_dir() is None, reason="Penn Treebank not found (set LECTURE_CODE_DATA)")
def test_ptb_perplexity_matches_published_kn5():
    train, test = load_ptb_split("train"), load_ptb_split("test")
    assert len(train) == 929_589 and len(test) == 82_430
    models = KneserNeyLM.fit_orders(train, [2, 5])
    ppl = {n: m.perplexity(test) for n, m in models.items()}
    # Mikolov et al. (2011) report 141.2 for KN5 on this split (sentence-level); we model the stream.
    assert 120 < ppl[5] < 170
    assert ppl[5] < ppl[2]


def test_unigram_perplexity_by_hand():
    train = "a a b c".split()
    # no "<unk>" in training: one extra count for unseen words, so p(a) = 2/5, p(b) = 1/5
    assert math.isclose(ngram.unigram_perplexity(train, ["a", "b"]), (2 / 25) ** -0.5, rel_tol=1e-12)
    # with "<unk>" in training, an unseen word is scored as "<unk>": p = 1/4
    assert math.isclose(ngram.unigram_perplexity([*train[:3], UNK], ["z"]), 4.0, rel_tol=1e-12)
    # an unseen word with no <unk> in training gets count 1 of 5
    assert math.isclose(ngram.unigram_perplexity(train, ["z"]), 5.0, rel_tol=1e-12)
    with pytest.raises(ValueError, match="empty"):
        ngram.unigram_perplexity(train, [])
