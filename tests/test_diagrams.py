"""The architecture diagrams: well-formed, accessible SVG that stays inside its viewBox, shows the labels its
idea needs, and matches the committed files in chapters/diagrams/ (what ``python -m lecture_code.diagrams
--check`` enforces)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from lecture_code import diagrams
from lecture_code.diagrams import ALT, DIAGRAMS, TITLES, Run, h, main, parse_label, plain_text, stale, write_all

SVG = "{http://www.w3.org/2000/svg}"
NAMES = list(DIAGRAMS)

# What each diagram must show, written in the diagrams' own label syntax: LABELS are the whole text of one <text>
# element (a state in its box, a weight on its arrow: a legend that mentions it does not count), PHRASES a part of one.
LABELS = {
    "rnn_lm_unrolled": [*(h(str(t)) for t in range(5)), *(rf"$\hat{{\mathbf{{y}}}}^{{({t})}}$" for t in range(1, 5)),
                        r"$\mathbf{e}^{(1)}$", r"$\mathbf{x}^{(4)}$", r"$\mathbf{W}_h$", r"$\mathbf{W}_e$",
                        r"$\mathbf{E}$", r"$\mathbf{U}$", "the", "students", "opened", "their"],
    "teacher_forcing_vs_generation": [*(f"$J^{{({t})}}$" for t in range(1, 5)), "exams", "sample", "my", "favorite",
                                      "season", "spring"],
    "bptt_paths": [r"$J^{(4)}$", *(h(str(t)) for t in range(5)),
                   *(rf"$\partial\mathbf{{h}}^{{({t})}}/\partial\mathbf{{h}}^{{({t - 1})}}$" for t in range(2, 5)),
                   *(rf"$\partial J^{{(4)}}/\partial\mathbf{{W}}_h|_{{({i})}}$" for i in range(1, 5)),
                   r"$\partial J^{(4)}/\partial\mathbf{W}_h$", r"$\partial J^{(4)}/\partial\mathbf{h}^{(4)}$"],
    "lstm_cell": [r"$\mathbf{f}^{(t)}$", r"$\mathbf{i}^{(t)}$", r"$\mathbf{o}^{(t)}$", r"$\tilde{\mathbf{c}}^{(t)}$",
                  r"$\mathbf{c}^{(t-1)}$", r"$\mathbf{c}^{(t)}$", h("t-1"), h("t"), r"$\mathbf{x}^{(t)}$", r"$\sigma$",
                  r"$\tanh$", r"$\odot$", "+"],
    "gru_cell": [r"$\mathbf{u}^{(t)}$", r"$\mathbf{r}^{(t)}$", r"$\tilde{\mathbf{h}}^{(t)}$", h("t-1"), h("t"),
                 r"$\mathbf{x}^{(t)}$", r"$1 - \mathbf{u}^{(t)}$", r"$\mathbf{W}_c$", r"$\tanh$", r"$\sigma$"],
    "bidirectional": [*(h(str(t)) for t in range(1, 5)), "movie", "was", "terribly", "exciting", "forward RNN",
                      "backward RNN"],
    "stacked": [*(h(str(t), str(i)) for t in range(1, 5) for i in range(1, 4)), r"$\mathbf{x}^{(1)}$", "layer 3"],
    "residual_stacked": [*(h(str(t), str(i)) for t in range(1, 5) for i in range(1, 4)), r"$\text{RNN}_2$",
                         r"$\text{RNN}_3$", "+"],
    "encoder_decoder": ["1", "0", "4", "<bos>", "one", "hundred", "four", "<eos>", h("0")],
}
PHRASES = {
    "rnn_lm_unrolled": ["every step"],
    "teacher_forcing_vs_generation": ["teacher forcing", "prompt", "never fed back"],
    "bptt_paths": ["sum"],
    "lstm_cell": [r"$\mathbf{W}_f$", r"$\mathbf{U}_f$", "cell state"],
    "gru_cell": [r"$\mathbf{b}_{rc}$", r"$\mathbf{U}_u$"],
    "bidirectional": ["separate weights"],
    "stacked": [r"$\text{RNN}_i$"],
    "residual_stacked": ["skip connection"],
    "encoder_decoder": ["encoder", "decoder"],
}


@pytest.fixture(scope="module")
def drawn() -> dict[str, ET.Element]:
    return {name: ET.fromstring(draw()) for name, draw in DIAGRAMS.items()}


def _texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def _viewbox(root: ET.Element) -> tuple[float, float]:
    x0, y0, w, h_ = map(float, root.get("viewBox").split())
    assert (x0, y0) == (0, 0)
    return w, h_


def test_every_diagram_has_a_title_and_alt_text():
    assert set(DIAGRAMS) == set(ALT) == set(TITLES)
    assert len(NAMES) == 9


@pytest.mark.parametrize("name", NAMES)
def test_is_accessible_svg(drawn, name):
    root = drawn[name]
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text == TITLES[name] and len(title.text) > 10
    assert desc is not None and desc.text == ALT[name]
    assert len(desc.text) > 100 and desc.text[0].isupper() and desc.text.endswith(".")  # full sentences
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    assert set(root.get("aria-labelledby").split()) == {title.get("id"), desc.get("id")} <= ids


@pytest.mark.parametrize("name", NAMES)
def test_scales_to_the_text_column(drawn, name):
    root = drawn[name]
    w, h_ = _viewbox(root)
    assert w == 750 and 200 < h_ < 800
    assert root.get("width") == "100%" and root.get("height") is None
    assert "max-width:750px" in root.get("style")
    assert "serif" in root.get("font-family")


@pytest.mark.parametrize("name", NAMES)
def test_no_text_smaller_than_13px(drawn, name):
    texts = list(drawn[name].iter(f"{SVG}text"))
    assert texts
    sizes = [float(t.get("font-size")) for t in texts]  # every text element sets its size
    sizes += [float(s.get("font-size")) for t in texts for s in t.iter(f"{SVG}tspan") if s.get("font-size")]
    assert min(sizes) >= 13


def _path_points(d: str) -> list[tuple[float, float]]:
    assert re.fullmatch(r"[MLQ0-9., -]+", d), d  # absolute commands only, so every pair is a point
    nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", d)]
    return list(zip(nums[::2], nums[1::2], strict=True))


@pytest.mark.parametrize("name", NAMES)
def test_everything_lies_inside_the_viewbox(drawn, name):
    root = drawn[name]
    w, h_ = _viewbox(root)

    def inside(x: float, y: float, what: str) -> None:
        assert 0 <= x <= w and 0 <= y <= h_, f"{name}: {what} at ({x}, {y}) is outside 0..{w} x 0..{h_}"

    for r in root.iter(f"{SVG}rect"):
        x, y, rw, rh = (float(r.get(k)) for k in ("x", "y", "width", "height"))
        inside(x, y, "rect corner")
        inside(x + rw, y + rh, "rect corner")
    for c in root.iter(f"{SVG}circle"):
        cx, cy, r = (float(c.get(k)) for k in ("cx", "cy", "r"))
        inside(cx - r, cy - r, "circle")
        inside(cx + r, cy + r, "circle")
    for p in root.iter(f"{SVG}path"):
        if p.get("fill") == "none":  # lines, not the arrowheads inside <marker>
            for x, y in _path_points(p.get("d")):
                inside(x, y, "path point")
    for t in root.iter(f"{SVG}text"):
        x, y, size = float(t.get("x")), float(t.get("y")), float(t.get("font-size"))
        width = 0.4 * size * len("".join(t.itertext()))  # a low estimate of the rendered width
        left = {"start": x, "middle": x - width / 2, "end": x - width}[t.get("text-anchor", "start")]
        inside(left, y - 0.7 * size, "text")
        inside(left + width, y, "text")


@pytest.mark.parametrize("name", NAMES)
def test_shows_the_labels_its_idea_needs(drawn, name):
    texts = _texts(drawn[name])
    missing = [label for label in LABELS[name] if plain_text(label) not in texts]
    missing += [phrase for phrase in PHRASES[name] if not any(plain_text(phrase) in t for t in texts)]
    assert not missing, f"{name} lacks {missing}"


def test_the_required_labels_check_can_fail(drawn):
    texts = _texts(drawn["lstm_cell"])
    assert plain_text(r"$\tilde{\mathbf{h}}^{(t)}$") not in texts  # the GRU's candidate, not the LSTM's
    assert plain_text(r"$\mathbf{W}_f$") not in texts  # only inside the legend's equation


def test_bidirectional_marks_each_direction_with_an_arrow(drawn):
    classes = [p.get("class") for p in drawn["bidirectional"].iter(f"{SVG}path") if p.get("class")]
    assert classes.count("vec→") == 5 and classes.count("vec←") == 5  # four states and the legend, each way


def test_encoder_decoder_spells_what_seq2seq_spells(drawn):
    from lecture_code.seq2seq import BOS, EOS, number_to_digits, number_to_words

    texts, spelled = _texts(drawn["encoder_decoder"]), number_to_words(104)
    words = [t for t in texts if t in {BOS, EOS, *spelled}]
    assert words == [BOS, *spelled, *spelled, EOS]  # the decoder's inputs, then its outputs
    assert [t for t in texts if t in set("0123456789")] == number_to_digits(104)


def test_gru_uses_the_names_of_numpy_lstm():
    from lecture_code import numpy_lstm

    doc = numpy_lstm.__doc__
    for name in ("u(t) = σ(W_u", "r(t) = σ(W_r", "h̃(t) = tanh(U_c x(t) + b_c + r(t) ⊙ (W_c h(t-1) + b_rc))"):
        assert name in doc


@pytest.mark.parametrize("name", NAMES)
def test_markers_resolve_and_ids_are_prefixed(drawn, name):
    root = drawn[name]
    ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids)) and all(i.startswith(f"{name}-") for i in ids)  # unique on a shared page
    refs = {m for el in root.iter() for m in re.findall(r"url\(#([^)]+)\)", el.get("marker-end", ""))}
    assert refs and refs <= set(ids)


def test_drawing_is_deterministic_and_compact():
    for name, draw in DIAGRAMS.items():
        svg = draw()
        assert svg == draw()
        assert svg.endswith("</svg>\n") and "\r" not in svg
        assert not re.search(r"\d\.\d{3}|e-\d|\b-0\b|nan|inf", svg), name  # coordinates have at most 2 decimals
        assert len(svg.encode()) < 30_000


def test_parse_label():
    assert parse_label(r"$\mathbf{W}_h$ is") == [Run("W", "bf", 0), Run("h", "it", -1), Run(" is", "sans", 0)]
    assert parse_label(r"$J^{(t-1)}$") == [Run("J", "it", 0), Run("(", "rm", 1), Run("t", "it", 1), Run("−1)", "rm", 1)]
    assert plain_text(r"$\tilde{\mathbf{c}}^{(t)}$") == "c\u0303(t)"
    assert plain_text(r"$\hat{\mathbf{y}}$") == "ŷ"  # NFC: the precomposed letter
    assert parse_label(r"$\overrightarrow{\mathbf{h}}$")[0].arrow == "→"
    assert plain_text(r"$\partial J$") == "∂J"
    for bad in [r"$\mathbf{h$", r"$a}$", r"$\mathbb{R}$", r"$\mathbf h$"]:
        with pytest.raises(ValueError):
            parse_label(bad)


def test_committed_files_are_up_to_date():
    assert stale() == [], "run: python -m lecture_code.diagrams"


def test_check_reports_missing_changed_and_extra_files(tmp_path, capsys):
    write_all(tmp_path)
    assert main(["--check", "--out", str(tmp_path)]) == 0
    lstm = tmp_path / "lstm_cell.svg"
    lstm.write_text(lstm.read_text().replace("f", "g", 1))
    (tmp_path / "gru_cell.svg").unlink()
    (tmp_path / "old_diagram.svg").write_text("<svg/>")
    assert main(["--check", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "lstm_cell.svg: differs" in out and "gru_cell.svg: missing" in out and "old_diagram.svg" in out
    assert "stacked.svg" not in out
    assert main(["--out", str(tmp_path)]) == 0  # regenerating fixes the two diagrams (the stray file stays)
    assert stale(tmp_path) == [f"{tmp_path / 'old_diagram.svg'}: no diagram draws it"]


def test_default_folder_is_the_books():
    assert diagrams.DEFAULT_DIR.parts[-2:] == ("chapters", "diagrams")
