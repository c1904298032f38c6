"""CV aggregation and label issues from planted out-of-fold probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from common.render import render_html
from evalsuite.cv import CVResult, aggregate_folds, build_report, fold_dirs, label_issues_from_oof
from schemas.errors import UsageError
from schemas.findings import CheckResult


def test_aggregate_mean_and_sample_std():
    agg = aggregate_folds([{"accuracy": 0.8, "f1": 0.5}, {"accuracy": 0.9, "f1": 0.7}, {"accuracy": 1.0}])
    assert set(agg) == {"accuracy"}  # f1 is missing in one fold: not aggregated
    assert agg["accuracy"]["mean"] == pytest.approx(0.9)
    assert agg["accuracy"]["std"] == pytest.approx(np.std([0.8, 0.9, 1.0], ddof=1))
    assert aggregate_folds([{"a": 1.0}])["a"]["std"] == 0.0
    with pytest.raises(UsageError):
        aggregate_folds([])


def test_label_issues_find_the_planted_flips():
    rng = np.random.default_rng(0)
    classes = ["neg", "pos"]
    n = 60
    labels = ["neg"] * 30 + ["pos"] * 30
    conf = rng.uniform(0.8, 0.95, n)  # a confident, mostly right out-of-fold model
    # cleanlab flags rows where the model is more sure than its per-class threshold
    conf[[3, 5, 40, 45]] = 0.98
    probs = np.array(
        [[c, 1 - c] if lab == "neg" else [1 - c, c] for c, lab in zip(conf, labels, strict=True)]
    )
    flipped = [3, 5, 40, 45]  # given label disagrees with a confident model
    for i in flipped:
        labels[i] = "pos" if labels[i] == "neg" else "neg"
    res = label_issues_from_oof([f"r{i}" for i in range(n)], labels, probs, classes)
    assert isinstance(res, CheckResult) and res.name == "label_issues"
    assert {f.id for f in res.findings} == {"r3", "r5", "r40", "r45"}
    assert res.status.value == "warn" and res.count == 4
    assert all(f.reason == "likely_label_error" for f in res.findings)
    r = CVResult(
        [{"accuracy": 0.9}, {"accuracy": 0.8}],
        aggregate_folds([{"accuracy": 0.9}, {"accuracy": 0.8}]),
        {"accuracy": "sklearn"},
        label_issues=res,
    )
    html = render_html(build_report(r))
    assert "Likely label errors" in html and "r40" in html
    assert r.to_json()["metrics"]["accuracy"]["value"] == pytest.approx(0.85)


def test_fold_dirs_needs_two_folds(tmp_path):
    (tmp_path / "fold-0").mkdir()
    with pytest.raises(UsageError):
        fold_dirs(tmp_path)
    for i in (1, 10, 2):
        (tmp_path / f"fold-{i}").mkdir()
    assert [p.name for p in fold_dirs(tmp_path)] == ["fold-0", "fold-1", "fold-2", "fold-10"]


def test_training_curves_from_metrics_jsonl(tmp_path):
    import json

    from evalsuite.cv import training_curves

    for i in range(2):
        d = tmp_path / f"fold-{i}"
        d.mkdir()
        rows = [{"step": s, "split": "train", "loss": 2.0 - s / 10 - i} for s in (1, 2, 3)]
        rows.append({"step": 3, "split": "val", "loss": 1.5, "accuracy": 0.5})
        (d / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    train, val = training_curves([tmp_path / "fold-0", tmp_path / "fold-1", tmp_path / "missing"])
    assert train.x == [1, 2, 3] and train.series["fold 1"] == pytest.approx([0.9, 0.8, 0.7])
    assert val.series == {"fold 0": [1.5], "fold 1": [1.5]}
