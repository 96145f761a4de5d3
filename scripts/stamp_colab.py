"""Stamp the Colab badge and the setup cell into every notebook, from the URL in _config.yml.

    python scripts/stamp_colab.py           rewrite the first two cells of every notebook
    python scripts/stamp_colab.py --check   exit 1 if any notebook is not stamped as it should be

The repository URL lives only in ``_config.yml`` (``repository: url:``). Each notebook in
chapters/, solutions/ and exercises/ starts with two stamped cells: a Markdown badge that
opens the notebook in Colab, and a code cell that installs ``lecture_code`` from the
repository when it is not importable. Both are tagged ``remove-cell``: the book has its own
launch button and does not show them. Standard library only.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("chapters", "solutions", "exercises")
MARK = "lecture_code_stamp"  # cell metadata key that identifies a stamped cell


def repository(config: Path = ROOT / "_config.yml") -> tuple[str, str]:
    """(url, branch) from the ``repository:`` block of _config.yml."""
    text = config.read_text(encoding="utf-8")
    block = re.search(r"^repository:\n((?:[ \t]+.*\n?)+)", text, re.MULTILINE)
    if block is None:
        raise SystemExit("_config.yml has no 'repository:' block")
    url = re.search(r"^\s+url:\s*(\S+)", block.group(1), re.MULTILINE)
    branch = re.search(r"^\s+branch:\s*(\S+)", block.group(1), re.MULTILINE)
    if url is None:
        raise SystemExit("_config.yml: 'repository:' has no 'url:'")
    return url.group(1).rstrip("/"), branch.group(1) if branch else "main"


def stamped_cells(rel_path: str, url: str, branch: str) -> list[dict]:
    """The two cells every notebook starts with, for the notebook at ``rel_path`` (e.g. chapters/01_x.ipynb)."""
    github = url.removeprefix("https://github.com/")
    colab = f"https://colab.research.google.com/github/{github}/blob/{branch}/{rel_path}"
    badge = f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab})"
    setup = (
        "# Colab setup: install lecture_code from the book's repository when it is not importable.\n"
        "try:\n"
        "    import lecture_code\n"
        "except ImportError:\n"
        "    import subprocess\n"
        "    import sys\n"
        f'    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "lecture_code @ git+{url}@{branch}"],\n'
        "                   check=True)"
    )
    meta = {"tags": ["remove-cell"]}
    return [
        {
            "cell_type": "markdown",
            "id": "colab-badge",
            "metadata": {**meta, MARK: "badge"},
            "source": badge.splitlines(keepends=True),
        },
        {
            "cell_type": "code",
            "id": "colab-setup",
            "metadata": {**meta, MARK: "setup"},
            "execution_count": None,
            "outputs": [],
            "source": setup.splitlines(keepends=True),
        },
    ]


def _key(cell: dict) -> tuple:
    """What a stamp fixes: the kind of cell, its text, its tags and its stamp mark."""
    meta = cell.get("metadata", {})
    return cell["cell_type"], "".join(cell["source"]), tuple(meta.get("tags", [])), meta.get(MARK)


def stamp(nb: dict, rel_path: str, url: str, branch: str) -> dict:
    """Return ``nb`` with the stamped cells at the top, or ``nb`` itself if they are already right.

    Any earlier stamped cells are replaced; a restamped setup cell must be executed again.
    """
    new = stamped_cells(rel_path, url, branch)
    stamped_elsewhere = any(MARK in c.get("metadata", {}) for c in nb["cells"][len(new):])
    if [_key(c) for c in nb["cells"][: len(new)]] == [_key(c) for c in new] and not stamped_elsewhere:
        return nb
    rest = [c for c in nb["cells"] if MARK not in c.get("metadata", {})]
    return {**nb, "cells": new + rest}


def notebooks(root: Path = ROOT) -> list[Path]:
    return sorted(p for f in FOLDERS for p in (root / f).glob("*.ipynb"))


def main(argv: list[str]) -> int:
    check = "--check" in argv
    url, branch = repository()
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
    return 1 if (check and bad) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
