"""expectations: a great-expectations 1.x suite from YAML; failing rows become findings with their ids.

GX takes seconds to import, so one validation of a planted suite is shared by the assertions below.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from curate.checks.expectations import ExpectationsCheck, load_suite
from curate.io import load
from curate.runner import build_checks, default_context
from schemas.errors import ConfigError
from schemas.findings import CheckStatus

ROWS = [
    {"id": "r1", "text": "a fine sentence", "label": "pos", "source": "web", "score": 0.9},
    {"id": "r2", "text": "another fine sentence", "label": "neg", "source": None, "score": 0.4},
    {"id": "r3", "text": "a fine sentence", "label": "pos", "source": "web", "score": 1.7},
    {"id": "r4", "text": "x", "label": "maybe", "source": "app", "score": 0.1},
]
SUITE = {"name": "planted", "expectations": [
    {"type": "expect_column_values_to_not_be_null", "column": "source", "severity": "error"},
    {"type": "column_values_to_be_in_set", "column": "label", "value_set": ["pos", "neg"]},
    {"type": "expect_column_value_lengths_to_be_between", "column": "text", "min_value": 3, "max_value": 100},
    {"type": "expect_column_values_to_be_unique", "column": "text"},
    {"type": "expect_column_values_to_be_between", "column": "score", "min_value": 0, "max_value": 1},
    {"type": "expect_table_row_count_to_be_between", "min_value": 10},
    {"type": "expect_column_values_to_not_be_null", "column": "label"},
]}


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    d = tmp_path_factory.mktemp("gx")
    (d / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    (d / "suite.yaml").write_text(yaml.safe_dump(SUITE), encoding="utf-8")
    ctx = default_context(load(d / "data.jsonl"))
    return ExpectationsCheck({"suite": str(d / "suite.yaml")}).run(ctx)


def test_failing_rows_become_findings_with_row_ids(result):
    got = {(f.reason, f.id) for f in result.findings}
    assert got == {
        ("column_values_to_not_be_null", "r2"),
        ("column_values_to_be_in_set", "r4"),
        ("column_value_lengths_to_be_between", "r4"),
        ("column_values_to_be_unique", "r1"), ("column_values_to_be_unique", "r3"),
        ("column_values_to_be_between", "r3"),
    }
    null = next(f for f in result.findings if f.reason == "column_values_to_not_be_null")
    assert null.severity.value == "error" and null.column == "source"
    assert result.status is CheckStatus.fail


def test_table_level_failure_is_reported_without_rows(result):
    assert "expect_table_row_count_to_be_between failed" in result.message
    assert result.summary["evaluated"] == 7 and result.summary["successful"] == 1  # label is never null
    failed = {e["expectation"] for e in result.summary["failed"]}
    assert "expect_table_row_count_to_be_between" in failed


def test_bad_suites_are_config_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump(
            {
                "expectations": [
                    {"type": "expect_column_values_to_be_purple", "column": "x"},
                    {"column": "text"},
                ]
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as e:
        load_suite(bad)
    assert len(e.value.details) == 2 and "expect_column_values_to_be_purple" in e.value.details[0]
    with pytest.raises(ConfigError, match="does not exist"):
        build_checks({"expectations": {"suite": str(tmp_path / "missing.yaml")}})


def test_no_suite_is_skipped_and_unknown_column_is_an_error(tmp_path):
    (tmp_path / "d.jsonl").write_text(json.dumps(ROWS[0]) + "\n", encoding="utf-8")
    ctx = default_context(load(tmp_path / "d.jsonl"))
    assert ExpectationsCheck().run(ctx).status is CheckStatus.skipped
    check = ExpectationsCheck(
        {"expectations": [{"type": "expect_column_values_to_not_be_null", "column": "nope"}]}
    )
    with pytest.raises(ConfigError, match="nope"):
        check.run(ctx)


def test_shipped_tweets_suite_loads():
    specs = load_suite(Path(__file__).resolve().parents[2] / "configs" / "expectations" / "tweets.yaml")
    assert {s.gx_type for s in specs} >= {
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_be_unique",
    }
