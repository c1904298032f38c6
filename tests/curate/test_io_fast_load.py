"""The loader's fast path (`curate.io.load._FastRecord`) must give exactly what pydantic gives.

Random rows mix valid values with wrong types, missing fields, numbers and bools as labels, None, blank
strings, NaN/inf, huge ints, extra columns, input `metadata` columns and ids as int/float/str (with repeats,
so duplicate ids occur). Each file is loaded twice, with the fast path on and off; the records (keys, key
order, value types) and the quarantine entries must be identical, and the fast path must really have built
most of the valid rows.
"""

from __future__ import annotations

import csv
import json
import random
import sys
from pathlib import Path

import pytest

import curate

LOAD_MODULE = sys.modules["curate.io.load"]

_VALUES = [
    "MISSING", None, "", "  ", "hello world", "naïve café ☕", "x\x00y", 0, 1, 7, -3, 2**70, 1.0, 2.5,
    float("nan"), float("inf"), True, False, [1, "a"], {"k": "v"}, ["pos", "neg"], "pos", "neg",
]
_IDS = ["MISSING", None, "", 0, 1, 2, 3, 1.0, 2.5, "1", "a", "b", True, 2**70, [1]]


def _pick(rng: random.Random, pool: list, p_good: float, good: object) -> object:
    return good if rng.random() < p_good else rng.choice(pool)


def _rows(rng: random.Random, n: int, fields: tuple[str, ...], id_space: int) -> list[dict]:
    rows = []
    for i in range(n):
        row: dict = {}
        rid = rng.choice(_IDS) if rng.random() < 0.3 else rng.randrange(id_space)
        if rid != "MISSING":
            row["id"] = rid
        for f in fields:
            v = _pick(rng, _VALUES, 0.7, f"{f} {i} {rng.random():.3f}")
            if v != "MISSING":
                row[f] = v
        if rng.random() < 0.3:
            g = rng.choice(_VALUES)
            if g != "MISSING":
                row["group"] = g
        for k in range(rng.randrange(3)):   # extra columns become metadata
            v = rng.choice(_VALUES)
            if v != "MISSING":
                row[f"extra{k}"] = v
        if rng.random() < 0.05:
            row["metadata"] = rng.choice(['{"source": "web"}', {"source": "web", "n": 2}, "plain", 3])
        rows.append(row)
    return rows


def _write_jsonl(rows: list[dict], path: Path) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _load_both(monkeypatch: pytest.MonkeyPatch, path: Path, **fields) -> tuple:
    built = {"n": 0}
    real = LOAD_MODULE._FastRecord.build

    def counting(self, obj, row):
        out = real(self, obj, row)
        built["n"] += out is not None
        return out

    monkeypatch.setattr(LOAD_MODULE._FastRecord, "build", counting)
    fast = curate.load(path, **fields)
    n_fast = built["n"]
    monkeypatch.setattr(LOAD_MODULE, "FAST_PATH", False)
    slow = curate.load(path, **fields)
    assert built["n"] == n_fast   # the slow load never used the fast path
    return fast, slow, n_fast


def _assert_same(fast, slow) -> None:
    assert fast.kind == slow.kind
    # json.dumps compares key order and value types ("1" vs 1) as well as values
    assert json.dumps(fast.records) == json.dumps(slow.records)
    assert fast.records == slow.records
    assert [q.model_dump() for q in fast.quarantine] == [q.model_dump() for q in slow.quarantine]
    assert fast.summary == slow.summary


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_classification_fast_path_matches_pydantic(tmp_path, monkeypatch, seed):
    rng = random.Random(seed)
    rows = _rows(rng, 1500, ("text", "label"), id_space=1200)
    fast, slow, n_fast = _load_both(monkeypatch, _write_jsonl(rows, tmp_path / "c.jsonl"))
    _assert_same(fast, slow)
    assert len(slow.quarantine) > 100 and len(slow.records) > 300
    # most loaded rows were built without pydantic (a fast path that never fires would pass the above)
    assert n_fast > 0.5 * len(slow.records)
    reasons = set(slow.summary.quarantine_reasons)
    assert {"wrong_type", "missing_field", "duplicate_id", "nul_character"} <= reasons


def test_completion_fast_path_matches_pydantic(tmp_path, monkeypatch):
    rng = random.Random(5)
    rows = _rows(rng, 1500, ("prompt", "completion"), id_space=100_000)
    fast, slow, n_fast = _load_both(monkeypatch, _write_jsonl(rows, tmp_path / "p.jsonl"))
    _assert_same(fast, slow)
    assert slow.kind.value == "completion"
    assert n_fast > 0.5 * len(slow.records)
    assert "empty_completion" in slow.summary.quarantine_reasons


def test_text_fast_path_matches_pydantic(tmp_path, monkeypatch):
    rng = random.Random(6)
    rows = _rows(rng, 1500, ("text",), id_space=1200)
    fast, slow, n_fast = _load_both(monkeypatch, _write_jsonl(rows, tmp_path / "t.jsonl"), kind="text")
    _assert_same(fast, slow)
    assert slow.kind.value == "text" and len(slow.records) > 300
    assert n_fast > 0.5 * len(slow.records)
    assert {"wrong_type", "missing_field", "duplicate_id"} <= set(slow.summary.quarantine_reasons)


def test_renamed_columns_and_group_field(tmp_path, monkeypatch):
    rng = random.Random(9)
    rows = [{("tweet" if k == "text" else "sentiment" if k == "label" else "topic" if k == "group" else k): v
             for k, v in r.items()} for r in _rows(rng, 800, ("text", "label"), id_space=10_000)]
    for r in rows[::7]:
        r["group"] = "a plain column now"   # with --group-field topic, `group` is metadata
    path = _write_jsonl(rows, tmp_path / "r.jsonl")
    fast, slow, n_fast = _load_both(monkeypatch, path, group_field="topic", id_field="id")
    _assert_same(fast, slow)
    assert n_fast > 0.5 * len(slow.records)
    assert any(r["metadata"].get("group") == "a plain column now" for r in slow.records)


def test_csv_rows_match(tmp_path, monkeypatch):
    rng = random.Random(3)
    path = tmp_path / "t.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "label", "note"])
        for i in range(600):
            w.writerow([rng.choice(["", str(i), str(i % 50), "x"]), rng.choice(["", "some text", f"t{i}"]),
                        rng.choice(["", "pos", "neg", "1"]), rng.choice(["", "n"])])
    fast, slow, n_fast = _load_both(monkeypatch, path)
    _assert_same(fast, slow)
    assert n_fast > 0.5 * len(slow.records) > 0


def test_fast_record_shape():
    """One row by hand: the exact dict, key order included."""
    cfg = LOAD_MODULE.LoadConfig(path="x")
    kind = LOAD_MODULE.RecordKind.classification
    fr = LOAD_MODULE._FastRecord(kind, {"text": "text", "label": "label"}, cfg)
    out = fr.build({"text": "hi", "label": 3, "id": 12, "extra": 1.5, "group": 4}, row=0)
    assert list(out.items()) == [("id", "12"), ("metadata", {"extra": 1.5}), ("text", "hi"), ("label", "3"),
                                 ("group", "4")]
    assert fr.build({"text": "hi", "label": True, "id": 1}, row=0) is None      # bool label: pydantic
    assert fr.build({"text": "hi", "label": "a", "id": 1.0}, row=0) is None     # float id: pydantic
    assert fr.build({"text": "hi", "label": "a", "x": float("nan")}, row=5) is None
    assert fr.build({"text": "hi", "label": "a"}, row=5)["id"] == "5"


def test_load_restores_the_garbage_collector(tmp_path):
    """load pauses the cyclic collector while it runs and leaves it as it found it, errors included."""
    import gc

    path = _write_jsonl([{"text": "a", "label": "b"}], tmp_path / "one.jsonl")
    assert gc.isenabled()
    assert len(curate.load(path).records) == 1
    assert gc.isenabled()
    with pytest.raises(Exception, match="does not exist"):
        curate.load(tmp_path / "missing.jsonl")
    assert gc.isenabled()
    gc.disable()
    try:
        curate.load(path)
        assert not gc.isenabled()
    finally:
        gc.enable()
