"""Shared fixtures for the lecture_code tests."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh, seeded NumPy generator for each test."""
    return np.random.default_rng(1234)


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """Run torch on one intra-op thread: the test models are tiny, and on a busy 2-core machine a second
    OpenMP thread makes each small op wait for a descheduled worker (seen: 60 ms instead of 2 ms per forward)."""
    import torch  # here, so that test files that do not need torch do not pay for importing it at collection

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _no_grading_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checker tests start without LECTURE_CODE_EXPECT or a grading report set; a test that needs
    one sets it itself with monkeypatch."""
    monkeypatch.delenv("LECTURE_CODE_EXPECT", raising=False)
    monkeypatch.delenv("LECTURE_CODE_GRADING_REPORT", raising=False)
