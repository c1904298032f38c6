"""The last shuffle: every loaded row meets its removal decision (if any) in a bucket of consecutive rows,
and each bucket writes one shard of kept rows (`curated/part-NNNNN.jsonl` or `.parquet`) and one of
removed rows, sorted by input position, so the shards in name order are the local engine's files in order.

Buckets are ranges of row positions (by each unit's row count), not hashes, for that order. Masking
(`mask_pii`) is applied to kept rows here with `curate.pipeline._mask`, the local engine's function.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from curate.engines.ray.load import ROW_BITS


def range_bucket(pos: int, offsets: list[int], total: int, n: int) -> int:
    ordinal = offsets[pos >> ROW_BITS] + (pos & ((1 << ROW_BITS) - 1))
    return min(n - 1, ordinal * n // max(1, total))


def write_shards(rows: Any, removals: Any, out: str, fmt: str, kind: str, mask: bool, offsets: list[int],
                 total: int, n: int) -> list[dict]:
    """Write kept and removed shards; returns per-shard counts: kept, removed, masked, by_reason.

    `removals` (or None): rows (pos, p, e) asking to remove row `pos` with entry `e` (JSON) at priority `p`
    (its reason's place in `curate.pipeline.REMOVAL_ORDER`); a row asked for by several checks is removed
    for the first reason, as on the local engine.
    """
    import pandas as pd

    from curate.engines.ray.shuffle import by_bucket

    def key_rows(batch: Any) -> Any:
        import numpy as np

        from curate.engines.ray import bag

        pos = batch["pos"].tolist()
        return {"_b": np.array([range_bucket(p, offsets, total, n) for p in pos], dtype=np.int64),
                "_v": np.array([bag.dump((p, ("row", r))) for p, r in zip(pos, batch["rec"].tolist(),
                                                                           strict=True)], dtype=object)}

    def key_removals(batch: Any) -> Any:
        import numpy as np

        from curate.engines.ray import bag

        pos = batch["pos"].tolist()
        return {"_b": np.array([range_bucket(k, offsets, total, n) for k in pos], dtype=np.int64),
                "_v": np.array([bag.dump((k, ("rm", (p, e)))) for k, p, e in zip(
                    pos, batch["p"].tolist(), batch["e"].tolist(), strict=True)], dtype=object)}

    def shard(df: Any) -> Any:
        from curate.engines.ray import bag
        from curate.io.writers import write_jsonl, write_records
        from curate.pipeline import _mask

        b = int(df["_b"].iloc[0])
        items = [bag.load(v) for v in df["_v"].tolist()]
        rm: dict[int, tuple[int, str]] = {}
        for k, v in items:
            if v[0] == "rm" and (k not in rm or v[1][0] < rm[k][0]):
                rm[k] = v[1]
        recs = sorted(((k, v[1]) for k, v in items if v[0] == "row"), key=lambda kv: kv[0])
        kept, removed, by_reason = [], [], {}
        for k, r in recs:
            rec = json.loads(r)
            e = rm.get(k)
            if e is None:
                kept.append(rec)
            else:
                e = json.loads(e[1])
                removed.append({"id": rec["id"], **e, "record": rec})
                by_reason[e["reason"]] = by_reason.get(e["reason"], 0) + 1
        masked = _mask(kept, kind) if mask else 0
        base = Path(out)
        write_records(kept, base / "curated" / f"part-{b:05d}.{fmt}", fmt)
        write_jsonl(removed, base / "removed" / f"part-{b:05d}.jsonl")
        return pd.DataFrame({"s": [json.dumps({"shard": b, "kept": len(kept), "removed": len(removed),
                                               "masked": masked, "by_reason": by_reason})]})

    both = rows.select_columns(["pos", "rec"]).map_batches(key_rows, batch_format="pandas")
    if removals is not None:
        both = both.union(removals.map_batches(key_removals, batch_format="pandas"))
    return [json.loads(r["s"]) for r in by_bucket(both, shard, n).take_all()]
