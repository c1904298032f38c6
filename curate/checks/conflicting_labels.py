"""`conflicting_labels`: the same (or nearly the same) text carrying different labels.

Rows are grouped by identical normalized text, and, with `near: true`, also by near-duplicate cluster
(the same MinHash LSH clusters as `near_duplicate`, shared through `ctx.shared`, threshold 0.9 by default:
stricter than dedup's 0.8 because a small edit such as a negation can legitimately flip a label). Each
group with more than one distinct label is reported: the group's majority label (`majority_label`, None on
a tie) decides which rows are the likely errors. A row whose label differs from a clear majority is an error
finding with `likely_error: true`; a row that carries the majority label is an info finding (`likely_error:
false`: it is in a conflict, but probably right); on a tie every row is a likely error (nothing says which
label is right). Findings name the group (`cluster`, the first row's id), a row carrying another label
(`conflicts_with`) and the label counts, and are sorted likely errors first, strongest majority first. The
message holds the labels and the start of the text, so terminal examples show what to fix.
Classification data only.
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


def group_findings(
    group: int, group_id: str, members: list[tuple[int, str, str, str]]
) -> list[tuple[tuple, Finding]]:
    """The findings of one group, each with its sort key; [] when its rows carry a single label.

    Shared by the local check and the Ray engine (`curate.engines.ray.pipeline`), so both name the same
    majority and likely errors.

    Args:
        group: The group's number (its first row's index); it orders groups in the sort key.
        group_id: The id of the group's first row (the findings' `cluster`).
        members: (index, id, label key (`_label_key`), text) of every row of the group, in index order.

    Returns:
        (sort key, finding) pairs; sort keys order likely errors first, strongest majority first.
    """
    if len(members) < 2:
        return []
    labels = Counter(m[2] for m in members)
    if len(labels) < 2:
        return []
    (top, top_n), (_, second_n) = labels.most_common(2)
    majority = top if top_n > second_n else None
    versus = (f"majority {majority!r} ({top_n} of {len(members)})" if majority is not None
              else f"no majority ({', '.join(f'{k} {v}' for k, v in labels.most_common())})")
    out: list[tuple[tuple, Finding]] = []
    for i, rid, mine, text in members:
        other = next(m[1] for m in members if m[2] != mine)
        likely = majority is None or mine != majority
        folded = " ".join(text.split())
        f = Finding(id=rid, reason="conflicting_labels", severity=Severity.error if likely else Severity.info,
                    message=f"{mine!r} vs {versus}: {folded[:120]}", cluster=group_id, conflicts_with=other,
                    label=mine, majority_label=majority, likely_error=likely, labels=dict(labels))
        # likely errors first; among them the clearest majorities (the surest fixes) first
        out.append(((not likely, -(top_n - second_n), -len(members), group, i), f))
    return out


def conflicts_result(check: Check, keyed: list[tuple[tuple, Finding]], n_groups: int) -> CheckResult:
    """The check's result from every group's `group_findings` (in any order)."""
    p = check.params
    keyed = sorted(keyed, key=lambda kf: kf[0])
    out = [f for _, f in keyed]
    likely_n = sum(1 for f in out if f.likely_error)
    return check.result(out, count=likely_n, summary=conflicts_summary(p, n_groups, len(out), likely_n))


def conflicts_summary(p: ConflictingLabelsParams, groups: int, rows: int, likely: int) -> dict:
    """The check's summary (also built by the Ray engine from its counts)."""
    return {"conflict_groups": groups, "rows": rows, "likely_errors": likely, "near": p.near,
            "threshold": p.threshold if p.near else 1.0}


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
        ids, recs, texts = ctx.ids, ctx.data.records, ctx.texts
        keyed: list[tuple[tuple, Finding]] = []
        n_groups = 0
        for g, rows in members.items():
            if len(rows) < 2:
                continue
            got = group_findings(
                g, ids[g], [(i, ids[i], _label_key(recs[i]["label"]), texts[i]) for i in rows]
            )
            if got:
                n_groups += 1
                keyed.extend(got)
        return conflicts_result(self, keyed, n_groups)
