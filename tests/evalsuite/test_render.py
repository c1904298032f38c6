"""The renderer: escaping, pagination, charts, markdown, JSON round trip, and a headless-Chromium smoke
test."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from common.render import render_html, render_markdown, write_report
from schemas.report import ChartBlock, KeyValueBlock, Report, Section, TableBlock, TextBlock

XSS = "<script>alert(1)</script>"


def _report(n_rows: int = 60) -> Report:
    return Report(
        title=f"Eval {XSS}",
        subtitle="base vs tuned",
        kind="eval",
        summary=TableBlock(
            columns=["metric", "delta", "status"],
            rows=[["accuracy", 0.05, "improved"], ["f1_macro", -0.01, "regressed"]],
            status_column="status",
        ),
        sections=[
            Section(
                id="metrics",
                title="Metrics",
                status="pass",
                blocks=[
                    TextBlock(text="First paragraph.\n\nSecond <b>para</b>."),
                    KeyValueBlock(items={"model": "minilm", "n": 3, "nested": {"a": 1}}),
                    TableBlock(
                        title="Rows",
                        columns=["id", "text", "status"],
                        rows=[
                            [i, XSS if i == 0 else f"row {i}", "fail" if i % 2 else "pass"]
                            for i in range(n_rows)
                        ],
                        page_size=25,
                        status_column="status",
                    ),
                ],
            ),
            Section(
                id="charts",
                title="Charts",
                blocks=[
                    ChartBlock(
                        title="F1 per class",
                        chart="bar",
                        x=["neg", XSS, "pos"],
                        series={"base": [0.5, 0.6, 0.7], "tuned": [0.6, 0.65, None]},
                    ),
                    ChartBlock(
                        title="Lengths", chart="histogram", x=[0, 10, 20, 30], series={"count": [3, 5, 2]}
                    ),
                    ChartBlock(
                        title="Loss",
                        chart="line",
                        x=[1, 2, 3, 4],
                        series={"train": [2.0, 1.5, None, 1.0]},
                        x_label="step",
                        y_label="loss",
                    ),
                    ChartBlock(
                        title="Confusion",
                        chart="heatmap",
                        x=["a", "b"],
                        y=["a", XSS],
                        matrix=[[5, 1], [2, 7]],
                        x_label="predicted",
                        y_label="true",
                    ),
                ],
            ),
        ],
        signatures={"bleu": "nrefs:1|case:mixed|tok:13a|smooth:exp|version:2.5"},
        manifest={"seed": 0, "note": XSS},
        links={"qa": "qa/index.html", "bad": "javascript:alert(1)"},
    )


def test_html_escapes_every_data_string():
    html = render_html(_report())
    assert "<script>alert(1)</script>" not in html
    # title, cell, bar label, heatmap label, manifest
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 5
    assert "<b>para</b>" not in html
    assert 'href="javascript:' not in html
    # exactly one script element: our pagination code
    assert html.count("<script>") == 1


def test_html_is_self_contained_and_structured():
    html = render_html(_report())
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html
    assert html.index('id="summary"') < html.index('id="sec-metrics"') < html.index('id="signatures"')
    assert 'href="#sec-charts"' in html  # table of contents
    assert html.count("<svg") == 4
    assert 'data-page-size="25"' in html
    assert 'class="badge s-regressed"' in html and 'class="badge s-improved"' in html


def test_small_table_is_not_paginated():
    assert 'data-page-size="' not in render_html(_report(n_rows=5))


def test_markdown_summary_first_and_escaped():
    md = render_markdown(_report())
    assert md.startswith("# Eval &lt;script&gt;")
    outside_code = md.split("```json")[0]  # inside a fenced block GitHub shows text literally
    assert "<script>" not in outside_code
    assert md.index("## Summary") < md.index("## Metrics") < md.index("## Signatures")
    assert "✅ improved" in md and "❌ regressed" in md
    assert "10 more rows in index.html" in md
    assert "| **&lt;script&gt;alert(1)&lt;/script&gt;** | 2 | 7 |" in md  # heatmap as a table


def test_write_report_round_trips_json(tmp_path):
    paths = write_report(_report(), tmp_path / "r")
    assert set(paths) == {"html", "markdown", "json"}
    assert Report.model_validate_json(paths["json"].read_text()) == _report()


def _chromium() -> str | None:
    return next(
        (p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None
    )


@pytest.mark.browser
def test_html_opens_in_headless_chromium_without_console_errors(tmp_path):
    exe = _chromium()
    if exe is None:
        pytest.skip("no chromium on PATH (tools/ensure_chromium.sh installs it)")
    paths = write_report(_report(), tmp_path / "r")
    shot = tmp_path / "shot.png"
    proc = subprocess.run(
        [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1280,2000",
            "--enable-logging=stderr",
            "--v=0",
            paths["html"].as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.exists() and shot.stat().st_size > 10_000, proc.stderr[-2000:]
    console = [ln for ln in proc.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]
    assert not console, "\n".join(console)
