"""Helpers for the fault suite: planted data, an injected full disk, a second process."""

from __future__ import annotations

import errno
import io
import json
from pathlib import Path

import pytest


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    """A small classification JSONL file (two labels, six rows)."""
    p = tmp_path / "d.jsonl"
    p.write_text(
        "".join(json.dumps({"text": f"row number {i}", "label": "ab"[i % 2]}) + "\n" for i in range(6)),
        encoding="utf-8",
    )
    return p


class _FullDisk(io.TextIOWrapper):
    """A text file whose writes fail with ENOSPC once `budget` characters have been written (half a write)."""

    budget = 0

    def write(self, s: str) -> int:
        room = type(self).budget
        if len(s) > room:
            super().write(s[:room])
            type(self).budget = 0
            self.flush()
            raise OSError(errno.ENOSPC, "No space left on device")
        type(self).budget -= len(s)
        return super().write(s)


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch):
    """`full_disk(after=N)`: every file the atomic writer opens fails with ENOSPC after N characters."""
    import common.outputs as writers

    def _arm(after: int = 10) -> None:
        _FullDisk.budget = after

        def fake_open(path, mode="r", encoding=None, newline=None, **kw):
            assert "w" in mode
            return _FullDisk(open(path, "wb"), encoding=encoding, newline=newline)

        monkeypatch.setattr(writers, "open", fake_open, raising=False)

    return _arm
