"""`evalsuite demo --readme-summary` prints the README's demo paragraph from the run's own JSON: every number
it prints is checked against the JSON files of a real (quick) demo run, formatted here independently."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_readme_summary_quotes_the_runs_json(quick_demo, run_main, capsys) -> None:
    from evalsuite.cli import main

    out, code = quick_demo
    assert code == 0
    capsys.readouterr()
    assert run_main(main, ["demo", "--out", str(out), "--readme-summary"]) == 0
    text = capsys.readouterr().out
    cls = json.loads((out / "tweets-compare" / "compare.json").read_text())["metrics"]
    gen = json.loads((out / "bbc-compare" / "compare.json").read_text())["metrics"]
    f1, rouge, ppl = cls["f1_macro"], gen["rougeL"], gen["perplexity"]
    assert f"macro-F1 {f1['base']:.3f} -> {f1['value']:.3f}" in text
    assert f"[{f1['delta_ci'][0]:+.3f}, {f1['delta_ci'][1]:+.3f}] ({f1['status']})" in text
    assert f"ROUGE-L {rouge['base']:.3f} -> {rouge['value']:.3f} (CI [{rouge['delta_ci'][0]:+.3f}, " in text
    base_ppl = f"{ppl['base']:.3g}" if ppl["base"] >= 10 else f"{ppl['base']:.3f}"
    assert f"perplexity {base_ppl} -> " in text
    qa = {c["name"]: c for c in json.loads((out / "tweets-qa" / "check.json").read_text())["checks"]}
    assert f"{qa['exact_duplicate']['count']:,} exact-duplicate rows" in text
    tps = json.loads((out / "minilm-tweets" / "summary.json").read_text())["tokens_per_s"]
    assert f"{tps:,.0f} MiniLM training tokens/s" in text
    stages = json.loads((out / "stages.json").read_text())
    assert f"stages {sum(s['seconds'] for s in stages):,.0f} s wall" in text
    assert all(s["cpu_seconds"] > 0 for s in stages if s["name"].startswith("finetune"))


def test_readme_summary_without_a_run_says_what_to_do(tmp_path, run_main, capsys) -> None:
    from evalsuite.cli import main

    assert run_main(main, ["demo", "--out", str(tmp_path / "nothing"), "--readme-summary"]) == 2
    printed = capsys.readouterr()
    assert "evalsuite demo --out DIR" in printed.out + printed.err


def test_demo_sizes_take_overrides_and_refuse_unknown_names() -> None:
    from evalsuite.demo import FULL, demo_sizes
    from schemas.errors import UsageError

    sizes = demo_sizes(False, {"cls_batch": "16"})
    assert sizes.cls_batch == 16 and sizes.cls_steps == FULL.cls_steps and FULL.cls_batch == 32
    with pytest.raises(UsageError) as e:
        demo_sizes(False, {"cls_bacth": "16", "tweets": "many"})
    assert "cls_bacth" in str(e.value) and "tweets" in str(e.value)


def test_demo_set_without_equals_is_a_usage_error(tmp_path, run_main, capsys) -> None:
    from evalsuite.cli import main

    assert run_main(main, ["demo", "--out", str(tmp_path / "d"), "--set", "cls_batch"]) == 2
    assert not (tmp_path / "d").exists()
