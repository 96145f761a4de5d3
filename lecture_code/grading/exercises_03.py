"""Exercise set 3 (placeholder: filled in by the chapter's issue)."""

from __future__ import annotations

from .checker import Exercise

EXERCISES_03: tuple[Exercise, ...] = ()
