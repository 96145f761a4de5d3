"""Chapter 3's tables and confusion heatmap: the right cells, the mistakes marked, clear errors on bad input."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from lecture_code.plots import (
    confusion_heatmap,
    markdown_table,
    md_escape,
    most_confused_tags,
    tagged_sentence_table,
)

LABELS = ["NOUN", "VERB", "ADJ", "PROPN"]
# rows gold, columns predicted: NOUN<->PROPN and NOUN->ADJ are the mistakes, VERB is never confused
CM = np.array([[50, 0, 3, 7],
               [0, 40, 0, 0],
               [1, 0, 20, 0],
               [5, 0, 0, 30]])


def test_markdown_table_writes_header_rule_and_rows():
    assert markdown_table(["a", "b"], [[1, "x"], [2.5, "y"]]) == "| a | b |\n|---|---|\n| 1 | x |\n| 2.5 | y |"


def test_markdown_table_rejects_ragged_rows():
    with pytest.raises(ValueError, match="2 cells"):
        markdown_table(["a", "b"], [[1, 2], [3]])
    with pytest.raises(ValueError, match="at least one column"):
        markdown_table([], [])


def test_md_escape_makes_table_breaking_characters_literal():
    assert md_escape("a|b") == "a\\|b"
    assert md_escape("*_x_*") == "\\*\\_x\\_\\*"
    assert md_escape("<unk>") == "\\<unk\\>"
    assert md_escape("plain text, 42.") == "plain text, 42."


def test_tagged_sentence_table_marks_exactly_the_mistakes():
    table = tagged_sentence_table(["I", "saw", "Paris"], ["PRON", "VERB", "PROPN"], ["PRON", "NOUN", "PROPN"])
    header, rule, gold, pred = table.split("\n")
    assert header == "| **word** | I | saw | Paris |"
    assert rule == "|---|---|---|---|"
    assert gold == "| gold | PRON | VERB | PROPN |"
    assert pred == "| predicted | PRON | **NOUN ✗** | PROPN |"
    assert tagged_sentence_table(["a|b"], ["X"], ["X"]).split("\n")[0] == "| **word** | a\\|b |"


def test_tagged_sentence_table_needs_one_tag_per_word():
    with pytest.raises(ValueError, match="one gold and one predicted tag per word"):
        tagged_sentence_table(["a", "b"], ["X"], ["X", "Y"])
    with pytest.raises(ValueError, match="no words"):
        tagged_sentence_table([], [], [])


def test_most_confused_tags_ranks_by_row_plus_column_mistakes():
    # NOUN: row 3 + 7, column 1 + 5 -> 16; PROPN: 5 + 7 -> 12; ADJ: 1 + 3 -> 4; VERB: 0 (left out)
    assert most_confused_tags(CM, LABELS, k=8) == ["NOUN", "PROPN", "ADJ"]
    assert most_confused_tags(CM, LABELS, k=2) == ["NOUN", "PROPN"]
    assert most_confused_tags(np.diag([3, 4, 5, 6]), LABELS) == []


def test_most_confused_tags_ties_keep_label_order():
    cm = np.array([[5, 1, 0], [0, 5, 0], [0, 0, 5]])  # labels 0 and 1 tie with one mistake each
    assert most_confused_tags(cm, ["x", "y", "z"]) == ["x", "y"]


def test_bad_confusion_matrices_and_k_raise():
    with pytest.raises(ValueError, match=r"\(K, K\)"):
        most_confused_tags(CM[:3], LABELS)
    with pytest.raises(ValueError, match="k must be"):
        most_confused_tags(CM, LABELS, k=0)
    with pytest.raises(ValueError, match="subset of the labels"):
        confusion_heatmap(CM, LABELS, ["NOUN", "DET"])


def test_confusion_heatmap_shows_the_submatrix_with_a_blank_diagonal():
    tags = ["PROPN", "NOUN"]
    ax = confusion_heatmap(CM, LABELS, tags, title="t")
    shown = ax.get_images()[0].get_array()
    np.testing.assert_array_equal(shown.data, [[30, 5], [7, 50]])  # rows gold PROPN, NOUN; columns predicted
    np.testing.assert_array_equal(shown.mask, [[True, False], [False, True]])
    assert [t.get_text() for t in ax.texts] == ["30", "5", "7", "50"]
    assert [t.get_text() for t in ax.get_xticklabels()] == tags
    assert [t.get_text() for t in ax.get_yticklabels()] == tags
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("predicted tag", "gold tag", "t")
    plt.close("all")


def test_confusion_heatmap_defaults_to_every_label():
    ax = confusion_heatmap(CM, LABELS)
    assert ax.get_images()[0].get_array().shape == (4, 4)
    assert len(ax.texts) == 16
    plt.close("all")
