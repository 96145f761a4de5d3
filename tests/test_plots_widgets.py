"""Figures and interactive demos: they draw what they are given, and the widget regenerates on change."""

from __future__ import annotations

import html
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from lecture_code import plots, widgets
from lecture_code.models import RNNLM
from lecture_code.text import Vocab
from lecture_code.train import History


def test_loss_curves_draws_train_and_valid_per_run():
    h = History(train_loss=[3.0, 2.0, 1.5, 1.2], valid_step=[2, 4], valid_loss=[2.5, 1.4])
    ax = plots.loss_curves({"a": h, "b": h}, window=2)
    lines = ax.get_lines()
    assert len(lines) == 4  # a line and validation dots per run
    np.testing.assert_allclose(lines[0].get_ydata(), h.smoothed(2))
    np.testing.assert_array_equal(lines[1].get_xdata(), [2, 4])
    assert [t.get_text() for t in ax.get_legend().get_texts()][:2] == ["a: train", "a: validation"]
    plt.close("all")


def test_distribution_panels_sorts_by_the_first_distribution():
    p1, p2 = np.array([0.1, 0.6, 0.3]), np.array([0.5, 0.2, 0.3])
    fig = plots.distribution_panels({"one": p1, "two": p2}, ["x", "y", "z"], top=2, title="t")
    ax1, ax2 = fig.axes
    assert [t.get_text() for t in ax1.get_xticklabels()] == ["y", "z"]
    np.testing.assert_allclose([b.get_height() for b in ax1.patches], [0.6, 0.3])
    np.testing.assert_allclose([b.get_height() for b in ax2.patches], [0.2, 0.3])
    assert ax1.get_title() == "one" and fig._suptitle.get_text() == "t"
    plt.close(fig)


@pytest.fixture
def tiny_lm() -> tuple[RNNLM, Vocab]:
    torch.manual_seed(0)
    vocab = Vocab("abcab")
    return RNNLM(len(vocab), 4, 8), vocab


def _text(box) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", box.children[1].value))


def test_sampling_explorer_regenerates_when_a_slider_moves(tiny_lm):
    model, vocab = tiny_lm
    box = widgets.sampling_explorer(model, vocab, list("ab"), n_tokens=30)
    temperature, top_k, seed = box.children[0].children
    first = _text(box)
    assert first.startswith("ab") and len(first.strip()) == 32
    temperature.value = 0.0  # greedy: deterministic, whatever the seed
    greedy = _text(box)
    seed.value = 5
    assert _text(box) == greedy
    temperature.value = 1.0
    top_k.value = 1  # top-1 sampling is greedy too
    assert _text(box) == greedy


def test_lstm_cell_explorer_redraws_and_explains_the_gates():
    box = widgets.lstm_cell_explorer(T=30)
    f, i, o = box.children[0].children
    c0, pattern, amplitude = box.children[1].children
    image, caption = box.children[2], box.children[3]
    first = image.value
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    assert "c(t) = c(0) exactly" in caption.value and "c(T) = 1.000" in caption.value  # f = 1, i = 0 holds
    f.value = 0.5
    assert image.value != first and "half of it is gone after 1.0 steps" in caption.value
    assert "c(T) = 0.000" in caption.value
    shown = image.value
    for s, value in ((i, 0.8), (o, 0.3), (c0, -1.0), (pattern, "sine"), (amplitude, 0.5)):
        s.value = value
        assert image.value != shown, s.description
        shown = image.value
    f.value, i.value = 1.0, 1.0
    assert "adds up" in caption.value
    f.value = 0.0
    assert "erased" in caption.value
    with pytest.raises(ValueError, match="T"):
        widgets.lstm_cell_explorer(T=1)
