"""Exact and near duplicates on Ray, with the local engine's rules and parameters.

Texts are compared by their duplicate key (`curate.dedup.key.dedup_keys` with the run's `dedup_key`, as
`curate.dedup.shared.dedup_texts`): exact groups, signatures and verified Jaccard are all over keys.

Exact groups: a 128-bit BLAKE2b of each row's key is shuffled; within a group the first row (smallest
pos) is the head, as `curate.dedup.exact.exact_duplicate_groups` takes the first occurrence.

Near duplicates (`curate.dedup.near_duplicates`, step by step):
1. MinHash signatures of each exact group's head only (identical texts are collapsed first), in batch maps
   with curate's own `signatures` (16-bit values, the same num_perm, shingle and seed), so every signature
   is bit for bit the local one.
2. LSH band keys with curate's `band_keys` and the same bands x rows (`choose_bands`); (band, key) is shuffled
   and each bucket of equal keys is linked as a star on the local engine's centre (`star_rank`).
3. Candidate pairs are deduplicated by a shuffle on the pair, then joined (two shuffles) with both rows'
   texts and signatures and verified by `curate.dedup.lsh.verify_pairs`: the signature pre-filter and the
   exact Jaccard of the local engine.
4. Clusters: connected components of the verified pairs (`curate.engines.ray.components`).

Candidate pairs are the local engine's exactly: both link each bucket as a star on the member with the
smallest (`curate.dedup.lsh.star_rank`, position), which depends only on who is in the bucket.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from curate.engines.ray import bag


@dataclass(frozen=True)
class LshConfig:
    """One near-duplicate threshold to cluster at (near_duplicate uses 0.8, conflicting_labels 0.9)."""

    tag: str
    threshold: float
    bands: int
    rows: int


def text_hash(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def exact_groups(rows: Any, n: int, key: dict | None = None) -> Any:
    """Per row: pos, id, head_pos, head_id, gsize (rows in its exact group), label_key, and text: the
    duplicate key of heads (`key`: a DedupKeyConfig dump; None: the default key), "" for other rows."""
    import pandas as pd

    from curate.engines.ray.shuffle import by_bucket, int_bucket

    def keyed(batch: Any) -> Any:
        from curate.dedup.key import dedup_keys
        from schemas.configs.dedup_key import DedupKeyConfig

        keys = dedup_keys(batch["text"].tolist(), DedupKeyConfig.model_validate(key or {}))
        digests = [text_hash(t) for t in keys]
        h1 = np.array([int.from_bytes(d[:8], "little", signed=True) for d in digests], dtype=np.int64)
        h2 = np.array([int.from_bytes(d[8:], "little", signed=True) for d in digests], dtype=np.int64)
        out = batch[["pos", "id", "text", "label_key"]].copy()
        out["text"] = keys
        out["h1"], out["h2"], out["_b"] = h1, h2, int_bucket(h1, n)
        return out

    def group(df: Any) -> Any:
        df = df.sort_values("pos", kind="stable")
        g = df.groupby(["h1", "h2"], sort=False)
        head_pos = g["pos"].transform("min")
        head_id = g["id"].transform("first")
        gsize = g["pos"].transform("size")
        is_head = df["pos"] == head_pos
        return pd.DataFrame({"pos": df["pos"], "id": df["id"], "head_pos": head_pos, "head_id": head_id,
                             "gsize": gsize, "label_key": df["label_key"],
                             "text": df["text"].where(is_head, "")})

    return by_bucket(rows.select_columns(["pos", "id", "text", "label_key"]).map_batches(keyed,
                                                                                       batch_format="pandas"),
                     group, n)


def candidates(heads: Any, configs: list[LshConfig], num_perm: int, shingle: int, seed: int, n: int) -> Any:
    """Distinct candidate pairs as a bag of ((tag, a, b), None), a < b by pos, per LSH config.

    Band rows travel as NumPy columns (tag, band, key, rank, pos), one row per head and band; each bucket
    of the shuffle finds its equal keys by one sort and links them with the local engine's `star_pairs`.
    """
    import pandas as pd

    from curate.engines.ray.shuffle import by_bucket, int_bucket

    def bands(batch: Any) -> dict[str, np.ndarray]:
        from curate.dedup.lsh import band_keys, fingerprint, star_rank
        from curate.dedup.minhash import signatures

        pos = np.asarray(batch["pos"].tolist(), dtype=np.int64)
        sig = signatures(batch["text"].tolist(), num_perm=num_perm, shingle=shingle, seed=seed, value_bits=16,
                         workers=1)
        fp = fingerprint(sig)
        cols: dict[str, list[np.ndarray]] = {"tag": [], "band": [], "key": [], "rank": [], "pos": []}
        for t, c in enumerate(configs):
            for b in range(c.bands):   # narrow types: this is the largest shuffle of a run (heads x bands)
                cols["tag"].append(np.full(len(pos), t, dtype=np.int8))
                cols["band"].append(np.full(len(pos), b, dtype=np.int16))
                cols["key"].append(band_keys(sig, b, c.rows).view(np.int64))
                cols["rank"].append(star_rank(fp, b).view(np.int64))
                cols["pos"].append(pos)
        out = {k: np.concatenate(v) if v else np.zeros(0, dtype=np.int64) for k, v in cols.items()}
        # bucket by (tag, band, key): equal keys of one band meet in one task
        tb = out["band"].astype(np.int64) * 1_000_003 + out["tag"]
        out["_b"] = int_bucket(out["key"] ^ tb, n).astype(np.int32)
        return out

    def star(df: Any) -> Any:
        from curate.dedup.lsh import star_pairs

        tag, band = df["tag"].to_numpy(np.int64), df["band"].to_numpy(np.int64)
        key, rank = df["key"].to_numpy(np.int64), df["rank"].to_numpy(np.int64).view(np.uint64)
        pos = df["pos"].to_numpy(np.int64)
        o = np.lexsort((key, band, tag))
        tag, band, key, rank, pos = tag[o], band[o], key[o], rank[o], pos[o]
        new = np.ones(len(o), dtype=bool)
        if len(o):
            new[1:] = (tag[1:] != tag[:-1]) | (band[1:] != band[:-1]) | (key[1:] != key[:-1])
        bucket = np.cumsum(new)
        size = np.bincount(bucket)[bucket]
        m = size > 1
        a, c = star_pairs(pos[m], bucket[m], rank[m])
        tg = _pair_tags(bucket[m], tag[m], pos[m], a, c)
        lo, hi = np.minimum(a, c), np.maximum(a, c)
        return pd.DataFrame({"_b": int_bucket(lo ^ hi * 31 + tg, n), "tag": tg, "a": lo, "b": hi})

    def distinct(df: Any) -> Any:
        return df.drop_duplicates(subset=["tag", "a", "b"])

    pairs = by_bucket(heads.map_batches(bands, batch_format="pandas"), star, n)
    uniq = by_bucket(pairs, distinct, n)

    def to_bag(batch: Any):
        for t, a, b in zip(batch["tag"].tolist(), batch["a"].tolist(), batch["b"].tolist(), strict=True):
            yield (configs[t].tag, a, b), None

    return bag.to_bag(uniq, to_bag, n)


def _pair_tags(
    bucket: np.ndarray, tag: np.ndarray, pos: np.ndarray, a: np.ndarray, c: np.ndarray
) -> np.ndarray:
    """The config tag of each star pair: `star_pairs` returns pairs bucket by bucket in bucket order."""
    o = np.lexsort((pos, bucket))
    b = bucket[o]
    first = np.ones(len(o), dtype=bool)
    if len(o):
        first[1:] = b[1:] != b[:-1]
    # every bucket yields (size - 1) pairs, in bucket order
    t = tag[o][first]
    sizes = np.diff(np.append(np.flatnonzero(first), len(o)))
    return np.repeat(t, sizes - 1)


def verify(pairs: Any, heads: Any, configs: list[LshConfig], num_perm: int, shingle: int, seed: int,
           n: int) -> Any:
    """Verified pairs as a bag of ((tag, a), (b, jaccard, a_id, b_id)), by curate's `verify_pairs`."""
    thresholds = {c.tag: c.threshold for c in configs}

    def head_rows(batch: Any):
        from curate.dedup.minhash import signatures

        texts = batch["text"].tolist()
        sig = signatures(texts, num_perm=num_perm, shingle=shingle, seed=seed, value_bits=16, workers=1)
        for p, rid, t, s in zip(batch["pos"].tolist(), batch["id"].tolist(), texts, sig, strict=True):
            yield p, ("h", rid, t, s.tobytes())

    def by_a(items: list):
        for (tag, a, b), _ in items:
            yield a, ("p", tag, b)

    def attach(side: str):
        def fn(items: list):
            head = {}
            want = []
            for k, v in items:
                if v[0] == "h":
                    head[k] = v
                else:
                    want.append((k, v))
            for k, v in want:
                h = head[k]
                if side == "a":   # v = ("p", tag, b): send to b with a's text
                    yield v[2], ("q", v[1], k, h[1], h[2], h[3])
                else:             # v = ("q", tag, a, a_id, a_text, a_sig): now with b's
                    yield (v[1], v[2]), (k, v[3], h[1], v[4], h[2], v[5], h[3])
            for k, h in head.items():
                if side == "a":
                    yield k, h
        return fn

    def check(items: list):
        from curate.dedup.lsh import verify_pairs

        by_tag: dict[str, list] = {}
        for (tag, a), (b, a_id, b_id, ta, tb, sa, sb) in items:
            by_tag.setdefault(tag, []).append((a, b, a_id, b_id, ta, tb, sa, sb))
        for tag, rows in by_tag.items():
            texts = [t for r in rows for t in (r[4], r[5])]
            sig = np.frombuffer(b"".join(s for r in rows for s in (r[6], r[7])), dtype=np.uint16).reshape(
                2 * len(rows), num_perm)
            idx = np.arange(2 * len(rows), dtype=np.int64).reshape(len(rows), 2)
            scored = verify_pairs(texts, sig, idx, thresholds[tag], shingle)
            for (i, _), j in zip(scored.pairs.tolist(), scored.jaccard.tolist(), strict=True):
                r = rows[i // 2]
                yield (tag, r[0]), (r[1], float(j), r[2], r[3])

    h = bag.to_bag(heads, head_rows, n)
    p = bag.step(pairs, by_a, n)
    with_a = bag.step(p.union(h), attach("a"), n)
    with_b = bag.step(with_a, attach("b"), n)
    return bag.step(with_b, check, n)
