"""Each check owns its report blocks (issue 10 item 4): `Check.report_blocks(result)` and `Check.shown_text`
are declared in the check's own module, the QA report asks every check for them and knows no check by name,
and each block a check declares is the one the report drew before the blocks moved out of curate/report.py
(the expected values below are what that code produced for the same sample results).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from curate.checks import REGISTRY, RESERVED, Check
from curate.io import load
from curate.report import check_section, check_view, findings_table
from curate.runner import default_context
from schemas.findings import CheckResult, CheckStatus, Finding
from schemas.report import ChartBlock, KeyValueBlock, TableBlock
from tests.curate.summary_support import assert_declared

REPORT = Path(__file__).resolve().parents[2] / "curate" / "report.py"
# The checks that draw blocks of their own (the seven branches that were an if-chain in curate/report.py).
WITH_BLOCKS = {"class_balance", "length", "exact_duplicate", "near_duplicate", "semantic_duplicate", "bias",
               "expectations", "token_audit"}


def _result(name: str, summary: dict | None = None, findings: list[Finding] | None = None) -> CheckResult:
    return CheckResult(name=name, status=CheckStatus.warn, summary=summary or {}, findings=findings or [])


# --- where the blocks come from ----------------------------------------------------------------------------

def test_the_report_knows_no_check_by_name():
    tree = ast.parse(REPORT.read_text(encoding="utf-8"))
    names = set(REGISTRY) | set(RESERVED)
    literals = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in names]
    assert literals == [], f"curate/report.py names checks: {literals}"
    compared = [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.Compare)
                and any(isinstance(x, ast.Attribute) and x.attr == "name" for x in [n.left, *n.comparators])]
    assert compared == [], f"curate/report.py branches on a check's name: {compared}"
    imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                and (n.module or "").startswith("curate.checks.")]
    assert set(imported) <= {"curate.checks.base"}, f"curate/report.py imports a check module: {imported}"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_a_checks_blocks_and_shown_text_are_declared_in_its_own_module(name):
    cls = REGISTRY[name]
    for hook in ("report_blocks", "shown_text"):
        owner = next(k for k in cls.__mro__ if hook in vars(k))
        assert owner is Check or owner.__module__ == cls.__module__, (
            f"{name}.{hook} comes from {owner.__module__}, not from the check's module {cls.__module__}"
        )
    declares = "report_blocks" in vars(cls)
    assert declares == (name in WITH_BLOCKS)
    assert ("shown_text" in vars(cls)) == (name == "pii")   # only the pii check shows rows changed (masked)


def test_a_result_no_check_registers_gets_the_generic_section():
    assert check_view("label_issues") is Check and check_view("no_such_check") is Check
    res = CheckResult(name="label_issues", status=CheckStatus.warn, message="2 likely label errors",
                      summary={"issues": 2, "counts": {"neg": 3}},
                      findings=[Finding(id="r1", reason="label_issue")])
    sec = check_section(res, {"r1": "some text"})
    assert [(b.kind, b.title) for b in sec.blocks] == [
        ("text", None), ("text", "Result"), ("kv", "Summary"), ("table", "Findings")]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_check_draws_nothing_from_an_errored_result(name):
    res = CheckResult(name=name, status=CheckStatus.error, message="ValueError: boom")
    assert REGISTRY[name].report_blocks(res) == []


def test_the_checks_blocks_sit_between_its_message_and_its_summary_numbers():
    res = CheckResult(name="class_balance", status=CheckStatus.warn, message="pos is under-represented",
                      summary={"counts": {"neg": 3, "pos": 1}, "shares": {"neg": 0.75, "pos": 0.25},
                               "class_weights": {"neg": 0.6667, "pos": 2.0}, "classes": 2})
    sec = check_section(res, None)
    assert [(b.kind, b.title) for b in sec.blocks] == [
        ("text", None), ("text", "Result"), ("chart", "Label distribution"), ("table", "Classes"),
        ("kv", "Summary")]


# --- each moved block, for a sample result ------------------------------------------------------------------

def test_class_balance_blocks(tmp_path):
    p = tmp_path / "d.jsonl"
    rows = [{"id": str(i), "text": f"t {i}", "label": "neg" if i < 3 else "pos"} for i in range(4)]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    res = REGISTRY["class_balance"]().run(default_context(load(p)))
    assert REGISTRY["class_balance"].report_blocks(res) == [
        ChartBlock(title="Label distribution", chart="bar", x=["neg", "pos"], series={"rows": [3.0, 1.0]},
                   x_label="label", y_label="rows"),
        TableBlock(title="Classes", columns=["label", "rows", "share", "balanced weight"],
                   rows=[["neg", 3, 0.75, 0.6667], ["pos", 1, 0.25, 2.0]], page_size=None),
    ]


def test_length_blocks():
    res = _result("length", {"histogram": {"edges": [0, 5, 10], "series": {"neg": [1, 2], "pos": [0, 3]}}})
    assert REGISTRY["length"].report_blocks(res) == [
        ChartBlock(title="Length per class (characters)", chart="histogram", x=[0, 5, 10],
                   series={"neg": [1.0, 2.0], "pos": [0.0, 3.0]}, x_label="characters", y_label="rows",
                   caption="the last bin holds everything above the 99th percentile")]
    assert REGISTRY["length"].report_blocks(_result("length", {"histogram": None})) == []


def _dups(reason: str) -> list[Finding]:
    # clusters r1 and r4 hold 2 repeats each (r7 names its head only by `duplicate_of`), r8 one
    keys = [("r2", "r1"), ("r3", "r1"), ("r5", "r4"), ("r9", "r8")]
    return [Finding(id=i, reason=reason, duplicate_of=c, cluster=c) for i, c in keys] + [
        Finding(id="r7", reason=reason, duplicate_of="r4")]


CLUSTER_CHART = ChartBlock(title="Duplicate cluster sizes", chart="bar", x=[2, 3],
                           series={"clusters": [1.0, 2.0]}, x_label="rows in cluster", y_label="clusters")


@pytest.mark.parametrize("name", ["exact_duplicate", "near_duplicate", "semantic_duplicate"])
def test_duplicate_cluster_sizes(name):
    assert REGISTRY[name].report_blocks(_result(name, findings=_dups(name))) == [CLUSTER_CHART]
    assert REGISTRY[name].report_blocks(_result(name)) == []


def test_near_duplicate_sampled_pairs():
    pairs = [{"a": "r1", "b": "r2", "jaccard": 0.9, "text_a": "one", "text_b": "two"},
             {"a": "r3", "b": "r4", "jaccard": 0.85}]       # a pair without its texts still gets a row
    res = _result("near_duplicate", {"sample_pairs": pairs}, _dups("near_duplicate"))
    assert REGISTRY["near_duplicate"].report_blocks(res) == [
        CLUSTER_CHART,
        TableBlock(title="Sampled pairs (judge the threshold)",
                   columns=["a", "b", "jaccard", "text a", "text b"],
                   rows=[["r1", "r2", 0.9, "one", "two"], ["r3", "r4", 0.85, None, None]], page_size=10),
    ]


def test_bias_blocks():
    leak = {"cv_accuracy": 0.7, "majority_baseline": 0.6, "lift": 0.1}
    summary = {"group": {"groups": {"a": 10, "b": 5}, "distribution": {"a": {"neg": 0.6, "pos": 0.4},
                                                                       "b": {"pos": 1.0}}},
               "terms": {"alpha": {"rows": 4, "labels": {"neg": 3, "pos": 1},
                                   "pmi": {"neg": 0.2, "pos": -0.5}}},
               "length_leakage": leak, "problems": []}
    assert REGISTRY["bias"].report_blocks(_result("bias", summary)) == [
        TableBlock(title="Label share per group", columns=["group", "rows", "neg", "pos"],
                   rows=[["a", 10, 0.6, 0.4], ["b", 5, None, 1.0]], page_size=25),
        TableBlock(title="Term-label PMI (log2)", columns=["term", "rows", "labels", "pmi"],
                   rows=[["alpha", 4, '{"neg": 3, "pos": 1}', '{"neg": 0.2, "pos": -0.5}']], page_size=25),
        KeyValueBlock(title="Length-label leakage", items=leak),
    ]
    assert REGISTRY["bias"].report_blocks(_result("bias", {"length_leakage": None, "problems": []})) == []


def test_expectations_blocks():
    results = [{"expectation": "expect_column_values_to_be_in_set", "column": "label", "success": False,
                "unexpected_count": 2, "unexpected_percent": 10.0, "observed_value": None},
               {"expectation": "expect_table_row_count_to_be_between", "column": None, "success": True,
                "unexpected_count": None, "unexpected_percent": None, "observed_value": 20}]
    summary = {"evaluated": 2, "successful": 1, "failed": results[:1], "results": results}
    res = _result("expectations", summary)
    assert REGISTRY["expectations"].report_blocks(res) == [
        TableBlock(title="Expectations", columns=["expectation", "column", "result", "unexpected", "%"],
                   rows=[["expect_column_values_to_be_in_set", "label", "fail", 2, 10.0],
                         ["expect_table_row_count_to_be_between", None, "pass", None, None]],
                   status_column="result", page_size=None)]


def test_token_audit_blocks():
    tokens, prompt = {"min": 3, "median": 9, "max": 40}, {"min": 1, "median": 4, "max": 20}
    view = REGISTRY["token_audit"]
    assert view.report_blocks(_result("token_audit", {"tokens": tokens, "prompt_tokens": prompt})) == [
        TableBlock(title="Tokens per record", columns=["sequence", "min", "median", "max"],
                   rows=[["full", 3, 9, 40], ["prompt", 1, 4, 20]], page_size=None)]
    assert view.report_blocks(_result("token_audit", {"tokens": tokens})) == [
        TableBlock(title="Tokens per record", columns=["sequence", "min", "median", "max"],
                   rows=[["full", 3, 9, 40]], page_size=None)]


def test_pii_rows_are_shown_masked_and_only_by_the_pii_check():
    text = "write to someone@example.com or call +1 415 555 0100"
    masked = "write to [EMAIL] or call [PHONE]"
    assert REGISTRY["pii"].shown_text(text) == masked
    finding = [Finding(id="r1", reason="pii_email")]
    pii = findings_table(_result("pii", findings=finding), {"r1": text})
    other = findings_table(_result("length", findings=finding), {"r1": text})
    assert pii.rows[0][-1] == masked and other.rows[0][-1] == text


# --- the summary a check declares is the one it writes ------------------------------------------------------

@pytest.fixture(scope="module")
def sample_ctx(tmp_path_factory):
    words = ["alpha", "beta", "gamma", "delta", "river", "stone", "cloud", "light", "music", "paper",
             "garden", "window"]
    rows = []
    for i in range(60):
        text = " ".join(words[(i * 7 + k) % len(words)] for k in range(4 + i % 9))
        rows.append({"id": f"r{i}", "text": text, "label": "neg" if i % 3 else "pos",
                     "metadata": {"g": "a" if i % 2 else "b"}})
    rows[1]["text"] = rows[0]["text"] + " alpha"          # a near duplicate
    p = tmp_path_factory.mktemp("blocks") / "d.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return default_context(load(p), group_field="g")


@pytest.mark.parametrize(("name", "params", "declared"), [
    ("class_balance", {}, "ClassBalanceSummary"),
    ("length", {}, "LengthSummary"),
    ("near_duplicate", {"threshold": 0.5}, "NearDuplicateSummary"),
    ("bias", {"terms": ["alpha"], "min_group_size": 5}, "BiasSummary"),
])
def test_a_checks_summary_is_the_one_it_declares(sample_ctx, name, params, declared):
    import importlib

    module = importlib.import_module(REGISTRY[name].__module__)
    res = REGISTRY[name](params).run(sample_ctx)
    assert res.status is not CheckStatus.error
    assert_declared(res.summary, getattr(module, declared))
    if name == "near_duplicate":
        assert res.summary["sample_pairs"]
        for pair in res.summary["sample_pairs"]:
            assert_declared(pair, module.SamplePair)
    if name == "bias":
        assert_declared(res.summary["group"], module.GroupParity)
        assert_declared(res.summary["terms"]["alpha"], module.TermPmi)
    if name == "length":
        assert_declared(res.summary["histogram"], module.LengthHistogram)
    assert REGISTRY[name].report_blocks(res)          # and the check draws its blocks from it


def test_the_expectations_summary_is_the_one_it_declares(sample_ctx):
    from curate.checks.expectations import ExpectationOutcome, ExpectationsSummary

    pytest.importorskip("great_expectations")
    specs = [{"type": "column_values_to_be_in_set", "column": "label", "value_set": ["neg"]},
             {"type": "column_values_to_not_be_null", "column": "text"}]
    res = REGISTRY["expectations"]({"expectations": specs}).run(sample_ctx)
    assert_declared(res.summary, ExpectationsSummary)
    for entry in res.summary["results"]:
        assert_declared(entry, ExpectationOutcome)
    assert [r[2] for r in REGISTRY["expectations"].report_blocks(res)[0].rows] == ["fail", "pass"]
