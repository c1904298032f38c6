"""Writers: round trips for JSONL, Parquet and HF folders; atomic writes that leave nothing behind on
failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate import load, write_jsonl, write_records
from curate.io.writers import atomic_text, write_hf, write_json, write_parquet, writer_format
from schemas.errors import UsageError


@pytest.mark.parametrize("name", ["out.jsonl", "out.parquet", "out_hf"])
def test_round_trip_classification(tmp_path: Path, name: str, records_classification: list[dict]) -> None:
    target = tmp_path / name
    assert write_records(records_classification, target) == 5
    d = load(target)
    assert d.records == records_classification
    assert d.summary.rows_quarantined == 0


@pytest.mark.parametrize("name", ["chat.jsonl", "chat.parquet", "chat_hf"])
def test_round_trip_chat(tmp_path: Path, name: str, records_chat: list[dict]) -> None:
    write_records(records_chat, tmp_path / name)
    d = load(tmp_path / name)
    assert d.kind.value == "chat" and d.records == records_chat


def test_round_trip_after_load(tmp_path: Path, write_bytes) -> None:
    src = write_bytes("in.jsonl", '{"id": 5, "prompt": "p", "completion": "c", "lang": "en"}\n')
    first = load(src).records
    write_jsonl(first, tmp_path / "again.jsonl")
    assert load(tmp_path / "again.jsonl").records == first == [
        {"id": "5", "prompt": "p", "completion": "c", "group": None, "metadata": {"lang": "en"}}]


def test_writer_format_inference(tmp_path: Path) -> None:
    assert writer_format(tmp_path / "a.JSONL") == "jsonl"
    assert writer_format(tmp_path / "a.pq") == "parquet"
    assert writer_format(tmp_path / "folder") == "hf"
    assert writer_format(tmp_path / "a.bin", "jsonl") == "jsonl"
    for bad in ("a.csv", "a.json"):
        with pytest.raises(UsageError, match="extension") as e:
            writer_format(tmp_path / bad)
        assert ".jsonl or .parquet" in e.value.fix
    with pytest.raises(UsageError, match="cannot write format"):
        writer_format(tmp_path / "a.jsonl", "xml")


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_jsonl_failure_mid_write_leaves_no_target_and_no_temp(tmp_path: Path) -> None:
    def rows():
        yield {"id": "0", "text": "a"}
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_jsonl(rows(), tmp_path / "out.jsonl")
    assert _leftovers(tmp_path) == []


def test_failed_rewrite_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    write_json({"v": 1}, target)
    with pytest.raises(ValueError), atomic_text(target) as fh:
        fh.write('{"v": 2')
        raise ValueError("interrupted")
    assert json.loads(target.read_text(encoding="utf-8")) == {"v": 1}
    assert _leftovers(tmp_path) == ["out.json"]


def test_parquet_failure_mid_write(tmp_path: Path, monkeypatch, records_classification) -> None:
    import pyarrow.parquet as pq

    def half_write(table, where, *a, **k):
        Path(where).write_bytes(b"PAR1 partial")
        raise OSError("interrupted")

    monkeypatch.setattr(pq, "write_table", half_write)
    with pytest.raises(OSError, match="interrupted"):
        write_parquet(records_classification, tmp_path / "o.parquet")
    assert _leftovers(tmp_path) == []


def test_hf_failure_mid_write(tmp_path: Path, monkeypatch, records_classification) -> None:
    from datasets import Dataset

    def half_save(self, path, *a, **k):
        Path(path, "data-00000-of-00001.arrow").write_bytes(b"partial")
        raise OSError("interrupted")

    write_hf(records_classification[:1], tmp_path / "hf")  # an existing good copy must survive
    monkeypatch.setattr(Dataset, "save_to_disk", half_save)
    with pytest.raises(OSError, match="interrupted"):
        write_hf(records_classification, tmp_path / "hf", overwrite=True)
    assert _leftovers(tmp_path) == ["hf"]
    monkeypatch.undo()
    assert len(load(tmp_path / "hf").records) == 1


def test_atomic_writes_get_normal_permissions(tmp_path) -> None:
    import os
    import stat

    from curate.io import write_jsonl

    target = tmp_path / "out.jsonl"
    write_jsonl([{"id": "0"}], target)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
