"""The data-QA report: a `CheckReport` (plus the rows it refers to) as a `schemas.report.Report`.

`build_qa_report` lays the report out — the summary table first, the input, then one section per check with
its message, the charts and tables the check itself declares (`Check.report_blocks`, in the check's module),
its summary numbers and a paginated table of findings with each row's text as the check shows it
(`Check.shown_text`: the pii check masks it). This module knows no check by name. `write_qa_report` hands the
report to the one renderer, `common.render.write_report` (self-contained HTML, markdown, report JSON), and
writes the `curate check --json` contract next to it. Dataset text is only ever put into blocks as data; the
renderer escapes it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from curate.checks import REGISTRY
from curate.checks.base import Check, CheckContext
from schemas.findings import CheckResult
from schemas.report import KeyValueBlock, Report, Section, TableBlock, TextBlock, Verdict
from schemas.results import CheckReport

# Findings shown per check in the HTML; the JSON contract keeps them all. 2,000 rows paginate fine and keep
# a 38k-row dataset's report a few MB.
MAX_FINDING_ROWS = 2000
TEXT_EXCERPT = 300
_BASE_KEYS = ("id", "reason", "severity", "message")


def _scalar(v: Any) -> bool:
    return v is None or isinstance(v, str | int | float | bool)


def _summary_items(summary: dict[str, Any]) -> dict[str, Any]:
    """Summary numbers worth a key-value list: scalars, and small flat dicts/lists shown compactly."""
    out: dict[str, Any] = {}
    for k, v in summary.items():
        if _scalar(v):
            out[k] = v
        elif isinstance(v, dict) and len(v) <= 12 and all(_scalar(x) for x in v.values()):
            out[k] = ", ".join(f"{a}: {b}" for a, b in v.items()) if v else "—"
        elif isinstance(v, list) and len(v) <= 12 and all(_scalar(x) for x in v):
            out[k] = ", ".join(map(str, v)) if v else "—"
    return out


def findings_table(result: CheckResult, texts: dict[str, str] | None) -> TableBlock | None:
    """The check's findings as a paginated table: base columns, the check's own keys, then the row text as
    the check shows it."""
    if not result.findings:
        return None
    extra: list[str] = []
    for f in result.findings[:200]:
        for k in (f.model_extra or {}):
            if k not in extra and k not in ("raw",):
                extra.append(k)
    extra = extra[:5]
    columns = [*_BASE_KEYS, *extra] + (["text"] if texts is not None else [])
    shown = check_view(result.name).shown_text
    rows = []
    for f in result.findings[:MAX_FINDING_ROWS]:
        d = f.model_dump(mode="json")
        row = [d.get(k) for k in _BASE_KEYS] + [d.get(k) for k in extra]
        if texts is not None:
            row.append(shown(texts.get(f.id) or d.get("raw") or "")[:TEXT_EXCERPT])
        rows.append(row)
    n = len(result.findings)
    caption = (
        f"first {MAX_FINDING_ROWS:,} of {n:,} findings; all are in checks.json"
        if n > MAX_FINDING_ROWS
        else None
    )
    if result.findings_file:  # the Ray engine keeps the first findings in checks.json, all in this file
        caption = f"first {min(n, MAX_FINDING_ROWS):,} findings; all are in {result.findings_file}"
    return TableBlock(title="Findings", columns=columns, rows=rows, page_size=25, caption=caption,
                      status_column=None)


def check_view(name: str) -> type[Check]:
    """The registered check that shows results named `name`; the plain `Check` (no blocks of its own, row text
    as is) for a result no check registers, such as the `label_issues` that evalsuite writes."""
    return REGISTRY.get(name, Check)


def check_section(result: CheckResult, texts: dict[str, str] | None) -> Section:
    """One check's section: what it checks, what it found, the check's own blocks, numbers and findings."""
    blocks: list[Any] = [TextBlock(text=result.description or result.name)]
    if result.message:
        blocks.append(TextBlock(title="Result", text=result.message))
    blocks += check_view(result.name).report_blocks(result)
    items = _summary_items(result.summary)
    if items:
        blocks.append(KeyValueBlock(title="Summary", items=items))
    table = findings_table(result, texts)
    if table is not None:
        blocks.append(table)
    sid = result.name.lower().replace(" ", "_")
    return Section(id=sid, title=result.name, status=result.status.value, blocks=blocks)


def _headline(result: CheckResult) -> str:
    if result.message:
        return result.message.splitlines()[0][:160]
    # info findings (e.g. the majority rows of a label conflict) are context, not problems
    reasons = Counter(f.reason for f in result.findings if f.severity.value != "info")
    return ", ".join(f"{r}: {n:,}" for r, n in reasons.most_common(4)) or result.description


def removed_section(removed: list[dict[str, Any]], texts: dict[str, str] | None) -> Section:
    """What `curate run` removed and why: rows per reason, then each removed row with the row it
    duplicates."""
    by_reason = Counter(r["reason"] for r in removed)
    blocks: list[Any] = [
        TextBlock(
            text=f"{len(removed):,} row(s) removed; each is in removed.jsonl with its reason and record."
            if removed
            else "No row was removed."
        ),
    ]
    if removed:
        blocks.append(TableBlock(title="Removed rows per reason", columns=["reason", "rows"],
                                 rows=[[k, v] for k, v in by_reason.most_common()], page_size=None))
        rows = [[r["id"], r["reason"], r.get("duplicate_of") or r.get("cluster") or r.get("conflicts_with"),
                 ((texts or {}).get(r["id"]) or "")[:TEXT_EXCERPT]] for r in removed[:MAX_FINDING_ROWS]]
        caption = (f"first {MAX_FINDING_ROWS:,} of {len(removed):,} removed rows; all are in removed.jsonl"
                   if len(removed) > MAX_FINDING_ROWS else None)
        blocks.append(
            TableBlock(
                title="Removed rows",
                columns=["id", "reason", "kept row it matches", "text"],
                rows=rows,
                page_size=25,
                caption=caption,
            )
        )
    return Section(id="removed", title="Removed rows", blocks=blocks)


def qa_verdict(report: CheckReport, fail_on: str = "fail", run: dict[str, Any] | None = None) -> Verdict:
    """The QA report's banner: did the data pass the gate, and if not, which checks failed it and why.

    Args:
        report: The check results.
        fail_on: The gate level (fail, warn, never; the old error, warning).
        run: For `curate run`: {"rows_read", "kept", "removed", "quarantined", "removed_by_reason", "files":
            {what: file}}; the banner then also says where every row went.
    """
    from curate.runner import gate_fails, gate_reasons
    from schemas.findings import OLD_GATE_LEVELS, CheckStatus

    s = report.input
    reasons: list[str] = []
    if run:
        where = run.get("files", {})
        by = ", ".join(f"{k} {v:,}" for k, v in sorted(run.get("removed_by_reason", {}).items())) or "none"
        reasons += [
            f"kept {run['kept']:,} of {run['rows_read']:,} rows → {where.get('kept', 'curated data')}",
            f"removed {run['removed']:,} ({by}) → {where.get('removed', 'removed.jsonl')}",
            f"quarantined {run['quarantined']:,} at load → {where.get('quarantined', 'quarantine.jsonl')}",
        ]
    if s.subset:
        reasons.append(f"judged on {s.subset}")
    fail_on = OLD_GATE_LEVELS.get(fail_on, fail_on)
    level = "fail" if fail_on == "never" else fail_on  # with --fail-on never, still say what would fail
    failing = gate_reasons(report, level)
    warns = [c for c in report.checks if c.status == CheckStatus.warn and level == "fail"]
    not_run = [c.name for c in report.checks if c.status == CheckStatus.not_run]
    if s.rows_loaded == 0:
        return Verdict(status="fail", outcome="no data", reasons=reasons + failing,
                       headline=f"No rows loaded: all {s.rows_read:,} rows were quarantined, so no check ran")
    if failing:
        bad = {CheckStatus.fail, CheckStatus.error} | ({CheckStatus.warn} if level == "warn" else set())
        names = [c.name for c in report.checks if c.status in bad]
        gated = gate_fails(report, fail_on)
        head = (f"Quality gate failed (--fail-on {fail_on}): {len(names)} check(s) failed: {', '.join(names)}"
                if gated else f"{len(names)} check(s) would fail the gate: {', '.join(names)} "
                              f"(--fail-on {fail_on}: not enforced)")
        if run:
            head = f"Kept {run['kept']:,} of {run['rows_read']:,} rows. " + head
        more = [f"warning: {_named(c)}" for c in warns]
        return Verdict(status="fail", outcome="gate failed" if gated else "checks failed", headline=head,
                       reasons=reasons + failing + more + [f"not run: {', '.join(not_run)}"] * bool(not_run))
    if warns:
        head = (f"Gate passed (--fail-on {fail_on}) with {len(warns)} warning(s): "
                f"{', '.join(c.name for c in warns)}")
        if run:
            head = f"Kept {run['kept']:,} of {run['rows_read']:,} rows. " + head
        return Verdict(status="warn", outcome="passed with warnings", headline=head,
                       reasons=reasons + [_named(c) for c in warns])
    ran = [c for c in report.checks if c.status == CheckStatus.passed]
    head = f"All {len(ran)} checks that ran passed the gate (--fail-on {fail_on})"
    if run:
        head = f"Kept {run['kept']:,} of {run['rows_read']:,} rows. " + head
    return Verdict(status="pass", outcome="pass", headline=head, reasons=reasons)


def _named(result: CheckResult) -> str:
    """"name: headline", without repeating the name when the headline starts with it (a reason code)."""
    h = _headline(result)
    return h if h.startswith(f"{result.name}:") else f"{result.name}: {h}"


def build_qa_report(report: CheckReport, ctx: CheckContext | None = None, title: str | None = None,
                    removed: list[dict[str, Any]] | None = None, fail_on: str = "fail",
                    run: dict[str, Any] | None = None) -> Report:
    """Lay out a data-QA report, its verdict banner first.

    Args:
        report: What `curate check` found (the JSON contract object).
        ctx: The context the checks ran on; gives each finding's row text. None leaves the text column out.
        title: Report title; default "Data QA: <input path>".
        fail_on: The gate level the verdict is judged at.
        run: `curate run` row accounting for the banner (see `qa_verdict`).
        removed: The rows `curate run` removed (id, reason, the row each duplicates); adds a section after
            the input. None (as for `curate check`, which removes nothing) leaves it out.

    Returns:
        The Report, ready for `common.render.write_report`.
    """
    s = report.input
    texts = dict(zip(ctx.ids, ctx.texts, strict=True)) if ctx is not None else None
    summary = TableBlock(
        title="Summary",
        columns=["check", "status", "count", "what it found"],
        status_column="status",
        rows=[[c.name, c.status.value, c.count, _headline(c)] for c in report.checks],
        page_size=None,
    )
    inp = Section(id="input", title="Input", blocks=[KeyValueBlock(items=s.model_dump(mode="json"))])
    extra = [removed_section(removed, texts)] if removed is not None else []
    return Report(title=title or f"Data QA: {s.path}", kind="qa", verdict=qa_verdict(report, fail_on, run),
                  subtitle=f"{s.kind}, {s.rows_loaded:,} rows loaded of {s.rows_read:,}; worst status "
                           f"{report.worst_status().value}",
                  summary=summary, sections=[inp, *extra, *(check_section(c, texts) for c in report.checks)])


def write_qa_report(report: CheckReport, ctx: CheckContext | None, out_dir: str | Path, *,
                    write_contract: bool = True, removed: list[dict[str, Any]] | None = None,
                    fail_on: str = "fail", run: dict[str, Any] | None = None) -> Path:
    """Write the QA report (index.html, report.md, report.json) and, with `write_contract`, the check contract
    (checks.json).

    Args:
        report: What `curate check` found.
        ctx: The context the checks ran on (for row texts), or None.
        out_dir: Folder to write into (created if missing).
        removed: The rows `curate run` removed, for the "Removed rows" section (see `build_qa_report`).

    Returns:
        The path of index.html.
    """
    from common.render import write_report
    from curate.io import write_json

    out = Path(out_dir)
    paths = write_report(build_qa_report(report, ctx, removed=removed, fail_on=fail_on, run=run), out)
    if write_contract:
        write_json(report, out / "checks.json")
    return paths["html"]
