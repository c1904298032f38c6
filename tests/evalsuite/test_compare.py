"""compare_predictions on planted predictions: deltas, McNemar, slices, examples, report, JSON contract."""

from __future__ import annotations

import pytest

from common.render import render_html
from evalsuite.compare import compare_predictions
from schemas.errors import UsageError


def _cls():
    refs = ["pos", "neg", "neu"] * 20
    base = ["pos"] * 60                      # base always says pos: right on 20 of 60
    tuned = list(refs[:50]) + ["neg"] * 10   # tuned right on 50 minus the planted misses in the tail
    groups = ["a", "b"] * 30
    return refs, base, tuned, groups


def test_classification_compare_finds_improvement_and_slices():
    refs, base, tuned, groups = _cls()
    ids = [f"r{i}" for i in range(60)]
    res = compare_predictions("classification", ids, refs, base, tuned, inputs=[f"text {i}" for i in ids],
                              groups=groups, n_resamples=200, seed=1)
    acc = res.deltas["accuracy"]
    assert acc.base == pytest.approx(20 / 60)
    assert acc.tuned == pytest.approx(sum(t == r for t, r in zip(tuned, refs, strict=True)) / 60)
    assert acc.status == "improved" and acc.ci[0] > 0
    assert res.mcnemar["c"] > res.mcnemar["b"] and res.mcnemar["p_value"] < 0.01
    label_slices = {s["value"]: s for s in res.slices if s["slice"] == "label"}
    # tuned loses pos in the tail
    assert label_slices["pos"]["base"] == 1.0 and label_slices["pos"]["delta"] < 0
    assert {s["value"] for s in res.slices if s["slice"] == "group"} == {"a", "b"}
    regs = [e for e in res.examples if e["kind"] == "regression"]
    assert regs and all(e["base"] == "pos" == e["reference"] for e in regs)
    j = res.to_json()
    assert j["metrics"]["accuracy"]["signature"].startswith("sklearn:")
    assert j["deltas"]["accuracy"]["status"] == "improved" and len(j["deltas"]["accuracy"]["ci"]) == 2
    html = render_html(res.report)
    assert "Confusion matrix: base" in html and "linear probe" in html


def test_same_seed_same_result_and_signature_refusal():
    refs, base, tuned, _ = _cls()
    ids = list(map(str, range(60)))
    a = compare_predictions("classification", ids, refs, base, tuned, n_resamples=100, seed=5).to_json()
    b = compare_predictions("classification", ids, refs, base, tuned, n_resamples=100, seed=5).to_json()
    assert a == b
    with pytest.raises(UsageError):
        compare_predictions("classification", ids, refs, base, tuned, n_resamples=10,
                            base_signatures={"accuracy": "sklearn:0.1"})
    with pytest.raises(UsageError):
        compare_predictions("classification", ids, refs[:-1], base, tuned)


def test_generation_compare_with_groups():
    refs = ["the cat sat", "a dog ran", "birds fly high", "fish swim deep"] * 5
    base = ["cat", "dog", "fly", "deep"] * 5
    tuned = list(refs[:16]) + ["nothing"] * 4
    res = compare_predictions("generation", list(map(str, range(20))), refs, base, tuned,
                              inputs=["p"] * 20, groups=["x"] * 10 + ["y"] * 10, n_resamples=100)
    assert res.deltas["rougeL"].status == "improved"
    assert res.deltas["exact_match"].tuned == pytest.approx(0.8)
    assert "sacrebleu:" in res.signatures["bleu"]
    assert any(e["kind"] == "regression" and e["tuned"] == "nothing" for e in res.examples)
