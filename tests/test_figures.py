"""The chapters' figures are book figures: glued, numbered, captioned, with alt text, and no wider than the text column.

A code cell makes a figure and glues it (``plots.glue_figure``, myst-nb's ``glue``); a markdown cell shows it with
``{glue:figure} key``, ``:name:``, ``:alt:`` and a caption. Each check below returns a list of problems, so that the
tests at the bottom can show that every check catches what it is meant to catch.
"""

from __future__ import annotations

import base64
import json
import re
import struct
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The chapters whose figures are book figures. Add a chapter here once its figures are glued.
CHAPTERS = ["01_rnn_lm", "02_bptt", "03_other_uses", "04_vanishing_exploding", "05_lstm",
            "06_bidirectional_multilayer"]
COLUMN_PX = 750  # the book's text column at 1400 px
MAX_WIDTH_PX = 1.1 * COLUMN_PX
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")
GLUE_PREFIX = "application/papermill.record/"
HIDDEN = {"remove-output", "remove_output", "remove-cell", "remove_cell"}  # tags that keep an output off the page

DIRECTIVE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{glue:figure\}[ \t]*(?P<key>\S*)[ \t]*\n"
                       r"(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S)


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _mime(output: dict) -> dict:
    """The output's data with myst-nb's glue prefix (``display=False``) taken off."""
    return {k.removeprefix(GLUE_PREFIX): v for k, v in output.get("data", {}).items()}


def image_outputs(nb: dict) -> list[tuple[int, dict]]:
    """(cell index, output) for every output of a code cell that holds an image."""
    return [(i, o) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" for o in c.get("outputs", [])
            if any(t in _mime(o) for t in IMAGE_TYPES)]


def glued_outputs(nb: dict) -> dict[str, list[tuple[int, dict]]]:
    """glue key -> the (cell index, output) pairs that glue it."""
    glued: dict[str, list[tuple[int, dict]]] = {}
    for i, c in enumerate(nb["cells"]):
        if c["cell_type"] != "code":
            continue
        for o in c.get("outputs", []):
            name = o.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                glued.setdefault(name, []).append((i, o))
    return glued


def glue_figures(nb: dict) -> list[dict]:
    """Every ``{glue:figure}`` directive of the markdown cells: key, options, caption, cell index."""
    found = []
    for i, c in enumerate(nb["cells"]):
        if c["cell_type"] != "markdown":
            continue
        for m in DIRECTIVE.finditer(_source(c)):
            lines = m["body"].split("\n")
            options: dict[str, str] = {}
            while lines and lines[0].startswith(":"):
                name, _, value = lines.pop(0)[1:].partition(":")
                options[name.strip()] = value.strip()
            found.append({"key": m["key"], "options": options, "caption": "\n".join(lines).strip(), "cell": i})
    return found


def displayed_width(output: dict) -> float:
    """The width in CSS px at which the page shows an image output: the ``width`` of its metadata (a retina PNG
    carries its 1x size there), else the PNG's own width."""
    meta = output.get("metadata", {})
    for key in ("image/png", GLUE_PREFIX + "image/png"):
        if isinstance(meta.get(key), dict) and "width" in meta[key]:
            return float(meta[key]["width"])
    return float(png_size(output)[0])


def png_size(output: dict) -> tuple[int, int]:
    data = base64.b64decode(_mime(output)["image/png"])
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return struct.unpack(">II", data[16:24])


def problems(nb: dict) -> list[str]:
    """Everything that keeps a notebook's figures from being book figures; [] if none."""
    out: list[str] = []
    glued = glued_outputs(nb)
    for i, o in image_outputs(nb):
        if not o.get("metadata", {}).get("scrapbook", {}).get("name"):
            out.append(f"cell {i}: an image output that is not glued (it would appear without a number or caption)")
    for key, places in glued.items():
        if len(places) > 1:
            out.append(f"glue key {key!r} is glued {len(places)} times (cells {[i for i, _ in places]})")
        for i, o in places:
            shown = not o.get("metadata", {}).get("scrapbook", {}).get("mime_prefix")
            tags = set(nb["cells"][i].get("metadata", {}).get("tags", []))
            if shown and not tags & HIDDEN:
                out.append(f"cell {i}: {key!r} is glued with display=True in a cell without the tag remove-output, "
                           "so the page would show it twice")
            if "image/png" in _mime(o):
                width = displayed_width(o)
                if width > MAX_WIDTH_PX:
                    out.append(f"cell {i}: {key!r} is {width:.0f} px wide at its displayed size "
                               f"(at most {MAX_WIDTH_PX:.0f})")
                if png_size(o)[0] < 1.9 * width:
                    out.append(f"cell {i}: {key!r} is not a 2x (retina) PNG: {png_size(o)[0]} px shown at "
                               f"{width:.0f} px; call plots.book_style() in the import cell")
    figures = glue_figures(nb)
    names = [f["options"].get("name", "") for f in figures]
    for f in figures:
        where = f"markdown cell {f['cell']}, {{glue:figure}} {f['key']}"
        if f["key"] not in glued:
            out.append(f"{where}: no code cell glues {f['key']!r}")
        if f["options"].get("name") != f["key"]:
            out.append(f"{where}: needs :name: {f['key']} (for {{numref}})")
        if not f["options"].get("alt"):
            out.append(f"{where}: needs :alt: text")
        if not f["caption"]:
            out.append(f"{where}: needs a caption")
    for key in glued:
        shown = [f for f in figures if f["key"] == key]
        if len(shown) != 1:
            out.append(f"glue key {key!r} is shown by {len(shown)} {{glue:figure}} directives, not exactly one")
    for name in {n for n in names if n and names.count(n) > 1}:
        out.append(f"figure name {name!r} is used more than once")
    text = "\n".join(_source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    for ref in re.findall(r"\{numref\}`(?:[^`<]*<)?([^`>]+)>?`", text):
        if ref.startswith("fig-") and ref not in names and not re.search(rf":name:\s*{re.escape(ref)}\s*$", text, re.M):
            out.append(f"{{numref}} to {ref!r}, which no figure of this page is named")
    return out


def _chapter(name: str) -> dict:
    return json.loads((ROOT / "chapters" / f"{name}.ipynb").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", CHAPTERS)
def test_every_figure_of_the_chapter_is_a_numbered_captioned_figure_that_fits_the_column(name: str) -> None:
    nb = _chapter(name)
    assert glue_figures(nb), f"{name}: no {{glue:figure}} at all"
    assert problems(nb) == []


# --- the checks themselves catch what they should ------------------------------------------------------------------

def _png(width: int, height: int = 10) -> str:
    return base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + struct.pack(">II", width, height)).decode()


def _output(width: int, key: str | None = "fig-a", shown_width: int | None = None, prefix: str = "") -> dict:
    meta: dict = {}
    if shown_width is not None:
        meta["image/png"] = {"width": shown_width, "height": 5}
    if key:
        meta["scrapbook"] = {"name": key, "mime_prefix": prefix}
    return {"output_type": "display_data", "metadata": meta,
            "data": {prefix + "image/png": _png(width), prefix + "text/plain": ["<Figure>"]}}


def _nb(*cells: dict) -> dict:
    return {"cells": list(cells)}


def _code(*outputs: dict, tags: tuple[str, ...] = ("remove-output",)) -> dict:
    return {"cell_type": "code", "metadata": {"tags": list(tags)}, "outputs": list(outputs), "source": "x = 1"}


def _md(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


FIGURE = "```{glue:figure} fig-a\n:name: fig-a\n:alt: A line that falls.\n:figwidth: 100%\n\nThe loss $J$.\n```"


def test_a_well_formed_figure_passes():
    assert problems(_nb(_code(_output(1440, shown_width=720)), _md(FIGURE + "\n\nSee {numref}`fig-a`."))) == []
    hidden = _output(1440, shown_width=720, prefix=GLUE_PREFIX)  # glue(display=False) needs no tag
    assert problems(_nb(_code(hidden, tags=()), _md(FIGURE))) == []


def test_a_bare_image_output_fails():
    found = problems(_nb(_code(_output(700, key=None), tags=())))
    assert any("not glued" in p for p in found)


def test_a_glue_key_without_exactly_one_directive_fails():
    assert any("shown by 0" in p for p in problems(_nb(_code(_output(1440, shown_width=720)))))
    twice = problems(_nb(_code(_output(1440, shown_width=720)), _md(FIGURE), _md(FIGURE)))
    assert any("shown by 2" in p for p in twice)
    other = _md(FIGURE.replace("fig-a", "fig-b"))
    assert any("no code cell glues 'fig-b'" in p
               for p in problems(_nb(_code(_output(1440, shown_width=720)), _md(FIGURE), other)))


@pytest.mark.parametrize(("option", "message"), [(":name: fig-a\n", ":name:"), (":alt: A line that falls.\n", ":alt:"),
                                                 ("The loss $J$.", "caption")])
def test_a_directive_without_name_alt_or_caption_fails(option: str, message: str):
    found = problems(_nb(_code(_output(1440, shown_width=720)), _md(FIGURE.replace(option, ""))))
    assert any(message in p for p in found), found


def test_a_figure_wider_than_the_column_or_not_retina_fails():
    wide = problems(_nb(_code(_output(2000, shown_width=1000)), _md(FIGURE)))
    assert any("1000 px wide" in p for p in wide)
    plain = problems(_nb(_code(_output(990)), _md(FIGURE)))  # no retina metadata: shown at its own 990 px
    assert any("990 px wide" in p for p in plain) and any("not a 2x" in p for p in plain)
    assert any("not a 2x" in p for p in problems(_nb(_code(_output(720, shown_width=720)), _md(FIGURE))))


def test_a_displayed_glue_without_remove_output_and_a_dangling_numref_fail():
    assert any("show it twice" in p for p in problems(_nb(_code(_output(1440, shown_width=720), tags=()), _md(FIGURE))))
    assert any("fig-z" in p for p in problems(_nb(_code(_output(1440, shown_width=720)),
                                                   _md(FIGURE + "\nSee {numref}`fig-z`."))))
