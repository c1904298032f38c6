"""`exact_duplicate`: rows whose normalized text equals an earlier row's.

The text compared is the normalized text the record is judged by (classification: text; completion:
prompt + newline + completion; chat: all turns). Each repeat names the first occurrence as `duplicate_of`
(also its `cluster`). No thresholds.
"""

from __future__ import annotations

from collections import Counter

from curate.checks._duplicates import cluster_sizes_chart
from curate.checks.base import Check, CheckContext
from schemas.configs.dedup_key import DedupKeyConfig
from schemas.findings import CheckResult, Finding, Severity
from schemas.report import Block


class ExactDuplicateCheck(Check):
    name = "exact_duplicate"
    description = "rows whose normalized text repeats an earlier row"

    def run(self, ctx: CheckContext) -> CheckResult:
        from curate.dedup.shared import exact_groups, key_options

        groups = exact_groups(ctx)
        ids = ctx.ids
        findings = [Finding(id=ids[i], reason="exact_duplicate", severity=Severity.warning,
                            duplicate_of=ids[g], cluster=ids[g]) for i, g in enumerate(groups) if g != i]
        sizes = Counter(groups)
        multi = [s for s in sizes.values() if s > 1]
        return self.result(findings, summary=exact_summary(len(findings), len(multi), max(multi, default=1),
                                                           len(groups), key_options(ctx)))

    @classmethod
    def report_blocks(cls, result: CheckResult) -> list[Block]:
        """The sizes of the duplicate groups."""
        return cluster_sizes_chart(result)


def exact_summary(
    duplicate_rows: int, groups: int, largest_group: int, rows: int, key: DedupKeyConfig
) -> dict:
    """The check's summary (also built by the Ray engine from its distributed counts)."""
    return {"duplicate_rows": duplicate_rows, "groups": groups, "largest_group": largest_group, "rows": rows,
            "duplicate_key": key.spec()}
