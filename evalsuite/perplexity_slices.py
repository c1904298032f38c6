"""Per-group perplexity (`evalsuite perplexity --slice-by FIELD`).

Each group's perplexity is token-weighted like the corpus score: exp(sum of the group's per-document NLL /
sum of its scored tokens), never a mean of per-document perplexities. Its CI is a seeded percentile
bootstrap over the group's documents (the same resampling as the corpus CI in `compare`). Documents with no
scored token still count in the group's `n_documents`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

MISSING = "(missing)"


def group_value(record: dict[str, Any], field: str) -> str:
    """The record's value for `field`, looked up on the record, then in its `metadata`; "(missing)" if
    absent."""
    v = record.get(field)
    if v is None and isinstance(record.get("metadata"), dict):
        v = record["metadata"].get(field)
    return MISSING if v is None else str(v)


def perplexity_by_group(
    doc_nll_sum: Sequence[float],
    doc_tokens: Sequence[int],
    groups: Sequence[str],
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """[{"value", "n_documents", "n_tokens", "token_perplexity", "nll_per_token", "ci"}] per group, sorted.

    Args:
        doc_nll_sum: Per-document summed NLL (nats), as in `PerplexityResult.doc_nll_sum`.
        doc_tokens: Per-document scored tokens.
        groups: The group of each document.
        n_resamples: Bootstrap resamples for each group's CI (0: none).
        confidence: Two-sided interval mass.
        seed: numpy seed.
    """
    import numpy as np

    idx: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        idx[str(g)].append(i)
    nll, tok = np.asarray(doc_nll_sum, dtype=float), np.asarray(doc_tokens, dtype=float)
    out = []
    for g, ix in sorted(idx.items()):
        n_tok = int(tok[ix].sum())
        row: dict[str, Any] = {
            "value": g,
            "n_documents": len(ix),
            "n_tokens": n_tok,
            "token_perplexity": None,
            "nll_per_token": None,
            "ci": None,
        }
        if n_tok:
            row["nll_per_token"] = float(nll[ix].sum() / n_tok)
            row["token_perplexity"] = math.exp(row["nll_per_token"])
            if n_resamples > 0:
                s = np.random.default_rng(seed).integers(0, len(ix), size=(n_resamples, len(ix)))
                gi = np.asarray(ix)[s]
                t = tok[gi].sum(1)
                with np.errstate(divide="ignore", invalid="ignore"):
                    vals = np.exp(nll[gi].sum(1) / t)
                vals = vals[t > 0]
                if vals.size:
                    a = (1 - confidence) / 2
                    lo, hi = np.quantile(vals, [a, 1 - a])
                    row["ci"] = [float(lo), float(hi)]
        out.append(row)
    return out
