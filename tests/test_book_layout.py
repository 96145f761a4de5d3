"""The built book's layout in headless Chromium at 1400 px and at phone width (400 px): on every chapter,
exercise and solution page, no display equation, inline formula or figure overflows its column (or is cut,
or hides under its equation number), the page itself never scrolls sideways, and no page logs a console
error. Uses the book in ``_build/html`` (``BOOK_HTML_DIR``), like ``test_book_offline.py``; skips without a
built book or Chromium, except under CI=true, where it fails.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from test_book_offline import HTML_DIR, _load_screenshot_module, _unavailable

# Runs in the page once MathJax has typeset it: the geometry of every display equation and image.
PROBE = r"""
<script>
window.addEventListener('load', () => setTimeout(() => {
  const eqs = [], imgs = [];
  document.querySelectorAll('div.math').forEach((d) => {
    const m = d.querySelector('mjx-container'); if (!m || !m.firstElementChild) return;
    const box = d.getBoundingClientRect(), inner = m.firstElementChild.getBoundingClientRect();
    const no = d.querySelector('.eqno'), nb = no ? no.getBoundingClientRect() : null;
    const under = nb && nb.width > 0 && inner.right > nb.left + 2 && inner.left < nb.right - 2 &&
                  inner.top < nb.bottom - 2 && inner.bottom > nb.top + 2;
    const over = m.scrollWidth > m.clientWidth + 2 || inner.right > box.right + 2 || under;
    eqs.push({label: no ? no.textContent.replace('#', '').trim() : '', over: over});
  });
  // inline math cannot wrap: one wider than its line is cut (the theme hides a span.math's overflow)
  const inline = [];
  document.querySelectorAll('span.math').forEach((s) => {
    const m = s.querySelector('mjx-container'); if (!m) return;
    const r = m.getBoundingClientRect(), box = s.closest('p, li, td, th, dd, dt, div').getBoundingClientRect();
    if (r.right > s.getBoundingClientRect().right + 2 || r.right > box.right + 2) {
      inline.push(s.textContent.slice(0, 60));
    }
  });
  document.querySelectorAll('article img').forEach((i) => {
    const col = i.closest('section, article').getBoundingClientRect(), r = i.getBoundingClientRect();
    imgs.push({src: i.getAttribute('src'), over: r.right > col.right + 2 || r.width > col.width + 2});
  });
  const page = document.documentElement.scrollWidth;
  const found = JSON.stringify({eqs: eqs, imgs: imgs, inline: inline, width: window.innerWidth, page: page});
  if (window.parent !== window) window.parent.postMessage(found, '*');
  else document.body.setAttribute('data-layout', found);
}, 5000));
</script>
"""
CHAPTERS = sorted((HTML_DIR / "chapters").glob("0*.html"))
# Headless Chromium's window is at least screenshot.MIN_WINDOW px wide, so a narrower viewport is an iframe of that
# width; the page posts what it measured to this wrapper, whose DOM --dump-dom returns.
FRAME = """<!DOCTYPE html><html><body style="margin:0"><iframe src="{src}" width="{width}" height="2000"
style="border:0"></iframe><script>window.addEventListener('message',
(e) => document.body.setAttribute('data-layout', e.data));</script></body></html>"""
PAGES = [*CHAPTERS, *(p for part in ("exercises", "solutions") for p in sorted((HTML_DIR / part).glob("0*.html")))]


def _layout(page: Path, width: int = 1400) -> dict:
    shot = _load_screenshot_module()
    if shot.find_chromium() is None:
        _unavailable("no Chromium: install it (Debian: apt-get install chromium) or set $CHROMIUM")
    probe = page.with_name(f"_layout_probe_{page.name}")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    frame = page.with_name(f"_layout_frame_{page.name}")
    frame.write_text(FRAME.format(src=probe.name, width=width), encoding="utf-8")
    target, window = (frame, shot.MIN_WINDOW) if width < shot.MIN_WINDOW else (probe, width)
    try:
        proc = shot.render(target, dump_dom=True, width=window, height=2000, budget_ms=20000, console=True)
    finally:
        probe.unlink()
        frame.unlink()
    found = re.search(r'data-layout="([^"]*)"', proc.stdout)
    assert found, f"the layout probe did not run on {page.name}"
    got = json.loads(html.unescape(found.group(1)))
    assert got["width"] == width, f"{page.name} was laid out {got['width']} px wide, not {width}"
    return got | {"console": shot.console_lines(proc.stderr)}


@pytest.mark.parametrize("width", [1400, 400])
@pytest.mark.parametrize("page", PAGES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_equations_and_figures_fit_the_column_and_the_console_is_clean(page: Path, width: int) -> None:
    got = _layout(page, width)
    if page in CHAPTERS:
        assert got["eqs"], f"{page.name}: no display equation was measured"
    over = [e["label"] or f"unnumbered #{k}" for k, e in enumerate(got["eqs"]) if e["over"]]
    assert not over, f"{page.name}: equations overflow or are cut at {width} px: {over}"
    assert not got["inline"], f"{page.name}: inline math cut at {width} px: {got['inline']}"
    assert not [i["src"] for i in got["imgs"] if i["over"]], f"{page.name}: images overflow their column"
    assert got["page"] <= width + 1, f"{page.name} scrolls sideways at {width} px: it is {got['page']} px wide"
    errors = [line for line in got["console"] if re.search(r"Uncaught|SyntaxError|TypeError|ReferenceError", line)]
    assert not errors, f"{page.name}: console errors: {errors}"


def test_the_book_has_chapter_pages() -> None:
    if not (HTML_DIR / "index.html").is_file():
        _unavailable(f"no built book at {HTML_DIR}")
    assert len(CHAPTERS) == 6
