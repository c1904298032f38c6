"""Reading a pandas batch of a Ray Dataset row by row."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def columns(batch: Any, *names: str) -> Iterator[tuple]:
    """The values of the named columns of `batch`, one tuple per row (as plain Python values)."""
    return zip(*(batch[c].tolist() for c in names), strict=True)
