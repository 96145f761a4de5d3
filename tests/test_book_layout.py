"""The built book's layout in headless Chromium at 1400 px: on every chapter, exercise and solution page,
no display equation or figure overflows its column, and no page logs a console error. Uses the book in
``_build/html`` (``BOOK_HTML_DIR``), like ``test_book_offline.py``; skips without a built book or Chromium,
except under CI=true, where it fails.
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
    const over = m.scrollWidth > m.clientWidth + 2 || inner.right > box.right + 2 ||
                 (nb && nb.width > 0 && inner.right > nb.left + 2);
    eqs.push({label: no ? no.textContent.replace('#', '').trim() : '', over: over});
  });
  document.querySelectorAll('article img').forEach((i) => {
    const col = i.closest('section, article').getBoundingClientRect(), r = i.getBoundingClientRect();
    imgs.push({src: i.getAttribute('src'), over: r.right > col.right + 2 || r.width > col.width + 2});
  });
  document.body.setAttribute('data-layout', JSON.stringify({eqs: eqs, imgs: imgs}));
}, 5000));
</script>
"""
CHAPTERS = sorted((HTML_DIR / "chapters").glob("0*.html"))
PAGES = [*CHAPTERS, *(p for part in ("exercises", "solutions") for p in sorted((HTML_DIR / part).glob("0*.html")))]


def _layout(page: Path, width: int = 1400) -> dict:
    shot = _load_screenshot_module()
    if shot.find_chromium() is None:
        _unavailable("no Chromium: install it (Debian: apt-get install chromium) or set $CHROMIUM")
    probe = page.with_name(f"_layout_probe_{page.name}")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    try:
        proc = shot.render(probe, dump_dom=True, width=width, height=2000, budget_ms=20000, console=True)
    finally:
        probe.unlink()
    found = re.search(r'data-layout="([^"]*)"', proc.stdout)
    assert found, f"the layout probe did not run on {page.name}"
    return json.loads(html.unescape(found.group(1))) | {"console": shot.console_lines(proc.stderr)}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_equations_and_figures_fit_the_column_and_the_console_is_clean(page: Path) -> None:
    got = _layout(page)
    if page in CHAPTERS:
        assert got["eqs"], f"{page.name}: no display equation was measured"
    assert not [e["label"] for e in got["eqs"] if e["over"]], f"{page.name}: equations overflow at 1400 px"
    assert not [i["src"] for i in got["imgs"] if i["over"]], f"{page.name}: images overflow their column"
    errors = [line for line in got["console"] if re.search(r"Uncaught|SyntaxError|TypeError|ReferenceError", line)]
    assert not errors, f"{page.name}: console errors: {errors}"


def test_the_book_has_chapter_pages() -> None:
    if not (HTML_DIR / "index.html").is_file():
        _unavailable(f"no built book at {HTML_DIR}")
    assert len(CHAPTERS) == 6
