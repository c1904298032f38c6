"""`normalization`: what normalizing the data changed, counted by kind and listed per row.

The kinds and the rules are those of `curate.normalize` (NFKC, mojibake repair with ftfy, control and
zero-width characters, whitespace, optional HTML and lowercasing, label canonicalization). Every changed
row is an `info` finding with its change kinds; rows with mojibake ftfy cannot repair cleanly and rows whose
label is not in `NormalizeConfig.labels` are `warning` findings. No thresholds.
"""

from __future__ import annotations

from curate.checks.base import Check, CheckContext
from schemas.findings import CheckResult, Finding, Severity


class NormalizationCheck(Check):
    name = "normalization"
    description = "changes made by normalization (Unicode, mojibake, control chars, whitespace, labels)"

    def run(self, ctx: CheckContext) -> CheckResult:
        from curate.dedup.shared import normalize_options
        from curate.normalize import normalize_dataset

        res = ctx.shared.get("normalize")
        if res is None:
            # the context was built from raw records: normalize here to report (texts stay as given)
            res = normalize_dataset(ctx.data, normalize_options(ctx))
            ctx.shared["normalize"] = res
        unknown = set(res.unknown_rows)
        findings = []
        for rid, kinds in res.changes.items():
            bad = "mojibake_unrepaired" in kinds
            reason = "mojibake_unrepaired" if bad else "normalized"
            findings.append(
                Finding(
                    id=rid,
                    reason=reason,
                    severity=Severity.warning if bad else Severity.info,
                    message=", ".join(kinds),
                    kinds=kinds,
                )
            )
        label_of = (
            {r["id"]: r.get("label") for r in ctx.shared.get("raw_data", ctx.data).records} if unknown else {}
        )
        for rid in res.unknown_rows:
            findings.append(Finding(id=rid, reason="unknown_label", severity=Severity.warning,
                                    message=f"label {label_of.get(rid)!r} is not an allowed label",
                                    label=label_of.get(rid)))
        return self.result(findings, summary={
            "rows_changed": sum(1 for k in res.changes.values() if set(k) - {"mojibake_unrepaired"}),
            "by_kind": res.counts, "unknown_labels": res.unknown_labels, "examples": res.examples,
        })
