"""The results of the duplicate checks on Ray (exact_duplicate, near_duplicate, conflicting_labels): their
findings built on the workers and written as shards (`curate.engines.ray.findings`), their summaries from
counts by the local checks' own summary functions.

Each `*_result` returns the CheckResult and the findings dataset (materialized), from which the removals
are taken (`findings.removals`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from curate.engines.ray import bag
from curate.engines.ray.batches import columns
from curate.engines.ray.findings import Sink, finding_row, frame
from curate.engines.ray.shuffle import counter_batches
from schemas.findings import CheckResult, Finding, Severity


def tag_counts(bag_ds: Any) -> Counter:
    """How many items of a bag keyed by (tag, ...) carry each tag (candidate pairs per threshold)."""
    def fn(b: Any) -> dict:
        return dict(Counter(bag.load(v)[0][0] for v in b["_v"].tolist()))

    total: Counter = Counter()
    for part in counter_batches(bag_ds, fn):
        total.update(part)
    return total


def exact_result(check: Any, exact: Any, key: Any, sink: Sink) -> tuple[CheckResult, Any]:
    from curate.checks.exact_duplicate import exact_summary

    def dups(b: Any) -> Any:
        got = columns(b, "pos", "id", "head_pos", "head_id")
        return frame([finding_row(pos, 0, [pos], Finding(id=rid, reason="exact_duplicate",
                                                         severity=Severity.warning, duplicate_of=hid,
                                                         cluster=hid))
                      for pos, rid, hp, hid in got if pos != hp])

    def stats(b: Any) -> dict:
        heads = b[(b["pos"] == b["head_pos"])]
        return {"rows": len(b), "groups": int((heads["gsize"] > 1).sum()),
                "largest": int(b["gsize"].max()) if len(b) else 1}

    found = exact.map_batches(dups, batch_format="pandas").materialize()
    sunk = sink.write(found, "findings/exact_duplicate.jsonl")
    agg = {"rows": 0, "groups": 0, "largest": 1}
    for a in counter_batches(exact, stats):
        agg = {"rows": agg["rows"] + a["rows"], "groups": agg["groups"] + a["groups"],
               "largest": max(agg["largest"], a["largest"])}
    summary = exact_summary(sunk.lines, agg["groups"], agg["largest"], agg["rows"], key)
    return sink.result(check, sunk, summary), found


def near_result(check: Any, annotated: Any, verified: Any, candidates: int, cfg: Any, rows: Any, key: Any,
                sink: Sink) -> tuple[CheckResult, Any]:
    """Each exact-group head in a cluster other than its own is a near duplicate of the cluster's first row;
    `sample_pairs` verified pairs are drawn as the local check draws them (by rank in (a, b) order)."""
    import random

    from curate.checks.near_duplicate import near_summary
    from curate.engines.ray.pipeline import _where

    p = check.params

    def hits(b: Any) -> Any:
        out = []
        for v in b["_v"].tolist():
            pos, rid, hp, _hid, _gs, _lk, cl = bag.load(v)[1]
            c = cl.get("nd")
            if pos == hp and c is not None and c[0] != pos:
                f = Finding(id=rid, reason="near_duplicate", severity=Severity.warning, duplicate_of=c[1],
                            cluster=c[1], jaccard=round(c[2], 4))
                out.append(finding_row(pos, 0, [pos], f))
        return frame(out)

    def roots(b: Any) -> dict:
        n = 0
        for v in b["_v"].tolist():
            pos, _rid, hp, _hid, _gs, _lk, cl = bag.load(v)[1]
            c = cl.get("nd")
            n += pos == hp and c is not None and c[0] == pos
        return {"roots": n}

    def pair_rows(b: Any) -> Any:
        import pandas as pd

        got = [bag.load(v) for v in b["_v"].tolist()]
        got = [(a, bb, j, aid, bid) for (tag, a), (bb, j, aid, bid) in got if tag == "nd"]
        cols = list(zip(*got, strict=True)) if got else [[]] * 5
        types = ("int64", "int64", "float64", object, object)
        return pd.DataFrame({k: pd.Series(c, dtype=t) for k, c, t in zip(
            ("a", "b", "j", "aid", "bid"), cols, types, strict=True)})

    found = annotated.map_batches(hits, batch_format="pandas").materialize()
    sunk = sink.write(found, "findings/near_duplicate.jsonl")
    clusters = sum(part["roots"] for part in counter_batches(annotated, roots))
    pairs = None if verified is None else verified.map_batches(pair_rows, batch_format="pandas").materialize()
    npairs = pairs.count() if pairs is not None else 0
    rng = random.Random(p.seed)
    want = sorted(rng.sample(range(npairs), min(p.sample_pairs, npairs)))
    picked = []
    if want:
        # the local check's pairs are in (a, b) order: walk the sorted pairs, keeping the drawn ranks only
        wanted, rank = set(want), 0
        for batch in pairs.sort(["a", "b"]).iter_batches(batch_format="pandas", batch_size=4096):
            for a, b_, j, aid, bid in zip(batch["a"].tolist(), batch["b"].tolist(), batch["j"].tolist(),
                                          batch["aid"].tolist(), batch["bid"].tolist(), strict=True):
                if rank in wanted:
                    picked.append((a, b_, j, aid, bid))
                rank += 1
            if rank > want[-1]:
                break
    need = sorted({x[0] for x in picked} | {x[1] for x in picked})
    texts = {r["pos"]: r["text"] for r in _where(rows, lambda b: b["pos"].isin(need)).select_columns(
        ["pos", "text"]).take_all()} if need else {}
    sample = [{"a": aid, "b": bid, "jaccard": round(float(j), 4), "text_a": texts[a][:300],
               "text_b": texts[b_][:300]} for a, b_, j, aid, bid in picked]
    summary = near_summary(p, sunk.lines, clusters, cfg.bands, cfg.rows, candidates, npairs, key, sample)
    return sink.result(check, sunk, summary), found


def conflict_result(check: Any, annotated: Any, rows: Any, n: int, sink: Sink) -> tuple[CheckResult, Any]:
    from curate.checks.conflicting_labels import conflicts_summary
    from curate.engines.ray.clusters import conflict_findings

    tag = "cl" if check.params.near else None
    found = conflict_findings(annotated, rows, tag, n).materialize()
    sunk = sink.write(found, "findings/conflicting_labels.jsonl")
    summary = conflicts_summary(check.params, sunk.extra, sunk.lines, sunk.count)
    return sink.result(check, sunk, summary, count=sunk.count), found
