"""Exact duplicates: identical (normalized) texts share a group id, the index of their first occurrence."""

from __future__ import annotations

from collections.abc import Sequence


def exact_duplicate_groups(texts: Sequence[str]) -> list[int]:
    """For each text, the index of the first text equal to it (a text seen first gets its own index)."""
    first: dict[str, int] = {}
    return [first.setdefault(t, i) for i, t in enumerate(texts)]
