"""The built book must work with no network: MathJax and the Jupyter widget manager are vendored.

These tests inspect an already-built book (``jupyter-book build . --builder html``, after
``npm ci --ignore-scripts && python scripts/vendor_js.py``); they skip if there is none,
except under ``CI=true``, where a missing book, page or browser fails the test.
Set ``BOOK_HTML_DIR`` to check a book built elsewhere (default: ``_build/html``).
The browser tests use headless Chromium with every host name unresolvable (see
``scripts/screenshot.py``) and skip when no Chromium is installed (fail under ``CI=true``;
``.ci/run`` installs Debian's ``chromium`` when it is missing).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

REPO = Path(__file__).resolve().parents[1]
HTML_DIR = Path(os.environ.get("BOOK_HTML_DIR", REPO / "_build" / "html")).resolve()
VENDOR = HTML_DIR / "_static" / "vendor"

IN_CI = os.environ.get("CI", "").strip().lower() == "true"


def _unavailable(reason: str) -> None:
    """Skip on a learner's machine; fail under CI=true, where these checks must run (.ci/run installs Chromium)."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the offline rendering checks must run, not skip)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _built_book() -> None:
    if not (HTML_DIR / "index.html").is_file():
        _unavailable(f"no built book at {HTML_DIR}: run `jupyter-book build . --builder html` first")

# The loaded-by-URL entry points; everything else in the vendor tree is lazy-loaded by them.
REQUIRED_VENDOR_FILES = (
    "MANIFEST.json",
    "mathjax/tex-mml-chtml.js",
    "mathjax/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff",
    "mathjax/input/tex/extensions/ams.js",
    "requirejs/require.js",
    "jupyter-widgets/widgets-setup.js",
    "jupyter-widgets/embed-amd.js",
)
# The only vendored files a page may reference directly (mathjax_path and nb_ipywidgets_js).
VENDOR_ENTRY_POINTS = {
    "mathjax/tex-mml-chtml.js",
    "requirejs/require.js",
    "jupyter-widgets/widgets-setup.js",
    "jupyter-widgets/embed-amd.js",
}
FETCHING_LINK_RELS = {"stylesheet", "preload", "modulepreload"}


class _AssetCollector(HTMLParser):
    """Collect (tag, url) for every <script src> and resource-fetching <link href>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.assets: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "script" and a.get("src"):
            self.assets.append(("script", a["src"]))
        elif tag == "link" and a.get("href") and FETCHING_LINK_RELS & set(a.get("rel", "").lower().split()):
            self.assets.append((f"link rel={a['rel']}", a["href"]))


def _pages() -> list[Path]:
    # _static/ also holds the themes' Jinja macro files (*.html), which are not pages.
    return sorted(
        p for p in HTML_DIR.rglob("*.html") if p.relative_to(HTML_DIR).parts[0] not in {"_static", "_sources"}
    )


def _assets(page: Path) -> list[tuple[str, str]]:
    parser = _AssetCollector()
    parser.feed(page.read_text(encoding="utf-8", errors="replace"))
    return parser.assets


def _is_remote(url: str) -> bool:
    return url.startswith("//") or bool(re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I))


def _load_screenshot_module():
    spec = importlib.util.spec_from_file_location("book_screenshot", REPO / "scripts" / "screenshot.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_no_page_loads_scripts_or_styles_from_the_network() -> None:
    offenders = [
        f"{page.relative_to(HTML_DIR)}: <{kind}> {url}"
        for page in _pages()
        for kind, url in _assets(page)
        if _is_remote(url)
    ]
    assert not offenders, "pages fetch scripts/styles over the network:\n" + "\n".join(offenders)


def test_every_local_script_and_stylesheet_exists() -> None:
    missing = []
    for page in _pages():
        for kind, url in _assets(page):
            if _is_remote(url):
                continue
            target = (page.parent / unquote(urlsplit(url).path)).resolve()
            if not target.is_file():
                missing.append(f"{page.relative_to(HTML_DIR)}: <{kind}> {url}")
    assert not missing, "pages reference files that are not in the build:\n" + "\n".join(missing)


def test_vendored_files_are_in_the_build() -> None:
    missing = [rel for rel in REQUIRED_VENDOR_FILES if not (VENDOR / rel).is_file()]
    assert not missing, f"missing under {VENDOR}: {missing} (run `python scripts/vendor_js.py`, rebuild)"
    manifest = json.loads((VENDOR / "MANIFEST.json").read_text(encoding="utf-8"))
    wrong = [
        rel
        for rel, size in manifest["files"].items()
        if not (VENDOR / rel).is_file() or (VENDOR / rel).stat().st_size != size
    ]
    assert not wrong, f"vendored files missing or changed in the build: {wrong[:10]}"


def test_vendored_scripts_are_loaded_once_and_only_through_their_entry_points() -> None:
    """Guards against Jupyter Book's add-every-*.js-under-_static/ (see scripts/vendor_js.py)."""
    problems = []
    for page in _pages():
        vendored = [
            urlsplit(url).path.split("_static/vendor/", 1)[1] for _, url in _assets(page) if "_static/vendor/" in url
        ]
        extra = sorted(set(vendored) - VENDOR_ENTRY_POINTS)
        dupes = sorted({v for v in vendored if vendored.count(v) > 1})
        if extra or dupes:
            problems.append(f"{page.relative_to(HTML_DIR)}: unexpected {extra}, duplicated {dupes}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- browser checks
def _chapter_page_containing(marker: str) -> Path | None:
    for page in sorted((HTML_DIR / "chapters").rglob("*.html")):
        if marker in page.read_text(encoding="utf-8", errors="replace"):
            return page
    return None


@pytest.fixture(scope="module")
def screenshot():
    module = _load_screenshot_module()
    if module.find_chromium() is None:
        _unavailable("no chromium/chrome executable (set $CHROMIUM) for the offline rendering checks")
    return module


def test_mathjax_typesets_a_chapter_offline(screenshot) -> None:
    page = _chapter_page_containing('class="math notranslate nohighlight"')
    if page is None:
        _unavailable(f"no page under {HTML_DIR / 'chapters'} contains math")
    dom = screenshot.dump_dom(page, budget_ms=10000, timeout=45)
    assert "<mjx-container" in dom, f"MathJax did not typeset {page} without network"
    assert "<mjx-merror" not in dom, f"MathJax reported a TeX error in {page}"


def test_widgets_render_from_saved_state_offline(screenshot) -> None:
    page = _chapter_page_containing("application/vnd.jupyter.widget-state+json")
    if page is None:
        _unavailable(f"no page under {HTML_DIR / 'chapters'} has saved widget state")
    dom = screenshot.dump_dom(page, budget_ms=10000, timeout=45)
    assert re.search(r'class="[^"]*\bjupyter-widgets\b', dom), f"no widget was rendered in {page}"
    assert "widget-subarea" in dom, f"the widget manager did not render the saved views in {page}"


def test_a_screenshot_narrower_than_chromium_s_window_lays_the_page_out_at_that_width(screenshot, tmp_path) -> None:
    """--width 400 is a real 400-px viewport (a frame in Chromium's 500-px window): a phone's media query applies."""
    from PIL import Image

    page = tmp_path / "page.html"
    page.write_text("<style>body { background: rgb(0, 0, 255); } @media (max-width: 450px) "
                    "{ body { background: rgb(255, 0, 0); } }</style><body>x</body>", encoding="utf-8")
    png = tmp_path / "shot.png"
    screenshot.render(page, png, width=400, height=300, budget_ms=2000)
    image = Image.open(png).convert("RGB")
    assert image.getpixel((200, 150)) == (255, 0, 0), "the page was not laid out 400 px wide"
    assert image.getpixel((450, 150)) != (255, 0, 0), "the frame is wider than 400 px"
    with pytest.raises(ValueError, match="iframe"):
        screenshot.render(page, dump_dom=True, width=400)


def test_search_finds_no_worked_answers_and_solution_pages_say_solutions() -> None:
    text = (HTML_DIR / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1 : text.rindex(")")])
    docs = index["docnames"]
    for term, where in index["terms"].items():
        for k in [where] if isinstance(where, int) else where:
            assert not docs[k].startswith("solutions/"), f"search for {term!r} finds {docs[k]}"
    assert any(d.startswith("solutions/") for d in docs)  # the pages exist, only their text is not indexed
    title = re.search(r"<title>(.*?) &#8212;", (HTML_DIR / "solutions" / "01_rnn_lm.html").read_text()).group(1)
    assert title.startswith("Solutions to exercise set 1")
