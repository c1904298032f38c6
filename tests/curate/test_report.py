"""The QA report: layout as data (summary first, a section per check, charts), and the written HTML escapes
dataset text (a `<script>` payload in a row is shown, never run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate.io import load
from curate.report import MAX_FINDING_ROWS, build_qa_report, write_qa_report
from curate.runner import build_checks, check_report, default_context, run_checks
from schemas.findings import CheckResult, CheckStatus, Finding
from schemas.report import ChartBlock, Report, TableBlock
from schemas.results import CheckReport

PAYLOAD = "<script>alert('pwned')</script>"


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    d = tmp_path_factory.mktemp("qa")
    rows = [
        {
            "id": f"r{i}",
            "text": f"an ordinary text about flights number {i}",
            "label": "neg" if i % 4 else "pos",
        }
        for i in range(40)
    ]
    rows += [{"id": "evil", "text": PAYLOAD + " mail me at evil@example.com", "label": "neg"},
             {"id": "dup", "text": "an ordinary text about flights number 1", "label": "pos"},
             {"id": "blank", "text": "  ", "label": "neg"}]
    (d / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    data = load(d / "data.jsonl")
    ctx = default_context(data)
    checks = build_checks(only=["schema", "exact_duplicate", "class_balance", "length", "pii"])
    report = check_report(data, run_checks(checks, ctx), reserved=True)
    return report, ctx, d


def test_summary_first_and_one_section_per_check(planted):
    report, ctx, _ = planted
    qa = build_qa_report(report, ctx)
    assert isinstance(qa, Report) and qa.kind == "qa"
    assert [r[0] for r in qa.summary.rows] == [c.name for c in report.checks]
    assert qa.summary.rows[-1][:2] == ["label_issues", "not_run"]
    assert "needs evalsuite cv" in qa.summary.rows[-1][3]
    assert [s.id for s in qa.sections] == ["input", *(c.name for c in report.checks)]
    status = {s.id: s.status for s in qa.sections}
    assert status["class_balance"] == "warn" and status["length"] == "fail"  # pos is 1/4; a blank row


def test_charts_and_findings_tables_carry_the_rows(planted):
    report, ctx, _ = planted
    qa = build_qa_report(report, ctx)
    sec = {s.id: s for s in qa.sections}
    bar = next(b for b in sec["class_balance"].blocks if isinstance(b, ChartBlock))
    assert bar.chart == "bar" and dict(zip(bar.x, bar.series["rows"], strict=True)) == {
        "neg": 32.0,
        "pos": 11.0,
    }
    hist = next(b for b in sec["length"].blocks if isinstance(b, ChartBlock))
    assert hist.chart == "histogram" and set(hist.series) == {"neg", "pos"}
    dup_chart = next(b for b in sec["exact_duplicate"].blocks if isinstance(b, ChartBlock))
    assert dup_chart.title == "Duplicate cluster sizes" and dup_chart.x == [2]
    table = next(b for b in sec["pii"].blocks if isinstance(b, TableBlock) and b.title == "Findings")
    row = dict(zip(table.columns, table.rows[0], strict=True))
    assert row["id"] == "evil" and row["reason"] == "pii_email" and row["text"].startswith(PAYLOAD)
    assert "evil@example.com" not in json.dumps(sec["pii"].model_dump())  # PII rows are shown masked
    assert table.page_size == 25


def test_findings_are_capped_with_a_caption():
    from schemas.results import InputSummary

    many = CheckResult(name="length", status=CheckStatus.warn, count=MAX_FINDING_ROWS + 5,
                       findings=[Finding(id=str(i), reason="too_short") for i in range(MAX_FINDING_ROWS + 5)])
    inp = InputSummary(path="x", format="jsonl", encoding="utf-8", kind="classification", rows_read=1,
                       rows_loaded=1, rows_quarantined=0)
    qa = build_qa_report(CheckReport(input=inp, checks=[many]), None)
    table = qa.sections[1].blocks[-1]
    assert len(table.rows) == MAX_FINDING_ROWS and "text" not in table.columns
    assert f"of {MAX_FINDING_ROWS + 5:,}" in table.caption


def test_written_report_escapes_dataset_text_and_is_self_contained(planted, tmp_path):
    report, ctx, _ = planted
    html_path = write_qa_report(report, ctx, tmp_path / "qa")
    html = html_path.read_text(encoding="utf-8")
    assert PAYLOAD not in html
    assert "&lt;script&gt;alert" in html
    # self-contained: no external scripts, styles or images
    assert 'src="http' not in html and 'href="http' not in html and "<link " not in html
    md = (tmp_path / "qa" / "report.md").read_text(encoding="utf-8")
    assert PAYLOAD not in md and "&lt;script&gt;alert" in md
    assert md.index("## Summary") < md.index("| class_balance |") < md.index("## class_balance")
    contract = json.loads((tmp_path / "qa" / "checks.json").read_text(encoding="utf-8"))
    assert contract["version"] == 1 and [c["name"] for c in contract["checks"]] == [
        c.name for c in report.checks
    ]
    assert (
        Report.model_validate_json((tmp_path / "qa" / "report.json").read_text(encoding="utf-8")).kind == "qa"
    )


def test_report_handles_an_errored_check(tmp_path):
    from schemas.results import InputSummary

    inp = InputSummary(path="x", format="jsonl", encoding="utf-8", kind="classification", rows_read=0,
                       rows_loaded=0, rows_quarantined=0)
    rep = CheckReport(
        input=inp, checks=[CheckResult(name="bias", status=CheckStatus.error, message="ValueError: boom")]
    )
    qa = build_qa_report(rep)
    assert qa.summary.rows == [["bias", "error", 0, "ValueError: boom"]]
    assert Path(write_qa_report(rep, None, tmp_path)).is_file()
