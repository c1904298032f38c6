"""`schema`: rows that do not validate as the dataset's record kind.

Validation happens while loading (the record models in `schemas.records` are the single source of truth:
missing or mistyped fields, chat role order, empty assistant turns, NUL characters, nesting). This check
reports every quarantined row as an error finding with its reason, source line and raw text. For chat data
its summary also counts what a text model cannot use but the data keeps: non-text content parts (images,
audio) and tool calls.
"""

from __future__ import annotations

from collections import Counter

from curate.checks.base import Check, CheckContext
from schemas.findings import CheckResult, Finding, Severity
from schemas.records import non_text_parts


class SchemaCheck(Check):
    name = "schema"
    description = "rows that do not validate as the record schema (quarantined with a reason)"
    needs_rows = False

    def run(self, ctx: CheckContext) -> CheckResult:
        findings = [
            Finding(
                id=q.id,
                reason=q.reason,
                severity=Severity.error,
                message=q.message,
                line=q.line,
                row=q.row,
                source=q.source,
                raw=q.raw[:2000],
            )
            for q in ctx.data.quarantine
        ]
        s = ctx.data.summary
        summary = {
            "kind": s.kind,
            "rows_read": s.rows_read,
            "rows_loaded": s.rows_loaded,
            "rows_quarantined": s.rows_quarantined,
            "reasons": dict(Counter(f.reason for f in findings)),
        }
        if s.kind == "chat":
            msgs = [m for r in ctx.data.records for m in r["messages"]]
            summary.update(non_text_parts=sum(non_text_parts(m) for m in msgs),
                           rows_with_non_text_parts=sum(1 for r in ctx.data.records
                                                        if any(non_text_parts(m) for m in r["messages"])),
                           tool_calls=sum(len(m.get("tool_calls") or []) for m in msgs),
                           tool_results=sum(1 for m in msgs if m["role"] == "tool"))
        return self.result(findings, summary=summary)
