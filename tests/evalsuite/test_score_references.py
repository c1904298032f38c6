"""`evalsuite score` needs only the id and the reference: a references file without `text` (or `prompt`)
scores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from common.cli import run_app
from evalsuite.cli import app


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _score(tmp_path: Path, task: str, refs: Path, preds: list[str]) -> dict:
    p = _jsonl(tmp_path / "preds.jsonl", [{"id": f"r{i}", "prediction": x} for i, x in enumerate(preds)])
    out = tmp_path / "s.json"
    kind = {"generation": "completion"}.get(task, task)
    assert (
        run_app(
            app,
            "evalsuite",
            ["score", "--kind", kind, "--predictions", str(p), "--references", str(refs), "--json", str(out)],
        )
        == 0
    )
    return json.loads(out.read_text())


def test_classification_references_with_id_and_label_only(tmp_path):
    refs = _jsonl(
        tmp_path / "refs.jsonl", [{"id": f"r{i}", "label": lab} for i, lab in enumerate([1, 0, 1, 1])]
    )
    res = _score(tmp_path, "classification", refs, ["1", "0", "0", "1"])
    assert res["metrics"]["accuracy"]["value"] == pytest.approx(0.75) and res["n"] == 4


def test_generation_references_with_a_completion_or_a_text_only(tmp_path):
    with_completion = _jsonl(tmp_path / "c.jsonl", [{"id": "r0", "completion": "the red car"},
                                                    {"id": "r1", "completion": "a blue boat"}])
    res = _score(tmp_path, "generation", with_completion, ["the red car", "a blue boat"])
    assert res["metrics"]["rougeL"]["value"] == pytest.approx(1.0) and res["n"] == 2

    with_text = _jsonl(
        tmp_path / "t.jsonl", [{"id": "r0", "text": "the red car"}, {"id": "r1", "text": "a boat"}]
    )
    res = _score(tmp_path, "generation", with_text, ["the red car", "a green boat"])
    assert 0.5 < res["metrics"]["rougeL"]["value"] < 1.0


def test_references_still_validate_the_reference_field(tmp_path):
    refs = _jsonl(tmp_path / "refs.jsonl", [{"id": "r0", "label": "a"}, {"id": "r1", "label": {"bad": 1}},
                                            {"id": "r2"}])
    res = _score(tmp_path, "classification", refs, ["a", "b", "c"])
    # only r0 is scored; the other two reference rows are counted as invalid (wrong type, missing label)
    assert res["n"] == 1 and res["accounting"]["references"]["invalid"] == 2
    no_reference = _jsonl(tmp_path / "none.jsonl", [{"id": "r0", "foo": "x"}])
    assert run_app(app, "evalsuite", ["score", "--kind", "classification", "--predictions", str(no_reference),
                                      "--references", str(no_reference)]) == 2
