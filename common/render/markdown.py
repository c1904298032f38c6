"""Report -> GitHub-flavoured markdown for pull requests: the same summary first, then each section.

Tables are capped (`MAX_ROWS`) because a PR comment is not the place for 10,000 rows; the HTML report has
them all. Charts become small data tables (heatmaps) or a one-line pointer. Cell text is escaped: `|` and
newlines would break the table, and `<`/`>` would be read as HTML by GitHub.
"""

from __future__ import annotations

import json
import re
from typing import Any

from common.render.svg import fmt
from schemas.report import ChartBlock, KeyValueBlock, Report, TableBlock, TextBlock

MAX_ROWS = 50
MAX_CELL = 200

_STATUS_ICON = {"pass": "✅", "improved": "✅", "warn": "⚠️", "warning": "⚠️", "fail": "❌", "error": "❌",
                "regressed": "❌", "skipped": "⏭️", "not_run": "⏭️",
                "not_applicable": "➖"}


# Markdown syntax characters. Data text is escaped so it stays text: `![t](http://evil.example/p.png)` from a
# dataset row must not become a live remote image, nor `[x](javascript:...)` a link. `_` between two word
# characters is left alone (GitHub does not read intraword underscores as emphasis; `f1_macro` stays
# readable). `(`, `)` and `!` need no escape once `[` and `]` are escaped (no link or image can form without
# them), and `#` only opens a heading at the start of a line (handled where lines start).
_MD_SPECIAL = re.compile(r"([\\`*\[\]~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")


def md_text(s: str) -> str:
    """Escape text for markdown: HTML-special characters as entities, markdown syntax with backslashes."""
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", s)


def md_escape(v: Any) -> str:
    """One table cell or inline value: escaped, on one line, `|` escaped, cut at MAX_CELL characters."""
    if isinstance(v, (dict, list)):
        v = json.dumps(v, ensure_ascii=False, default=str)
    s = fmt(v)
    if len(s) > MAX_CELL:
        s = s[: MAX_CELL - 1] + "…"
    s = md_text(s.replace("\r", " ").replace("\n", " ")).replace("|", "\\|")
    return "\\" + s if s.startswith(("#", "-", "+", "=")) else s


def md_href(href: str) -> str:
    """A link target for markdown: only relative links and http(s) (as in HTML), with the characters that
    would end the target percent-encoded."""
    from common.render.html import safe_href

    h = safe_href(href)
    return "".join(f"%{ord(c):02X}" if c in " ()<>[]\\`" else c for c in h)


def _status(v: Any) -> str:
    icon = _STATUS_ICON.get(str(v).lower())
    return f"{icon} {md_escape(v)}" if icon else md_escape(v)


def table_md(b: TableBlock) -> list[str]:
    if not b.columns:
        return []
    sidx = b.columns.index(b.status_column) if b.status_column in b.columns else -1
    out = [
        "| " + " | ".join(md_escape(c) for c in b.columns) + " |",
        "|"
        + "|".join(
            "---:"
            if b.rows and isinstance(b.rows[0][i] if i < len(b.rows[0]) else None, (int, float))
            else "---"
            for i in range(len(b.columns))
        )
        + "|",
    ]
    for row in b.rows[:MAX_ROWS]:
        out.append(
            "| " + " | ".join(_status(v) if i == sidx else md_escape(v) for i, v in enumerate(row)) + " |"
        )
    if len(b.rows) > MAX_ROWS:
        out.append(f"\n_{len(b.rows) - MAX_ROWS} more rows in index.html_")
    return out


def block_md(b: Any) -> list[str]:
    out = [f"**{md_escape(b.title)}**", ""] if b.title else []
    if isinstance(b, TextBlock):
        # paragraphs kept; each line escaped, and a line that would open a block (list, quote, heading,
        # code) is shielded by escaping its first character
        paras = [p.strip() for p in re.split(r"\n\s*\n", b.text) if p.strip()]
        out += ["\n\n".join("  \n".join(_md_line(ln) for ln in p.splitlines()) for p in paras)]
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


def _md_line(line: str) -> str:
    t = md_text(line.strip())
    if re.match(r"^([-+=#]|\d+[.)])", t):
        t = "\\" + t
    return t


def verdict_md(report: Report) -> list[str]:
    """The verdict as a quote block right under the title."""
    v = report.verdict
    if v is None:
        return []
    icon = _STATUS_ICON.get(v.status, "")
    out = [f"> {icon} **{md_escape(v.outcome.upper())}**: {md_escape(v.headline)}"]
    out += [f"> - {md_escape(r)}" for r in v.reasons[:12]]
    if len(v.reasons) > 12:
        out.append(f"> - and {len(v.reasons) - 12} more (see below)")
    return [*out, ""]


def _fence(text: str) -> str:
    """A code fence longer than any backtick run in `text`, so data cannot close it."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def render_markdown(report: Report) -> str:
    """The report as markdown, summary first.

    Args:
        report: The report to render.

    Returns:
        Markdown text.
    """
    out = [f"# {md_escape(report.title)}", ""]
    out += verdict_md(report)
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
        out += (
            ["## Links", ""] + [f"- [{md_escape(k)}]({md_href(v)})" for k, v in report.links.items()] + [""]
        )
    if report.signatures:
        out += ["## Signatures", "", "| metric | signature |", "|---|---|"]
        out += [f"| {md_escape(k)} | {md_escape(v)} |" for k, v in report.signatures.items()] + [""]
    if report.manifest:
        body = json.dumps(report.manifest, indent=2, ensure_ascii=False, default=str)
        fence = _fence(body)
        out += ["## Manifest", "", f"{fence}json", body, fence, ""]
    return "\n".join(out).rstrip() + "\n"
