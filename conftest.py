"""Per-folder expectations for nbval: every check in solutions/ must pass, every check in exercises/
must report not_implemented (the generated stubs). The variable is set before each notebook's kernel
starts (the kernel inherits it), and removed for chapters/. Progress bars are switched off
(LECTURE_CODE_PROGRESS=0), as when the notebooks are executed for the book."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

EXPECT = {"solutions": "pass", "exercises": "not_implemented"}
# Notebooks run without progress bars under test, as they were executed for the book.
os.environ["LECTURE_CODE_PROGRESS"] = "0"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    path = Path(str(item.fspath))
    if path.suffix != ".ipynb":
        return
    expected = EXPECT.get(path.parent.name)
    if expected is None:
        os.environ.pop("LECTURE_CODE_EXPECT", None)
    else:
        os.environ["LECTURE_CODE_EXPECT"] = expected
