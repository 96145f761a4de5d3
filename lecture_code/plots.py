"""Figures shared by the chapters. Each function draws on a Matplotlib Axes and returns it."""

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
