"""Figures and tables shared by the chapters.

Each figure function draws on a Matplotlib Axes (or makes a Figure) and returns it; each table function
returns a Markdown string, for ``IPython.display.Markdown``. :func:`book_style` sets the book's figure style
(call it once, in a chapter's import cell); :func:`glue_figure` hands a figure to the book as a numbered figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .train import History

BOOK_WIDTH = 7.2
"""Width of a figure in inches: at 100 dpi it is 720 px, inside the book's 750-px text column, shown at 1x."""

BOOK_RC = {
    "figure.figsize": (BOOK_WIDTH, 3.4),
    "figure.dpi": 100,
    "figure.constrained_layout.use": True,
    "font.size": 10.5,
    "axes.titlesize": 11,
    "axes.labelsize": 10.5,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "figure.titlesize": 11,
    "mathtext.fontset": "dejavusans",  # mathtext in the same face as the text around it
    "axes.formatter.use_mathtext": True,
}
"""The rcParams that :func:`book_style` sets: 10-11 pt text (14-15 px at 1x), constrained layout."""


def book_style() -> None:
    """Set Matplotlib up for the book: :data:`BOOK_RC`, and, inside IPython, 2x ("retina") PNGs.

    A retina PNG has twice the pixels of the figure at its dpi and carries its 1x size in the output's metadata
    (``image/png: {width, height}``), so the page shows it sharp at 1x: a :data:`BOOK_WIDTH`-inch figure is
    720 px wide, never shrunk to fit the text column. Outside IPython only the rcParams are set.
    """
    plt.rcParams.update(BOOK_RC)
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # a plain Python process (scripts/run_as_script.py): no display formats to set
        return
    if get_ipython() is not None:
        set_matplotlib_formats("retina")


def glue_figure(name: str, fig: Figure) -> None:
    """Display ``fig``, glue it as ``name`` for the book, and close it.

    The book shows it once, numbered, with a caption and alt text, where a markdown cell says
    ``{glue:figure} name`` with ``:name: name``; the code cell that calls this carries the tag ``remove-output``,
    so that the page does not show it a second time under the code. A reader running the notebook sees it under
    the cell. The output is myst-nb's glue output (image/png with ``scrapbook`` metadata), displayed rather than
    hidden, so that nbval, which skips image/png, does not compare the pixels of a figure of a trained model.
    Without myst-nb (Colab, a plain Python process) the figure is simply displayed.
    """
    try:
        from myst_nb import glue
    except ImportError:
        from IPython.display import display

        display(fig)
    else:
        glue(name, fig, display=True)
    plt.close(fig)


def loss_curves(runs: Mapping[str, History], ax: Axes | None = None, window: int = 25,
                ylabel: str = "cross-entropy J (nats per token)") -> Axes:
    """Smoothed training loss (lines) and validation loss (dots) against the step, one colour per run."""
    ax = ax or plt.subplots(figsize=(BOOK_WIDTH, 3.4), layout="constrained")[1]
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


def loss_panels(runs: Mapping[str, History], windows: Sequence[int] = (), ylabels: Sequence[str] = ()) -> Figure:
    """One panel per run (``runs``: panel title -> History), side by side: the training loss against the step,
    smoothed over ``windows[j]`` steps (a line; 25 without ``windows``), and the validation loss (dots).

    ``ylabels``: the y-axis label of each panel (e.g. the loss's unit), in the order of ``runs``; empty for
    ``$J(\\theta)$`` on every panel.
    """
    for name, given in (("window", windows), ("y label", ylabels)):
        if given and len(given) != len(runs):
            raise ValueError(f"need one {name} per run: {len(runs)} runs, {len(given)} {name}s")
    fig, axes = plt.subplots(1, len(runs), figsize=(BOOK_WIDTH, 3.2), layout="constrained", squeeze=False)
    for j, (ax, (title, h)) in enumerate(zip(axes[0], runs.items(), strict=True)):
        ax.plot(np.arange(1, h.steps + 1), h.smoothed(windows[j] if windows else 25), label="training (smoothed)")
        if h.valid_loss:
            ax.plot(h.valid_step, h.valid_loss, "o", label="validation")
        ax.set(xlabel="optimisation step", ylabel=ylabels[j] if ylabels else r"$J(\theta)$", title=title)
        ax.grid(alpha=0.3)
        ax.legend(frameon=False)
    return fig


def _token_label(token: str) -> str:
    """A token as a tick label: escapes as in its repr (a newline is \\n), a space as ␣."""
    return "␣" if token == " " else repr(token)[1:-1]


def distribution_panels(probs: Mapping[str, np.ndarray], labels: Sequence[str], top: int = 12,
                        title: str = "") -> Figure:
    """One bar chart per distribution over the same tokens, side by side and :data:`BOOK_WIDTH` wide in all, the
    tokens sorted by the first distribution.

    Args:
        probs: panel title -> probability vector over the vocabulary.
        labels: the token shown under each vocabulary entry (a space is shown as ␣, a newline as \\n).
        top: how many of the most likely tokens (under the first distribution) to show.
        title: a title above all the panels; none if empty.
    """
    first = next(iter(probs.values()))
    order = np.argsort(-first)[:top]
    fig, axes = plt.subplots(1, len(probs), figsize=(BOOK_WIDTH, 3.0), sharey=True, layout="constrained",
                             squeeze=False)
    for ax, (name, p) in zip(axes[0], probs.items(), strict=True):
        ax.bar(range(len(order)), p[order], color="C0")
        ax.set_xticks(range(len(order)), [_token_label(labels[i]) for i in order])
        ax.set_title(name)
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].set_ylabel("probability of the next token")
    if title:
        fig.suptitle(title)
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
    size = (min(0.6 * len(tags) + 2.2, BOOK_WIDTH), min(0.5 * len(tags) + 1.4, 6.0))
    ax = ax or plt.subplots(figsize=size, layout="constrained")[1]
    im = ax.imshow(off, cmap="Reds", vmin=0)
    ax.figure.colorbar(im, ax=ax, label="tokens (mistakes only)")
    top = max(int(off.max()) if off.count() else 0, 1)
    for i in range(len(tags)):
        for j in range(len(tags)):
            color = "gray" if i == j else ("white" if sub[i, j] > 0.6 * top else "black")
            ax.text(j, i, f"{sub[i, j]}", ha="center", va="center", fontsize=9.5, color=color)
    ax.set_xticks(range(len(tags)), tags, rotation=45, ha="right")
    ax.set_yticks(range(len(tags)), tags)
    ax.set_xlabel("predicted tag")
    ax.set_ylabel("gold tag")
    if title:
        ax.set_title(title)
    return ax


# Chapter 2: backpropagation through time

def occurrence_contributions(curves: Mapping[float, tuple[np.ndarray, np.ndarray]]) -> Figure:
    """Left: each occurrence's contribution ||dJ(T)/dW_h|(i)|| against its distance T - i from the loss; right:
    how far the running sum is from the full gradient, relative to its norm.

    ``curves``: spectral radius -> the output of :func:`lecture_code.bptt.occurrence_contributions`.
    """
    fig, axes = plt.subplots(1, 2, figsize=(BOOK_WIDTH, 3.2), layout="constrained")
    for radius, (contrib, gap) in curves.items():
        label = rf"$\rho(\mathbf{{W}}_h) \approx {radius}$"
        axes[0].semilogy(np.arange(len(contrib)), contrib, "o-", ms=3, label=label)
        axes[1].semilogy(np.arange(1, len(gap)), gap[:-1], "o-", ms=3, label=label)
    axes[0].set(xlabel=r"distance $T - i$ from the loss",
                ylabel=r"$\Vert \partial J^{(T)} / \partial \mathbf{W}_h |_{(i)} \Vert$",
                title="each occurrence's contribution")
    axes[1].set(xlabel=r"occurrences summed, from $i = T$ back", ylabel="relative error of the sum",
                title="the running sum converges")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(frameon=False)
    return fig


def truncation(runs: Mapping[int, History], tables: Mapping[str, Sequence[Mapping[str, float]]]) -> Figure:
    """Top: training curves per truncation length k (``runs``: k -> History); bottom: cosine similarity of the
    truncated gradient to the full one against k, for W_h and for all parameters (``tables``: label -> rows of
    :func:`lecture_code.bptt.truncation_error`)."""
    fig, (ax, bx) = plt.subplots(2, 1, figsize=(BOOK_WIDTH, 5.8), layout="constrained")
    loss_curves({f"$k = {k}$": h for k, h in runs.items()}, ax=ax, ylabel=r"$J$ (nats per character)")
    ax.set_title(r"training with truncation length $k$")
    ax.legend(frameon=False, ncol=2)
    for j, (label, table) in enumerate(tables.items()):
        ks = [r["k"] for r in table]
        bx.semilogx(ks, [r["cos_W_h"] for r in table], "o-", color=f"C{j}", label=rf"{label}: $\mathbf{{W}}_h$")
        bx.semilogx(ks, [r["cos_all"] for r in table], "s--", color=f"C{j}", alpha=0.6, label=f"{label}: all")
    bx.set(xlabel=r"truncation length $k$", ylabel="cosine to the full gradient",
           title="how much truncation changes the gradient")
    bx.grid(alpha=0.3)
    bx.legend(frameon=False, ncol=2)
    return fig


# Chapter 4: vanishing and exploding gradients

def gradient_reach(curves: Mapping[str, np.ndarray], ax: Axes | None = None) -> Axes:
    """||dJ(T)/dh(T - ℓ)|| against the distance ℓ, one line per model (``curves``: label -> norms, index ℓ)."""
    ax = ax or plt.subplots(figsize=(BOOK_WIDTH, 3.4), layout="constrained")[1]
    for label, norms in curves.items():
        ax.semilogy(np.arange(len(norms)), norms, label=label)
    ax.set(xlabel=r"distance $\ell$ (steps back from the loss)",
           ylabel=r"$\Vert \partial J^{(T)} / \partial \mathbf{h}^{(T-\ell)} \Vert$",
           title="how far back the gradient of one loss reaches")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    return ax


def eigen_terms(ells: np.ndarray, eigvals: np.ndarray, mags: np.ndarray, norms: np.ndarray,
                ax: Axes | None = None) -> Axes:
    """Each eigen-term |c_k λ_k^ℓ| ||q_k|| against ℓ, largest |λ_k| first, and ||g W^ℓ|| dashed.

    ``eigvals``, ``mags``: from :func:`lecture_code.gradients.eigen_terms` (``mags[:, k]`` is the term of
    ``eigvals[k]`` at each ℓ of ``ells``); ``norms``: ||g W^ℓ|| at the same ℓ.
    """
    ax = ax or plt.subplots(figsize=(BOOK_WIDTH, 3.6), layout="constrained")[1]
    for k in np.argsort(-np.abs(eigvals), kind="stable"):
        ax.semilogy(ells, mags[:, k], label=rf"$\lambda = {eigvals[k].real:.2f}$")
    ax.semilogy(ells, norms, "k--", label=r"$\Vert \mathbf{g} \mathbf{W}_h^\ell \Vert$")
    ax.set(xlabel=r"distance $\ell$", ylabel=r"$|c_k \lambda_k^\ell| \, \Vert \mathbf{q}_k \Vert$",
           title="each eigen-direction on its own")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, ncol=2)
    return ax


def spectral_regimes(curves: Mapping[float, np.ndarray], regimes: Sequence[str] = ()) -> Figure:
    """||g W_h^ℓ|| against ℓ in one panel per spectral radius (``curves``: ρ -> norms, index ℓ), log scale shared.

    ``regimes``: a word per panel for its title ("vanishes", ...), in the order of ``curves``; empty for none.
    """
    if regimes and len(regimes) != len(curves):
        raise ValueError(f"need one regime per curve: {len(curves)} curves, {len(regimes)} regimes")
    fig, axes = plt.subplots(1, len(curves), figsize=(BOOK_WIDTH, 2.9), sharey=True, layout="constrained",
                             squeeze=False)
    for j, (ax, (rho, norms)) in enumerate(zip(axes[0], curves.items(), strict=True)):
        ax.semilogy(np.arange(len(norms)), norms)
        ax.set(title=rf"$\rho(\mathbf{{W}}_h) = {rho}$" + (f": {regimes[j]}" if regimes else ""),
               xlabel=r"$\ell$")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel(r"$\Vert \mathbf{g} \mathbf{W}_h^\ell \Vert$")
    return fig


def norms_over_distance(curves: Mapping[str, np.ndarray], title: str, ax: Axes | None = None) -> Axes:
    """||g W^ℓ|| against ℓ, one line per matrix (``curves``: label -> norms), with the level ||g|| = 1 marked."""
    ax = ax or plt.subplots(figsize=(BOOK_WIDTH, 3.4), layout="constrained")[1]
    for label, norms in curves.items():
        ax.semilogy(np.arange(len(norms)), norms, label=label)
    ax.axhline(1.0, color="gray", lw=0.8)
    ax.set(xlabel=r"distance $\ell$", ylabel=r"$\Vert \mathbf{g}\, \mathbf{W}^\ell \Vert$", title=title)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    return ax


def step_jacobian_norms(norms: np.ndarray, bound: float, ax: Axes | None = None) -> Axes:
    """The spectral norm of each step Jacobian diag(1 - h(t)²) W_h against the step t (dots), under the bound
    γ ||W_h||₂ (a line); from :func:`lecture_code.gradients.step_jacobian_norms` and ``jacobian_bound``."""
    ax = ax or plt.subplots(figsize=(BOOK_WIDTH, 3.4), layout="constrained")[1]
    ax.plot(np.arange(1, len(norms) + 1), norms, ".",
            label=r"measured $\Vert \mathrm{diag}(1 - \mathbf{h}^{(t)} \odot \mathbf{h}^{(t)})\, \mathbf{W}_h \Vert_2$")
    ax.axhline(bound, color="C3", label=r"bound $\gamma_{\tanh} \Vert \mathbf{W}_h \Vert_2$")
    ax.set(xlabel="step $t$", ylabel="spectral norm", title="step Jacobians of the trained character RNN")
    ax.set_ylim(0, None)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, loc="lower right")
    return ax


def gap_accuracy(rows: Sequence[Mapping[str, float]], chance: float, label: str = "vanilla RNN",
                 ax: Axes | None = None) -> Axes:
    """Test accuracy against the gap L, log scale (``rows``: dicts with "L" and "accuracy", as from
    :func:`lecture_code.tasks.accuracy_vs_gap`), with the chance level dashed."""
    ax = ax or plt.subplots(figsize=(BOOK_WIDTH, 3.4), layout="constrained")[1]
    ax.plot([r["L"] for r in rows], [r["accuracy"] for r in rows], "o-", label=label)
    ax.axhline(chance, color="gray", ls="--", label="chance")
    ax.set(xscale="log", xlabel="gap $L$ (distractor tokens)", ylabel="test accuracy", ylim=(0, 1.05),
           title="remembering a token across a gap")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    return ax


def clipping_runs(runs: Mapping[float | None, History], uniform_loss: float, title: str) -> Figure:
    """Training loss (left) and the gradient norm before clipping (right) per run (``runs``: threshold or None ->
    History), with the uniform guess log |V| marked on the left; one legend, below the panels."""
    fig, axes = plt.subplots(1, 2, figsize=(BOOK_WIDTH, 3.5), layout="constrained")
    for clip, h in runs.items():
        label = "no clipping" if clip is None else f"clipping at {clip}"
        axes[0].plot(h.train_loss, label=label)
        axes[1].semilogy(h.grad_norm, label=label)
    axes[0].axhline(uniform_loss, color="gray", ls="--", label=r"uniform ($\log |V|$)")
    axes[0].set(xlabel="step", ylabel="training loss $J$", title=title)
    axes[1].set(xlabel="step", ylabel="gradient norm before clipping", title="the gradient explodes")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=3, frameon=False)
    return fig


def cliff(w: np.ndarray, b: np.ndarray, loss: np.ndarray,
          paths: Mapping[float | None, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> Figure:
    """The one-unit RNN's error surface over the grid (w, b) with gradient-descent paths on it (top), and each path's
    loss per step (bottom). ``paths``: clipping threshold or None -> :func:`lecture_code.exploding.sgd_path`."""
    fig, axes = plt.subplots(2, 1, figsize=(BOOK_WIDTH, 6.4), height_ratios=(1.6, 1), layout="constrained")
    cs = axes[0].contourf(w, b, np.log10(loss + 1e-8), 40, cmap="viridis")
    fig.colorbar(cs, ax=axes[0], label=r"$\log_{10}$ loss")
    for clip, (pts, losses, _) in paths.items():
        label = "no clipping" if clip is None else f"clipping at {clip}"
        style = {"color": "C1" if clip else "C3", "label": label}
        axes[0].plot(pts[:, 0], pts[:, 1], "o-", ms=4, **style)
        axes[1].semilogy(losses, "o-", ms=4, **style)
    axes[0].set(xlim=(w.min(), w.max()), ylim=(b.min(), b.max()), xlabel="$w$", ylabel="$b$",
                title="the error surface and its cliff")
    axes[0].legend(loc="lower left")
    axes[1].set(xlabel="step", ylabel="loss", title="gradient descent from the wall")
    axes[1].grid(alpha=0.3)
    axes[1].legend(frameon=False)
    return fig


def deep_networks(layer_norms: Mapping[str, np.ndarray], losses: Mapping[str, Sequence[float]],
                  baseline: float) -> Figure:
    """Left: the gradient norm at each layer's output, per kind of network (``layer_norms``: kind -> norms, index
    0 the bottom layer, from :func:`lecture_code.deep_feedforward.layer_grad_norms`); right: the training loss per
    step (``losses``: kind -> losses), with ``baseline`` (the loss of predicting the mean) dashed."""
    fig, axes = plt.subplots(1, 2, figsize=(BOOK_WIDTH, 3.2), layout="constrained")
    depth = max(len(v) for v in layer_norms.values())
    for kind, norms in layer_norms.items():
        axes[0].semilogy(np.arange(1, len(norms) + 1), norms, label=kind)
    for kind, curve in losses.items():
        axes[1].plot(curve, label=kind)
    axes[1].axhline(baseline, color="gray", ls="--", label="predicting the mean")
    axes[0].set(xlabel="layer $i$", ylabel=r"$\Vert \partial J / \partial x_i \Vert$",
                title=f"{depth} layers at initialisation")
    axes[1].set(xlabel="step", ylabel="training MSE", title="training the deep networks")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(frameon=False)
    return fig


# Chapter 6: bidirectional and multi-layer RNNs

def word_votes(panels: Mapping[str, Mapping[str, np.ndarray]], words: Sequence[str]) -> Figure:
    """Each word's vote v(t) = (w_+ - w_-)^T h(t) as bars, one panel per model, stacked with shared axes.

    ``panels``: panel title -> (legend label -> votes, one per word of ``words``); the bars of the sentences of a
    panel stand side by side at each word, and a zero line marks where a vote changes sign. The panels are stacked
    rather than side by side so that every word gets a full-width slot for its label.
    """
    fig, axes = plt.subplots(len(panels), 1, figsize=(BOOK_WIDTH, 1.2 + 2.2 * len(panels)), sharex=True,
                             sharey=True, layout="constrained", squeeze=False)
    for ax, (title, bars) in zip(axes[:, 0], panels.items(), strict=True):
        width = 0.8 / max(len(bars), 1)
        for k, (label, votes) in enumerate(bars.items()):
            if len(votes) != len(words):
                raise ValueError(f"{title}, {label}: {len(votes)} votes for {len(words)} words")
            ax.bar(np.arange(len(words)) + width * k - 0.4 + width / 2, votes, width=width, label=label)
        ax.axhline(0, color="gray", lw=0.8)
        ax.set(title=title, ylabel=r"vote $v^{(t)}$")
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].legend(frameon=False)
    axes[-1, 0].set_xticks(range(len(words)), words)
    axes[-1, 0].set_xlabel("word $t$ (a vote > 0 argues for positive)")
    return fig


def seed_accuracies(accuracies: Mapping[str, Mapping[str, Sequence[float]]],
                    baselines: Mapping[str, tuple[str, float]]) -> Figure:
    """Test accuracy of every seed (dots) and its mean (a short bar) per model, one panel per task.

    ``accuracies``: task -> (model -> accuracy of each seed); ``baselines``: task -> (name, accuracy) of a
    baseline, drawn dashed across the panel and named just above the line.
    """
    fig, axes = plt.subplots(1, len(accuracies), figsize=(BOOK_WIDTH, 3.2), layout="constrained", squeeze=False)
    for ax, (task, per_model) in zip(axes[0], accuracies.items(), strict=True):
        for k, acc in enumerate(per_model.values()):
            acc = np.asarray(acc, dtype=float)
            ax.plot(np.full(len(acc), k), acc, "o", color=f"C{k}", alpha=0.6)
            ax.plot([k - 0.15, k + 0.15], [acc.mean()] * 2, color=f"C{k}", lw=3)
        name, level = baselines[task]
        ax.axhline(level, color="gray", ls="--")
        ax.annotate(f"baseline: {name}", (0, level), xycoords=("axes fraction", "data"), xytext=(4, 2),
                    textcoords="offset points", va="bottom", color="dimgray")
        ax.set(xticks=range(len(per_model)), xticklabels=list(per_model), xlim=(-0.5, len(per_model) - 0.5),
               ylabel="test accuracy", title=task)
        ax.grid(alpha=0.3)
    return fig


def depth_perplexity(runs: Mapping[tuple[bool, int], History], title: str = "", ax: Axes | None = None) -> Axes:
    """Final validation perplexity exp(J) against the number of layers L, plain and residual stacks.

    ``runs``: (residual, L) -> History, as from :func:`lecture_code.deep_rnn_experiments.depth_sweep`; a line per
    kind of stack present, a dot per depth.
    """
    ax = ax or plt.subplots(figsize=(BOOK_WIDTH, 3.4), layout="constrained")[1]
    depths = sorted({L for _, L in runs})
    for residual in (False, True):
        have = [L for L in depths if (residual, L) in runs]
        if have:
            ax.plot(have, [np.exp(runs[(residual, L)].valid_loss[-1]) for L in have], "o-",
                    label="residual" if residual else "plain")
    ax.set(xticks=depths, xlabel="layers $L$", ylabel=r"validation perplexity $\exp(J)$")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    return ax


def loss_curves_with_level(runs: Mapping[str, History], level: float, level_label: str, title: str = "",
                           window: int = 25, ylabel: str = r"$J(\theta)$ (nats per token)",
                           ax: Axes | None = None) -> Axes:
    """:func:`loss_curves` with a reference loss ``level`` (e.g. a unigram model's) drawn as a dashed line; the
    legend stands to the right of the axes, so that it hides no curve."""
    ax = loss_curves(runs, ax=ax, window=window, ylabel=ylabel)
    ax.axhline(level, color="gray", ls="--", label=level_label)
    if title:
        ax.set_title(title)
    ax.legend(frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return ax


# Chapter 5: long short-term memory

_GATE_PANELS = (("f", r"forget gate $\mathbf{f}^{(t)}$"), ("i", r"input gate $\mathbf{i}^{(t)}$"),
                ("o", r"output gate $\mathbf{o}^{(t)}$"),
                ("c", r"cell $\mathbf{c}^{(t)}$, each unit divided by its largest $|c_j|$"))
_CHAR_SHOWN = {"\n": "⏎", " ": "␣"}


def lstm_gates(trace: Mapping[str, np.ndarray], units: Sequence[int], text: str) -> Figure:
    """The forget, input and output gates and the cell of some units while an LSTM reads ``text``: four heatmaps,
    stacked, a row per unit and a column per character (a newline shown as ⏎, a space as ␣).

    ``trace``: (T, n) arrays under "f", "i", "o" and "c", T = len(text), as from
    :func:`lecture_code.lstm_experiments.lstm_trace`. The gates share one colour scale, 0 to 1; each unit's cell is
    divided by its largest |c| over the text, so that it lies in [-1, 1]. ``trace`` is not changed. Keep ``text``
    to about 45 characters, so that each one has room for its label.
    """
    units = list(units)
    if any(trace[k].shape[0] != len(text) for k, _ in _GATE_PANELS):
        raise ValueError(f"trace must have one row per character of text ({len(text)})")
    cell = trace["c"][:, units]
    cell = cell / np.where(np.abs(cell).max(axis=0) > 0, np.abs(cell).max(axis=0), 1.0)
    height = 0.6 + len(_GATE_PANELS) * (0.45 + 0.2 * len(units))
    fig, axes = plt.subplots(len(_GATE_PANELS), 1, figsize=(BOOK_WIDTH, height), sharex=True, layout="constrained")
    for ax, (key, title) in zip(axes, _GATE_PANELS, strict=True):
        values, style = (cell, ("RdBu_r", -1, 1)) if key == "c" else (trace[key][:, units], ("viridis", 0, 1))
        im = ax.imshow(values.T, aspect="auto", cmap=style[0], vmin=style[1], vmax=style[2],
                       interpolation="nearest")
        ax.set_yticks(range(len(units)), [f"unit {u}" for u in units])
        ax.set_title(title, loc="left")
        if key in ("o", "c"):  # one colour bar for the three gates, one for the cell
            fig.colorbar(im, ax=axes[:3] if key == "o" else ax, pad=0.01, aspect=30 if key == "o" else 10)
    axes[-1].set_xticks(range(len(text)), [_CHAR_SHOWN.get(ch, ch) for ch in text])
    axes[-1].tick_params(axis="x", length=0)
    axes[-1].set_xlabel("the character read at step $t$")
    return fig


def cell_tracks(tracks: Mapping[str, tuple[int, float, np.ndarray, np.ndarray]], newlines: Sequence[int],
                mode: str = "") -> Figure:
    """One panel per property, stacked: a unit's cell value c_j(t) against t, and the property beside it, rescaled
    to the cell's mean and spread; gray vertical lines at the ``newlines``.

    ``tracks``: property -> (unit j, its correlation r with the property, its cells (T,), the property (T,));
    ``mode``: said in each title, in brackets, if given.
    """
    fig, axes = plt.subplots(len(tracks), 1, figsize=(BOOK_WIDTH, 0.8 + 2.2 * len(tracks)), sharex=True,
                             layout="constrained", squeeze=False)
    for ax, (prop, (unit, r, c, f)) in zip(axes[:, 0], tracks.items(), strict=True):
        c, f = np.asarray(c, dtype=float), np.asarray(f, dtype=float)
        t = np.arange(len(c))
        ax.plot(t, c, color="C0", label=rf"cell $c_{{{unit}}}^{{(t)}}$")
        ax.plot(t, (f - f.mean()) / f.std() * c.std() + c.mean(), color="C1", alpha=0.7, label=f"{prop} (rescaled)")
        for k in newlines:
            ax.axvline(k, color="gray", lw=0.5, alpha=0.5)
        ax.set_title(rf"unit {unit} and the {prop}: $r = {r:+.2f}$" + (f" ({mode})" if mode else ""), loc="left")
        ax.legend(frameon=False, loc="upper right", ncol=2)
        ax.margins(y=0.25)
    axes[-1, 0].set_xlabel("character position $t$ in the validation text (gray lines: newlines)")
    return fig


def cell_settings(runs: Mapping[str, tuple[np.ndarray, np.ndarray]], c_tilde: np.ndarray, c0: float) -> Figure:
    """One unit's cell under constant gates, a panel per setting in a grid of two columns: the candidate c̃(t),
    the cell c(t) from c(0) = ``c0``, and h(t); one legend, below the panels.

    ``runs``: panel title -> (c(1..T), h(1..T)), as from :func:`lecture_code.lstm_experiments.cell_recurrence`
    with the candidates ``c_tilde`` (T,).
    """
    rows = -(-len(runs) // 2)
    fig, axes = plt.subplots(rows, 2, figsize=(BOOK_WIDTH, 0.9 + 2.3 * rows), sharex=True, sharey=True,
                             layout="constrained", squeeze=False)
    T = len(c_tilde)
    for ax, (title, (c, h)) in zip(axes.flat, runs.items(), strict=False):
        ax.step(np.arange(1, T + 1), c_tilde, where="mid", color="gray", lw=1, label=r"candidate $\tilde{c}^{(t)}$")
        ax.plot(np.arange(T + 1), np.r_[c0, c], "o-", ms=2, label=r"cell $c^{(t)}$")
        ax.plot(np.arange(1, T + 1), h, "s-", ms=2, label=r"$h^{(t)} = o \tanh c^{(t)}$, $o = 1$")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(runs):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("step $t$")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncol=3, frameon=False)
    return fig


def state_gradient_panels(panels: Mapping[str, Mapping[str, Mapping[str, np.ndarray]]],
                          styles: Mapping[str, tuple[str, str]]) -> Figure:
    """||dJ(T)/dc(T-ℓ)|| (solid) and ||dJ(T)/dh(T-ℓ)|| (dashed) against ℓ, log scale shared, one panel per set of
    models, side by side; one legend below the panels, a colour per model and a line style per state.

    ``panels``: panel title -> (model -> norms with keys "h" and, for an LSTM, "c", as from
    :func:`lecture_code.lstm_experiments.state_gradient_norms`); ``styles``: model -> (legend label, colour).
    Models with the same label share a colour and one legend entry.
    """
    from matplotlib.lines import Line2D

    fig, axes = plt.subplots(1, len(panels), figsize=(BOOK_WIDTH, 3.9), sharey=True, layout="constrained",
                             squeeze=False)
    for ax, (title, runs) in zip(axes[0], panels.items(), strict=True):
        for name, g in runs.items():
            label, color = styles[name]
            if "c" in g:
                ax.semilogy(g["c"], color=color, label=label)
            ax.semilogy(g["h"], color=color, ls="--", label=label)
        ax.set(title=title, xlabel=r"distance $\ell$")
        ax.grid(alpha=0.3, which="both")
    axes[0, 0].set_ylabel("gradient norm")
    shown = {name: styles[name] for runs in panels.values() for name in runs}
    handles = [Line2D([], [], color=color, label=label) for label, color in dict(shown.values()).items()]
    norm = r"$\Vert \partial J^{(T)} / \partial \mathbf{%s}^{(T-\ell)} \Vert$"
    handles += [Line2D([], [], color="gray", label=norm % "c"), Line2D([], [], color="gray", ls="--", label=norm % "h")]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False)
    return fig
