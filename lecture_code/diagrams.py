"""The book's architecture diagrams, drawn from code as hand-written SVG.

Each diagram is a function that returns an SVG document as a string. There is no plotting library in
between, so the output is the same, byte for byte, on every machine and version; the labels stay real
text (sharp at any zoom, searchable, read by screen readers through the ``<title>`` and ``<desc>``); and
the files are a few kilobytes.

The file has two layers:

- a tiny drawing layer: :class:`Canvas` (boxes, circles, arrows with ``<marker>`` heads, labels) and
  :func:`parse_label`, which reads labels written like the book's MyST (``"the $\\mathbf{h}^{(t)}$"``:
  words outside ``$``, TeX-like math inside, with sub- and superscripts, bold vectors, italic letters);
- one function per diagram, registered in :data:`DIAGRAMS`, with its alt text in :data:`ALT`.

Every diagram uses the same conventions: hidden states are rounded boxes (blue; a second RNN teal),
inputs green, outputs orange, losses and gradients red; a layer (σ, tanh, a weight matrix) is a yellow
box, an element-wise operation a pink circle, and weights are labels on the arrows they act along. The
drawing is 750 units wide, the width of the book's text column, so one unit is one pixel there.

``python -m lecture_code.diagrams`` writes every diagram to ``chapters/diagrams/NAME.svg``;
``python -m lecture_code.diagrams --check`` exits 1 if a committed file differs from what the code draws.
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from xml.sax.saxutils import escape, quoteattr

WIDTH = 750
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "chapters" / "diagrams"
# Text fonts with real bold and italic first; then fonts that have ⊙ and the combining tilde (Liberation lacks them).
MATH_FONT = ("'STIX Two Text', Cambria, 'Times New Roman', 'Liberation Serif', 'DejaVu Serif', 'STIX Two Math', "
             "'Cambria Math', serif")
SANS_FONT = "'Helvetica Neue', Helvetica, Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif"
MIN_FONT = 13  # no text smaller than this, in pixels at the 750 px design width
MATH, WORD, NOTE = 19, 15, 14  # font sizes: math labels, words, explanatory notes

INK, MUTED = "#1f2937", "#4b5563"
COLORS = {  # arrow and text colours: mid-tones that read on the white card in light and dark themes
    "gray": "#6b7280", "blue": "#2563eb", "teal": "#0d9488", "green": "#16a34a", "orange": "#ea580c",
    "red": "#dc2626", "amber": "#b45309", "pink": "#db2777", "purple": "#7c3aed",
}
KINDS = {  # box and circle styles: (fill, stroke colour name)
    "hidden": ("#dbeafe", "blue"), "back": ("#ccfbf1", "teal"), "input": ("#dcfce7", "green"),
    "output": ("#ffedd5", "orange"), "loss": ("#fee2e2", "red"), "layer": ("#fef3c7", "amber"),
    "op": ("#fce7f3", "pink"), "word": ("#f3f4f6", "gray"), "cell": ("#f8fafc", "gray"),
}

# ---------------------------------------------------------------------------------------------------------
# Labels: "words $math$ words", with a small TeX-like math syntax.
# ---------------------------------------------------------------------------------------------------------

class Run(NamedTuple):
    """A stretch of a label in one style: ``style`` is "sans", "it", "rm" or "bf"; ``level`` is -1 (subscript),
    0 or 1 (superscript); ``arrow`` is "→" or "←" for a vector arrow drawn over the run, else ""."""

    text: str
    style: str
    level: int
    arrow: str = ""


SYMBOLS = {"odot": "⊙", "sigma": "σ", "partial": "∂", "sum": "∑", "ldots": "…", "cdot": "·", "times": "×", "to": "→",
           ",": "\u2009", ";": " ", "quad": "\u2003"}
PREFIXES = {"partial", "sum"}  # symbols that bind to what follows: spaces after them are dropped, as in TeX
FUNCTIONS = {"tanh", "log", "softmax", "exp"}  # upright, like \tanh in TeX
ACCENTS = {"tilde": "\u0303", "hat": "\u0302"}  # combining characters: small marks that every font places well
ARROWS = {"overrightarrow": "→", "overleftarrow": "←"}  # drawn as lines: combining arrows are too small to read
FONTS = {"mathbf": "bf", "mathrm": "rm", "text": "sans"}


def parse_label(src: str) -> list[Run]:
    """Split a label into styled runs: words outside ``$...$`` (sans), math inside.

    Math follows TeX where it can: Latin letters are italic, digits and symbols upright, ``^`` and ``_``
    take one character or a ``{group}``, ``\\mathbf{h}`` is bold (the book's vectors and matrices), ``\\tilde``
    and ``\\hat`` put an accent on their argument, ``\\overrightarrow`` and ``\\overleftarrow`` an arrow, and
    ``-`` is a minus sign. Unlike TeX, spaces are kept (except after ``\\partial`` and ``\\sum``: ∂J, not ∂ J).
    An unknown command raises ValueError.
    """
    runs: list[Run] = []
    for k, part in enumerate(src.split("$")):
        if k % 2 == 0:
            _emit(runs, part, "sans", 0)
        else:
            if _parse_math(part, 0, runs, None, 0) != len(part):
                raise ValueError(f"unbalanced braces in {src!r}")
    return [r._replace(text=unicodedata.normalize("NFC", r.text)) for r in runs if r.text]


def _emit(runs: list[Run], text: str, style: str, level: int) -> None:
    if runs and (runs[-1].style, runs[-1].level, runs[-1].arrow) == (style, level, ""):
        runs[-1] = runs[-1]._replace(text=runs[-1].text + text)
    elif text:
        runs.append(Run(text, style, level))


def _parse_math(src: str, i: int, runs: list[Run], font: str | None, level: int, group: bool = False) -> int:
    """Parse math from src[i] up to the end, or (``group``) up to and including its closing brace."""
    while i < len(src) and src[i] != "}":
        i = _parse_atom(src, i, runs, font, level)
    if group:
        if i == len(src):
            raise ValueError(f"unbalanced braces in {src!r}")
        return i + 1
    return i


def _parse_atom(src: str, i: int, runs: list[Run], font: str | None, level: int) -> int:
    ch = src[i]
    if ch in "^_":
        return _parse_atom(src, i + 1, runs, font, 1 if ch == "^" else -1)
    if ch == "{":
        return _parse_math(src, i + 1, runs, font, level, group=True)
    if ch != "\\":
        style = font or ("it" if ch.isascii() and ch.isalpha() else "rm")
        _emit(runs, "−" if ch == "-" else ch, style, level)
        return i + 1
    j = i + 1
    while j < len(src) and src[j].isalpha():
        j += 1
    name = src[i + 1 : j] if j > i + 1 else src[i + 1 : i + 2]
    j = max(j, i + 2)
    if name in SYMBOLS or name in FUNCTIONS:
        _emit(runs, SYMBOLS.get(name, name), font or "rm", level)
        while name in PREFIXES and j < len(src) and src[j] == " ":  # ∂J, not ∂ J
            j += 1
        return j
    if name in FONTS or name in ACCENTS or name in ARROWS:
        if j >= len(src) or src[j] != "{":
            raise ValueError(f"\\{name} needs a {{group}} in {src!r}")
        start = len(runs)
        runs.append(Run("", "", level))  # a fresh run: the argument must not merge into the text before it
        j = _parse_math(src, j + 1, runs, FONTS.get(name, font), level, group=True)
        del runs[start]
        if name in ACCENTS:
            runs[-1] = runs[-1]._replace(text=runs[-1].text + ACCENTS[name])
        if name in ARROWS:
            runs[start] = runs[start]._replace(arrow=ARROWS[name])
        return j
    raise ValueError(f"unknown command \\{name} in {src!r}")


def plain_text(label: str) -> str:
    """The characters of a label as they end up in the SVG (what a reader can search for)."""
    return "".join(r.text for r in parse_label(label))


def script_size(size: float) -> float:
    """Font size of sub- and superscripts: three quarters of the base, never below :data:`MIN_FONT`."""
    return max(MIN_FONT, round(0.74 * size, 1))


def text_width(label: str, size: float) -> float:
    """A rough width of a rendered label in pixels (serif and sans alike), for layout and checks."""
    return _runs_width(parse_label(label), size)


def _runs_width(runs: Sequence[Run], size: float) -> float:
    total = 0.0
    for text, style, level, _ in runs:
        s = script_size(size) if level else size
        for ch in text:
            if unicodedata.combining(ch):
                continue
            w = 0.3 if ch in "ijlft()[]|,.;:' 1\u2009" else 0.82 if ch in "mwMW⊙" else 0.68 if ch.isupper() else 0.52
            total += w * s * (1.06 if style == "bf" else 1.0)
    return total


# ---------------------------------------------------------------------------------------------------------
# The drawing layer.
# ---------------------------------------------------------------------------------------------------------


def _n(v: float) -> str:
    """A coordinate as compact, deterministic text: at most two decimals, no trailing zeros, no -0."""
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


@dataclass(frozen=True)
class Box:
    """A rectangle by its centre and size, with the midpoints of its sides for arrows to start or end at."""

    cx: float
    cy: float
    w: float
    h: float

    @property
    def top(self) -> tuple[float, float]:
        return self.cx, self.cy - self.h / 2

    @property
    def bottom(self) -> tuple[float, float]:
        return self.cx, self.cy + self.h / 2

    @property
    def left(self) -> tuple[float, float]:
        return self.cx - self.w / 2, self.cy

    @property
    def right(self) -> tuple[float, float]:
        return self.cx + self.w / 2, self.cy


def circle_box(cx: float, cy: float, r: float) -> Box:
    """A circle as a :class:`Box` (its side midpoints are the circle's top, bottom, left and right)."""
    return Box(cx, cy, 2 * r, 2 * r)


class Canvas:
    """An SVG document under construction: elements are drawn in the order they are added."""

    def __init__(self, name: str, height: float) -> None:
        self.name, self.height = name, height
        self.body: list[str] = []
        self.heads: set[str] = set()

    def text(self, x: float, y: float, label: str, size: float = MATH, anchor: str = "middle",
             color: str = INK, bold: bool = False) -> None:
        """A label whose baseline starts (or centres, or ends) at (x, y). See :func:`parse_label`.

        A label with vector arrows is cut into pieces that each start with the arrowed letter, so that each
        arrow is drawn exactly over its letter; only the gaps between pieces rest on estimated widths.
        """
        runs = parse_label(label)
        if not any(r.arrow for r in runs):
            self.body.append(self._text_element(x, y, runs, size, anchor, color, bold))
            return
        x0 = x - {"start": 0, "middle": 0.5, "end": 1}[anchor] * _runs_width(runs, size)
        cuts = [k for k, r in enumerate(runs) if r.arrow or k == 0] + [len(runs)]
        for a, b in itertools.pairwise(cuts):
            piece = runs[a:b]
            self.body.append(self._text_element(x0, y, piece, size, "start", color, bold))
            if piece[0].arrow:
                w = _runs_width(piece[:1], size)
                x1, x2, ya = x0 + 0.5, x0 + w + 0.5, y - 0.98 * size
                tip, back = (x2, x2 - 3.5) if piece[0].arrow == "→" else (x1, x1 + 3.5)
                self.body.append(f'<path d="M{_n(x1)},{_n(ya)} L{_n(x2)},{_n(ya)} M{_n(back)},{_n(ya - 2.5)} '
                                 f'L{_n(tip)},{_n(ya)} L{_n(back)},{_n(ya + 2.5)}" fill="none" stroke="{color}" '
                                 f'stroke-width="1.3" class="vec{piece[0].arrow}"/>')
            x0 += _runs_width(piece, size) + 1.5

    @staticmethod
    def _text_element(x: float, y: float, runs: Sequence[Run], size: float, anchor: str, color: str,
                      bold: bool) -> str:
        all_sans = all(r.style == "sans" for r in runs)
        attrs = f'x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}"'
        if anchor != "start":
            attrs += f' text-anchor="{anchor}"'
        if all_sans:
            attrs += f" font-family={quoteattr(SANS_FONT)}"
        if color != INK:
            attrs += f' fill="{color}"'
        if bold:
            attrs += ' font-weight="bold"'
        parts, shift, prev = [], 0.0, None
        for run in runs:
            target = {1: -0.36, 0: 0.0, -1: 0.22}[run.level] * size
            a = []
            if prev is not None and prev.level == -1 and run.level == 1:  # stack a superscript over a subscript
                a.append(f'dx="{_n(-_runs_width([prev], size))}"')
            elif prev is not None and prev.arrow:  # room for the arrow's head
                a.append('dx="1.5"')
            if target != shift:
                a.append(f'dy="{_n(target - shift)}"')
                shift = target
            if run.level:
                a.append(f'font-size="{_n(script_size(size))}"')
            if run.style == "sans" and not all_sans:
                a.append(f"font-family={quoteattr(SANS_FONT)}")
            a += {"it": ['font-style="italic"'], "bf": [] if bold else ['font-weight="bold"']}.get(run.style, [])
            parts.append(f"<tspan {' '.join(a)}>{escape(run.text)}</tspan>" if a else escape(run.text))
            prev = run
        return f"<text {attrs}>{''.join(parts)}</text>"

    def rect(self, cx: float, cy: float, w: float, h: float, kind: str = "hidden", rx: float = 8,
             dashed: bool = False) -> Box:
        """A rounded rectangle in the style ``kind`` (see :data:`KINDS`); returns its :class:`Box`."""
        fill, stroke = KINDS[kind]
        dash = ' stroke-dasharray="5 4"' if dashed else ""
        self.body.append(f'<rect x="{_n(cx - w / 2)}" y="{_n(cy - h / 2)}" width="{_n(w)}" height="{_n(h)}" '
                         f'rx="{_n(rx)}" fill="{fill}" stroke="{COLORS[stroke]}" stroke-width="1.6"{dash}/>')
        return Box(cx, cy, w, h)

    def box(self, cx: float, cy: float, label: str, kind: str = "hidden", w: float = 70, h: float = 38,
            size: float = MATH) -> Box:
        """A state or layer: a rounded rectangle with a centred label."""
        b = self.rect(cx, cy, w, h, kind)
        self.text(cx, cy + 0.33 * size, label, size)
        return b

    def word(self, cx: float, cy: float, word: str, kind: str = "word", size: float = WORD) -> Box:
        """A token of text in a small box as wide as the word."""
        return self.box(cx, cy, word, kind, w=max(40, text_width(word, size) + 18), h=28, size=size)

    def op(self, cx: float, cy: float, label: str, r: float = 13, size: float = 20) -> Box:
        """An element-wise operation (⊙, +, tanh...): a small circle with its symbol."""
        fill, stroke = KINDS["op"]
        self.body.append(f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}" fill="{fill}" '
                         f'stroke="{COLORS[stroke]}" stroke-width="1.6"/>')
        self.text(cx, cy + 0.33 * size, label, size)
        return circle_box(cx, cy, r)

    def dot(self, x: float, y: float, color: str = "gray") -> None:
        """A junction: where one line splits into two."""
        self.body.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3.5" fill="{COLORS[color]}"/>')

    def line(self, points: Sequence[tuple[float, float]], color: str = "gray", head: bool = True,
             dashed: bool = False, width: float = 1.6, bridge: bool = False, radius: float = 10) -> None:
        """A polyline with rounded corners, ending in an arrowhead whose tip is exactly at the last point.

        ``bridge=True`` first draws a wide white line under it, so that where it crosses a line drawn
        earlier, that line shows a gap (read: this line passes over, the two do not meet).
        """
        pts = [tuple(map(float, p)) for p in points]
        if head:  # end the stroke 6 px short: the head (10 px, drawn from 4 px behind the line's end) covers it
            (x0, y0), (x1, y1) = pts[-2], pts[-1]
            d = math.hypot(x1 - x0, y1 - y0)
            pts[-1] = (x1 - 6 * (x1 - x0) / d, y1 - 6 * (y1 - y0) / d)
            self.heads.add(color)
        path = f"M{_n(pts[0][0])},{_n(pts[0][1])}"
        for k in range(1, len(pts) - 1):
            (xa, ya), (xb, yb), (xc, yc) = pts[k - 1], pts[k], pts[k + 1]
            la, lc = math.hypot(xb - xa, yb - ya), math.hypot(xc - xb, yc - yb)
            r = min(radius, la / 2, lc / 2)
            p = (xb - r * (xb - xa) / la, yb - r * (yb - ya) / la)
            q = (xb + r * (xc - xb) / lc, yb + r * (yc - yb) / lc)
            path += f" L{_n(p[0])},{_n(p[1])} Q{_n(xb)},{_n(yb)} {_n(q[0])},{_n(q[1])}"
        path += f" L{_n(pts[-1][0])},{_n(pts[-1][1])}"
        if bridge:
            self.body.append(f'<path d="{path}" fill="none" stroke="#ffffff" stroke-width="{_n(width + 7)}"/>')
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        end = f' marker-end="url(#{self.name}-head-{color})"' if head else ""
        self.body.append(f'<path d="{path}" fill="none" stroke="{COLORS[color]}" stroke-width="{_n(width)}"'
                         f'{dash}{end}/>')

    def render(self) -> str:
        """The finished SVG document (ending in a newline)."""
        height, name = self.height, self.name
        heads = "".join(
            f'<marker id="{name}-head-{c}" viewBox="0 0 10 10" refX="4" refY="5" markerWidth="10" '
            f'markerHeight="10" markerUnits="userSpaceOnUse" orient="auto">'
            f'<path d="M0,0.5 L10,5 L0,9.5 z" fill="{COLORS[c]}"/></marker>\n'
            for c in sorted(self.heads)
        )
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {_n(height)}" width="100%" '
            f'style="max-width:{WIDTH}px;height:auto" role="img" aria-labelledby="{name}-title {name}-desc" '
            f'font-family={quoteattr(MATH_FONT)} fill="{INK}">\n'
            f'<title id="{name}-title">{escape(TITLES[name])}</title>\n'
            f'<desc id="{name}-desc">{escape(ALT[name])}</desc>\n'
            f"<defs>\n{heads}</defs>\n"
            f'<rect x="1" y="1" width="{WIDTH - 2}" height="{_n(height - 2)}" rx="12" fill="#ffffff" '
            'stroke="#e5e7eb"/>\n'
            + "\n".join(self.body)
            + "\n</svg>\n"
        )


def h(t: str, sub: str = "", accent: str = "") -> str:
    """The math label of a state such as h^(t), h_1^(t) or an accented h (``accent="overrightarrow"``)."""
    base = r"\mathbf{h}" if not accent else rf"\{accent}{{\mathbf{{h}}}}"
    return f"${base}{'_' + sub if sub else ''}^{{({t})}}$"


# ---------------------------------------------------------------------------------------------------------
# The diagrams.
# ---------------------------------------------------------------------------------------------------------

TITLES = {
    "rnn_lm_unrolled": "The simple RNN language model, unrolled over four steps",
    "teacher_forcing_vs_generation": "Teacher forcing in training, and generation by repeated sampling",
    "bptt_paths": "Backpropagation through time: the gradient paths to the repeated weight",
    "lstm_cell": "The LSTM cell",
    "gru_cell": "The GRU cell",
    "bidirectional": "A bidirectional RNN",
    "stacked": "A three-layer stacked RNN",
    "residual_stacked": "A three-layer stacked RNN with residual (skip) connections",
    "encoder_decoder": "An encoder-decoder: a conditional RNN language model that spells numbers",
}

ALT = {
    "rnn_lm_unrolled": (
        "The RNN language model unrolled over the four words 'the students opened their'. Each word is a "
        "one-hot vector x(t), mapped by E to an embedding e(t); the hidden state h(t) is computed from the "
        "previous state h(t−1) through W_h and from e(t) through W_e, starting from h(0); and U maps each h(t) "
        "to an output distribution ŷ(t) over the next word. The same W_h, W_e, E and U are used at every step."
    ),
    "teacher_forcing_vs_generation": (
        "Two rows of an unrolled RNN language model. Top, training with teacher forcing: the inputs are the "
        "true words 'the students opened their', and at each step the output ŷ(t) is scored against the true "
        "next word ('students opened their exams') with a loss J(t); J is the mean of the four losses. Bottom, "
        "generation: from the prompt 'my', each step samples a word from ŷ(t) ('favorite season is spring') "
        "and feeds it back as the next step's input."
    ),
    "bptt_paths": (
        "Backpropagation through time over four steps. The forward pass runs h(0) to h(4), each step through "
        "its own occurrence W_h|(i) of the shared matrix W_h. The loss J(4) sends its gradient into h(4) and back "
        "through h(3), h(2) and h(1), multiplied at each step by the Jacobian ∂h(t)/∂h(t−1). At each occurrence "
        "the gradient gives a contribution ∂J(4)/∂W_h|(i), and the four contributions are summed into the "
        "gradient ∂J(4)/∂W_h."
    ),
    "lstm_cell": (
        "The LSTM cell at step t. Across the top, the cell state runs like a conveyor belt from c(t−1) to c(t): "
        "it is multiplied element-wise by the forget gate f(t), and the input gate times the candidate, "
        "i(t) ⊙ c̃(t), is added to it. Along the bottom, h(t−1) and the input x(t) feed three sigmoid gates f(t), "
        "i(t) and o(t) and the tanh candidate c̃(t). The new hidden state is h(t) = o(t) ⊙ tanh c(t)."
    ),
    "gru_cell": (
        "The GRU cell at step t, as torch.nn.GRU computes it. Across the top, the hidden state runs from h(t−1) "
        "to h(t): it is multiplied element-wise by 1 − u(t), and u(t) ⊙ h̃(t) is added to it. From h(t−1) and the "
        "input x(t), sigmoid layers compute the update gate u(t) and the reset gate r(t); the reset gate "
        "multiplies W_c h(t−1) + b_rc, and a tanh layer of that and x(t) gives the candidate h̃(t)."
    ),
    "bidirectional": (
        "A bidirectional RNN over the four words 'movie was terribly exciting'. A forward RNN reads them left to "
        "right, giving states h→(1) to h→(4); a backward RNN with separate weights reads them right to left, "
        "giving h←(4) down to h←(1). At each position the two states are concatenated into "
        "h(t) = [h→(t); h←(t)], which has read the whole sentence."
    ),
    "stacked": (
        "A three-layer stacked RNN unrolled over four steps. Layer 1 reads the inputs x(t) and computes states "
        "h_1(t); layer 2 reads layer 1's states and computes h_2(t); layer 3 reads layer 2's and computes h_3(t), "
        "which the output layer reads. Each layer also passes its state to its own next step."
    ),
    "residual_stacked": (
        "The same three-layer stacked RNN with residual connections. Layer 1 computes h_1(t) from x(t). Around "
        "layers 2 and 3 a skip connection adds each layer's input to its output: h_2(t) = h_1(t) + RNN_2(…) and "
        "h_3(t) = h_2(t) + RNN_3(…). Each RNN also passes its state to its own next step."
    ),
    "encoder_decoder": (
        "An encoder-decoder that spells numbers. An encoder RNN reads the digits '1', '0', '4' one at a time. "
        "Its final state is the initial state h(0) of the decoder, an RNN language model over words. Starting "
        "from <bos>, the decoder writes 'one hundred four <eos>', each word fed back as the next input."
    ),
}


def rnn_lm_unrolled() -> str:
    """The RNN-LM over "the students opened their": x → e → h → ŷ at each step, with the shared weights labelled."""
    c = Canvas("rnn_lm_unrolled", 460)
    cols, y_out, y_h, y_e, y_x = [175, 295, 415, 535], 84, 176, 268, 348
    bars = [[5, 9, 14, 7, 20, 4], [12, 6, 18, 8, 5, 10], [7, 16, 6, 22, 9, 4], [24, 19, 8, 13, 6, 5]]
    words = ["the", "students", "opened", "their"]
    prev = c.box(55, y_h, h("0"))
    for t, (x, w) in enumerate(zip(cols, words, strict=True), start=1):
        for k, v in enumerate(bars[t - 1]):  # a small bar chart: ŷ is a distribution over the vocabulary
            c.body.append(f'<rect x="{x - 27 + 9 * k}" y="{56 - v}" width="7" height="{v}" fill="{COLORS["orange"]}" '
                          f'opacity="0.75"/>')
        out = c.box(x, y_out, rf"$\hat{{\mathbf{{y}}}}^{{({t})}}$", "output")
        hid = c.box(x, y_h, h(str(t)))
        emb = c.box(x, y_e, rf"$\mathbf{{e}}^{{({t})}}$", "input")
        one = c.box(x, y_x, rf"$\mathbf{{x}}^{{({t})}}$", "input")
        c.text(x, y_x + 48, w, WORD)
        for src, dst, weight in [(one, emb, r"\mathbf{E}"), (emb, hid, r"\mathbf{W}_e"), (hid, out, r"\mathbf{U}")]:
            c.line([src.top, dst.bottom])
            c.text(x + 8, (src.top[1] + dst.bottom[1]) / 2 + 7, f"${weight}$", anchor="start")
        c.line([prev.right, hid.left])
        c.text((prev.right[0] + hid.left[0]) / 2, y_h - 10, r"$\mathbf{W}_h$")
        prev = hid
    for y, lines in [(y_out, ["output", "distributions"]), (y_h, ["hidden states"]), (y_e, ["word", "embeddings"]),
                     (y_x, ["one-hot", "vectors"]), (y_x + 48, ["words"])]:
        for k, line in enumerate(lines):
            c.text(600, y + 5 + 17 * (k - (len(lines) - 1) / 2), line, NOTE, "start", MUTED)
    c.text(375, 440, r"The same $\mathbf{W}_h$, $\mathbf{W}_e$, $\mathbf{E}$ and $\mathbf{U}$ "
                     r"(and $\mathbf{b}_1$, $\mathbf{b}_2$) are used at every step.", 16)
    return c.render()


def _feed_back(c: Canvas, src: Box, dst: Box, x_gap: float, y_below: float) -> None:
    """A dashed green arrow: a generated word (top) becomes the next step's input (bottom), entering from below."""
    c.line([src.right, (x_gap, src.cy), (x_gap, y_below), (dst.cx, y_below), dst.bottom], "green", dashed=True)


def _lm_row(c: Canvas, y0: float, title: str, inputs: list[str], outputs: list[str], training: bool) -> None:
    """One row of :func:`teacher_forcing_vs_generation`: input words → h → ŷ → a loss, or a sample fed back."""
    cols, y_out, y_h, y_in = [200, 330, 460, 590], y0 + 170, y0 + 232, y0 + 290
    c.text(20, y0 + 22, title, WORD, "start", bold=True)
    hs = [c.box(70, y_h, h("0"))] + [c.box(x, y_h, h(str(t))) for t, x in enumerate(cols, start=1)]
    ins = [c.word(x, y_in, w) for x, w in zip(cols, inputs, strict=True)]
    for t, x in enumerate(cols, start=1):
        out = c.box(x, y_out, rf"$\hat{{\mathbf{{y}}}}^{{({t})}}$", "output")
        c.line([ins[t - 1].top, hs[t].bottom])
        c.line([hs[t].top, out.bottom])
        if training:
            loss = c.box(x, y0 + 110, f"$J^{{({t})}}$", "loss", w=58, h=32)
            c.line([out.top, loss.bottom], "red")
            target = c.word(x, y0 + 52, outputs[t - 1])
            c.line([target.bottom, loss.top])
        else:
            sample = c.word(x, y0 + 60, outputs[t - 1], "input")
            c.line([out.top, sample.bottom], "green")
            c.text(x + 8, (out.top[1] + sample.bottom[1]) / 2 + 5, "sample", NOTE, "start", COLORS["green"])
            if t < len(cols):
                _feed_back(c, sample, ins[t], x + 65, y_in + 30)
    for a, b in itertools.pairwise(hs):
        c.line([a.right, b.left], bridge=True)


def teacher_forcing_vs_generation() -> str:
    """Training (true inputs, a loss per step) above generation (each sample fed back as the next input)."""
    c = Canvas("teacher_forcing_vs_generation", 712)
    _lm_row(c, 0, "Training, with teacher forcing: every input is the true word",
            ["the", "students", "opened", "their"], ["students", "opened", "their", "exams"], training=True)
    for y, label in [(57, "true next word"), (115, "loss"), (295, "input")]:
        c.text(20, y, label, NOTE, "start", MUTED)
    c.text(375, 340, r"The loss is the mean $J = (J^{(1)} + J^{(2)} + J^{(3)} + J^{(4)})/4$; "
                     "the predictions are never fed back.", 16)
    c.body.append('<line x1="20" y1="362" x2="730" y2="362" stroke="#e5e7eb" stroke-width="1.6"/>')
    _lm_row(c, 370, "Generation: from the prompt “my”, each sampled word becomes the next input",
            ["my", "favorite", "season", "is"], ["favorite", "season", "is", "spring"], training=False)
    c.text(20, 435, "sampled word", NOTE, "start", MUTED)
    c.text(20, 665, "input", NOTE, "start", MUTED)
    return c.render()


def bptt_paths() -> str:
    """BPTT for J(4): the gradient flows back h(4) → h(1) through the step Jacobians and meets each W_h|(i)."""
    c = Canvas("bptt_paths", 500)
    xs, y = [60, 200, 340, 480, 620], 200
    hs = [c.box(x, y, h(str(i))) for i, x in enumerate(xs)]
    loss = c.box(620, 70, "$J^{(4)}$", "loss", w=64)
    c.line([(606, hs[4].top[1]), (606, loss.bottom[1])])
    c.line([(634, loss.bottom[1]), (634, hs[4].top[1])], "red")
    c.text(646, 142, r"$\partial J^{(4)}/\partial\mathbf{h}^{(4)}$", anchor="start", color=COLORS["red"])
    plus = c.op(340, 410, "+", r=16)
    for i in range(1, 5):
        a, b, mid = hs[i - 1], hs[i], (xs[i - 1] + xs[i]) / 2
        c.line([(a.right[0], y + 9), (b.left[0], y + 9)])
        c.text(mid, y + 44, rf"$\mathbf{{W}}_h|_{{({i})}}$")
        if i > 1:
            c.line([(b.left[0], y - 9), (a.right[0], y - 9)], "red")
            c.text(mid, y - 32, rf"$\partial\mathbf{{h}}^{{({i})}}/\partial\mathbf{{h}}^{{({i - 1})}}$",
                   color=COLORS["red"])
        c.line([(mid, y + 54), (mid, 304)], "red")
        c.text(mid, 328, rf"$\partial J^{{(4)}}/\partial\mathbf{{W}}_h|_{{({i})}}$", color=COLORS["red"])
        d = math.hypot(340 - mid, 410 - 342)
        c.line([(mid, 342), (340 - 16 * (340 - mid) / d, 410 - 16 * (410 - 342) / d)], "red")
    result = c.box(340, 470, r"$\partial J^{(4)}/\partial\mathbf{W}_h$", "loss", w=130, h=36)
    c.line([plus.bottom, result.top], "red")
    c.text(420, 475, "the sum over the four occurrences", NOTE, "start", MUTED)
    c.line([(20, 30), (60, 30)])
    c.text(68, 35, "forward pass", NOTE, "start", MUTED)
    c.line([(180, 30), (220, 30)], "red")
    c.text(228, 35, "gradient (backward pass)", NOTE, "start", MUTED)
    return c.render()


def _cell_frame(c: Canvas, left: str, right: str, y_top: float, y_bottom: float, x_in: float) -> None:
    """The frame shared by the LSTM and GRU cells: the cell, its entry and exit labels, and the input x(t)."""
    c.rect(375, 205, 510, 320, "cell", rx=16)
    c.text(62, y_top - 12, left)
    c.text(700, y_top - 12, right)
    c.line([(x_in, 400), (x_in, y_bottom)], "green", head=False)
    c.dot(x_in, y_bottom, "green")
    c.text(x_in, 422, r"$\mathbf{x}^{(t)}$")


def lstm_cell() -> str:
    """The LSTM cell: the c(t−1) → c(t) conveyor belt across the top, three σ gates and the tanh candidate below."""
    c = Canvas("lstm_cell", 520)
    yc, ym, yg, yb = 90, 165, 250, 335
    _cell_frame(c, r"$\mathbf{c}^{(t-1)}$", r"$\mathbf{c}^{(t)}$", yc, yb, 170)
    c.text(62, yb - 12, h("t-1"))
    c.text(700, yb - 12, h("t"))
    c.line([(20, yc), (735, yc)], "purple", width=3)
    c.text(330, yc - 12, "cell state", NOTE, color=MUTED)
    forget, add = c.op(240, yc, r"$\odot$"), c.op(420, yc, "+")
    gates = {name: c.box(x, yg, label, "layer", w=56, h=36)
             for name, x, label in [("f", 240, r"$\sigma$"), ("i", 330, r"$\sigma$"), ("c", 420, r"$\tanh$"),
                                    ("o", 530, r"$\sigma$")]}
    write, squash, read = c.op(420, ym, r"$\odot$"), c.op(620, ym, r"$\tanh$", r=21, size=15), c.op(620, yg, r"$\odot$")
    c.line([(20, yb), (530, yb), gates["o"].bottom], "blue")
    for name in "fic":
        c.line([(gates[name].cx, yb), gates[name].bottom], "blue")
        c.dot(gates[name].cx, yb, "blue")
    c.line([gates["f"].top, forget.bottom], "amber")
    c.line([gates["i"].top, (330, ym), write.left], "amber")
    c.line([gates["c"].top, write.bottom], "amber")
    c.line([write.top, add.bottom], "pink")
    c.line([gates["o"].right, read.left], "amber")
    c.dot(620, yc, "purple")
    c.line([(620, yc), squash.top], "purple")
    c.line([squash.bottom, read.top], "pink")
    c.line([read.bottom, (620, yb), (735, yb)], "blue")
    c.text(232, 172, r"$\mathbf{f}^{(t)}$", anchor="end")
    c.text(338, 206, r"$\mathbf{i}^{(t)}$", anchor="start")
    c.text(428, 212, r"$\tilde{\mathbf{c}}^{(t)}$", anchor="start")
    c.text(577, 241, r"$\mathbf{o}^{(t)}$")
    c.text(375, 466, r"$\mathbf{f}^{(t)} = \sigma(\mathbf{W}_f\,\mathbf{h}^{(t-1)} + \mathbf{U}_f\,\mathbf{x}^{(t)} + "
                     r"\mathbf{b}_f)$, and likewise $\mathbf{i}^{(t)}$, $\mathbf{o}^{(t)}$; "
                     r"$\tilde{\mathbf{c}}^{(t)}$ with tanh", 17)
    c.text(375, 496, r"$\mathbf{c}^{(t)} = \mathbf{f}^{(t)} \odot \mathbf{c}^{(t-1)} + \mathbf{i}^{(t)} \odot "
                     r"\tilde{\mathbf{c}}^{(t)}, \quad "
                     r"\mathbf{h}^{(t)} = \mathbf{o}^{(t)} \odot \tanh \mathbf{c}^{(t)}$", 17)
    return c.render()


def gru_cell() -> str:
    """The GRU cell (torch.nn.GRU's variant, the book's names): update gate u, reset gate r, candidate h̃."""
    c = Canvas("gru_cell", 550)
    yt, ym, yg, yb = 90, 165, 250, 335
    _cell_frame(c, h("t-1"), h("t"), yt, yb, 180)
    c.line([(20, yt), (735, yt)], "blue", width=3)
    keep, add = c.op(260, yt, r"$\odot$"), c.op(570, yt, "+")
    one_minus, mix, reset = c.op(260, ym, "1−", r=15, size=16), c.op(570, ym, r"$\odot$"), c.op(460, yg, r"$\odot$")
    u = c.box(260, yg, r"$\sigma$", "layer", w=56, h=36)
    r = c.box(370, yg, r"$\sigma$", "layer", w=56, h=36)
    cand = c.box(570, yg, r"$\tanh$", "layer", w=60, h=36)
    wh = c.box(460, 310, r"$\mathbf{W}_c$", "layer", w=56, h=30, size=17)
    c.dot(140, yt, "blue")
    c.line([(140, yt), (140, yb), (570, yb), cand.bottom], "blue")
    for box in (u, r, wh):
        c.line([(box.cx, yb), box.bottom], "blue")
        c.dot(box.cx, yb, "blue")
    c.line([u.top, one_minus.bottom], "amber")
    c.line([one_minus.top, keep.bottom], "pink")
    c.dot(260, 208, "amber")
    c.line([(260, 208), (505, 208), (505, ym), mix.left], "amber")
    c.line([r.right, reset.left], "amber")
    c.line([wh.top, reset.bottom], "amber")
    c.line([reset.right, cand.left], "pink")
    c.line([cand.top, mix.bottom], "amber")
    c.line([mix.top, add.bottom], "pink")
    c.text(385, 200, r"$\mathbf{u}^{(t)}$")
    c.text(252, 132, r"$1 - \mathbf{u}^{(t)}$", anchor="end")
    c.text(416, 241, r"$\mathbf{r}^{(t)}$")
    c.text(578, 212, r"$\tilde{\mathbf{h}}^{(t)}$", anchor="start")
    equations = [
        r"$\mathbf{u}^{(t)} = \sigma(\mathbf{W}_u\,\mathbf{h}^{(t-1)} + \mathbf{U}_u\,\mathbf{x}^{(t)} + "
        r"\mathbf{b}_u)$, and likewise $\mathbf{r}^{(t)}$",
        r"$\tilde{\mathbf{h}}^{(t)} = \tanh(\mathbf{U}_c\,\mathbf{x}^{(t)} + \mathbf{b}_c + "
        r"\mathbf{r}^{(t)} \odot (\mathbf{W}_c\,\mathbf{h}^{(t-1)} + \mathbf{b}_{rc}))$",
        r"$\mathbf{h}^{(t)} = (1 - \mathbf{u}^{(t)}) \odot \mathbf{h}^{(t-1)} + "
        r"\mathbf{u}^{(t)} \odot \tilde{\mathbf{h}}^{(t)}$",
    ]
    for k, eq in enumerate(equations):
        c.text(375, 466 + 30 * k, eq, 17)
    return c.render()


def bidirectional() -> str:
    """A forward and a backward RNN over four words; their states concatenated at each position."""
    c = Canvas("bidirectional", 450)
    cols, y_cat, y_b, y_f, y_w = [190, 330, 470, 610], 70, 170, 262, 345
    words = ["movie", "was", "terribly", "exciting"]
    for y, label in [(y_cat, "concatenated"), (y_b, "backward RNN"), (y_f, "forward RNN"), (y_w, "input")]:
        c.text(16, y + 5, label, NOTE, "start", MUTED)
    fw = [c.box(x - 30, y_f, h(str(t), accent="overrightarrow"), w=56, h=38) for t, x in enumerate(cols, 1)]
    bw = [c.box(x + 30, y_b, h(str(t), accent="overleftarrow"), "back", w=56, h=38) for t, x in enumerate(cols, 1)]
    for t, x in enumerate(cols, start=1):
        c.rect(x - 22, y_cat, 44, 36, "hidden", rx=6)
        c.rect(x + 22, y_cat, 44, 36, "back", rx=6)
        c.text(x, y_cat + 6, h(str(t)))
    for a, b in itertools.pairwise(fw):
        c.line([a.right, b.left], "blue")
    for a, b in itertools.pairwise(bw):
        c.line([b.left, a.right], "teal")
    for x, w, f, b in zip(cols, words, fw, bw, strict=True):
        word = c.word(x, y_w, w)
        c.line([word.top, (x, y_w - 30), (f.cx, y_w - 30), f.bottom])
        c.line([(x, y_w - 30), (b.cx, y_w - 30), b.bottom], bridge=True)
        c.dot(x, y_w - 30)
        c.line([f.top, (f.cx, y_cat + 18)], "blue", bridge=True)
        c.line([b.top, (b.cx, y_cat + 18)], "teal")
    c.text(375, 410, r"$\mathbf{h}^{(t)} = [\overrightarrow{\mathbf{h}}^{(t)}; \overleftarrow{\mathbf{h}}^{(t)}]$: "
                     "the forward half has read the words up to $t$,", 16)
    c.text(375, 434, "the backward half the words from $t$ on; the two RNNs have separate weights.", 16)
    return c.render()


def _layer_labels(c: Canvas, rows: list[tuple[float, str]]) -> None:
    for y, label in rows:
        c.text(16, y + 5, label, NOTE, "start", MUTED)


def stacked() -> str:
    """A 3-layer stacked RNN over 4 steps: layer i reads layer i−1's states h_{i−1}(t)."""
    c = Canvas("stacked", 430)
    cols, rows, y_x = [210, 340, 470, 600], [262, 172, 82], 345
    _layer_labels(c, [(y_x, "input"), (rows[0], "layer 1"), (rows[1], "layer 2"), (rows[2], "layer 3")])
    c.text(16, 26, "to the output layer", NOTE, "start", MUTED)
    below = [c.box(x, y_x, rf"$\mathbf{{x}}^{{({t})}}$", "input") for t, x in enumerate(cols, 1)]
    for i, y in enumerate(rows, start=1):
        layer = [c.box(x, y, h(str(t), str(i)), w=76) for t, x in enumerate(cols, 1)]
        c.line([(130, y), layer[0].left])
        for a, b in itertools.pairwise(layer):
            c.line([a.right, b.left])
        for a, b in zip(below, layer, strict=True):
            c.line([a.top, b.bottom])
        below = layer
    for b in below:
        c.line([b.top, (b.cx, 22)])
    c.text(375, 410, r"$\mathbf{h}_1^{(t)} = \text{RNN}_1(\mathbf{h}_1^{(t-1)}, \mathbf{x}^{(t)}), \quad "
                     r"\mathbf{h}_i^{(t)} = \text{RNN}_i(\mathbf{h}_i^{(t-1)}, \mathbf{h}_{i-1}^{(t)})$ "
                     "for $i = 2, 3$", 17)
    return c.render()


def residual_stacked() -> str:
    """The stacked RNN with a skip connection around layers 2 and 3: h_i(t) = h_{i−1}(t) + RNN_i(…)."""
    c = Canvas("residual_stacked", 525)
    cols, y_x, y1 = [210, 340, 470, 600], 425, 345
    layers = [(255, 197, "2"), (130, 72, "3")]  # (box row, + row, layer)
    _layer_labels(c, [(y_x, "input"), (y1, "layer 1"), (layers[0][0], "layer 2"), (layers[1][0], "layer 3")])
    c.text(16, 26, "to the output layer", NOTE, "start", MUTED)
    xs = [c.box(x, y_x, rf"$\mathbf{{x}}^{{({t})}}$", "input") for t, x in enumerate(cols, 1)]
    below = [c.box(x, y1, h(str(t), "1"), w=76) for t, x in enumerate(cols, 1)]
    c.line([(130, y1), below[0].left])
    for a, b in itertools.pairwise(below):
        c.line([a.right, b.left])
    for a, b in zip(xs, below, strict=True):
        c.line([a.top, b.bottom])
    for y_box, y_plus, i in layers:
        boxes = [c.box(x, y_box, rf"$\text{{RNN}}_{i}$", w=76) for x in cols]
        pluses = [c.op(x, y_plus, "+") for x in cols]
        for t, (a, b, p) in enumerate(zip(below, boxes, pluses, strict=True), start=1):
            y_split = (a.top[1] + b.bottom[1]) / 2
            c.line([a.top, b.bottom])
            c.dot(a.cx, y_split, "green")
            c.line([(a.cx, y_split), (a.cx + 54, y_split), (a.cx + 54, y_plus), p.right], "green")
            c.line([b.top, p.bottom])
            c.text(a.cx - 8, y_split + 6, h(str(t), str(int(i) - 1)), 17, "end")
        c.line([(130, y_box), boxes[0].left], bridge=True)
        for a, b in itertools.pairwise(boxes):
            c.line([a.right, b.left], bridge=True)
        below = pluses
    for t, p in enumerate(below, start=1):
        c.line([p.top, (p.cx, 22)])
        c.text(p.cx - 8, 40, h(str(t), "3"), 17, "end")
    c.text(375, 482, r"$\mathbf{h}_i^{(t)} = \mathbf{h}_{i-1}^{(t)} + \text{RNN}_i(\ldots)$ for $i = 2, 3$: a skip "
                     "connection (green) adds each layer's input to its output.", 16)
    c.text(375, 506, r"Layer 1 has none: its input $\mathbf{x}^{(t)}$ and its output differ in size.", 16)
    return c.render()


def encoder_decoder() -> str:
    """Seq2seq as in lecture_code.seq2seq: an encoder RNN reads "1 0 4"; its last state is the decoder's h(0)."""
    c = Canvas("encoder_decoder", 390)
    enc_x, dec_x, y_out, y_h, y_in = [60, 150, 240], [380, 480, 580, 680], 62, 165, 262
    enc = [c.box(x, y_h, rf"$\mathbf{{h}}_{{\text{{enc}}}}^{{({t})}}$", "back", w=62) for t, x in enumerate(enc_x, 1)]
    for x, digit, e in zip(enc_x, "104", enc, strict=True):
        c.line([c.word(x, y_in, digit).top, e.bottom])
    dec = [c.box(x, y_h, h(str(t))) for t, x in enumerate(dec_x, 1)]
    ins = [c.word(x, y_in, w) for x, w in zip(dec_x, ["<bos>", "one", "hundred", "four"], strict=True)]
    for t, (x, w, d, i) in enumerate(zip(dec_x, ["one", "hundred", "four", "<eos>"], dec, ins, strict=True)):
        out = c.word(x, y_out, w, "input")
        c.line([i.top, d.bottom])
        c.line([d.top, out.bottom], "green")
        if t < 3:
            _feed_back(c, out, ins[t + 1], x + 50, y_in + 30)
    for a, b in itertools.pairwise(enc):
        c.line([a.right, b.left], "teal")
    c.line([enc[-1].right, dec[0].left], "teal")
    c.text(310, y_h - 12, h("0"))
    c.text(372, 115, "most likely word", NOTE, "end", COLORS["green"])
    for a, b in itertools.pairwise(dec):
        c.line([a.right, b.left], bridge=True)
    c.text(150, y_in + 66, "encoder RNN: reads the digits", WORD)
    c.text(530, y_in + 66, "decoder: an RNN-LM over words, started from its", WORD)
    c.text(530, y_in + 90, r"$\mathbf{h}^{(0)}$; each word it writes is its next input", WORD)
    return c.render()


DIAGRAMS: dict[str, Callable[[], str]] = {
    "rnn_lm_unrolled": rnn_lm_unrolled,
    "teacher_forcing_vs_generation": teacher_forcing_vs_generation,
    "bptt_paths": bptt_paths,
    "lstm_cell": lstm_cell,
    "gru_cell": gru_cell,
    "bidirectional": bidirectional,
    "stacked": stacked,
    "residual_stacked": residual_stacked,
    "encoder_decoder": encoder_decoder,
}


def write_all(out_dir: Path = DEFAULT_DIR) -> list[Path]:
    """Write every diagram to ``out_dir/NAME.svg`` (UTF-8, LF line ends); returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, draw in DIAGRAMS.items():
        path = out_dir / f"{name}.svg"
        path.write_bytes(draw().encode("utf-8"))
        paths.append(path)
    return paths


def stale(out_dir: Path = DEFAULT_DIR) -> list[str]:
    """The problems of the committed files against the code: missing, differing, or drawn by no diagram."""
    problems = []
    for name, draw in DIAGRAMS.items():
        path = out_dir / f"{name}.svg"
        if not path.exists():
            problems.append(f"{path}: missing")
        elif path.read_bytes() != draw().encode("utf-8"):
            problems.append(f"{path}: differs from what lecture_code.diagrams draws")
    problems += [f"{p}: no diagram draws it" for p in sorted(out_dir.glob("*.svg")) if p.stem not in DIAGRAMS]
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write the diagrams, or (``--check``) report the files that are out of date."""
    parser = argparse.ArgumentParser(prog="python -m lecture_code.diagrams", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_DIR, help="folder of the SVG files (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file is missing or stale")
    args = parser.parse_args(argv)
    if args.check:
        problems = stale(args.out)
        for p in problems:
            print(p)
        if problems:
            print("Regenerate them with: python -m lecture_code.diagrams")
        return 1 if problems else 0
    for path in write_all(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
