"""Corpora for tagging and classification (Chapter 3), read from the checked files of :mod:`lecture_code.data`.

Tagging (one label per token):

- UD English-EWT, part-of-speech tagging: :func:`load_ud_ewt` reads CoNLL-U with :func:`read_conllu`.
  12,544 / 2,001 / 2,077 train/dev/test sentences, 17 UPOS tags.
- WNUT-17, named entities in noisy user text: :func:`load_wnut17` reads ``token<TAB>tag`` lines with
  :func:`read_conll_bio`. 3,394 / 1,009 / 1,287 sentences, BIO tags over 6 entity types.

Classification (one label per sentence, 1 = positive, 0 = negative):

- SST-2, Kim's (2014) sentence-level split: :func:`load_sst2`. 6,920 / 872 / 1,821 sentences.
- rt-polarity (Pang & Lee's MR): :func:`load_rt_polarity`. 5,331 positive + 5,331 negative sentences and no
  official split, so this module makes one: per class, a ``numpy.random.default_rng(seed)`` permutation cut
  80 / 10 / 10 (4,265 / 533 / 533 sentences per class), i.e. 8,530 / 1,066 / 1,066 train/dev/test sentences,
  balanced, disjoint, and the same for the same seed.

SST-2 and rt-polarity are already tokenised and lower-cased: their tokens are the space-separated words
(:func:`tokenize`).
Every file is UTF-8 (rt-polarity too: the registry pins the copy converted from Cornell's Windows-1252 original).

>>> train = load_ud_ewt("train")
>>> train[0].words[:4], train[0].upos[:4]     # (['Al', '-', 'Zaman', ':'], ['PROPN', 'PUNCT', 'PROPN', 'PUNCT'])
>>> print(describe_corpus(train, "EWT train"))
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from lecture_code.data import fetch

SPLITS = ("train", "dev", "test")

# The 17 universal part-of-speech tags (https://universaldependencies.org/u/pos/).
UPOS_TAGS = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN",
             "PUNCT", "SCONJ", "SYM", "VERB", "X")

WNUT17_TYPES = ("corporation", "creative-work", "group", "location", "person", "product")
WNUT17_FILES = {"train": "wnut17train.conll", "dev": "emerging.dev.conll", "test": "emerging.test.annotated"}

RT_FRACTIONS = (0.8, 0.1, 0.1)  # train/dev/test share of each class in load_rt_polarity


def tokenize(line: str) -> list[str]:
    """The tokens of an already tokenised line: split at ASCII spaces (and tabs) only.

    Not ``str.split()``: SST-2 writes the treebank token "2 1/2" with a no-break space (U+00A0), which
    ``str.split()`` would cut in two. Splitting at ASCII spaces keeps it one token, as in the treebank.
    """
    return [t for t in line.rstrip("\r\n").replace("\t", " ").split(" ") if t]


def _check_split(corpus: str, split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"unknown {corpus} split {split!r}; valid splits are {list(SPLITS)}")


def _as_lines(lines: Iterable[str] | str) -> Iterable[str]:
    """A whole text is split into lines; an open file or a list of lines is used as it is."""
    return lines.splitlines() if isinstance(lines, str) else lines


# ----------------------------------------------------------------------------- the three kinds of example


@dataclass
class Sentence:
    """One CoNLL-U sentence, reduced to what a part-of-speech tagger needs.

    ``words`` and ``upos`` have one entry per syntactic word (ids 1, 2, ...). The lines that are not
    syntactic words are skipped but recorded: ``multiword`` holds ``(first, last, surface)`` for each
    multiword-token range such as ``3-4 don't`` (whose words ``do`` and ``n't`` are kept), and
    ``empty_nodes`` counts the empty nodes such as ``8.1`` (elided words of enhanced dependencies).
    """

    words: list[str]
    upos: list[str]
    sent_id: str = ""
    text: str = ""
    multiword: list[tuple[int, int, str]] = field(default_factory=list)
    empty_nodes: int = 0

    def __len__(self) -> int:
        return len(self.words)

    @property
    def tokens(self) -> list[str]:
        """The words, under the name :class:`TaggedSentence` uses, so one tagger reads both corpora."""
        return self.words

    @property
    def tags(self) -> list[str]:
        """The UPOS tags, under the name :class:`TaggedSentence` uses."""
        return self.upos


@dataclass
class TaggedSentence:
    """A sentence with one tag per token, e.g. WNUT-17's BIO tags (``O``, ``B-person``, ``I-person``)."""

    tokens: list[str]
    tags: list[str]

    def __len__(self) -> int:
        return len(self.tokens)


@dataclass
class LabeledSentence:
    """A tokenised sentence with one class label (1 = positive, 0 = negative)."""

    tokens: list[str]
    label: int

    def __len__(self) -> int:
        return len(self.tokens)


# ----------------------------------------------------------------------------- CoNLL-U (UD English-EWT)


def read_conllu(lines: Iterable[str] | str) -> list[Sentence]:
    """Parse CoNLL-U text into sentences of (word, UPOS) pairs.

    Handles every line type of the format:

    - ``# key = value`` comments; ``sent_id`` and ``text`` are kept, the others (``newdoc``, ...) ignored;
    - word lines ``ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC`` (10 tab-separated fields),
      whose ids must run 1, 2, 3, ... within a sentence; FORM may contain spaces;
    - multiword-token ranges ``3-4``: their surface form is not a syntactic word, so they are skipped
      (recorded in ``Sentence.multiword``);
    - empty nodes ``8.1``: skipped (counted in ``Sentence.empty_nodes``);
    - blank lines between sentences (several in a row are fine), and a last sentence with no blank line after it.

    Args:
        lines: an open file, a list of lines (with or without their newlines), or the whole text as one string.

    Returns:
        The sentences in file order. Malformed lines raise ``ValueError`` naming the line number.
    """
    sentences: list[Sentence] = []
    cur = Sentence([], [])
    has_content, start = False, 1

    def finish() -> None:
        nonlocal cur, has_content
        if has_content:
            if not cur.words:
                raise ValueError(f"the sentence starting at line {start} has no word lines")
            sentences.append(cur)
        cur, has_content = Sentence([], []), False

    for lineno, raw in enumerate(_as_lines(lines), 1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            finish()
            continue
        if not has_content:
            has_content, start = True, lineno
        if line.startswith("#"):
            key, eq, value = line[1:].partition("=")
            if eq and key.strip() in ("sent_id", "text"):
                setattr(cur, key.strip(), value.strip())
            continue
        cols = line.split("\t")
        if len(cols) != 10:
            raise ValueError(f"line {lineno}: expected 10 tab-separated CoNLL-U fields, got {len(cols)}: {line!r}")
        wid, form, upos = cols[0], cols[1], cols[3]
        if "-" in wid:  # multiword token, e.g. "3-4  don't"
            first, _, last = wid.partition("-")
            if not (first.isdigit() and last.isdigit() and int(first) < int(last)):
                raise ValueError(f"line {lineno}: bad multiword-token range {wid!r}, expected e.g. '3-4'")
            cur.multiword.append((int(first), int(last), form))
        elif "." in wid:  # empty node, e.g. "8.1"
            whole, _, frac = wid.partition(".")
            if not (whole.isdigit() and frac.isdigit()):
                raise ValueError(f"line {lineno}: bad empty-node id {wid!r}, expected e.g. '8.1'")
            cur.empty_nodes += 1
        else:
            if wid != str(len(cur.words) + 1):
                raise ValueError(f"line {lineno}: expected word id {len(cur.words) + 1}, got {wid!r}")
            cur.words.append(form)
            cur.upos.append(upos)
    finish()
    return sentences


def load_ud_ewt(split: str) -> list[Sentence]:
    """UD English-EWT v2.16, one split: 12,544 / 2,001 / 2,077 train/dev/test sentences.

    Train skips 2,614 multiword-token ranges and 37 empty nodes (dev 359 and 4, test 354 and 2).
    """
    _check_split("UD English-EWT", split)
    with open(fetch("ud_english_ewt", f"en_ewt-ud-{split}.conllu"), encoding="utf-8") as f:
        return read_conllu(f)


# ----------------------------------------------------------------------------- token<TAB>tag (WNUT-17)


def read_conll_bio(lines: Iterable[str] | str) -> list[TaggedSentence]:
    """Parse ``token<TAB>tag`` lines, one token per line and a blank line after each sentence.

    A line of whitespace only also ends a sentence: WNUT-17's train file separates 2,394 of its
    3,394 sentences with a line holding a single tab. Tokens are kept exactly as written (one dev
    token ends in an invisible U+FEFF, another holds a U+200B); only the tag is stripped. Tags must
    be ``O``, ``B-<type>`` or ``I-<type>``; BIO consistency (an ``I-`` after ``O``) is not enforced.

    Args:
        lines: an open file, a list of lines, or the whole text as one string.
    """
    sentences: list[TaggedSentence] = []
    tokens: list[str] = []
    tags: list[str] = []
    for lineno, raw in enumerate(_as_lines(lines), 1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            if tokens:
                sentences.append(TaggedSentence(tokens, tags))
                tokens, tags = [], []
            continue
        cols = line.split("\t")
        if len(cols) != 2 or not cols[0]:
            raise ValueError(f"line {lineno}: expected 'token<TAB>tag', got {line!r}")
        tag = cols[1].strip()
        if not (tag == "O" or (tag[:2] in ("B-", "I-") and len(tag) > 2)):
            raise ValueError(f"line {lineno}: expected a BIO tag (O, B-type or I-type), got {tag!r}")
        tokens.append(cols[0])
        tags.append(tag)
    if tokens:
        sentences.append(TaggedSentence(tokens, tags))
    return sentences


def load_wnut17(split: str) -> list[TaggedSentence]:
    """WNUT-17 emerging entities, one split: 3,394 / 1,009 / 1,287 train/dev/test sentences.

    Train has 62,730 tokens and 1,975 entities (B- tags); every split uses the 6 types of ``WNUT17_TYPES``.
    """
    _check_split("WNUT-17", split)
    with open(fetch("wnut17", WNUT17_FILES[split]), encoding="utf-8") as f:
        return read_conll_bio(f)


def entity_types(sentences: Iterable[TaggedSentence]) -> list[str]:
    """The sorted entity types of the BIO tags found, e.g. ``['person', 'location', ...]`` without ``O``."""
    return sorted({t[2:] for s in sentences for t in s.tags if t != "O"})


# ----------------------------------------------------------------------------- sentence classification


def load_sst2(split: str) -> list[LabeledSentence]:
    """SST-2 (Kim 2014 split), one split: 6,920 / 872 / 1,821 train/dev/test lines of ``<label> <sentence>``."""
    _check_split("SST-2", split)
    examples = []
    with open(fetch("sst2", f"stsa.binary.{split}"), encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            label, *tokens = tokenize(line) or [""]
            if label not in ("0", "1") or not tokens:
                raise ValueError(f"stsa.binary.{split} line {lineno}: expected '<0 or 1> <sentence>', got {line!r}")
            examples.append(LabeledSentence(tokens, int(label)))
    return examples


def _read_lines(dataset: str, filename: str) -> list[list[str]]:
    with open(fetch(dataset, filename), encoding="utf-8") as f:
        return [tokenize(line) for line in f]


def load_rt_polarity(split: str, seed: int = 0) -> list[LabeledSentence]:
    """rt-polarity (MR), one split of a fixed, seeded, stratified 80/10/10 split.

    Each class (5,331 negative lines, label 0, and 5,331 positive, label 1) is permuted with
    ``numpy.random.default_rng(seed)`` (negatives first) and cut into its first 4,265 / next 533 / last 533
    sentences for train/dev/test. So train has 8,530 sentences and dev and test 1,066 each, every split
    exactly balanced; the three are disjoint and together hold every line once. The examples of a split
    are then shuffled by ``default_rng([seed, i])`` (i = 0, 1, 2 for train, dev, test), so that its classes
    are interleaved. The same ``seed`` always gives the same split and order.
    """
    _check_split("rt-polarity", split)
    rng = np.random.default_rng(seed)
    chosen: list[LabeledSentence] = []
    which = SPLITS.index(split)
    for label, filename in ((0, "rt-polarity.neg"), (1, "rt-polarity.pos")):
        sents = _read_lines("rt-polarity", filename)
        n = len(sents)
        n_train, n_dev = round(RT_FRACTIONS[0] * n), round(RT_FRACTIONS[1] * n)
        cuts = (0, n_train, n_train + n_dev, n)
        idx = rng.permutation(n)[cuts[which] : cuts[which + 1]]
        chosen += [LabeledSentence(sents[i], label) for i in idx]
    order = np.random.default_rng([seed, which]).permutation(len(chosen))
    return [chosen[i] for i in order]


# ----------------------------------------------------------------------------- summaries


def corpus_stats(examples: Sequence[Sentence | TaggedSentence | LabeledSentence]) -> dict[str, int | float]:
    """Counts for a chapter table: sentences, tokens, mean and max length, and per kind of example
    the number of tags (tagging), the skipped CoNLL-U lines, or the label counts (classification)."""
    if len(examples) == 0:
        raise ValueError("corpus_stats needs at least one example")
    lengths = [len(ex) for ex in examples]
    stats: dict[str, int | float] = {"sentences": len(examples), "tokens": sum(lengths),
                               "mean_length": sum(lengths) / len(lengths), "max_length": max(lengths)}
    first = examples[0]
    if isinstance(first, LabeledSentence):
        counts = Counter(ex.label for ex in examples)
        stats.update({f"label_{k}": v for k, v in sorted(counts.items())})
    else:
        stats["tags"] = len({t for ex in examples for t in ex.tags})
    if isinstance(first, Sentence):
        stats["multiword_ranges"] = sum(len(ex.multiword) for ex in examples)
        stats["empty_nodes"] = sum(ex.empty_nodes for ex in examples)
    return stats


def describe_corpus(examples: Sequence[Sentence | TaggedSentence | LabeledSentence], name: str = "") -> str:
    """One line summing up a corpus, e.g. ``EWT train: 12,544 sentences, 204,579 tokens (mean 16.3, max 159), ...``."""
    s = corpus_stats(examples)
    parts = [f"{s['sentences']:,} sentences, {s['tokens']:,} tokens "
             f"(mean length {s['mean_length']:.1f}, max {s['max_length']})"]
    if "tags" in s:
        parts.append(f"{s['tags']} tags")
    if "multiword_ranges" in s:
        parts.append(f"skipped {s['multiword_ranges']:,} multiword-token ranges and {s['empty_nodes']:,} empty nodes")
    labels = [f"{k[6:]}: {v:,}" for k, v in s.items() if k.startswith("label_")]
    if labels:
        parts.append("labels " + ", ".join(labels))
    return (f"{name}: " if name else "") + ", ".join(parts)
