"""`conflicting_labels`: the same (or nearly the same) text carrying different labels.

Rows are grouped by identical normalized text, and, with `near: true`, also by near-duplicate cluster
(the same MinHash LSH clusters as `near_duplicate`, shared through `ctx.shared`, threshold 0.9 by default:
stricter than dedup's 0.8 because a small edit such as a negation can legitimately flip a label). Every row
of a group with more than one distinct label is an error finding naming the group (`cluster`, the first
row's id), the row it conflicts with (`conflicts_with`), and the label counts. Classification data only.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from pydantic import BaseModel, ConfigDict, Field

from curate.checks.base import Check, CheckContext
from schemas.findings import CheckResult, CheckStatus, Finding, Severity


class ConflictingLabelsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    near: bool = Field(True, description="also group near-duplicate texts, not only identical ones")
    threshold: float = Field(0.9, gt=0, le=1, description="Jaccard for near-same texts")
    num_perm: int = 128
    shingle: int = 5


def _label_key(label) -> str:
    return "|".join(sorted(label)) if isinstance(label, list) else str(label)


class ConflictingLabelsCheck(Check):
    name = "conflicting_labels"
    description = "identical or near-identical texts with different labels"
    kinds = ("classification",)
    Params = ConflictingLabelsParams

    def run(self, ctx: CheckContext) -> CheckResult:
        from curate.dedup.shared import exact_groups, near

        if ctx.data.kind != "classification":
            return self.result([], status=CheckStatus.not_applicable, message="only for classification data")
        p = self.params
        groups = list(exact_groups(ctx))
        if p.near:
            groups = near(ctx, p.threshold, p.num_perm, p.shingle, None).cluster.tolist()
        members: dict[int, list[int]] = defaultdict(list)
        for i, g in enumerate(groups):
            members[g].append(i)
        ids, recs = ctx.ids, ctx.data.records
        findings = []
        n_groups = 0
        for g, rows in members.items():
            if len(rows) < 2:
                continue
            labels = Counter(_label_key(recs[i]["label"]) for i in rows)
            if len(labels) < 2:
                continue
            n_groups += 1
            for i in rows:
                mine = _label_key(recs[i]["label"])
                other = next(j for j in rows if _label_key(recs[j]["label"]) != mine)
                findings.append(Finding(id=ids[i], reason="conflicting_labels", severity=Severity.error,
                                        cluster=ids[g], conflicts_with=ids[other], label=mine,
                                        labels=dict(labels)))
        return self.result(findings, summary={"conflict_groups": n_groups, "rows": len(findings),
                                              "near": p.near, "threshold": p.threshold if p.near else 1.0})
