"""`semantic_duplicate` (opt-in): rows whose meaning repeats another row's, by MiniLM embeddings.

Texts are embedded with all-MiniLM-L6-v2 (mean pooling over `finetune.models.resolve_model("minilm")`) and
pairs with cosine >= `threshold` are linked into clusters. The default 0.95 is stricter than SemDeDup's
typical 0.9-0.95 band because short texts (tweets) about one topic already sit near 0.9. Rows already
caught as exact duplicates are not repeated here. Off by default: it loads torch and a model and costs
seconds per thousand rows on CPU.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from curate.checks._duplicates import cluster_sizes_chart
from curate.checks.base import Check, CheckContext
from schemas.findings import CheckResult, Finding, Severity
from schemas.report import Block


class SemanticDuplicateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(
        0.95, gt=0, le=1, description="cosine similarity at/above which rows are duplicates"
    )
    model: str = Field("minilm", description="embedding model name or local path")
    batch_size: int = Field(64, ge=1)
    max_length: int = Field(128, ge=8)


class SemanticDuplicateCheck(Check):
    name = "semantic_duplicate"
    description = "rows with the same meaning as another row (MiniLM cosine similarity)"
    Params = SemanticDuplicateParams
    default_enabled = False

    def run(self, ctx: CheckContext) -> CheckResult:
        from curate.dedup.lsh import components
        from curate.dedup.semantic import embed, similar_pairs
        from curate.dedup.shared import exact_groups

        p = self.params
        groups = exact_groups(ctx)
        uniq = [i for i, g in enumerate(groups) if g == i]
        emb = embed([ctx.texts[i] for i in uniq], p.model, p.batch_size, p.max_length)
        pairs, sims = similar_pairs(emb, p.threshold)
        import numpy as np

        pairs = np.asarray(uniq, dtype=np.int64)[pairs] if len(pairs) else pairs
        cluster = components(len(groups), pairs)
        best: dict[int, float] = {}
        for (a, b), s in zip(pairs.tolist(), sims.tolist(), strict=False):
            best[a] = max(best.get(a, 0.0), s)
            best[b] = max(best.get(b, 0.0), s)
        ids = ctx.ids
        findings = [Finding(id=ids[i], reason="semantic_duplicate", severity=Severity.warning,
                            duplicate_of=ids[int(c)], cluster=ids[int(c)], cosine=round(best.get(i, 0.0), 4))
                    for i, c in enumerate(cluster.tolist()) if c != i and groups[i] == i]
        ctx.shared["semantic_cluster"] = cluster
        return self.result(
            findings,
            summary={
                "semantic_duplicate_rows": len(findings),
                "threshold": p.threshold,
                "pairs": len(pairs),
                "model": p.model,
            },
        )

    @classmethod
    def report_blocks(cls, result: CheckResult) -> list[Block]:
        """The sizes of the clusters of rows with one meaning."""
        return cluster_sizes_chart(result)
