"""`evalsuite demo --quick`: every stage of `make demo` runs through its real CLI and the index links the
reports. Sizes are too small for the comparisons to mean anything; this proves the commands compose."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


def test_quick_demo_runs_every_stage_and_links_the_reports(quick_demo) -> None:
    out, code = quick_demo
    assert code == 0
    # no stage runs silently: with stderr not a terminal each long stage writes progress lines
    err = (out.parent / "stderr.txt").read_text(encoding="utf-8", errors="replace")
    for step in (
        "checks",
        "train",
        "evaluate",
        "embed",
        "predict",
        "perplexity",
        "generate (base)",
        "generate (tuned)",
    ):
        assert f"progress | {step}" in err, step
    stages = json.loads((out / "stages.json").read_text())
    assert [s["name"].split(" ")[0] for s in stages].count("finetune") == 2
    assert all(s["ok"] for s in stages)
    index = (out / "index.html").read_text()
    for report in ("tweets-qa/index.html", "tweets-compare/index.html", "bbc-compare/index.html"):
        assert (out / report).exists() and report in index
    # the index states each comparison's headline result, read from its compare.json
    assert "f1_macro " in index and "rougeL " in index and "perplexity " in index
    cls = json.loads((out / "tweets-compare" / "compare.json").read_text())
    gen = json.loads((out / "bbc-compare" / "compare.json").read_text())
    assert {"accuracy", "f1_macro"} <= set(cls["metrics"])
    assert {"bleu", "rougeL", "perplexity"} <= set(gen["metrics"])
    assert all(m["signature"] for m in gen["metrics"].values())
    # every report opens with its verdict, and the index shows each stage's outcome, not just "it ran"
    for report in ("tweets-qa", "tweets-curated", "tweets-compare", "bbc-compare"):
        html = (out / report / "index.html").read_text()
        assert html.index('id="verdict"') < html.index('id="summary"'), report
        v = json.loads((out / report / "report.json").read_text())["verdict"]
        assert v["status"] in ("pass", "warn", "fail") and v["headline"]
    assert cls["verdict"]["outcome"] in ("improved", "regressed", "inconclusive", "not comparable")
    rows = {r[0]: r[1] for r in json.loads((out / "report.json").read_text())["summary"]["rows"]}
    assert rows["evalsuite compare (linear probe vs fine-tuned)"] == cls["verdict"]["status"]
    assert index.index('id="verdict"') < index.index('id="summary"')
