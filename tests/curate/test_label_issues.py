"""`curate check --label-issues`: the out-of-fold label errors from `evalsuite cv` shown in the QA report."""

from __future__ import annotations

import json

import numpy as np

import curate.cli
from evalsuite.cv import label_issues_from_oof


def _data(tmp_path):
    rows = [{"id": f"r{i}", "text": f"text number {i} about {'cats' if i % 2 else 'dogs'}",
             "label": "cat" if i % 2 else "dog"} for i in range(40)]
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return rows, path


def test_cv_label_issues_fill_the_reserved_slot(tmp_path, run_main) -> None:
    rows, path = _data(tmp_path)
    # Out-of-fold probabilities that confidently contradict two given labels (planted label errors).
    classes = ["cat", "dog"]
    probs = np.array([[0.95, 0.05] if r["label"] == "cat" else [0.05, 0.95] for r in rows])
    probs[[4, 7]] = probs[[4, 7]][:, ::-1]
    result = label_issues_from_oof([r["id"] for r in rows], [r["label"] for r in rows], probs, classes)
    issues = tmp_path / "label_issues.json"
    issues.write_text(result.model_dump_json(), encoding="utf-8")
    out = tmp_path / "check.json"

    assert run_main(curate.cli.main, ["check", str(path), "--label-issues", str(issues), "--json", str(out),
                                      "--fail-on", "never"]) == 0
    checks = {c["name"]: c for c in json.loads(out.read_text())["checks"]}
    li = checks["label_issues"]
    assert li["status"] == "warn"
    assert {f["id"] for f in li["findings"]} == {"r4", "r7"}


def test_label_issues_for_rows_not_in_the_data_are_dropped_and_counted(tmp_path, run_main) -> None:
    _rows, path = _data(tmp_path)
    issues = tmp_path / "label_issues.json"
    issues.write_text(json.dumps({"name": "label_issues", "status": "warn", "count": 2, "findings": [
        {"id": "r1", "reason": "label_issue", "severity": "warning"},
        {"id": "gone", "reason": "label_issue", "severity": "warning"}]}), encoding="utf-8")
    out = tmp_path / "check.json"
    assert (
        run_main(
            curate.cli.main,
            ["check", str(path), "--label-issues", str(issues), "--json", str(out), "--fail-on", "never"],
        )
        == 0
    )
    li = {c["name"]: c for c in json.loads(out.read_text())["checks"]}["label_issues"]
    assert [f["id"] for f in li["findings"]] == ["r1"] and li["count"] == 1
    assert "1 finding(s) name rows not in this data" in li["message"]


def test_a_file_that_is_not_label_issues_is_a_usage_error(tmp_path, run_main, capsys) -> None:
    _rows, path = _data(tmp_path)
    bad = tmp_path / "other.json"
    bad.write_text(json.dumps({"name": "pii", "status": "pass"}), encoding="utf-8")
    assert run_main(curate.cli.main, ["check", str(path), "--label-issues", str(bad)]) == 2
    assert "not label_issues" in capsys.readouterr().err
