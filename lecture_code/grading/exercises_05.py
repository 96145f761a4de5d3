"""Exercise set 5 (placeholder: filled in by the chapter's issue)."""

from __future__ import annotations

from .checker import Exercise

EXERCISES_05: tuple[Exercise, ...] = ()
