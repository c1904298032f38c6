"""Issue 11 items 2 and 4: compare states its verdict on the primary metric with its CI, and refuses to call
anything improved on a single-class test set or with classes that have no test items; the demo index shows
each stage's outcome, so a regression is never a green pass."""

from __future__ import annotations

import json

from common.render import render_markdown, write_report
from evalsuite.compare import compare_predictions
from evalsuite.demo import Stage, _finish, stage_outcome


def _planted(n: int = 120, base_right: float = 0.5, tuned_right: float = 0.9, labels=("neg", "neu", "pos")):
    refs = [labels[i % len(labels)] for i in range(n)]
    wrong = {lab: labels[(k + 1) % len(labels)] for k, lab in enumerate(labels)}
    base = [r if (i * 37 % 100) < base_right * 100 else wrong[r] for i, r in enumerate(refs)]
    tuned = [r if (i * 37 % 100) < tuned_right * 100 else wrong[r] for i, r in enumerate(refs)]
    return [str(i) for i in range(n)], refs, base, tuned


def test_single_class_test_set_is_not_comparable_though_accuracy_jumps():
    # the case: 300 `negative` rows, accuracy 0.81 -> 0.98, reported as "9 metrics improved"
    n = 300
    refs = ["negative"] * n
    base = ["negative" if i % 100 < 81 else "positive" for i in range(n)]
    tuned = ["negative" if i % 100 < 98 else "neutral" for i in range(n)]
    res = compare_predictions("classification", [str(i) for i in range(n)], refs, base, tuned,
                              labels=["negative", "neutral", "positive"])
    # the CI alone says "improved"
    assert res.deltas["accuracy"].delta > 0.15 and res.deltas["accuracy"].ci[0] > 0
    assert {d.status for d in res.deltas.values()} == {"not_comparable"}
    assert res.support == {"negative": 300, "neutral": 0, "positive": 0}
    v = res.verdict()
    assert v.status == "warn" and v.outcome == "not comparable"
    assert "single class" in v.headline and any("no test items: neutral, positive" in r for r in v.reasons)
    md = render_markdown(res.report)
    assert "✅ improved" not in md and "❌ regressed" not in md
    assert "NOT COMPARABLE" in md.splitlines()[2]
    j = res.to_json()
    assert j["verdict"]["outcome"] == "not comparable" and j["support"]["neutral"] == 0
    assert all(m["status"] == "not_comparable" for m in j["metrics"].values())


def test_a_class_without_test_items_withholds_the_call():
    ids, refs, base, tuned = _planted(labels=("neg", "pos"))
    res = compare_predictions("classification", ids, refs, base, tuned, labels=["neg", "pos", "neu"])
    assert res.support["neu"] == 0
    assert res.verdict().outcome == "not comparable"
    table = next(
        b for s in res.report.sections for b in s.blocks if b.title == "Test items per class (support)"
    )
    assert ["neu", 0] in table.rows


def test_improved_regressed_and_inconclusive_verdicts_name_the_primary_metric_and_ci():
    ids, refs, base, tuned = _planted()
    up = compare_predictions("classification", ids, refs, base, tuned, labels=["neg", "neu", "pos"]).verdict()
    assert (
        up.status == "pass"
        and up.outcome == "improved"
        and up.headline.startswith("Tuned beats base on f1_macro")
    )
    assert "CI [" in up.headline and "n = 120 items" in up.reasons[0]
    down = compare_predictions("classification", ids, refs, tuned, base).verdict()
    assert (
        down.status == "fail"
        and down.outcome == "regressed"
        and "worse than base on f1_macro" in down.headline
    )
    near = list(base)
    for i in [i for i, (b, r) in enumerate(zip(base, refs, strict=True)) if b != r][:2]:
        near[i] = refs[i]  # two more right answers out of 120: no call either way
    same = compare_predictions("classification", ids, refs, base, near).verdict()
    assert same.status == "warn" and same.outcome == "inconclusive" and "includes zero" in same.headline


def test_eval_report_opens_with_the_verdict(tmp_path):
    ids, refs, base, tuned = _planted()
    res = compare_predictions("classification", ids, refs, tuned, base)
    paths = write_report(res.report, tmp_path / "r")
    html = paths["html"].read_text()
    assert html.index('id="verdict"') < html.index('id="summary"')
    assert 'class="verdict v-fail"' in html and "regressed" in html.split('id="summary"')[0]


def _demo_stage(tmp_path, name: str, verdict: dict | None, ok: bool = True) -> Stage:
    d = tmp_path / name
    d.mkdir()
    (d / "index.html").write_text("<html></html>", encoding="utf-8")
    if verdict:
        (d / "report.json").write_text(json.dumps({"verdict": verdict}), encoding="utf-8")
    return Stage(name, 1.0, ok, {name: str(d / "index.html")})


def test_demo_index_shows_a_regression_as_fail_not_pass(tmp_path):
    regressed = {"status": "fail", "outcome": "regressed", "headline": "Tuned is worse than base on f1_macro",
                 "reasons": []}
    improved = {
        "status": "pass",
        "outcome": "improved",
        "headline": "Tuned beats base on rougeL",
        "reasons": [],
    }
    stages = [_demo_stage(tmp_path, "cls-compare", regressed), _demo_stage(tmp_path, "gen-compare", improved),
              Stage("finetune", 2.0, True, {})]
    splits = tmp_path / "splits"
    splits.mkdir()
    (splits / "manifest.json").write_text(json.dumps({"warnings": ["test.jsonl holds a single class"]}))
    stages.append(Stage("split", 1.0, True, {"splits": str(splits)}))
    assert stage_outcome(stages[0]) == ("fail", "regressed: Tuned is worse than base on f1_macro")
    assert stage_outcome(stages[1])[0] == "pass"
    assert stage_outcome(stages[3]) == ("warn", "test.jsonl holds a single class")
    assert stage_outcome(Stage("x", 1.0, False, {})) [0] == "error"
    out = tmp_path / "demo"
    out.mkdir()
    _finish(out, stages, 0.0)
    rep = json.loads((out / "report.json").read_text())
    assert rep["verdict"]["status"] == "fail"
    rows = {r[0]: r[1] for r in rep["summary"]["rows"]}
    assert rows == {"cls-compare": "fail", "gen-compare": "pass", "finetune": "pass", "split": "warn"}
    html = (out / "index.html").read_text()
    assert html.index('id="verdict"') < html.index('id="summary"')
