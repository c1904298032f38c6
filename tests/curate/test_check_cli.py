"""`curate check`: options, config file, gate exit codes and outputs, run in-process on tiny planted files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from curate.cli import main

WORDS = [
    "seat",
    "crew",
    "gate",
    "bag",
    "delay",
    "meal",
    "staff",
    "pilot",
    "cabin",
    "wifi",
    "refund",
    "ticket",
    "lounge",
    "trip",
    "app",
]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    import random

    rng = random.Random(0)
    rows = [
        {
            "id": f"r{i}",
            "text": " ".join(rng.choice(WORDS) for _ in range(9)),
            "label": "neg" if i % 3 else "pos",
            "region": "north" if i < 30 else "south",
        }
        for i in range(60)
    ]
    rows.append({"id": "blank", "text": "   ", "label": "neg", "region": "north"})
    p = tmp_path / "data.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return p


def contract(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_runs_every_check_and_writes_the_contract(run_main, data, tmp_path):
    out = tmp_path / "out.json"
    assert run_main(main, ["check", str(data), "--json", str(out), "--fail-on", "never"]) == 0
    c = contract(out)
    names = [x["name"] for x in c["checks"]]
    for n in (
        "schema",
        "expectations",
        "class_balance",
        "bias",
        "length",
        "pii",
        "token_audit",
        "label_issues",
    ):
        assert n in names
    by = {x["name"]: x for x in c["checks"]}
    assert by["label_issues"]["status"] == "not_run" and "evalsuite cv" in by["label_issues"]["message"]
    assert by["length"]["findings"][0]["id"] == "blank"
    assert c["input"]["rows_loaded"] == 61


def test_gate_exit_codes(run_main, data):
    assert run_main(main, ["check", str(data)]) == 1                      # empty text is an error
    assert run_main(main, ["check", str(data), "--fail-on", "never"]) == 0
    # Without the empty row only class_balance warns (40 neg / 20 pos = 2.0 is at the limit, 41/20 above it).
    assert run_main(main, ["check", str(data), "--disable", "length", "--fail-on", "error"]) == 0
    assert run_main(main, ["check", str(data), "--disable", "length", "--fail-on", "warning"]) == 1


def test_config_file_params_disable_and_flags_override(run_main, data, tmp_path):
    cfg = tmp_path / "curate.yaml"
    cfg.write_text(yaml.safe_dump({
        "input": {"path": str(data)},
        "checks": {"length": {"min_chars": 100}, "class_balance": {"max_ratio": 1.5}},
        "disable": ["pii"], "fail_on": "never",
    }), encoding="utf-8")
    out = tmp_path / "o.json"
    assert run_main(main, ["check", "--config", str(cfg), "--json", str(out)]) == 0
    by = {x["name"]: x for x in contract(out)["checks"]}
    assert "pii" not in by
    assert by["length"]["summary"]["reasons"]["too_short"] == 60       # min_chars 100 applies to every row
    assert by["class_balance"]["status"] == "warn"                    # 40 neg / 21 pos > 1.5
    # --set and flags override the file
    assert (
        run_main(
            main,
            [
                "check",
                "--config",
                str(cfg),
                "-c",
                "checks.length.min_chars=3",
                "--json",
                str(out),
                "--fail-on",
                "error",
            ],
        )
        == 1
    )
    by = {x["name"]: x for x in contract(out)["checks"]}
    assert "too_short" not in by["length"]["summary"]["reasons"]


def test_group_field_reaches_the_bias_check(run_main, data, tmp_path):
    out = tmp_path / "o.json"
    assert (
        run_main(
            main,
            [
                "check",
                str(data),
                "--group-field",
                "region",
                "--json",
                str(out),
                "--fail-on",
                "never",
                "-c",
                "checks.bias.min_group_size=10",
            ],
        )
        == 0
    )
    bias = {x["name"]: x for x in contract(out)["checks"]}["bias"]
    assert set(bias["summary"]["group"]["groups"]) == {"north", "south"}


@pytest.mark.parametrize("argv,needle", [
    (["--disable", "not_a_check"], "unknown check 'not_a_check'"),
    (["-c", "checks.length.min_chars=-1"], "checks.length"),
    (["-c", "checks.length.bogus=1"], "bogus"),
    (["--tokenizer", "minilm"], "--max-length"),
    (["--fail-on", "sometimes"], "gate level"),
    (["--expectations", "no/such/suite.yaml"], "does not exist"),
])
def test_user_mistakes_exit_2_with_a_fix(run_main, data, capsys, argv, needle):
    assert run_main(main, ["check", str(data), *argv]) == 2
    err = capsys.readouterr().err
    assert needle in err and "How to fix" in err


def test_no_data_is_a_usage_error(run_main, capsys):
    assert run_main(main, ["check"]) == 2
    assert "no data to check" in capsys.readouterr().err


def test_report_dir_and_expectations_suite(run_main, data, tmp_path):
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        yaml.safe_dump(
            {
                "expectations": [
                    {"type": "expect_column_value_lengths_to_be_between", "column": "text", "min_value": 1}
                ]
            }
        ),
        encoding="utf-8",
    )
    rep = tmp_path / "rep"
    out = tmp_path / "o.json"
    assert run_main(main, ["check", str(data), "--expectations", str(suite), "--report-dir", str(rep),
                           "--json", str(out), "--fail-on", "never"]) == 0
    ex = {x["name"]: x for x in contract(out)["checks"]}["expectations"]
    assert [(f["id"], f["reason"]) for f in ex["findings"]] == [
        ("blank", "column_value_lengths_to_be_between")
    ]
    assert {p.name for p in rep.iterdir()} >= {"index.html", "report.md", "report.json", "checks.json"}
    assert "expectations" in (rep / "index.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_bundled_tweets_end_to_end(run_main, tmp_path):
    out, rep = tmp_path / "tweets.json", tmp_path / "tweets-qa"
    rc = run_main(main, ["check", "bundled:tweets", "--json", str(out), "--report-dir", str(rep)])
    assert rc == 1  # conflicting labels among duplicates fail the default gate
    by = {x["name"]: x for x in contract(out)["checks"]}
    assert by["class_balance"]["summary"]["under_represented"] == ["positive"]
    assert by["exact_duplicate"]["count"] > 0 and by["pii"]["count"] > 0
    assert "length_predicts_label" in by["bias"]["summary"]["problems"]
    assert (rep / "index.html").stat().st_size > 10_000
