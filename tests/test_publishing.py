"""Publishing: the repository URL, the book's repository/launch buttons, the notebooks' Colab cells,
Binder's environment and the GitHub workflows.

``_config.yml``'s ``repository: url:`` is empty until the book has a public GitHub repository. The
book is built twice into temporary folders (a few seconds each; ``_build/`` is never touched): with
the committed configuration, where no page may link to a repository, Colab or Binder nor hold the
old placeholder, and with a copy of it that names ``SAMPLE_URL``, where every page must link there
with the right path. Both builds need the vendored JavaScript (``make book`` makes it); without it
the build tests skip, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import stat
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_URL = "https://github.com/example-org/cs224n-lecture6-companion"
SAMPLE_REPO = "example-org/cs224n-lecture6-companion"
COLAB = "https://colab.research.google.com/"
BINDER = "https://mybinder.org/"
OLD_PLACEHOLDER = "YOUR-ORG"
IN_CI = os.environ.get("CI", "").strip().lower() == "true"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"publishing_{name}", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


stamp = _load("stamp_colab")
book_theme = _load("book_theme")


# --------------------------------------------------------------------------- the repository URL
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('url: ""', ""),
        ("url: ''", ""),
        ("url:", ""),
        ('url: ""  # not published yet', ""),
        ("url: https://github.com/o/r", "https://github.com/o/r"),
        ("url: https://github.com/o/r/  # trailing slash", "https://github.com/o/r"),
        ('url: "https://github.com/o/r"', "https://github.com/o/r"),
    ],
)
def test_repository_reads_the_url_as_yaml_writes_it(tmp_path: Path, line: str, expected: str) -> None:
    config = tmp_path / "_config.yml"
    config.write_text(f"title: t\nrepository:\n  {line}\n  branch: dev\n  path_to_book: \"\"\n\nhtml:\n  x: 1\n")
    assert stamp.repository(config) == (expected, "dev")


def test_repository_defaults_to_main_and_needs_a_url_line(tmp_path: Path) -> None:
    config = tmp_path / "_config.yml"
    config.write_text('repository:\n  url: ""\n')
    assert stamp.repository(config) == ("", "main")
    config.write_text("repository:\n  branch: main\n")
    with pytest.raises(SystemExit, match="no 'url:'"):
        stamp.repository(config)


def test_github_repo_accepts_empty_or_a_github_repository_only() -> None:
    assert stamp.github_repo("") is None
    assert stamp.github_repo(SAMPLE_URL) == SAMPLE_REPO
    assert stamp.github_repo(SAMPLE_URL + ".git") == SAMPLE_REPO
    for bad in (
        "https://gitlab.com/o/r",
        "http://github.com/o/r",
        "https://github.com/o",
        "https://github.com/o/r/tree/main",
        "github.com/o/r",
        "<the repository>",
        f"https://github.com/{OLD_PLACEHOLDER}/cs224n-lecture6-companion",
    ):
        with pytest.raises(ValueError):
            stamp.github_repo(bad)


def test_committed_config_is_unpublished_or_a_real_repository() -> None:
    url, branch = stamp.repository()
    assert OLD_PLACEHOLDER not in (ROOT / "_config.yml").read_text(encoding="utf-8")
    assert url == "" or stamp.github_repo(url), url
    assert branch


# --------------------------------------------------------------------------- the notebooks' stamped cells
def _colab_link(cells: list[dict]) -> str | None:
    badges = [c for c in cells if c.get("metadata", {}).get(stamp.MARK) == "badge"]
    if not badges:
        return None
    targets = re.findall(r"\]\((https://colab\.research\.google\.com/[^)]+)\)", "".join(badges[0]["source"]))
    assert targets, badges[0]
    return targets[-1]  # the link's target; the first one is the badge's image


def test_published_stamp_is_a_colab_badge_and_a_pip_install_from_the_repository() -> None:
    cells = stamp.stamped_cells("chapters/01_rnn_lm.ipynb", SAMPLE_URL, "main")
    assert [c.get("metadata", {}).get(stamp.MARK) for c in cells] == ["badge", "setup"]
    assert _colab_link(cells) == f"{COLAB}github/{SAMPLE_REPO}/blob/main/chapters/01_rnn_lm.ipynb"
    setup = "".join(cells[1]["source"])
    assert f'"lecture_code @ git+{SAMPLE_URL}@main"' in setup
    compile(setup, "setup", "exec")
    assert all("remove-cell" in c["metadata"]["tags"] for c in cells)


def test_unpublished_stamp_is_only_a_setup_cell_that_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    cells = stamp.stamped_cells("chapters/01_rnn_lm.ipynb", "", "main")
    assert [c.get("metadata", {}).get(stamp.MARK) for c in cells] == ["setup"]
    setup = "".join(cells[0]["source"])
    assert "colab.research.google.com" not in setup and "git+" not in setup and "github.com" not in setup
    assert "make install" in setup and "pip wheel" in setup
    code = compile(setup, "setup", "exec")
    exec(code, {})  # lecture_code importable: the cell does nothing
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "lecture_code", None)  # makes `import lecture_code` fail
        with pytest.raises(ImportError, match="make install"):
            exec(code, {})


def test_restamping_keeps_the_setup_cells_execution_count_and_nothing_else_changes() -> None:
    nb = {
        "cells": [
            *stamp.stamped_cells("chapters/x.ipynb", SAMPLE_URL, "main"),
            {"cell_type": "code", "id": "a", "metadata": {}, "execution_count": 2, "outputs": [], "source": ["1"]},
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    nb["cells"][1]["execution_count"] = 1
    unpublished = stamp.stamp(nb, "chapters/x.ipynb", "", "main")
    assert [c["id"] for c in unpublished["cells"]] == ["colab-setup", "a"]
    assert unpublished["cells"][0]["execution_count"] == 1
    assert unpublished["cells"][1] is nb["cells"][2]
    assert stamp.stamp(unpublished, "chapters/x.ipynb", "", "main") is unpublished
    again = stamp.stamp(unpublished, "chapters/x.ipynb", SAMPLE_URL, "main")
    assert [c["id"] for c in again["cells"]] == ["colab-badge", "colab-setup", "a"]
    assert again["cells"][1]["execution_count"] == 1


def test_committed_notebooks_are_stamped_for_the_configured_repository() -> None:
    url, branch = stamp.repository()
    paths = stamp.notebooks()
    assert paths
    setups = set()
    for path in paths:
        rel = path.relative_to(ROOT).as_posix()
        nb = json.loads(path.read_text(encoding="utf-8"))
        expected = stamp.stamped_cells(rel, url, branch)
        assert [stamp._key(c) for c in nb["cells"][: len(expected)]] == [stamp._key(c) for c in expected], (
            f"{rel} is not stamped for repository url {url!r}: run `make stamp`"
        )
        setups.add("".join(nb["cells"][len(expected) - 1]["source"]))
        text = path.read_text(encoding="utf-8")
        assert OLD_PLACEHOLDER not in text, rel
        if not url:
            assert "colab.research.google.com" not in text and "git+" not in text, rel
    assert len(setups) == 1, "the setup cell differs between notebooks"


def test_generated_exercises_carry_their_own_colab_badge() -> None:
    """solutions/X stamped for a repository, turned into exercises/X, opens exercises/X in Colab."""
    from lecture_code.grading.generator import exercise_notebook

    solution = ROOT / "solutions" / "01_rnn_lm.ipynb"
    nb = stamp.stamp(json.loads(solution.read_text(encoding="utf-8")), "solutions/01_rnn_lm.ipynb", SAMPLE_URL, "main")
    exercise = exercise_notebook(nb)
    expected = stamp.stamped_cells("exercises/01_rnn_lm.ipynb", SAMPLE_URL, "main")
    assert [stamp._key(c) for c in exercise["cells"][:2]] == [stamp._key(c) for c in expected]


# --------------------------------------------------------------------------- the theme options (no build)
def test_theme_options_without_a_url_switch_every_repository_and_launch_button_off() -> None:
    opts = book_theme.repository_options(
        {"repository_url": "", "launch_buttons": {"colab_url": COLAB, "binderhub_url": BINDER}, "x": 1}
    )
    assert opts["launch_buttons"] == {} and "repository_url" not in opts and opts["x"] == 1
    assert not any(opts[key] for key in book_theme.REPOSITORY_BUTTONS)


def test_theme_options_with_a_url_switch_the_repository_button_on() -> None:
    launch = {"colab_url": COLAB, "binderhub_url": BINDER}
    opts = book_theme.repository_options(
        {"repository_url": SAMPLE_URL + "/", "use_repository_button": False, "launch_buttons": launch}
    )
    assert opts["repository_url"] == SAMPLE_URL and opts["use_repository_button"] is True
    assert opts["launch_buttons"] == launch


@pytest.mark.parametrize("url", ["https://github.com/executablebooks/jupyter-book", "https://example.org/r"])
def test_theme_options_refuse_a_missing_or_foreign_url(url: str) -> None:
    with pytest.raises(ValueError):
        book_theme.repository_options({"repository_url": url})


# --------------------------------------------------------------------------- the built book
class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.classes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])
        self.classes.extend(a.get("class", "").split())


def _pages(html: Path) -> list[Path]:
    return sorted(
        p for p in html.rglob("*.html") if p.relative_to(html).parts[0] not in {"_static", "_sources", "_images"}
    )


def _parse(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8", errors="replace"))
    return parser


def _build(config_text: str, tmp: Path) -> Path:
    """Build the book from ``config_text`` (a _config.yml) into ``tmp``; return its html folder."""
    yaml = pytest.importorskip("yaml")
    pytest.importorskip("jupyter_book")
    if not (ROOT / "_static" / "vendor" / "MANIFEST.json").is_file():
        reason = "no vendored JavaScript (_static/vendor): run `make book` first"
        if IN_CI:
            pytest.fail(reason + " (CI=true: the publishing checks must run)")
        pytest.skip(reason)
    config = yaml.safe_load(config_text)
    # --config elsewhere: make the local extensions' folders absolute (Jupyter Book resolves them from there).
    config["sphinx"]["local_extensions"] = {
        name: str((ROOT / folder).resolve()) for name, folder in config["sphinx"]["local_extensions"].items()
    }
    path = tmp / "_config.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    cmd = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "build", str(ROOT),
           "--builder", "html", "--config", str(path), "--path-output", str(tmp), "--keep-going"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False, cwd=ROOT,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, f"book build failed:\n{proc.stderr[-4000:]}\n{proc.stdout[-2000:]}"
    html = tmp / "_build" / "html"
    assert (html / "intro.html").is_file()
    return html


@pytest.fixture(scope="module")
def committed_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build((ROOT / "_config.yml").read_text(encoding="utf-8"), tmp_path_factory.mktemp("book-committed"))


@pytest.fixture(scope="module")
def published_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    text = (ROOT / "_config.yml").read_text(encoding="utf-8")
    text, n = re.subn(r"(?m)^(repository:\n(?:[ \t]+.*\n)*?[ \t]+url:).*$", rf'\1 "{SAMPLE_URL}"', text)
    assert n == 1, "no repository url in _config.yml"
    return _build(text, tmp_path_factory.mktemp("book-published"))


def _source_of(html: Path, page: Path) -> Path | None:
    """The document a page was built from (.ipynb or .md), or None for search/genindex/index."""
    stem = page.relative_to(html).with_suffix("")
    for suffix in (".ipynb", ".md"):
        if (ROOT / stem).with_suffix(suffix).is_file():
            return (ROOT / stem).with_suffix(suffix)
    return None


@pytest.mark.slow
def test_published_book_links_every_page_to_the_repository_colab_and_binder(published_book: Path) -> None:
    html = published_book
    problems: list[str] = []
    notebook_pages = 0
    for page in _pages(html):
        rel = page.relative_to(html).as_posix()
        links = _parse(page).hrefs
        source = _source_of(html, page)
        colab = [h for h in links if h.startswith(COLAB)]
        binder = [h for h in links if h.startswith(BINDER)]
        repo = [h for h in links if h.startswith(f"https://github.com/{SAMPLE_REPO.split('/')[0]}/")]
        if source is None:  # search, genindex, and index.html (which only redirects to intro.html)
            if colab or binder or repo != ([] if rel == "index.html" else [SAMPLE_URL]):
                problems.append(f"{rel}: repository links {repo}, launch links {colab + binder}")
            continue
        if repo != [SAMPLE_URL]:
            problems.append(f"{rel}: repository links {repo}, expected one to {SAMPLE_URL}")
        if source.suffix == ".ipynb":
            notebook_pages += 1
            path = source.relative_to(ROOT).as_posix()
            want_colab = f"{COLAB}github/{SAMPLE_REPO}/blob/main/{path}"
            want_binder = f"{BINDER}v2/gh/{SAMPLE_REPO}/main?urlpath=lab/tree/{path}"
            if colab != [want_colab]:
                problems.append(f"{rel}: Colab links {colab}, expected [{want_colab}]")
            if binder != [want_binder]:
                problems.append(f"{rel}: Binder links {binder}, expected [{want_binder}]")
            # The notebook's own Colab badge (once stamped for this url) opens the same notebook.
            if _colab_link(stamp.stamped_cells(path, SAMPLE_URL, "main")) != want_colab:
                problems.append(f"{rel}: the stamped Colab badge and the launch button disagree")
        elif colab or binder:
            problems.append(f"{rel}: launch links on a page that is not a notebook: {colab + binder}")
    assert notebook_pages == len(stamp.notebooks()), "every notebook is a page of the book"
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_unpublished_book_has_no_repository_launch_or_colab_link_and_no_placeholder(committed_book: Path) -> None:
    if stamp.repository()[0]:
        pytest.skip("_config.yml names a repository: the published checks above apply")
    html = committed_book
    problems = []
    for page in _pages(html):
        rel = page.relative_to(html).as_posix()
        parsed = _parse(page)
        bad = [h for h in parsed.hrefs if h.startswith((COLAB, BINDER, "https://github.com/executablebooks/"))]
        buttons = {"btn-source-repository-button", "dropdown-launch-buttons"} & set(parsed.classes)
        if bad or buttons:
            problems.append(f"{rel}: links {bad}, buttons {sorted(buttons)}")
    for path in html.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".ipynb", ".md", ".txt", ".js"}:
            if OLD_PLACEHOLDER in path.read_text(encoding="utf-8", errors="replace"):
                problems.append(f"{path.relative_to(html)}: contains {OLD_PLACEHOLDER}")
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_book_pages_declare_each_inline_script_once_and_have_no_empty_top_bar(committed_book: Path) -> None:
    problems = []
    for page in _pages(committed_book):
        text = page.read_text(encoding="utf-8", errors="replace")
        if text.count("const THEBE_JS_URL") > 1:
            problems.append(f"{page.name}: THEBE_JS_URL declared {text.count('const THEBE_JS_URL')} times")
        if "navbar-persistent--container" in text:
            problems.append(f"{page.name}: a top bar holding a second search box")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- Binder and the workflows
def test_binder_installs_the_cpu_torch_the_makefile_pins_and_the_package() -> None:
    torch_pin = re.search(r"^TORCH\s*:=\s*(\S+)", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M).group(1)
    requirements = [
        line.strip()
        for line in (ROOT / "binder" / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in requirements
    assert torch_pin in requirements
    post_build = ROOT / "binder" / "postBuild"
    assert post_build.stat().st_mode & stat.S_IXUSR, "repo2docker runs binder/postBuild only if it is executable"
    text = post_build.read_text(encoding="utf-8")
    assert text.startswith("#!") and re.search(r"pip install .*-e \.$", text, re.M)


def _workflow(name: str) -> dict:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8"))


def _steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_workflows_pin_every_action_to_a_major_version() -> None:
    for name in ("ci.yml", "pages.yml"):
        for step in _steps(_workflow(name)):
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), f"{name}: {step['uses']}"


def test_ci_workflow_runs_the_projects_ci_on_pushes_and_pull_requests_with_caches() -> None:
    wf = _workflow("ci.yml")
    triggers = wf.get("on", wf.get(True))  # PyYAML reads the key `on` as True
    assert "push" in triggers and "pull_request" in triggers
    steps = _steps(wf)
    uses = {s["uses"].split("@")[0]: s for s in steps if "uses" in s}
    assert uses["actions/setup-python"]["with"]["cache"] == "pip"
    assert uses["actions/setup-node"]["with"]["cache"] == "npm"
    assert "browser-actions/setup-chrome" in uses
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "bash .ci/run" in runs and "LECTURE_CODE_DATA=" in runs


def test_pages_workflow_builds_the_book_and_deploys_it_from_main() -> None:
    wf = _workflow("pages.yml")
    triggers = wf.get("on", wf.get(True))
    assert triggers["push"]["branches"] == ["main"]
    assert wf["concurrency"]["group"] and wf["concurrency"]["cancel-in-progress"] is False
    build, deploy = wf["jobs"]["build"], wf["jobs"]["deploy"]
    build_uses = [s.get("uses", "").split("@")[0] for s in build["steps"]]
    assert "actions/configure-pages" in build_uses and "actions/upload-pages-artifact" in build_uses
    assert any(s.get("run") == "make book" for s in build["steps"])
    upload = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_build/html"
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]
