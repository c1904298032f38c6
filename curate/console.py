"""Rich terminal output for curate: the load summary and the check summary tables."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from schemas.findings import CheckStatus
from schemas.results import CheckReport, InputSummary

console = Console()
STATUS_STYLE = {CheckStatus.passed: "green", CheckStatus.warn: "yellow", CheckStatus.fail: "red",
                CheckStatus.error: "bold red", CheckStatus.skipped: "dim", CheckStatus.not_run: "bold yellow",
                CheckStatus.not_applicable: "dim"}


def print_load_summary(s: InputSummary) -> None:
    from rich.markup import escape

    t = Table(title=f"Loaded {s.path}", show_header=False, title_justify="left")
    t.add_column(style="bold")
    t.add_column()
    t.add_row("format / kind", f"{s.format} / {s.kind}")
    t.add_row("encoding", s.encoding + (f"  [yellow]({s.encoding_note})" if s.encoding_note else ""))
    if s.split:
        t.add_row("split", f"{s.split} (of a DatasetDict; choose another with --split)")
    if s.subset:
        t.add_row("subset", f"[yellow]{s.subset}")
    t.add_row("rows read", f"{s.rows_read:,}")
    t.add_row("rows loaded", f"{s.rows_loaded:,}")
    q = f"{s.rows_quarantined:,}"
    if s.quarantine_reasons:
        q += "  (" + ", ".join(f"{k}: {v:,}" for k, v in s.quarantine_reasons.items()) + ")"
    t.add_row("rows quarantined", f"[red]{q}" if s.rows_quarantined else q)
    for note in s.notes:
        t.add_row("note", f"[yellow]{escape(note)}")
    console.print(t)


def print_verdict(verdict) -> None:
    """The report's verdict banner as one line (and its reasons, indented) on the terminal."""
    from rich.markup import escape

    style = {"pass": "bold green", "warn": "bold yellow", "fail": "bold red", "error": "bold red"}.get(
        verdict.status, "bold yellow")
    console.print(f"[{style}]{escape(verdict.outcome.upper())}[/]: {escape(verdict.headline)}")
    for r in verdict.reasons[:8]:
        console.print(f"  - {escape(_short(r, 200))}")


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def print_check_summary(report: CheckReport, examples: int = 2) -> None:
    """One row per check: status, count, and its message or its first findings (each cut to one line)."""
    from rich.markup import escape

    t = Table(title="Checks", title_justify="left")
    t.add_column("check", style="bold")
    t.add_column("status")
    t.add_column("count", justify="right")
    t.add_column("worst examples", overflow="fold")
    for c in report.checks:
        ex = c.message or "; ".join(
            f"{f.id}: {f.reason}" + (f" ({_short(f.message, 100)})" if f.message else "")
            for f in c.findings[:examples]
        )
        # Dataset text may hold `[...]` that rich would read as markup.
        t.add_row(
            c.name, f"[{STATUS_STYLE[c.status]}]{c.status.value}", f"{c.count:,}", escape(_short(ex, 240))
        )
    console.print(t)
