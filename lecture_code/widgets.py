"""Interactive demos. Each has a static figure beside it in the book, so a reader without a kernel sees the point."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

import ipywidgets as w

from .generate import generate
from .models import RNNLM
from .text import Vocab

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _figure_image() -> w.Image:
    """The ``ipywidgets.Image`` a widget draws into: as wide as the book's figures (``plots.BOOK_WIDTH`` inches
    at the book's dpi, 720 px), or the column if that is narrower."""
    from .plots import BOOK_RC, BOOK_WIDTH

    return w.Image(format="png", layout=w.Layout(width="100%",
                                                 max_width=f"{round(BOOK_WIDTH * BOOK_RC['figure.dpi'])}px"))


def _book_figure(height: float) -> tuple[Figure, Axes]:
    """A figure of the book's width and ``height`` inches with one axes, laid out here whatever the rcParams
    say; not made by pyplot, so nothing is left open."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .plots import BOOK_WIDTH

    fig = Figure(figsize=(BOOK_WIDTH, height), layout="tight")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _png(fig: Figure) -> bytes:
    """``fig`` as PNG at twice the book's dpi: shown at half its pixels by :func:`_figure_image`, it is crisp on
    a high-density screen."""
    import io

    from .plots import BOOK_RC

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=2 * BOOK_RC["figure.dpi"])
    return buf.getvalue()


def sampling_explorer(model: RNNLM, vocab: Vocab, prompt: Sequence[str], n_tokens: int = 200,
                      sep: str = "") -> w.VBox:
    """Sliders for temperature, top-k and the seed; shows text sampled from ``model`` after ``prompt``.

    Temperature 0 is greedy decoding; top-k 0 means no top-k filtering.
    """
    wide = {"description_width": "initial"}
    temperature = w.FloatSlider(value=1.0, min=0.0, max=2.0, step=0.05, description="temperature τ",
                                continuous_update=False, style=wide)
    top_k = w.IntSlider(value=0, min=0, max=len(vocab), description="top-k (0 = all)", continuous_update=False,
                        style=wide)
    seed = w.IntSlider(value=0, min=0, max=20, description="seed", continuous_update=False)
    out = w.HTML(layout={"border": "1px solid #ddd", "padding": "4px"})
    ids = vocab.encode(prompt)

    def show(*_: object) -> None:
        new = generate(model, ids, n_tokens, temperature=temperature.value,
                       top_k=top_k.value or None, seed=seed.value)
        text = vocab.decode(ids, sep) + sep + vocab.decode(new, sep)
        out.value = f"<pre style='margin:0; white-space:pre-wrap'>{html.escape(text)}</pre>"

    for s in (temperature, top_k, seed):
        s.observe(show, names="value")
    show()
    return w.VBox([w.HBox([temperature, top_k, seed]), out])


def eigen_explorer(n: int = 2, seed: int = 0) -> w.VBox:
    """The linear case: ||g W^l|| against the distance l, for a W whose eigenvalues you choose.

    W = P B P^-1 with a fixed random basis P (so W is not symmetric) and B holding the eigenvalues:
    their moduli are spread from "largest |λ|" down to "smallest |λ|"; with an angle θ > 0
    consecutive eigenvalues pair up into complex conjugates ρ e^(±iθ) (each pair takes the first
    modulus of the two; with n = 2 that is the largest, and "smallest |λ|" is disabled). The figure
    shows ||g W^l|| (log scale), the eigen-terms |c_i λ_i^l| ||q_i|| of
    :func:`~lecture_code.gradients.eigen_terms`, and ρ(W)^l ||g||. It is a PNG in an
    ``ipywidgets.Image``, so saved widget state shows it without a kernel, drawn at twice the pixels it is
    shown at (:func:`_png`).
    """
    import numpy as np

    from .gradients import eigen_terms, gradient_norms_over_distance

    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    rng = np.random.default_rng(seed)
    P = np.eye(n) + 0.5 * rng.standard_normal((n, n)) / np.sqrt(n)
    g = rng.standard_normal(n)
    g /= np.linalg.norm(g)

    wide = {"description_width": "initial"}
    big = w.FloatSlider(value=0.9, min=0.3, max=1.3, step=0.01, description="largest |λ|", style=wide,
                        continuous_update=False)
    small = w.FloatSlider(value=0.5, min=0.0, max=1.3, step=0.01, description="smallest |λ|", style=wide,
                          continuous_update=False)
    theta = w.FloatSlider(value=0.0, min=0.0, max=90.0, step=5.0, description="angle θ (degrees)", style=wide,
                          continuous_update=False)
    l_max = w.IntSlider(value=40, min=5, max=100, description="ℓ max", continuous_update=False)
    image = _figure_image()
    caption = w.HTML()

    def matrix() -> np.ndarray:
        rho = np.linspace(big.value, small.value, n)
        B, t = np.diag(rho), np.deg2rad(theta.value)
        if t > 0:
            for k in range(0, n - 1, 2):  # a 2x2 block r R(θ) has eigenvalues r e^(±iθ)
                r = rho[k]
                B[k:k + 2, k:k + 2] = r * np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
        return P @ B @ np.linalg.inv(P)

    def show(*_: object) -> None:
        small.disabled = n == 2 and theta.value > 0  # a complex pair has one modulus: the largest
        W, L = matrix(), l_max.value
        ells = np.arange(L + 1)
        norms = gradient_norms_over_distance(W, g, L)
        lam, _, mags = eigen_terms(W, g, ells)
        fig, ax = _book_figure(3.6)
        for i in range(n):
            z = lam[i]
            name = f"{z.real:.2f}" if abs(z.imag) < 1e-9 else f"{z.real:.2f}{z.imag:+.2f}i"
            ax.semilogy(ells, np.maximum(mags[:, i], 1e-300), lw=1, alpha=0.6, color=f"C{i + 1}",
                        label=f"term λ = {name}")
        ax.semilogy(ells, norms, lw=2.5, color="C0", label="‖g Wˡ‖")
        rho = float(np.max(np.abs(lam)))
        ax.semilogy(ells, rho**ells, "k--", lw=1, label=f"ρ(W)ˡ, ρ = {rho:.2f}")
        ax.set_xlabel("distance ℓ (steps back in time)")
        ax.set_ylabel("gradient norm")
        hi = max(norms.max(), mags.max(), rho**L) * 3
        ax.set_ylim(max(hi * 1e-10, min(norms.min(), mags.min(), rho**L) / 3), hi)
        ax.grid(alpha=0.3, which="both")
        ax.legend(frameon=False, fontsize=10)
        image.value = _png(fig)
        verdict = ("neither vanishes nor explodes" if abs(rho - 1) < 1e-9
                   else "vanishes" if rho < 1 else "explodes")
        caption.value = f"spectral radius ρ(W) = {rho:.3f}: the gradient {verdict} as ℓ grows."

    for s in (big, small, theta, l_max):
        s.observe(show, names="value")
    show()
    return w.VBox([w.HBox([big, small]), w.HBox([theta, l_max]), image, caption])


def lstm_cell_explorer(T: int = 40) -> w.VBox:
    """The cell of one LSTM unit under gates you set: c(t) = f c(t-1) + i c̃(t), h(t) = o tanh(c(t)).

    Sliders set the forget, input and output gates (constant over time) and c(0); a menu picks the candidate
    sequence c̃(1..T) (:func:`~lecture_code.lstm_experiments.candidate_pattern`) and a slider its amplitude. The
    figure shows c̃, c(t) and h(t); the caption says how fast c(0) is forgotten. It is a PNG in an
    ``ipywidgets.Image``, so saved widget state shows it without a kernel, drawn at twice the pixels it is
    shown at (:func:`_png`).
    """
    import numpy as np

    from .lstm_experiments import CANDIDATE_PATTERNS, candidate_pattern, cell_recurrence

    if T < 2:
        raise ValueError(f"T must be at least 2, got {T}")
    wide = {"description_width": "initial"}

    def slider(value: float, lo: float, hi: float, name: str) -> w.FloatSlider:
        return w.FloatSlider(value=value, min=lo, max=hi, step=0.01, description=name, style=wide,
                             continuous_update=False)

    f, i, o = slider(1.0, 0.0, 1.0, "forget f"), slider(0.0, 0.0, 1.0, "input i"), slider(1.0, 0.0, 1.0, "output o")
    c0, amplitude = slider(1.0, -2.0, 2.0, "c(0)"), slider(1.0, 0.0, 2.0, "amplitude of c̃")
    pattern = w.Dropdown(options=CANDIDATE_PATTERNS, value="pulses", description="candidate c̃", style=wide)
    image, caption = _figure_image(), w.HTML()

    def show(*_: object) -> None:
        c_tilde = candidate_pattern(pattern.value, T, amplitude.value)
        c, h = cell_recurrence(f.value, i.value, o.value, c_tilde, c0.value)
        t = np.arange(T + 1)
        fig, ax = _book_figure(3.4)
        ax.step(t[1:], c_tilde, where="mid", color="gray", lw=1, alpha=0.7, label="candidate c̃(t)")
        ax.plot(t, np.r_[c0.value, c], "o-", ms=3, color="C0", label="cell c(t)")
        ax.plot(t[1:], h, "s-", ms=3, color="C1", label="hidden h(t) = o tanh(c(t))")
        ax.set_xlabel("step t")
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize=10, loc="best")
        image.value = _png(fig)
        if f.value == 1.0:
            memory = "f = 1: c(0) is never forgotten" + (" and nothing is written, so c(t) = c(0) exactly."
                                                           if i.value == 0 else "; what is written adds up.")
        elif f.value == 0.0:
            memory = "f = 0: c(t-1) is erased at every step; c(t) = i c̃(t)."
        else:
            memory = (f"after t steps c(0) keeps a fraction f^t of itself: half of it is gone after "
                      f"{np.log(0.5) / np.log(f.value):.1f} steps.")
        caption.value = memory + f" Final c(T) = {c[-1]:.3f}, h(T) = {h[-1]:.3f}."

    for s in (f, i, o, c0, amplitude, pattern):
        s.observe(show, names="value")
    show()
    return w.VBox([w.HBox([f, i, o]), w.HBox([c0, pattern, amplitude]), image, caption])
