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


# --- the book's figure style and the figures of chapters 2 and 4 ------------------------------------------------


@pytest.fixture
def book():
    """plots.book_style() for one test; Matplotlib's settings come back afterwards."""
    with matplotlib.rc_context():
        plots.book_style()
        yield
    plt.close("all")


def _texts(fig) -> list[matplotlib.text.Text]:
    return [t for t in fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text().strip()]


def _check_book_figure(fig) -> None:
    """Fits the 750-px column at 1x, text of at least 9.5 pt, no pseudo-TeX like ||g W^l|| outside mathtext."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")  # what the inline backend shows at 1x
    assert Image.open(buf).size[0] <= 1.1 * 750
    for t in _texts(fig):
        assert t.get_fontsize() >= 9.5, (t.get_text(), t.get_fontsize())
        plain = re.sub(r"\$[^$]*\$", "", t.get_text())
        assert "||" not in plain and "^" not in plain and "_" not in plain, t.get_text()


def test_book_style_sets_column_width_fonts_layout_and_retina_inside_ipython(monkeypatch):
    import IPython
    import matplotlib_inline.backend_inline as inline

    formats = []
    monkeypatch.setattr(inline, "set_matplotlib_formats", lambda *f, **kw: formats.extend(f))
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    with matplotlib.rc_context():
        plots.book_style()
        assert formats == []  # a plain Python process: rcParams only
        width, _ = plt.rcParams["figure.figsize"]
        assert 7.0 <= width <= 7.5 and plt.rcParams["figure.dpi"] == 100
        assert plt.rcParams["figure.constrained_layout.use"]
        for key in ("font.size", "axes.labelsize", "xtick.labelsize", "ytick.labelsize", "legend.fontsize"):
            assert 10 <= matplotlib.font_manager.FontProperties(size=plt.rcParams[key]).get_size_in_points() <= 11
        monkeypatch.setattr(IPython, "get_ipython", lambda: object())
        plots.book_style()
        assert formats == ["retina"]
    assert not plt.rcParams["figure.constrained_layout.use"]  # rc_context restored the defaults


def test_glue_figure_glues_displays_and_closes(monkeypatch):
    import myst_nb

    calls = []
    monkeypatch.setattr(myst_nb, "glue", lambda name, obj, display: calls.append((name, obj, display)))
    fig = plt.figure()
    plots.glue_figure("fig-x", fig)
    assert calls == [("fig-x", fig, True)]  # displayed: nbval skips image/png, the book hides it (remove-output)
    assert not plt.fignum_exists(fig.number)


def test_glue_figure_without_myst_nb_just_displays(monkeypatch):
    import sys

    import IPython.display

    shown = []
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # as on Colab: importing it fails
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    fig = plt.figure()
    plots.glue_figure("fig-x", fig)
    assert shown == [fig] and not plt.fignum_exists(fig.number)


def test_occurrence_contributions_draws_both_panels_per_radius(book):
    contrib, gap = np.array([1.0, 0.5, 0.25, 0.125]), np.array([0.5, 0.2, 0.1, 0.0])
    fig = plots.occurrence_contributions({0.5: (contrib, gap), 1.0: (np.ones(4), gap)})
    left, right = fig.axes
    np.testing.assert_array_equal(left.get_lines()[0].get_ydata(), contrib)
    np.testing.assert_array_equal(right.get_lines()[0].get_xdata(), [1, 2, 3])  # the last gap (0) is not drawn
    assert len(left.get_lines()) == len(right.get_lines()) == 2
    assert left.get_yscale() == "log" and "W}_h" in left.get_ylabel()
    _check_book_figure(fig)


def test_truncation_draws_training_curves_and_cosines(book):
    h = History(train_loss=[3.0, 2.5, 2.0], valid_step=[3], valid_loss=[2.2])
    table = [{"k": k, "cos_W_h": 1 - 1 / (k + 1), "cos_all": 1 - 0.1 / k} for k in (1, 5, 20)]
    fig = plots.truncation({5: h, 50: h}, {"untrained": table, "trained": table})
    top, bottom = fig.axes
    assert len(top.get_lines()) == 4 and len(bottom.get_lines()) == 4
    np.testing.assert_array_equal(bottom.get_lines()[0].get_xdata(), [1, 5, 20])
    np.testing.assert_allclose(bottom.get_lines()[1].get_ydata(), [0.9, 0.98, 0.995])
    assert bottom.get_xscale() == "log"
    _check_book_figure(fig)


@pytest.mark.parametrize("draw", ["gradient_reach", "norms_over_distance"])
def test_one_line_per_curve_on_a_log_scale(book, draw):
    curves = {"a": np.array([1.0, 0.1, 0.01]), "b": np.array([1.0, 2.0, 4.0])}
    ax = plots.gradient_reach(curves) if draw == "gradient_reach" else plots.norms_over_distance(curves, "t")
    lines = [line for line in ax.get_lines() if line.get_label() in curves]
    assert [line.get_label() for line in lines] == ["a", "b"]
    np.testing.assert_array_equal(lines[1].get_ydata(), curves["b"])
    assert ax.get_yscale() == "log"
    _check_book_figure(ax.figure)


def test_eigen_terms_orders_terms_by_modulus_and_adds_the_norm(book):
    ells = np.arange(4)
    eigvals = np.array([0.5, -0.9 + 0j, 1.1])
    mags = np.abs(eigvals)[None, :] ** ells[:, None]
    ax = plots.eigen_terms(ells, eigvals, mags, mags.sum(1))
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[:3] == [r"$\lambda = 1.10$", r"$\lambda = -0.90$", r"$\lambda = 0.50$"]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), 1.1 ** ells)
    np.testing.assert_allclose(ax.get_lines()[3].get_ydata(), mags.sum(1))
    _check_book_figure(ax.figure)


def test_spectral_regimes_draws_a_panel_per_radius(book):
    curves = {0.9: 0.9 ** np.arange(5), 1.0: np.ones(5), 1.1: 1.1 ** np.arange(5)}
    fig = plots.spectral_regimes(curves, ["vanishes", "stays put", "explodes"])
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes][2].endswith("= 1.1$: explodes")
    np.testing.assert_allclose(fig.axes[1].get_lines()[0].get_ydata(), np.ones(5))
    _check_book_figure(fig)
    with pytest.raises(ValueError, match="one regime per curve"):
        plots.spectral_regimes(curves, ["vanishes"])


def test_step_jacobian_norms_and_gap_accuracy(book):
    ax = plots.step_jacobian_norms(np.array([1.5, 2.0, 1.7]), 3.0)
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [1, 2, 3])
    assert ax.get_lines()[1].get_ydata()[0] == 3.0
    _check_book_figure(ax.figure)
    rows = [{"L": 1, "accuracy": 1.0}, {"L": 10, "accuracy": 0.6}, {"L": 40, "accuracy": 0.3}]
    ax = plots.gap_accuracy(rows, chance=0.25)
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), [1.0, 0.6, 0.3])
    assert ax.get_lines()[1].get_ydata()[0] == 0.25 and ax.get_xscale() == "log"
    _check_book_figure(ax.figure)


def test_clipping_runs_shares_one_legend_below_the_panels(book):
    runs = {None: History(train_loss=[4.0, 9.0], grad_norm=[1.0, 100.0]),
            1.0: History(train_loss=[4.0, 4.1], grad_norm=[1.0, 3.0])}
    fig = plots.clipping_runs(runs, np.log(65), title=r"SGD, $\mathbf{W}_h \times 3$")
    left, right = fig.axes
    assert left.get_title() == r"SGD, $\mathbf{W}_h \times 3$" and left.get_legend() is None
    np.testing.assert_array_equal(right.get_lines()[0].get_ydata(), [1.0, 100.0])
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["no clipping", "clipping at 1.0", r"uniform ($\log |V|$)"]
    _check_book_figure(fig)


def test_cliff_draws_the_surface_and_the_paths(book):
    w, b = np.meshgrid(np.linspace(2, 8, 5), np.linspace(-5, 0, 4))
    path = (np.array([[5.0, -2.6], [5.01, -2.6]]), np.array([1.0, 0.5]), np.array([10.0]))
    fig = plots.cliff(w, b, (w - 5) ** 2 + b**2, {None: path, 1.0: path})
    surface, losses = fig.axes[:2]
    assert surface.get_xlim() == (2.0, 8.0) and len(surface.get_lines()) == 2
    np.testing.assert_array_equal(losses.get_lines()[1].get_ydata(), [1.0, 0.5])
    _check_book_figure(fig)


def test_deep_networks_draws_layer_norms_and_losses(book):
    fig = plots.deep_networks({"plain": np.logspace(-6, 0, 5), "residual": np.ones(5)},
                              {"plain": [1.0, 1.0], "residual": [1.0, 0.1]}, baseline=1.0)
    left, right = fig.axes
    np.testing.assert_array_equal(left.get_lines()[0].get_xdata(), [1, 2, 3, 4, 5])
    assert left.get_title() == "5 layers at initialisation" and left.get_yscale() == "log"
    assert [line.get_label() for line in right.get_lines()] == ["plain", "residual", "predicting the mean"]
    _check_book_figure(fig)


def test_loss_panels_draws_a_panel_per_run(book):
    chars = History(train_loss=[4.0, 3.0, 2.5, 2.2], valid_step=[2, 4], valid_loss=[3.1, 2.3])
    words = History(train_loss=[9.0, 7.0, 6.5], valid_step=[3], valid_loss=[6.6])
    fig = plots.loss_panels({"characters": chars, "words": words}, windows=(2, 1),
                            ylabels=(r"$J(\theta)$ (nats per character)", r"$J(\theta)$ (nats per word)"))
    left, right = fig.axes
    assert [left.get_title(), right.get_title()] == ["characters", "words"]
    np.testing.assert_allclose(left.get_lines()[0].get_ydata(), chars.smoothed(2))
    np.testing.assert_array_equal(right.get_lines()[0].get_ydata(), words.train_loss)  # a window of 1: as it is
    np.testing.assert_array_equal(right.get_lines()[1].get_xdata(), [3])
    assert right.get_ylabel().endswith("per word)")
    assert fig.get_size_inches()[0] <= plots.BOOK_WIDTH
    _check_book_figure(fig)
    assert plots.loss_panels({"a": History(train_loss=[1.0])}).axes[0].get_ylabel() == r"$J(\theta)$"
    with pytest.raises(ValueError, match="one window per run"):
        plots.loss_panels({"a": chars, "b": words}, windows=(2,))


def test_distribution_panels_fits_the_column_with_readable_token_labels(book):
    tokens = [" ", "\n", *"abcdefghijklm"]
    rng = np.random.default_rng(0)
    probs = {rf"$\tau = {tau}$": rng.dirichlet(np.ones(len(tokens)) / tau) for tau in (0.5, 1.0, 1.5)}
    probs[r"$\tau = 0.5$"][:2] = (1.0, 0.9)  # the space, then the newline, are the most likely tokens
    fig = plots.distribution_panels(probs, tokens)
    assert len(fig.axes) == 3 and fig.get_size_inches()[0] <= plots.BOOK_WIDTH
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert len(labels) == 12 and labels[:2] == ["␣", "\\n"]  # shown, not a blank and a line break
    _check_book_figure(fig)


def test_confusion_heatmap_and_loss_curves_fit_the_column(book):
    labels = [f"T{i}" for i in range(17)]
    ax = plots.confusion_heatmap(np.arange(17 * 17).reshape(17, 17), labels)  # all 17 tags: capped at the width
    assert ax.figure.get_size_inches()[0] <= plots.BOOK_WIDTH
    _check_book_figure(ax.figure)
    h = History(train_loss=[3.0, 2.0, 1.5], valid_step=[3], valid_loss=[1.4])
    _check_book_figure(plots.loss_curves({"a": h}, window=2, ylabel="$J$").figure)


def test_widgets_draw_without_warnings_under_the_book_style(book):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "The figure layout has changed to tight" under constrained layout
        widgets.eigen_explorer()
        widgets.lstm_cell_explorer(T=10)


@pytest.mark.parametrize("make", [widgets.eigen_explorer, widgets.lstm_cell_explorer])
def test_a_widget_figure_is_drawn_at_twice_the_pixels_it_is_shown_at(make):
    """Crisp on a high-density screen: the PNG has 2x the pixels of the 720-px (at most) box it fills."""
    import io

    from PIL import Image

    image = next(c for c in make().children if isinstance(c, widgets.w.Image))
    assert image.layout.width == "100%" and image.layout.max_width == "720px"
    assert Image.open(io.BytesIO(image.value)).size[0] == 2 * 720


# --- the figures of chapter 6 -----------------------------------------------------------------------------------


def test_word_votes_stacks_a_panel_per_model_with_bars_side_by_side(book):
    words = ["the", "movie", "exciting /\nboring"]
    panels = {"unidirectional LSTM": {"…exciting !": np.array([1.0, -2.0, 3.0]),
                                      "…boring !": np.array([1.0, -2.0, -4.0])},
              "bidirectional LSTM": {"…exciting !": np.array([0.5, 0.5, 2.0]),
                                     "…boring !": np.array([0.0, -1.0, -3.0])}}
    fig = plots.word_votes(panels, words)
    top, bottom = fig.axes
    assert [top.get_title(), bottom.get_title()] == list(panels)
    np.testing.assert_allclose([b.get_height() for b in top.patches], [1.0, -2.0, 3.0, 1.0, -2.0, -4.0])
    np.testing.assert_allclose([b.get_x() + b.get_width() / 2 for b in top.patches][:4], [-0.2, 0.8, 1.8, 0.2])
    assert [t.get_text() for t in bottom.get_xticklabels()] == words
    assert [t.get_text() for t in top.get_legend().get_texts()] == ["…exciting !", "…boring !"]
    assert r"v^{(t)}" in top.get_ylabel()
    _check_book_figure(fig)
    with pytest.raises(ValueError, match="2 votes for 3 words"):
        plots.word_votes({"a": {"b": np.ones(2)}}, words)


def test_seed_accuracies_draws_seeds_means_and_a_named_baseline(book):
    accuracies = {"tagging": {"unidirectional": [0.80, 0.82], "bidirectional": np.array([0.85, 0.86, 0.87])},
                  "sentiment": {"unidirectional": [0.70], "bidirectional": [0.72]}}
    fig = plots.seed_accuracies(accuracies, {"tagging": ("most frequent tag", 0.75),
                                             "sentiment": ("majority class", 0.5)})
    left, right = fig.axes
    dots, mean = left.get_lines()[2:4]  # the bidirectional model's seeds and mean
    np.testing.assert_array_equal(dots.get_xdata(), [1, 1, 1])
    np.testing.assert_allclose(mean.get_ydata(), [0.86, 0.86])
    assert left.get_lines()[-1].get_ydata()[0] == 0.75  # the baseline
    assert [t.get_text() for t in left.get_xticklabels()] == ["unidirectional", "bidirectional"]
    assert right.get_title() == "sentiment" and "baseline: majority class" in [t.get_text() for t in right.texts]
    _check_book_figure(fig)


def test_depth_perplexity_draws_exp_of_the_final_validation_loss_per_depth(book):
    runs = {(residual, L): History(train_loss=[3.0], valid_step=[1], valid_loss=[2.0 + (0 if residual else L)])
            for residual in (False, True) for L in (1, 2, 4)}
    ax = plots.depth_perplexity(runs, title="t")
    plain, residual = ax.get_lines()
    np.testing.assert_array_equal(plain.get_xdata(), [1, 2, 4])
    np.testing.assert_allclose(plain.get_ydata(), np.exp([3.0, 4.0, 6.0]))
    np.testing.assert_allclose(residual.get_ydata(), np.exp([2.0, 2.0, 2.0]))
    assert [plain.get_label(), residual.get_label()] == ["plain", "residual"] and ax.get_title() == "t"
    _check_book_figure(ax.figure)
    only_plain = plots.depth_perplexity({k: h for k, h in runs.items() if not k[0]})
    assert [line.get_label() for line in only_plain.get_lines()] == ["plain"]


def test_loss_curves_with_level_adds_a_dashed_reference(book):
    h = History(train_loss=[4.0, 3.5, 3.3], valid_step=[3], valid_loss=[3.3])
    ax = plots.loss_curves_with_level({"plain": h, "residual": h}, 3.31, "unigram entropy", title="t", window=2,
                                      ylabel=r"$J(\theta)$ (nats per character)")
    level = ax.get_lines()[-1]
    assert level.get_ydata()[0] == 3.31 and level.get_linestyle() == "--"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "plain: train" and labels[-1] == "unigram entropy" and ax.get_title() == "t"
    _check_book_figure(ax.figure)


# --- the figures of chapter 5 -----------------------------------------------------------------------------------


def test_lstm_gates_stacks_four_heatmaps_and_leaves_the_trace_alone(book):
    rng = np.random.default_rng(0)
    text = "AB:\nab c"
    trace = {k: rng.uniform(size=(len(text), 5)) for k in "fio"}
    trace["c"] = rng.normal(size=(len(text), 5))
    before = trace["c"].copy()
    fig = plots.lstm_gates(trace, [3, 1], text)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 4 and len(fig.axes) == 6  # and two colour bars
    np.testing.assert_array_equal(panels[0].images[0].get_array(), trace["f"][:, [3, 1]].T)
    cell = panels[3].images[0].get_array()
    np.testing.assert_allclose(np.abs(cell).max(axis=1), [1.0, 1.0])  # each unit divided by its largest |c|
    np.testing.assert_array_equal(trace["c"], before)
    assert [t.get_text() for t in panels[0].get_yticklabels()] == ["unit 3", "unit 1"]
    assert [t.get_text() for t in panels[3].get_xticklabels()] == list("AB:⏎ab␣c")
    _check_book_figure(fig)
    with pytest.raises(ValueError, match="one row per character"):
        plots.lstm_gates(trace, [0], text[:-1])


def test_cell_tracks_draws_the_cell_and_the_rescaled_property(book):
    c, f = np.array([0.0, 1.0, 2.0, 1.0]), np.array([0.0, 1.0, 1.0, 0.0])
    fig = plots.cell_tracks({"line position": (7, 0.5, c, f), "speaker line": (2, -0.25, -c, f)}, [2], "quick")
    top, bottom = fig.axes
    np.testing.assert_array_equal(top.get_lines()[0].get_ydata(), c)
    rescaled = top.get_lines()[1].get_ydata()
    assert rescaled.mean() == pytest.approx(c.mean()) and rescaled.std() == pytest.approx(c.std())
    assert bottom.get_title(loc="left") == "unit 2 and the speaker line: $r = -0.25$ (quick)"
    assert len(top.get_lines()) == 3  # and a newline
    _check_book_figure(fig)


def test_cell_settings_draws_a_grid_of_panels_with_one_legend(book):
    c_tilde = np.array([0.0, 1.0, 0.0])
    runs = {f"$f = {f}$": (np.array([f, f, f]), np.tanh([f, f, f])) for f in (1, 0.5, 0.8)}
    fig = plots.cell_settings(runs, c_tilde, c0=1.0)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == 3 and fig.get_size_inches()[0] <= plots.BOOK_WIDTH
    np.testing.assert_array_equal(shown[1].get_lines()[1].get_ydata(), [1.0, 0.5, 0.5, 0.5])  # c(0), then c(t)
    assert len(fig.legends) == 1 and shown[2].get_title() == "$f = 0.8$"
    _check_book_figure(fig)


def test_state_gradient_panels_colours_models_and_styles_states(book):
    lstm, rnn = {"c": np.array([1.0, 0.5]), "h": np.array([1.0, 0.2])}, {"h": np.array([1.0, 0.01])}
    styles = {"LSTM, b_f = 1": ("LSTM, $b_f = 1$", "C1"), "trained LSTM": ("LSTM, $b_f = 1$", "C1"),
              "RNN": ("vanilla RNN", "k")}
    fig = plots.state_gradient_panels({"at initialisation": {"LSTM, b_f = 1": lstm, "RNN": rnn},
                                       "after training": {"trained LSTM": lstm, "RNN": rnn}}, styles)
    left, right = fig.axes
    assert [line.get_linestyle() for line in left.get_lines()] == ["-", "--", "--"]
    np.testing.assert_array_equal(right.get_lines()[2].get_ydata(), [1.0, 0.01])
    assert left.get_yscale() == "log" and right.get_title() == "after training"
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[:2] == ["LSTM, $b_f = 1$", "vanilla RNN"] and len(legend) == 4
    _check_book_figure(fig)
