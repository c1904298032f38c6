"""Tiny planted data files for the loader and writer tests, and the Ray engine tests' local Ray instance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def jsonl_bytes(rows: list[object]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


@pytest.fixture
def write_bytes(tmp_path: Path):
    """`write_bytes(name, data) -> Path`: write raw bytes (or text as UTF-8) under tmp_path."""

    def _write(name: str, data: bytes | str) -> Path:
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return p

    return _write


@pytest.fixture
def records_classification() -> list[dict]:
    return [{"id": f"r{i}", "text": f"text {i} é ✓", "label": "ab"[i % 2], "group": "g" + str(i % 2),
             "metadata": {"source": "unit", "n": i}} for i in range(5)]


@pytest.fixture
def records_chat() -> list[dict]:
    return [
        {
            "id": str(i),
            "messages": [
                {"role": "system", "content": "short"},
                {"role": "user", "content": f"q{i}"},
                {"role": "assistant", "content": f"a{i}"},
            ],
            "group": None,
            "metadata": {},
        }
        for i in range(3)
    ]


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray instance per test module, started as the engine starts one (2 CPUs, a 256 MiB object
    store, unfused spill), with 2 buckets per shuffle."""
    import os

    ray = pytest.importorskip("ray")
    from curate.engines.ray.session import start_local

    os.environ.setdefault("DATAVET_RAY_PARTITIONS", "2")
    start_local(2, 256)
    yield
    ray.shutdown()
