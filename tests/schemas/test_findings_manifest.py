"""Findings, check results, the check report and the run manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from schemas import CheckReport, CheckResult, CheckStatus, Finding, InputSummary, QuarantineEntry, RunManifest
from schemas.errors import ConfigError, DatavetError, UsageError
from schemas.manifest import sha256_path


def test_finding_keeps_extra_keys_and_needs_snake_case_reason() -> None:
    f = Finding(id="3", reason="near_duplicate", duplicate_of="1", jaccard=0.9)
    assert f.model_dump(mode="json")["duplicate_of"] == "1" and f.severity.value == "warning"
    for bad in ("Near-Duplicate", "1x", "has space", ""):
        with pytest.raises(ValidationError):
            Finding(id="3", reason=bad)


def test_check_result_forbids_unknown_keys() -> None:
    with pytest.raises(ValidationError):
        CheckResult(name="x", status="pass", bogus=1)
    assert CheckResult(name="x", status="pass").status is CheckStatus.passed


def _summary() -> InputSummary:
    return InputSummary(path="p", format="jsonl", encoding="utf-8", kind="classification", rows_read=3,
                        rows_loaded=2, rows_quarantined=1)


def test_report_worst_status() -> None:
    rep = CheckReport(input=_summary(), checks=[CheckResult(name="a", status="warn"),
                                                CheckResult(name="b", status="pass")])
    assert rep.worst_status() is CheckStatus.warn
    rep.checks.append(CheckResult(name="c", status="error"))
    assert rep.worst_status() is CheckStatus.error
    assert CheckReport(input=_summary()).worst_status() is CheckStatus.passed


def test_quarantine_entry_round_trips_json() -> None:
    q = QuarantineEntry(
        source="f.jsonl", line=2, row=1, id="1", reason="malformed_json", message="m", raw="{"
    )
    assert QuarantineEntry.model_validate_json(q.model_dump_json()) == q


def test_manifest_hashes_inputs_and_records_versions(tmp_path: Path) -> None:
    f = tmp_path / "d.jsonl"
    f.write_text("{}\n", encoding="utf-8")
    m = RunManifest.create("curate check", [f, tmp_path / "gone"], config={"a": 1}, seed=3)
    assert m.inputs[str(f)] == sha256_path(f) and len(m.inputs[str(f)]) == 64
    assert m.inputs[str(tmp_path / "gone")] == "missing"
    assert "pydantic" in m.versions and m.seed == 3
    assert RunManifest.model_validate(json.loads(m.model_dump_json())) == m


def test_manifest_names_an_input_as_written_and_hashes_the_file_behind_it(tmp_path: Path) -> None:
    f = tmp_path / "tweets.csv"
    f.write_text("text,label\n", encoding="utf-8")
    m = RunManifest.create("curate run", {"bundled:tweets": f})
    assert m.inputs == {"bundled:tweets": sha256_path(f)}


def test_folder_hash_changes_with_content(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("1", encoding="utf-8")
    h1 = sha256_path(tmp_path)
    (tmp_path / "a.txt").write_text("2", encoding="utf-8")
    assert sha256_path(tmp_path) != h1


def test_errors_carry_fix_and_exit_code() -> None:
    e = UsageError("bad", fix="do this", details=["one"])
    assert isinstance(e, DatavetError) and e.exit_code == 2
    assert str(e) == "bad\n  - one\nFix: do this"
    assert ConfigError("c").exit_code == 2
