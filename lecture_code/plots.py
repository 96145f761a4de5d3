"""Figures and tables shared by the chapters.

Each figure function draws on a Matplotlib Axes (or makes a Figure) and returns it; each table function
returns a Markdown string, for ``IPython.display.Markdown``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .train import History


def loss_curves(runs: Mapping[str, History], ax: Axes | None = None, window: int = 25,
                ylabel: str = "cross-entropy J (nats per token)") -> Axes:
    """Smoothed training loss (lines) and validation loss (dots) against the step, one colour per run."""
    ax = ax or plt.subplots(figsize=(6, 3.5))[1]
    for k, (label, h) in enumerate(runs.items()):
        color = f"C{k}"
        ax.plot(np.arange(1, h.steps + 1), h.smoothed(window), color=color, label=f"{label}: train")
        if h.valid_loss:
            ax.plot(h.valid_step, h.valid_loss, "o", color=color, label=f"{label}: validation")
    ax.set_xlabel("optimisation step")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    return ax


def distribution_panels(probs: Mapping[str, np.ndarray], labels: Sequence[str], top: int = 12,
                        title: str = "") -> Figure:
    """One bar chart per distribution over the same tokens, sorted by the first distribution.

    Args:
        probs: panel title -> probability vector over the vocabulary.
        labels: the token shown under each vocabulary entry.
        top: how many of the most likely tokens (under the first distribution) to show.
    """
    first = next(iter(probs.values()))
    order = np.argsort(-first)[:top]
    fig, axes = plt.subplots(1, len(probs), figsize=(3.6 * len(probs), 3), sharey=True)
    for ax, (name, p) in zip(np.atleast_1d(axes), probs.items(), strict=True):
        ax.bar(range(top), p[order], color="C0")
        ax.set_xticks(range(top), [repr(labels[i])[1:-1] for i in order], fontsize=9)
        ax.set_title(name)
        ax.grid(axis="y", alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel("probability of the next token")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# Tables and figures of Chapter 3 (tagging): results tables, a tagged sentence, a confusion heatmap

_MD_SPECIAL = "\\`*_[]<>|#"


def md_escape(text: object) -> str:
    """``text`` as a string that Markdown shows literally inside a table cell (``|``, ``*``, ``_`` ... escaped)."""
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in str(text)).replace("\n", " ")


def markdown_table(header: Sequence[object], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table: one header row, then one line per row. Cells are written with ``str`` as they are
    (format numbers before passing them; escape free text with :func:`md_escape`)."""
    if not header:
        raise ValueError("a table needs at least one column")
    bad = [i for i, r in enumerate(rows) if len(r) != len(header)]
    if bad:
        raise ValueError(f"every row needs {len(header)} cells (one per header column); rows {bad} do not")
    lines = ["| " + " | ".join(str(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def tagged_sentence_table(words: Sequence[str], gold: Sequence[str], pred: Sequence[str]) -> str:
    """A sentence laid out left to right: a column per word, a row of gold tags and a row of predicted tags.

    A wrong prediction is written in bold with a ✗, so the mistakes stand out. Returns a Markdown table.
    """
    if not len(words) == len(gold) == len(pred):
        raise ValueError(f"need one gold and one predicted tag per word; got {len(words)} words, {len(gold)} gold "
                         f"and {len(pred)} predicted tags")
    if not words:
        raise ValueError("the sentence has no words")
    shown = [f"**{md_escape(p)} ✗**" if p != g else md_escape(p) for g, p in zip(gold, pred, strict=True)]
    return markdown_table(["**word**", *(md_escape(w) for w in words)],
                          [["gold", *(md_escape(g) for g in gold)], ["predicted", *shown]])


def _check_cm(cm: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape != (len(labels), len(labels)):
        raise ValueError(f"cm must be a (K, K) confusion matrix with K = len(labels) = {len(labels)}, "
                         f"got shape {cm.shape}")
    return cm


def most_confused_tags(cm: np.ndarray, labels: Sequence[str], k: int = 8) -> list[str]:
    """The k labels involved in the most mistakes, most first.

    A label's mistakes are the off-diagonal counts of its row (its tokens tagged as something else) plus
    those of its column (other tokens tagged as it). Ties keep the order of ``labels``; labels that are
    never involved in a mistake are left out, so fewer than k may come back.
    """
    cm = _check_cm(cm, labels)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    off = cm - np.diag(np.diag(cm))
    errors = off.sum(0) + off.sum(1)
    order = np.argsort(-errors, kind="stable")[:k]
    return [labels[i] for i in order if errors[i] > 0]


def confusion_heatmap(cm: np.ndarray, labels: Sequence[str], tags: Sequence[str] | None = None,
                      ax: Axes | None = None, title: str = "") -> Axes:
    """The confusion matrix restricted to ``tags`` (default: all labels): rows gold, columns predicted.

    Off-diagonal cells (mistakes) are coloured by their count; the diagonal (correct tokens, far larger)
    is left white so that it does not swamp the colour scale. Every cell is annotated with its count.
    """
    cm = _check_cm(cm, labels)
    tags = list(labels) if tags is None else list(tags)
    missing = [t for t in tags if t not in labels]
    if missing or not tags:
        raise ValueError(f"tags must be a non-empty subset of the labels; not labels: {missing}")
    idx = [list(labels).index(t) for t in tags]
    sub = cm[np.ix_(idx, idx)]
    off = np.ma.masked_array(sub, mask=np.eye(len(tags), dtype=bool))
    ax = ax or plt.subplots(figsize=(0.6 * len(tags) + 2.2, 0.5 * len(tags) + 1.4))[1]
    im = ax.imshow(off, cmap="Reds", vmin=0)
    ax.figure.colorbar(im, ax=ax, label="tokens (mistakes only)")
    top = max(int(off.max()) if off.count() else 0, 1)
    for i in range(len(tags)):
        for j in range(len(tags)):
            color = "gray" if i == j else ("white" if sub[i, j] > 0.6 * top else "black")
            ax.text(j, i, f"{sub[i, j]}", ha="center", va="center", fontsize=8, color=color)
    ax.set_xticks(range(len(tags)), tags, rotation=45, ha="right")
    ax.set_yticks(range(len(tags)), tags)
    ax.set_xlabel("predicted tag")
    ax.set_ylabel("gold tag")
    if title:
        ax.set_title(title)
    return ax
