"""Report -> GitHub-flavoured markdown for pull requests: the same summary first, then each section.

Tables are capped (`MAX_ROWS`) because a PR comment is not the place for 10,000 rows; the HTML report has
them all. Charts become small data tables (heatmaps) or a one-line pointer. Cell text is escaped: `|` and
newlines would break the table, and `<`/`>` would be read as HTML by GitHub.
"""

from __future__ import annotations

import json
from typing import Any

from common.render.svg import fmt
from schemas.report import ChartBlock, KeyValueBlock, Report, TableBlock, TextBlock

MAX_ROWS = 50
MAX_CELL = 200

_STATUS_ICON = {"pass": "✅", "improved": "✅", "warn": "⚠️", "warning": "⚠️", "fail": "❌", "error": "❌",
                "regressed": "❌", "skipped": "⏭️", "not_run": "⏭️",
                "not_applicable": "➖"}


def md_escape(v: Any) -> str:
    if isinstance(v, (dict, list)):
        v = json.dumps(v, ensure_ascii=False, default=str)
    s = fmt(v)
    if len(s) > MAX_CELL:
        s = s[: MAX_CELL - 1] + "…"
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
            .replace("\r", " ").replace("\n", " "))


def _status(v: Any) -> str:
    icon = _STATUS_ICON.get(str(v).lower())
    return f"{icon} {md_escape(v)}" if icon else md_escape(v)


def table_md(b: TableBlock) -> list[str]:
    if not b.columns:
        return []
    sidx = b.columns.index(b.status_column) if b.status_column in b.columns else -1
    out = ["| " + " | ".join(md_escape(c) for c in b.columns) + " |",
           "|" + "|".join("---:" if b.rows and isinstance(b.rows[0][i] if i < len(b.rows[0]) else None, (int, float))
                          else "---" for i in range(len(b.columns))) + "|"]
    for row in b.rows[:MAX_ROWS]:
        out.append("| " + " | ".join(_status(v) if i == sidx else md_escape(v) for i, v in enumerate(row)) + " |")
    if len(b.rows) > MAX_ROWS:
        out.append(f"\n_{len(b.rows) - MAX_ROWS} more rows in index.html_")
    return out


def block_md(b: Any) -> list[str]:
    out = [f"**{md_escape(b.title)}**", ""] if b.title else []
    if isinstance(b, TextBlock):
        out += [b.text.replace("<", "&lt;").replace(">", "&gt;")]
    elif isinstance(b, KeyValueBlock):
        out += [f"- {md_escape(k)}: {md_escape(v)}" for k, v in b.items.items()]
    elif isinstance(b, TableBlock):
        out += table_md(b)
    elif isinstance(b, ChartBlock):
        if b.chart == "heatmap" and b.matrix:
            cols = [md_escape(b.y_label or "")] + [md_escape(x) for x in b.x]
            out += ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
            for i, r in enumerate(b.matrix):
                lab = b.y[i] if i < len(b.y) else i
                out.append("| " + " | ".join([f"**{md_escape(lab)}**", *(md_escape(v) for v in r)]) + " |")
        else:
            out += [f"_{b.chart} chart: see index.html_"]
    if b.caption:
        out += ["", f"_{md_escape(b.caption)}_"]
    return [*out, ""]


def render_markdown(report: Report) -> str:
    """The report as markdown, summary first.

    Args:
        report: The report to render.

    Returns:
        Markdown text.
    """
    out = [f"# {md_escape(report.title)}", ""]
    if report.subtitle:
        out += [f"_{md_escape(report.subtitle)}_", ""]
    if report.summary:
        out += [f"## {md_escape(report.summary.title or 'Summary')}", ""]
        out += block_md(report.summary.model_copy(update={"title": None}))
    for s in report.sections:
        status = f" — {_status(s.status)}" if s.status else ""
        out += [f"## {md_escape(s.title)}{status}", ""]
        for b in s.blocks:
            out += block_md(b)
    if report.links:
        out += ["## Links", ""] + [f"- [{md_escape(k)}]({v})" for k, v in report.links.items()] + [""]
    if report.signatures:
        out += ["## Signatures", "", "| metric | signature |", "|---|---|"]
        out += [f"| {md_escape(k)} | `{md_escape(v)}` |" for k, v in report.signatures.items()] + [""]
    if report.manifest:
        out += ["## Manifest", "", "```json", json.dumps(report.manifest, indent=2, ensure_ascii=False, default=str),
                "```", ""]
    return "\n".join(out).rstrip() + "\n"
