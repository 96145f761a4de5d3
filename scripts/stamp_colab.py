"""Stamp the setup cell (and, once the book is published, the Colab badge) into every notebook.

    python scripts/stamp_colab.py           rewrite the stamped cells at the top of every notebook
    python scripts/stamp_colab.py --check   exit 1 if any notebook is not stamped as it should be

The repository URL lives only in ``_config.yml`` (``repository: url:``). It is empty (``url: ""``)
until the book has a public GitHub repository; it is then ``https://github.com/OWNER/REPO``.

- **Published** (a URL is set): each notebook in chapters/, solutions/ and exercises/ starts with
  a Markdown badge that opens that notebook in Colab, and a code cell that installs
  ``lecture_code`` from the repository (pip, from git) when it is not importable.
- **Not published** (``url: ""``): there is nothing to open in Colab and nothing to install from,
  so there is no badge, and the setup cell stops with an ``ImportError`` that says how to get
  ``lecture_code`` instead (``make install`` in a copy of the project; on Colab, a wheel built
  from it). Without the cell, a learner who opened an uploaded notebook would meet a bare
  ``ModuleNotFoundError`` a few cells later.

Both cells are tagged ``remove-cell``: the book has its own launch buttons and does not show them.
When lecture_code is importable, which is how notebooks are executed and tested, every variant of
the setup cell only imports it and prints nothing, so a restamped setup cell keeps the execution
count of the one it replaces (the notebook stays "executed in order" without re-running it).
The Sphinx extension ``scripts/book_theme.py`` applies the same rule to the book's buttons.
Standard library only.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("chapters", "solutions", "exercises")
MARK = "lecture_code_stamp"  # cell metadata key that identifies a stamped cell
# What `repository: url:` may hold besides "": Colab and Binder open notebooks from GitHub.
GITHUB_URL = re.compile(
    r"https://github\.com/(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)/(?P<name>[\w.-]+?)(?:\.git)?/?"
)
OLD_PLACEHOLDER = "YOUR-ORG"  # the owner this file used to ship with; refused, never published


def _yaml_scalar(value: str) -> str:
    """A one-line YAML scalar as written in _config.yml: comment dropped, quotes removed."""
    value = value.strip()
    if value[:1] in ("'", '"'):
        end = value.find(value[0], 1)
        return value[1:end] if end > 0 else value[1:]
    return re.sub(r"\s+#.*$", "", value).strip()


def repository(config: Path = ROOT / "_config.yml") -> tuple[str, str]:
    """(url, branch) from the ``repository:`` block of _config.yml; url is "" while unpublished."""
    text = config.read_text(encoding="utf-8")
    block = re.search(r"^repository:[ \t]*(?:#.*)?\n((?:[ \t]+.*\n?|[ \t]*\n)+)", text, re.MULTILINE)
    if block is None:
        raise SystemExit("_config.yml has no 'repository:' block")
    url = re.search(r"^[ \t]+url:(.*)$", block.group(1), re.MULTILINE)
    branch = re.search(r"^[ \t]+branch:(.*)$", block.group(1), re.MULTILINE)
    if url is None:
        raise SystemExit("_config.yml: 'repository:' has no 'url:' (write url: \"\" until the book is published)")
    return _yaml_scalar(url.group(1)).rstrip("/"), (_yaml_scalar(branch.group(1)) if branch else "") or "main"


def github_repo(url: str) -> str | None:
    """``OWNER/REPO`` of a published book's URL, or None for the empty URL of an unpublished one.

    Raises ValueError for anything else, so that a typo never reaches a notebook or a page.
    """
    url = url.strip()
    if not url:
        return None
    match = GITHUB_URL.fullmatch(url)
    if match is None:
        raise ValueError(
            f"repository url {url!r} in _config.yml must be empty (the book is not published yet) or "
            "https://github.com/OWNER/REPO: Colab and Binder open the notebooks from GitHub"
        )
    if match["owner"].upper() == OLD_PLACEHOLDER:
        raise ValueError(f"repository url {url!r} is the old placeholder: write the real one, or url: \"\"")
    return f"{match['owner']}/{match['name']}"


SETUP_PUBLISHED = """\
# Colab setup: install lecture_code from the book's repository when it is not importable.
try:
    import lecture_code
except ImportError:
    import subprocess
    import sys
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "lecture_code @ git+{url}@{branch}"],
                   check=True)"""

SETUP_UNPUBLISHED = """\
# Setup: this notebook needs the lecture_code package, from a copy of the book's project.
try:
    import lecture_code
except ImportError as err:
    raise ImportError(
        "lecture_code is not installed in this kernel. In a copy of the book's project, run `make install` "
        "and start Jupyter from .venv (see its README). On Colab, build a wheel in that copy with "
        "`pip wheel --no-deps -w dist .`, upload it, run `%pip install lecture_code-*.whl`, then this cell again."
    ) from err"""


def stamped_cells(rel_path: str, url: str, branch: str) -> list[dict]:
    """The cells a notebook starts with, for the notebook at ``rel_path`` (e.g. chapters/01_x.ipynb).

    Published (``url`` set): the Colab badge and the install-from-git setup cell. Unpublished
    (``url == ""``): only a setup cell that says how to install lecture_code.
    """
    repo = github_repo(url)
    meta = {"tags": ["remove-cell"]}
    setup_text = SETUP_UNPUBLISHED if repo is None else SETUP_PUBLISHED.format(url=url, branch=branch)
    setup = {
        "cell_type": "code",
        "id": "colab-setup",
        "metadata": {**meta, MARK: "setup"},
        "execution_count": None,
        "outputs": [],
        "source": setup_text.splitlines(keepends=True),
    }
    if repo is None:
        return [setup]
    colab = f"https://colab.research.google.com/github/{repo}/blob/{branch}/{rel_path}"
    badge = f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab})"
    return [
        {
            "cell_type": "markdown",
            "id": "colab-badge",
            "metadata": {**meta, MARK: "badge"},
            "source": badge.splitlines(keepends=True),
        },
        setup,
    ]


def _key(cell: dict) -> tuple:
    """What a stamp fixes: the kind of cell, its text, its tags and its stamp mark."""
    meta = cell.get("metadata", {})
    return cell["cell_type"], "".join(cell["source"]), tuple(meta.get("tags", [])), meta.get(MARK)


def stamp(nb: dict, rel_path: str, url: str, branch: str) -> dict:
    """Return ``nb`` with the stamped cells at the top, or ``nb`` itself if they are already right.

    Any earlier stamped cells are replaced. The new setup cell keeps the execution count of the
    setup cell it replaces (see the module docstring); its outputs are cleared.
    """
    new = stamped_cells(rel_path, url, branch)
    stamped_elsewhere = any(MARK in c.get("metadata", {}) for c in nb["cells"][len(new):])
    if [_key(c) for c in nb["cells"][: len(new)]] == [_key(c) for c in new] and not stamped_elsewhere:
        return nb
    old_setup = next((c for c in nb["cells"] if c.get("metadata", {}).get(MARK) == "setup"), None)
    if old_setup is not None:
        new[-1]["execution_count"] = old_setup.get("execution_count")
    rest = [c for c in nb["cells"] if MARK not in c.get("metadata", {})]
    return {**nb, "cells": new + rest}


def notebooks(root: Path = ROOT) -> list[Path]:
    return sorted(p for f in FOLDERS for p in (root / f).glob("*.ipynb"))


def main(argv: list[str]) -> int:
    check = "--check" in argv
    url, branch = repository()
    try:
        repo = github_repo(url)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    bad = []
    for path in notebooks():
        nb = json.loads(path.read_text(encoding="utf-8"))
        rel = path.relative_to(ROOT).as_posix()
        new = stamp(nb, rel, url, branch)
        if new != nb:
            bad.append(rel)
            if not check:
                path.write_text(json.dumps(new, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for rel in bad:
        print(("not stamped: " if check else "stamped: ") + rel)
    if not check:
        state = f"published at {url}, branch {branch}" if repo else 'not published (repository url: "")'
        print(f"{len(bad)} of {len(notebooks())} notebooks restamped; the book is {state}")
    return 1 if (check and bad) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
