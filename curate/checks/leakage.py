"""`leakage`: rows that copy, exactly or nearly, a row of another split.

Two modes: against another dataset (`--against`, `ctx.against`), or between the values of a metadata field
(`ctx.options["split_field"]`, e.g. `split: train/test`). For classification data the text is compared; for
prompt/completion data each field is compared on its own (a test prompt copied from training is leakage even
when the answers differ), for chat data all turns. Near copies use the MinHash LSH engine at the
near-duplicate default (Jaccard >= 0.8 over byte 5-shingles, verified exactly), both on the duplicate key
(`dedup_key`: whitespace folded by default). Each finding names the leaked
row (`id`), the row it copies (`copies`, with `copies_split`), the `field`, `match` (exact/near) and
`jaccard`.
With a split field, rows of the `source_split` ("train" when present, else the first split seen) are the
originals and rows of every other split that copy them are the leaks.
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, ConfigDict, Field

from curate.checks.base import Check, CheckContext
from schemas.findings import CheckResult, CheckStatus, Finding, Severity
from schemas.records import message_text


class LeakageParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(0.8, gt=0, le=1, description="Jaccard at/above which a row is a near copy")
    num_perm: int = 128
    shingle: int = 5
    source_split: str | None = Field(None, description="the split whose rows are originals (default: train)")


def field_texts(records: list[dict], kind: str) -> dict[str, list[str]]:
    if kind == "completion":
        return {"prompt": [r["prompt"] for r in records], "completion": [r["completion"] for r in records]}
    if kind == "chat":
        return {"messages": ["\n".join(message_text(m) for m in r["messages"]) for r in records]}
    return {"text": [r["text"] for r in records]}


def cross_matches(texts: list[str], side: list[int], threshold: float, num_perm: int, shingle: int
                  ) -> dict[int, tuple[int, str, float]]:
    """For each item of side > 0 that copies an item of side 0: (that item, "exact"|"near", Jaccard)."""
    from curate.dedup import near_duplicates
    from curate.dedup.lsh import jaccard, shingle_set

    nd = near_duplicates(texts, threshold, num_perm, shingle)
    out: dict[int, tuple[int, str, float]] = {}
    first_src: dict[str, int] = {}
    for i, t in enumerate(texts):
        if side[i] == 0:
            first_src.setdefault(t, i)
    for i, t in enumerate(texts):
        if side[i] != 0 and t in first_src:
            out[i] = (first_src[t], "exact", 1.0)
    partners: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for (a, b), j in zip(nd.pairs.tolist(), nd.jaccard.tolist(), strict=False):
        partners[a].append((b, j))
        partners[b].append((a, j))
    members: dict[int, list[int]] = defaultdict(list)
    for i, c in enumerate(nd.cluster.tolist()):
        members[c].append(i)
    for rows in members.values():
        srcs = [i for i in rows if side[i] == 0]
        if not srcs or len(rows) < 2:
            continue
        for i in rows:
            if side[i] == 0 or i in out:
                continue
            direct = [(j, s) for j, s in partners[i] if side[j] == 0]
            if not direct:   # linked through other rows: verify against a few originals of the cluster
                si = shingle_set(texts[i], shingle)
                direct = [(j, jaccard(si, shingle_set(texts[j], shingle))) for j in srcs[:20]]
                direct = [(j, s) for j, s in direct if s >= threshold]
            if direct:
                j, s = max(direct, key=lambda x: x[1])
                out[i] = (j, "near", s)
    return out


class LeakageCheck(Check):
    name = "leakage"
    description = "rows that copy (exactly or nearly) a row of another split or of --against"
    Params = LeakageParams

    def run(self, ctx: CheckContext) -> CheckResult:
        from curate.dedup.key import dedup_keys
        from curate.dedup.shared import key_options, normalize_options
        from curate.normalize import normalize_dataset

        p = self.params
        kind = str(getattr(ctx.data.kind, "value", ctx.data.kind))
        split_field = ctx.options.get("split_field")
        recs = ctx.data.records
        if ctx.against is not None:
            other = normalize_dataset(ctx.against, normalize_options(ctx)).data
            okind = str(getattr(other.kind, "value", other.kind))
            if okind != kind:
                return self.result([], status=CheckStatus.skipped,
                                   message=f"--against holds {okind} records, the data {kind}")
            all_recs = other.records + recs
            side = [0] * len(other.records) + [1] * len(recs)
            names = ["against"] * len(other.records) + ["data"] * len(recs)
            mode = "against"
        elif split_field:
            values = [str(r.get("metadata", {}).get(split_field)) for r in recs]
            seen = list(dict.fromkeys(values))
            source = p.source_split or ("train" if "train" in seen else seen[0] if seen else None)
            all_recs, names = recs, values
            side = [0 if v == source else 1 for v in values]
            mode = f"split_field={split_field} (originals: {source})"
        else:
            return self.result([], status=CheckStatus.skipped,
                               message="no --against data and no --split-field: nothing to compare")
        ids = [r["id"] for r in all_recs]
        findings = []
        per_field: dict[str, int] = {}
        key = key_options(ctx)
        for fname, texts in field_texts(all_recs, kind).items():
            hits = cross_matches(dedup_keys(texts, key), side, p.threshold, p.num_perm, p.shingle)
            per_field[fname] = len(hits)
            for i, (j, match, jac) in sorted(hits.items()):
                findings.append(
                    Finding(
                        id=ids[i],
                        reason="leakage",
                        severity=Severity.error,
                        field=fname,
                        match=match,
                        jaccard=round(jac, 4),
                        copies=ids[j],
                        copies_split=names[j],
                        split=names[i],
                    )
                )
        return self.result(
            findings,
            summary={
                "mode": mode,
                "by_field": per_field,
                "duplicate_key": key.spec(),
                "leaked_rows": len({f.id for f in findings}),
                "exact": sum(f.match == "exact" for f in findings),
                "near": sum(f.match == "near" for f in findings),
            },
        )
