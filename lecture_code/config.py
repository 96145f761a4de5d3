"""Run modes and seeding.

Quick mode (the default) makes every chapter finish in about a minute on two CPU cores.
Full mode (``LECTURE_CODE_FULL=1``) uses bigger models and more data, for a GPU or Colab.
"""

from __future__ import annotations

import os
import random
from typing import TypeVar

import numpy as np
import torch

T = TypeVar("T")


def full_mode() -> bool:
    """True when the environment variable ``LECTURE_CODE_FULL`` is set to ``1``."""
    return os.environ.get("LECTURE_CODE_FULL", "0").strip() == "1"


def mode_name() -> str:
    """``"full"`` or ``"quick"``, for printing next to every measured number."""
    return "full" if full_mode() else "quick"


def quick_or_full(quick: T, full: T) -> T:
    """Pick the quick-mode or the full-mode value of a setting."""
    return full if full_mode() else quick


def show_progress(progress: bool = True) -> bool:
    """Whether to draw a progress bar: ``progress``, unless ``LECTURE_CODE_PROGRESS=0``.

    The notebooks are executed for the book and tested with ``LECTURE_CODE_PROGRESS=0``, so the
    pages carry no progress bars; a learner running a notebook sees them.
    """
    return progress and os.environ.get("LECTURE_CODE_PROGRESS", "1").strip() != "0"


def device() -> torch.device:
    """The GPU when there is one (full mode on Colab), else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy and torch; return a fresh NumPy generator with that seed."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002  (code that still uses the legacy global generator)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)
