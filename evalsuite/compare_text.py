"""Base vs adapted on held-out documents (`text` records): did continued pre-training fit the domain?

Both models score the same documents with the same sliding windows (`evalsuite.perplexity.perplexity`: each
document on its own, every token after the first scored once). Two corpus numbers are compared, each
token- or byte-weighted over all documents, never a mean of per-document scores:

- token perplexity, exp(sum NLL / sum scored tokens);
- bits per byte, sum NLL / ln 2 / sum UTF-8 bytes: unlike token perplexity it does not depend on the
  tokenizer, so it stays comparable when the adapted model's tokenizer differs from the base's.

Their CIs are paired bootstraps over documents (`ratio_delta`): each resample draws the same documents for
both models and recomputes both corpus numbers from the per-document sums. Lower is better for both. The
report adds per-group deltas (e.g. per topic) and the documents whose perplexity rose or fell the most.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from evalsuite.bootstrap import DeltaCI
from evalsuite.compare import (
    TOP_K,
    CompareResult,
    build_report,
    find_metrics_log,
    perplexity_delta,
    training_curve_charts,
)
from schemas.errors import UsageError

EXCERPT = 300


def ratio_delta(
    name: str,
    base_num: Sequence[float],
    base_den: Sequence[float],
    tuned_num: Sequence[float],
    tuned_den: Sequence[float],
    stat: Callable[[Any, Any], Any],
    *,
    higher_is_better: bool = False,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> DeltaCI:
    """Paired bootstrap CI of stat(tuned sums) - stat(base sums) over documents.

    Args:
        name: Metric name.
        base_num: Per-document numerator under base (e.g. summed NLL).
        base_den: Per-document denominator under base (scored tokens, or bytes).
        tuned_num: Per-document numerator under tuned, same documents in the same order.
        tuned_den: Per-document denominator under tuned.
        stat: The corpus statistic from (sum numerator, sum denominator); works on numpy arrays.
        higher_is_better: Direction of the metric.
        n_resamples: Bootstrap resamples.
        confidence: Two-sided interval mass.
        seed: numpy seed; the same seed draws the same documents as `perplexity_delta`.
    """
    import numpy as np

    bn, bd, tn, td = (np.asarray(x, dtype=float) for x in (base_num, base_den, tuned_num, tuned_den))
    base, tuned = float(stat(bn.sum(), bd.sum())), float(stat(tn.sum(), td.sum()))
    idx = np.random.default_rng(seed).integers(0, len(bn), size=(n_resamples, len(bn)))
    deltas = stat(tn[idx].sum(1), td[idx].sum(1)) - stat(bn[idx].sum(1), bd[idx].sum(1))
    a = (1 - confidence) / 2
    lo, hi = np.quantile(deltas, [a, 1 - a])
    return DeltaCI(name, base, tuned, tuned - base, (float(lo), float(hi)), higher_is_better=higher_is_better)


def bits_per_byte(nll: Any, n_bytes: Any) -> Any:
    import numpy as np

    return nll / math.log(2) / np.maximum(n_bytes, 1)


def compare_documents(
    ids: Sequence[str],
    texts: Sequence[str],
    base: Any,
    tuned: Any,
    *,
    groups: Sequence[Any] | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
) -> CompareResult:
    """Compare two `PerplexityResult`s over the same documents (model-free: tested on planted sums).

    Args:
        ids: Document ids.
        texts: The documents (for bytes and the examples shown).
        base: The base model's PerplexityResult on `texts`.
        tuned: The adapted model's PerplexityResult on the same `texts`, same settings.
        groups: A group per document (e.g. the topic) for per-group deltas.
        n_resamples: Bootstrap resamples.
        seed: Bootstrap seed.

    Raises:
        UsageError: When the two results do not cover the same documents or were scored differently.
    """
    from evalsuite.metrics import check_signatures

    n = len(ids)
    if not n or not (len(texts) == len(base.doc_tokens) == len(tuned.doc_tokens) == n):
        raise UsageError("compare needs the same non-empty documents on both sides",
                         fix="score base and tuned on the same text file")
    check_signatures({"perplexity": base.signature}, {"perplexity": tuned.signature})
    n_bytes = [len(t.encode("utf-8")) for t in texts]
    deltas = {
        "perplexity": perplexity_delta(base.doc_nll_sum, base.doc_tokens, tuned.doc_nll_sum, tuned.doc_tokens,
                                       n_resamples=n_resamples, seed=seed),
        "bits_per_byte": ratio_delta("bits_per_byte", base.doc_nll_sum, n_bytes, tuned.doc_nll_sum, n_bytes,
                                     bits_per_byte, n_resamples=n_resamples, seed=seed),
    }
    sigs = {"perplexity": tuned.signature, "bits_per_byte": tuned.signature + "|per:utf8_byte"}
    res = CompareResult("text", deltas, sigs, n)
    res.perplexity = {"n_tokens": tuned.n_tokens, "n_tokens_base": base.n_tokens, "n_bytes": sum(n_bytes),
                      "documents_without_scored_tokens": sum(1 for t in tuned.doc_tokens if t == 0)}

    def ppl(nll: float, tok: int) -> float | None:
        return math.exp(nll / tok) if tok else None

    if groups is not None and any(g is not None for g in groups):
        buckets: dict[str, list[int]] = defaultdict(list)
        for i, g in enumerate(groups):
            buckets[str(g)].append(i)
        for g, ix in sorted(buckets.items()):
            b = ppl(sum(base.doc_nll_sum[i] for i in ix), sum(base.doc_tokens[i] for i in ix))
            t = ppl(sum(tuned.doc_nll_sum[i] for i in ix), sum(tuned.doc_tokens[i] for i in ix))
            if b is not None and t is not None:
                res.slices.append(
                    {"slice": "group", "value": g, "n": len(ix), "base": b, "tuned": t, "delta": t - b}
                )
    per_doc = [
        (i, ppl(base.doc_nll_sum[i], base.doc_tokens[i]), ppl(tuned.doc_nll_sum[i], tuned.doc_tokens[i]))
        for i in range(n)
    ]
    scored = [(i, b, t) for i, b, t in per_doc if b is not None and t is not None]
    order = sorted(scored, key=lambda x: x[2] - x[1], reverse=True)  # perplexity up first: regressions
    for kind, rows in (("regression", order[:TOP_K]), ("improvement", order[::-1][:TOP_K])):
        for i, b, t in rows:
            if (kind == "regression" and t > b) or (kind == "improvement" and t < b):
                res.examples.append(
                    {
                        "kind": kind,
                        "id": str(ids[i]),
                        "input": texts[i][:EXCERPT],
                        "reference": None,
                        "base": b,
                        "tuned": t,
                        "delta": t - b,
                    }
                )
    return res


def run_text_compare(base: str, tuned: str, data: str, *, adapter: str | None = None, batch_size: int = 8,
                     limit: int | None = None, n_resamples: int = 1000, seed: int = 0,
                     report_dir: str | Path | None = None, max_length: int | None = None,
                     stride: int | None = None, precision: str = "fp32") -> CompareResult:
    """Load base and adapted causal LMs, score the held-out documents in `data`, compare, write the report.

    Args:
        base: Base model (smollm2 or a folder).
        tuned: The `finetune run --kind text` output: a model folder or a LoRA adapter folder.
        data: Held-out documents: any file `curate.load` reads as text records (a text column is enough).
        adapter: An adapter to apply on `tuned` (not needed when `tuned` is itself an adapter folder).
        batch_size: Windows per forward pass.
        limit: Use only the first N documents.
        n_resamples: Bootstrap resamples.
        seed: Bootstrap seed.
        report_dir: Write index.html/report.md/report.json here.
        max_length: Sliding window length; default: the base model's max positions, capped at 1024.
        stride: Window step; default max_length // 2.
        precision: What the models computed in, as `run_compare` resolved it (recorded in the report).
    """
    import time

    from curate import load
    from evalsuite.perplexity import load_causal_lm, perplexity
    from finetune.models import load_for_inference

    t0 = time.perf_counter()
    recs = load(data, kind="text").records
    recs = recs[:limit] if limit else recs
    if not recs:
        raise UsageError(f"no usable text records in {data}", fix="check the file with `curate check`")
    texts = [r["text"] for r in recs]
    bm, btok = load_causal_lm(base)
    max_length = int(max_length or min(getattr(bm.config, "max_position_embeddings", 1024) or 1024, 1024))
    base_res = perplexity(bm, btok, texts, max_length=max_length, stride=stride, batch_size=batch_size)
    del bm
    tm, ttok = load_for_inference(tuned, "sft", adapter=adapter)
    tuned_res = perplexity(tm, ttok, texts, max_length=max_length, stride=stride, batch_size=batch_size)
    res = compare_documents([str(r["id"]) for r in recs], texts, base_res, tuned_res,
                            groups=[r.get("group") for r in recs], n_resamples=n_resamples, seed=seed)
    log = find_metrics_log(tuned)
    if log is not None:
        res.curves, res.curves_source = training_curve_charts(log), str(log)
    manifest = {"base": base, "tuned": tuned, "adapter": adapter, "data": data, "task": "text",
                "n_items": len(recs), "seed": seed, "n_resamples": n_resamples, "batch_size": batch_size,
                "max_length": max_length, "stride": stride, "precision": precision,
                "seconds": round(time.perf_counter() - t0, 2)}
    res.report = build_report(res, [], [], [], manifest=manifest)
    if report_dir:
        from common.render import write_report

        res.paths = write_report(res.report, report_dir)
    return res
