"""`near_duplicate`: rows whose normalized text is almost the same as another row's (MinHash LSH).

Similarity is the Jaccard index over byte 5-shingles; candidates come from banded MinHash LSH and are
verified by exact Jaccard. Defaults (threshold 0.8, 128 permutations, bands chosen so a pair at the
threshold is a candidate with probability >= 0.99, 5-byte shingles) and why are in `curate.dedup.lsh` and
`curate.dedup.minhash`. Rows that only repeat an earlier row exactly are left to `exact_duplicate`. Each
finding names its cluster's first row (`duplicate_of`, `cluster`) and its best verified `jaccard`; the summary
holds sampled pairs with their Jaccard so a user can judge the threshold.
"""

from __future__ import annotations

import random
from typing import TypedDict, cast

from pydantic import BaseModel, ConfigDict, Field

from curate.checks._duplicates import cluster_sizes_chart
from curate.checks.base import Check, CheckContext
from schemas.configs.dedup_key import DedupKeyConfig
from schemas.findings import CheckResult, Finding, Severity
from schemas.report import Block, TableBlock


class NearDuplicateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(
        0.8, gt=0, le=1, description="Jaccard over shingles at/above which rows are near duplicates"
    )
    num_perm: int = Field(128, ge=2, description="MinHash signature length (a power of two)")
    bands: int | None = Field(None, ge=1, description="LSH bands; None chooses them from the threshold")
    shingle: int = Field(5, ge=1, le=64, description="shingle size in UTF-8 bytes")
    sample_pairs: int = Field(10, ge=0, description="pairs shown in the report")
    seed: int = 0


class SamplePair(TypedDict):
    """One verified pair shown in the report, with the start of both texts."""

    a: str
    b: str
    jaccard: float
    text_a: str
    text_b: str


class NearDuplicateSummary(TypedDict):
    """The summary of a `near_duplicate` result, from either engine (both call `near_summary`)."""

    near_duplicate_rows: int
    clusters: int
    threshold: float
    num_perm: int
    bands: int
    rows_per_band: int
    shingle: int
    candidate_pairs: int
    verified_pairs: int
    duplicate_key: str
    sample_pairs: list[SamplePair]


class NearDuplicateCheck(Check):
    name = "near_duplicate"
    description = "rows almost identical to another row (MinHash LSH, verified Jaccard)"
    Params = NearDuplicateParams

    def run(self, ctx: CheckContext) -> CheckResult:
        from curate.dedup.shared import key_options, near

        p = self.params
        if p.num_perm & (p.num_perm - 1):
            from curate.errors import ConfigError

            raise ConfigError(f"near_duplicate.num_perm must be a power of two, got {p.num_perm}",
                              fix="use 64, 128 or 256")
        nd = near(ctx, p.threshold, p.num_perm, p.shingle, p.bands, p.seed)
        import numpy as np

        ids = ctx.ids
        n = len(ids)
        # best verified Jaccard per row, and the rows to report, in NumPy: a per-row Python loop cost ~3 s at
        # 1M
        best = np.zeros(n, dtype=np.float64)
        if len(nd.pairs):
            np.maximum.at(best, nd.pairs[:, 0], nd.jaccard)
            np.maximum.at(best, nd.pairs[:, 1], nd.jaccard)
        rows = np.arange(n)
        cluster, exact = np.asarray(nd.cluster), np.asarray(nd.exact_group)
        hit = np.flatnonzero((cluster != rows) & (exact == rows))
        findings = [
            Finding(
                id=ids[i],
                reason="near_duplicate",
                severity=Severity.warning,
                duplicate_of=ids[c],
                cluster=ids[c],
                jaccard=round(j, 4),
            )
            for i, c, j in zip(hit.tolist(), cluster[hit].tolist(), best[hit].tolist(), strict=True)
        ]
        rng = random.Random(p.seed)
        idx = rng.sample(range(len(nd.pairs)), min(p.sample_pairs, len(nd.pairs)))
        sample = [{"a": ids[int(nd.pairs[k, 0])], "b": ids[int(nd.pairs[k, 1])],
                   "jaccard": round(float(nd.jaccard[k]), 4), "text_a": ctx.texts[int(nd.pairs[k, 0])][:300],
                   "text_b": ctx.texts[int(nd.pairs[k, 1])][:300]} for k in sorted(idx)]
        return self.result(findings, summary=near_summary(p, findings, nd.bands, nd.rows, nd.candidates,
                                                          len(nd.pairs), key_options(ctx), sample))

    @classmethod
    def report_blocks(cls, result: CheckResult) -> list[Block]:
        """The sizes of the near-duplicate clusters, then sampled pairs to judge the threshold by."""
        blocks = cluster_sizes_chart(result)
        s = cast(NearDuplicateSummary, result.summary)
        if s.get("sample_pairs"):
            blocks.append(
                TableBlock(
                    title="Sampled pairs (judge the threshold)",
                    columns=["a", "b", "jaccard", "text a", "text b"],
                    rows=[[p["a"], p["b"], p["jaccard"], p.get("text_a"), p.get("text_b")]
                          for p in s["sample_pairs"]],
                    page_size=10,
                )
            )
        return blocks


def near_summary(
    p: NearDuplicateParams,
    findings: list[Finding],
    bands: int,
    rows_per_band: int,
    candidates: int,
    verified: int,
    key: DedupKeyConfig,
    sample: list[SamplePair],
) -> NearDuplicateSummary:
    """The check's summary (also built by the Ray engine from its distributed pairs)."""
    return {"near_duplicate_rows": len(findings), "clusters": len({f.cluster for f in findings}),
            "threshold": p.threshold, "num_perm": p.num_perm, "bands": bands, "rows_per_band": rows_per_band,
            "shingle": p.shingle, "candidate_pairs": candidates, "verified_pairs": verified,
            "duplicate_key": key.spec(), "sample_pairs": sample}
