"""Tests for lecture_code.corpora: the CoNLL-U and BIO readers on small hand-written texts, and the four
real corpora (read through LECTURE_CODE_DATA) against the counts documented in their SOURCE.md files."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

import pytest

from lecture_code.corpora import (
    SPLITS,
    UPOS_TAGS,
    WNUT17_TYPES,
    LabeledSentence,
    Sentence,
    TaggedSentence,
    corpus_stats,
    describe_corpus,
    entity_types,
    load_rt_polarity,
    load_sst2,
    load_ud_ewt,
    load_wnut17,
    read_conll_bio,
    read_conllu,
    tokenize,
)
from lecture_code.data import fetch

# ----------------------------------------------------------------------------- CoNLL-U, synthetic

# Two sentences. The first has every line type: comments, a multiword-token range (3-4) and an empty node (5.1).
# The second ends the text without a blank line after it.
CONLLU = "\n".join([
    "# newdoc id = doc1",
    "# sent_id = s1",
    "# text = I don't sleep.",
    "1\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t3:nsubj\t_",
    "2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_",
    "2\tdo\tdo\tAUX\tVBP\t_\t4\taux\t4:aux\t_",
    "3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t4:advmod\t_",
    "4\tsleep\tsleep\tVERB\tVB\t_\t0\troot\t0:root\t_",
    "4.1\tsleep\tsleep\tVERB\tVB\t_\t_\t_\t4:conj\tCopyOf=4",
    "5\t.\t.\tPUNCT\t.\t_\t4\tpunct\t4:punct\t_",
    "",
    "",
    "# sent_id = s2",
    "# text = New York",
    "1\tNew York\tNew York\tPROPN\tNNP\t_\t0\troot\t0:root\t_",
    "2\t!\t!\tPUNCT\t.\t_\t1\tpunct\t1:punct\t_",
])


def test_read_conllu_skips_ranges_and_empty_nodes() -> None:
    s1, s2 = read_conllu(CONLLU)
    assert s1.words == ["I", "do", "n't", "sleep", "."]  # not "don't", and the empty node's copy of "sleep" is gone
    assert s1.upos == ["PRON", "AUX", "PART", "VERB", "PUNCT"]
    assert s1.multiword == [(2, 3, "don't")]
    assert s1.empty_nodes == 1
    assert (s1.sent_id, s1.text) == ("s1", "I don't sleep.")
    assert s1.tokens is s1.words and s1.tags is s1.upos and len(s1) == 5
    # the last sentence has no blank line after it; a FORM may contain a space
    assert s2 == Sentence(["New York", "!"], ["PROPN", "PUNCT"], "s2", "New York", [], 0)


def test_read_conllu_accepts_files_lists_and_crlf() -> None:
    want = read_conllu(CONLLU)
    assert read_conllu(CONLLU.split("\n")) == want
    assert read_conllu([line + "\r\n" for line in CONLLU.split("\n")]) == want
    assert read_conllu(CONLLU + "\n\n\n") == want
    assert read_conllu("") == []


@pytest.mark.parametrize(("bad", "message"), [
    ("1\tI\tI\tPRON\tPRP\t_\t0\troot\t_", "10 tab-separated"),  # 9 fields
    ("1 I I PRON PRP _ 0 root _ _", "10 tab-separated"),  # spaces, not tabs
    ("2\tI\tI\tPRON\tPRP\t_\t0\troot\t_\t_", "expected word id 1"),
    ("x\tI\tI\tPRON\tPRP\t_\t0\troot\t_\t_", "expected word id 1"),
    ("2-1\tI\tI\tPRON\tPRP\t_\t0\troot\t_\t_", "multiword-token range"),
    ("1.x\tI\tI\tPRON\tPRP\t_\t0\troot\t_\t_", "empty-node id"),
    ("# sent_id = only-comments", "no word lines"),
])
def test_read_conllu_rejects_malformed_lines(bad: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_conllu(bad)


def test_read_conllu_reports_the_line_number() -> None:
    lines = CONLLU.split("\n")
    lines[6] = "4\tsleep\tsleep\tVERB"  # line 7 of the text
    with pytest.raises(ValueError, match="line 7:"):
        read_conllu(lines)


# ----------------------------------------------------------------------------- BIO, synthetic


def test_read_conll_bio_sentences_and_separators() -> None:
    text = ("@paul\tB-person\nin\tO\nNew\tB-location\nYork\tI-location \n"  # stray space after a tag
            "\t\n"  # WNUT-17 train's separator: a lone tab
            "\n\n"  # several blank lines
            "hi there\tO\r\n\r\n"  # a token with a space, CRLF
            "x\tO")  # no newline at the end
    s1, s2, s3 = read_conll_bio(text)
    assert s1 == TaggedSentence(["@paul", "in", "New", "York"], ["B-person", "O", "B-location", "I-location"])
    assert s2 == TaggedSentence(["hi there"], ["O"])
    assert s3 == TaggedSentence(["x"], ["O"])
    assert read_conll_bio(text.splitlines(keepends=True)) == [s1, s2, s3]
    assert entity_types([s1, s2, s3]) == ["location", "person"]
    assert read_conll_bio("\n\t\n") == []


@pytest.mark.parametrize(("bad", "message"), [
    ("word O", "token<TAB>tag"),  # space instead of a tab
    ("word", "token<TAB>tag"),
    ("a\tO\tO", "token<TAB>tag"),
    ("\tO", "token<TAB>tag"),  # empty token
    ("a\tX-person", "BIO tag"),
    ("a\tB-", "BIO tag"),
    ("a\tPER", "BIO tag"),
])
def test_read_conll_bio_rejects_malformed_lines(bad: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_conll_bio(f"ok\tO\n{bad}\n")
    with pytest.raises(ValueError, match="line 2:"):
        read_conll_bio(f"ok\tO\n{bad}\n")


def test_tokenize_splits_at_ascii_spaces_only() -> None:
    assert tokenize("a  good\tfilm . \n") == ["a", "good", "film", "."]
    assert tokenize("8\xa01\\/2 .") == ["8\xa01\\/2", "."]
    assert tokenize("\n") == []


# ----------------------------------------------------------------------------- bad split names

LOADERS: list[Callable[[str], object]] = [load_ud_ewt, load_wnut17, load_sst2, load_rt_polarity]


@pytest.mark.parametrize("loader", LOADERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("split", ["valid", "training", "", "TRAIN"])
def test_bad_split_names(loader: Callable[[str], object], split: str) -> None:
    with pytest.raises(ValueError, match=r"valid splits are \['train', 'dev', 'test'\]"):
        loader(split)


# ----------------------------------------------------------------------------- UD English-EWT


@pytest.fixture(scope="module")
def ewt() -> dict[str, list[Sentence]]:
    return {split: load_ud_ewt(split) for split in SPLITS}


def test_ewt_counts(ewt: dict[str, list[Sentence]]) -> None:
    assert [len(ewt[s]) for s in SPLITS] == [12_544, 2_001, 2_077]
    skipped = {s: (sum(len(x.multiword) for x in ewt[s]), sum(x.empty_nodes for x in ewt[s])) for s in SPLITS}
    assert skipped == {"train": (2_614, 37), "dev": (359, 4), "test": (354, 2)}


def test_ewt_words_match_an_independent_count(ewt: dict[str, list[Sentence]]) -> None:
    """The words per split equal the lines whose id is a plain integer, counted with a regex on the raw file."""
    for split in SPLITS:
        raw = fetch("ud_english_ewt", f"en_ewt-ud-{split}.conllu").read_text(encoding="utf-8")
        assert sum(len(x) for x in ewt[split]) == len(re.findall(r"^\d+\t", raw, flags=re.MULTILINE))
        assert [x.sent_id for x in ewt[split]] == re.findall(r"^# sent_id = (.*)$", raw, flags=re.MULTILINE)


def test_ewt_sentences_are_aligned_and_tagged_with_upos(ewt: dict[str, list[Sentence]]) -> None:
    for split in SPLITS:
        assert all(len(x.words) == len(x.upos) > 0 and x.sent_id and x.text for x in ewt[split])
        assert {t for x in ewt[split] for t in x.upos} == set(UPOS_TAGS)
    first = ewt["train"][0]
    assert first.words[:4] == ["Al", "-", "Zaman", ":"]
    assert first.upos[:4] == ["PROPN", "PUNCT", "PROPN", "PUNCT"]
    # a multiword token's words are kept in its place, its surface form is not
    x = next(x for x in ewt["train"] if (a := x.multiword) and a[0][2] == "don't")
    first_id, last_id, _ = x.multiword[0]
    assert x.words[first_id - 1 : last_id] == ["do", "n't"]
    assert "don't" not in x.words


# ----------------------------------------------------------------------------- WNUT-17


@pytest.fixture(scope="module")
def wnut() -> dict[str, list[TaggedSentence]]:
    return {split: load_wnut17(split) for split in SPLITS}


def test_wnut17_counts(wnut: dict[str, list[TaggedSentence]]) -> None:
    assert [len(wnut[s]) for s in SPLITS] == [3_394, 1_009, 1_287]
    assert [sum(len(x) for x in wnut[s]) for s in SPLITS] == [62_730, 15_733, 23_394]
    b_train = Counter(t[2:] for x in wnut["train"] for t in x.tags if t.startswith("B-"))
    assert b_train == {"person": 660, "location": 548, "group": 264, "corporation": 221, "product": 142,
                       "creative-work": 140}


def test_wnut17_entity_types_and_clean_tokens(wnut: dict[str, list[TaggedSentence]]) -> None:
    for split in SPLITS:
        assert entity_types(wnut[split]) == list(WNUT17_TYPES)
        assert all(len(x.tokens) == len(x.tags) > 0 for x in wnut[split])
        assert all(t and t == t.strip() for x in wnut[split] for t in x.tokens)
    # train separates most sentences with a lone tab: had it been read as a token line, sentences would merge
    assert max(len(x) for x in wnut["train"]) == 41


# ----------------------------------------------------------------------------- SST-2


@pytest.fixture(scope="module")
def sst() -> dict[str, list[LabeledSentence]]:
    return {split: load_sst2(split) for split in SPLITS}


def test_sst2_counts_and_labels(sst: dict[str, list[LabeledSentence]]) -> None:
    counts = {s: Counter(x.label for x in sst[s]) for s in SPLITS}
    assert counts == {"train": {1: 3_610, 0: 3_310}, "dev": {1: 444, 0: 428}, "test": {1: 909, 0: 912}}
    assert all(type(x.label) is int and x.tokens for s in SPLITS for x in sst[s])
    assert sst["train"][0].tokens[:3] == ["a", "stirring", ","]
    assert sst["train"][0].label == 1
    assert sst["train"][2668].tokens[-2] == "8\xa01\\/2"  # one treebank token with a no-break space


# ----------------------------------------------------------------------------- rt-polarity


@pytest.fixture(scope="module")
def rt() -> dict[str, list[LabeledSentence]]:
    return {split: load_rt_polarity(split) for split in SPLITS}


def _key(x: LabeledSentence) -> tuple[int, tuple[str, ...]]:
    return x.label, tuple(x.tokens)


def test_rt_polarity_split_sizes_and_balance(rt: dict[str, list[LabeledSentence]]) -> None:
    counts = {s: Counter(x.label for x in rt[s]) for s in SPLITS}
    assert counts == {"train": {0: 4_265, 1: 4_265}, "dev": {0: 533, 1: 533}, "test": {0: 533, 1: 533}}
    # the classes are interleaved, not one block after the other
    assert 40 < sum(x.label for x in rt["train"][:100]) < 60


def test_rt_polarity_splits_are_disjoint_and_cover_every_line(rt: dict[str, list[LabeledSentence]]) -> None:
    got = Counter(_key(x) for s in SPLITS for x in rt[s])
    want: Counter[tuple[int, tuple[str, ...]]] = Counter()
    for label, name in ((0, "rt-polarity.neg"), (1, "rt-polarity.pos")):
        lines = fetch("rt-polarity", name).read_bytes().decode("utf-8").splitlines()
        assert len(lines) == 5_331
        want.update((label, tuple(line.split())) for line in lines)  # (the files hold no U+00A0)
    assert got == want
    assert max(got.values()) == 1  # no line twice, so the splits are disjoint
    assert len(got) == 10_662


def test_rt_polarity_is_utf8(rt: dict[str, list[LabeledSentence]]) -> None:
    words = {t for s in SPLITS for x in rt[s] for t in x.tokens}
    assert "ladrón" in words and "clichés" in words
    assert not any("Ã" in w for w in words)  # no latin-1 mojibake


def test_rt_polarity_is_deterministic_per_seed(rt: dict[str, list[LabeledSentence]]) -> None:
    assert load_rt_polarity("dev", seed=0) == rt["dev"]
    assert load_rt_polarity("dev") == rt["dev"]
    other = load_rt_polarity("dev", seed=1)
    assert Counter(x.label for x in other) == {0: 533, 1: 533}
    assert {_key(x) for x in other} != {_key(x) for x in rt["dev"]}
    assert load_rt_polarity("dev", seed=1) == other


# ----------------------------------------------------------------------------- summaries


def test_corpus_stats_and_describe() -> None:
    tagged = read_conllu(CONLLU)
    s = corpus_stats(tagged)
    assert s == {"sentences": 2, "tokens": 7, "mean_length": 3.5, "max_length": 5, "tags": 6,
                 "multiword_ranges": 1, "empty_nodes": 1}
    line = describe_corpus(tagged, "toy")
    assert line.startswith("toy: 2 sentences, 7 tokens") and "1 multiword-token ranges and 1 empty nodes" in line
    labeled = [LabeledSentence(["a"], 1), LabeledSentence(["b", "c"], 0), LabeledSentence(["d"], 1)]
    assert corpus_stats(labeled) == {"sentences": 3, "tokens": 4, "mean_length": 4 / 3, "max_length": 2,
                                     "label_0": 1, "label_1": 2}
    assert describe_corpus(labeled).endswith("labels 0: 1, 1: 2")
    assert corpus_stats([TaggedSentence(["a", "b"], ["O", "B-x"])])["tags"] == 2
    with pytest.raises(ValueError, match="at least one"):
        corpus_stats([])
