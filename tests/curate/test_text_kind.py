"""Plain text corpora (`text` records) through `curate check`, `curate run` and `curate split`.

The corpus is built from the bundled BBC articles (`bundled:bbc --kind text`) and written as plain
`{"id", "text"}` rows (plus a `topic` column for the group tests), with planted problems: an exact copy, a
near copy (one sentence added) and an e-mail address.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml

import curate
from curate.cli import main

N_DOCS = 90


@pytest.fixture(scope="module")
def bbc_docs() -> list[dict]:
    """The first articles of each topic (so every topic is present), as text records."""
    loaded = curate.load("bundled:bbc", kind="text")
    per_topic: dict[str, list[dict]] = {}
    for r in loaded.records:
        per_topic.setdefault(r["group"], []).append(r)
    docs = [r for rs in per_topic.values() for r in rs[: N_DOCS // len(per_topic)]]
    assert len(per_topic) == 5 and len(docs) == N_DOCS
    return docs


def _corpus(docs: list[dict], *, topic: bool = False) -> list[dict]:
    rows = [{"id": d["id"], "text": d["text"], **({"topic": d["group"]} if topic else {})} for d in docs]
    rows.append({**rows[0], "id": "copy-of-first"})
    rows.append({**rows[1], "id": "near-copy-of-second", "text": rows[1]["text"] + " Reporting by the BBC."})
    rows.append({**rows[2], "id": "with-email",
                 "text": "Readers can write to jane.doe@example.com with questions about the merger."})
    return rows


@pytest.fixture
def corpus(tmp_path: Path, bbc_docs: list[dict]) -> Path:
    p = tmp_path / "docs.jsonl"
    curate.write_jsonl(_corpus(bbc_docs), p)
    return p


def test_a_file_of_documents_loads_as_text_records(corpus: Path) -> None:
    data = curate.load(str(corpus))
    assert data.kind.value == "text" and data.summary.kind == "text"
    assert len(data.records) == N_DOCS + 3 and data.summary.rows_quarantined == 0
    assert set(data.records[0]) == {"id", "metadata", "text", "group"}


def test_check_runs_every_applicable_check_and_marks_label_checks_not_applicable(run_main, corpus, tmp_path):
    out = tmp_path / "check.json"
    assert run_main(main, ["check", str(corpus), "--json", str(out), "--fail-on", "never"]) == 0
    c = json.loads(out.read_text(encoding="utf-8"))
    assert c["input"]["kind"] == "text"
    by = {x["name"]: x for x in c["checks"]}
    for name in ("conflicting_labels", "class_balance", "bias", "conflicting_responses", "label_issues"):
        assert by[name]["status"] == "not_applicable", name
        assert by[name]["count"] == 0 and "not applicable" in by[name]["message"]
    for name in ("schema", "normalization", "exact_duplicate", "near_duplicate", "length", "pii"):
        assert by[name]["status"] in ("pass", "warn", "fail"), name
    assert {f["id"] for f in by["exact_duplicate"]["findings"]} >= {"copy-of-first"}
    assert "near-copy-of-second" in {f["id"] for f in by["near_duplicate"]["findings"]}
    assert "with-email" in {f["id"] for f in by["pii"]["findings"] if f["reason"] == "pii_email"}


def test_not_applicable_never_fails_the_gate(run_main, tmp_path, bbc_docs):
    """Only label checks are not applicable here; the gate at its strictest still passes on clean
    documents."""
    from curate.runner import gate_fails
    from schemas.findings import CheckResult, CheckStatus
    from schemas.results import CheckReport, InputSummary

    s = InputSummary(path="x", format="jsonl", encoding="utf-8", kind="text", rows_read=1, rows_loaded=1,
                     rows_quarantined=0)
    report = CheckReport(input=s, checks=[CheckResult(name="a", status=CheckStatus.passed),
                                          CheckResult(name="b", status=CheckStatus.not_applicable)])
    assert not any(gate_fails(report, level) for level in ("error", "warning", "never"))
    assert report.worst_status() is CheckStatus.passed
    report.checks.append(CheckResult(name="c", status=CheckStatus.warn))
    assert gate_fails(report, "warning") and report.worst_status() is CheckStatus.warn


def test_run_removes_duplicates_accounts_for_every_row_and_reports_why(run_main, corpus, tmp_path):
    cfg = tmp_path / "text.yaml"
    out = tmp_path / "curated"
    cfg.write_text(yaml.safe_dump({"input": {"path": str(corpus)}, "out": str(out), "mask_pii": True,
                                   "split": {"group_by": "near_duplicate"}, "fail_on": "never"}))
    assert run_main(main, ["run", str(cfg)]) == 0
    removed = [json.loads(x) for x in (out / "removed.jsonl").read_text().splitlines()]
    assert {(r["id"], r["reason"]) for r in removed} >= {("copy-of-first", "exact_duplicate"),
                                                          ("near-copy-of-second", "near_duplicate")}
    kept = [json.loads(x) for x in (out / "curated.jsonl").read_text().splitlines()]
    assert len(kept) + len(removed) == N_DOCS + 3  # nothing quarantined, nothing lost
    masked = next(r for r in kept if r["id"] == "with-email")
    assert "jane.doe@example.com" not in masked["text"]
    # the report's "Removed rows" section names every removed row and its reason
    report = json.loads((out / "report.json").read_text())
    section = next(s for s in report["sections"] if s["id"] == "removed")
    tables = {b.get("title"): b for b in section["blocks"] if b.get("kind") == "table"}
    assert dict(map(tuple, tables["Removed rows per reason"]["rows"])) == dict(
        Counter(r["reason"] for r in removed)
    )
    assert {row[0] for row in tables["Removed rows"]["rows"]} == {r["id"] for r in removed}
    # the dataset card says it too
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "(text records)" in card and "| exact_duplicate | 1 |" in card and "| near_duplicate |" in card
    manifest = json.loads((out / "splits" / "manifest.json").read_text())
    assert manifest["kind"] == "text" and manifest["stratify"] == "length"
    assert sum(s["rows"] for s in manifest["splits"].values()) == len(kept)


def _split_ids(folder: Path, name: str) -> list[str]:
    return [json.loads(x)["id"] for x in (folder / name).read_text().splitlines()]


def test_split_keeps_near_duplicate_clusters_whole(run_main, corpus, tmp_path):
    out = tmp_path / "splits"
    assert run_main(main, ["split", str(corpus), "--out", str(out), "--group-by", "near_duplicate",
                           "--val", "0.2", "--test", "0.2"]) == 0
    where = {i: name for name in ("train.jsonl", "val.jsonl", "test.jsonl") for i in _split_ids(out, name)}
    assert len(where) == N_DOCS + 3
    first, second = curate.load(str(corpus)).records[:2]
    assert where["copy-of-first"] == where[first["id"]]
    assert where["near-copy-of-second"] == where[second["id"]]


def test_split_kfold_and_by_a_group_column(run_main, tmp_path, bbc_docs):
    """`topic` is also a label column name, so this file would be read as classification: --kind text says
    it is a corpus whose topic is only a group."""
    data = tmp_path / "docs.jsonl"
    curate.write_jsonl(_corpus(bbc_docs, topic=True), data)
    folds = tmp_path / "folds"
    assert run_main(main, ["split", str(data), "--out", str(folds), "--kfold", "3", "--test", "0.1",
                           "--kind", "text"]) == 0
    vals = [set(_split_ids(folds / f"fold-{k}", "val.jsonl")) for k in range(3)]
    test = set(_split_ids(folds, "test.jsonl"))
    assert not (vals[0] & vals[1]) and not (vals[1] & vals[2]) and not (vals[0] & test)
    assert len(vals[0] | vals[1] | vals[2] | test) == N_DOCS + 3
    assert json.loads((folds / "manifest.json").read_text())["kind"] == "text"

    by_topic = tmp_path / "by-topic"
    assert run_main(main, ["split", str(data), "--out", str(by_topic), "--group-field", "topic",
                           "--val", "0.2", "--test", "0.2", "--kind", "text"]) == 0
    topics: dict[str, set[str]] = {}
    for name in ("train.jsonl", "val.jsonl", "test.jsonl"):
        for line in (by_topic / name).read_text().splitlines():
            topics.setdefault(json.loads(line)["metadata"]["topic"], set()).add(name)
    assert len(topics) == 5 and all(len(names) == 1 for names in topics.values())  # each topic in one split
