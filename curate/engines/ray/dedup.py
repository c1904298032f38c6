"""Exact and near duplicates on Ray, with the local engine's rules and parameters.

Exact groups: a 128-bit BLAKE2b of each normalized text is shuffled; within a group the first row (smallest
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


def exact_groups(rows: Any, n: int) -> Any:
    """Per row: pos, id, head_pos, head_id, gsize (rows in its exact group), label_key, text (heads only)."""
    import pandas as pd

    def key_rows(batch: Any):
        for pos, rid, text, lk in zip(batch["pos"].tolist(), batch["id"].tolist(), batch["text"].tolist(),
                                      batch["label_key"].tolist(), strict=True):
            yield text_hash(text), (pos, rid, text, lk)

    def group(items: list) -> Any:
        by: dict[bytes, list] = {}
        for k, v in items:
            by.setdefault(k, []).append(v)
        out: dict[str, list] = {c: [] for c in ("pos", "id", "head_pos", "head_id", "gsize", "label_key", "text")}
        for members in by.values():
            members.sort(key=lambda v: v[0])
            hp, hid = members[0][0], members[0][1]
            for pos, rid, text, lk in members:
                out["pos"].append(pos)
                out["id"].append(rid)
                out["head_pos"].append(hp)
                out["head_id"].append(hid)
                out["gsize"].append(len(members))
                out["label_key"].append(lk)
                out["text"].append(text if pos == hp else "")
        return pd.DataFrame(out)

    import pickle

    from curate.engines.ray.shuffle import by_bucket

    def unpack_group(df: Any) -> Any:
        return group([pickle.loads(v) for v in df["_v"].tolist()])

    keyed = bag.to_bag(rows.select_columns(["pos", "id", "text", "label_key"]), key_rows, n)
    return by_bucket(keyed, unpack_group, n)


def candidates(heads: Any, configs: list[LshConfig], num_perm: int, shingle: int, seed: int, n: int) -> Any:
    """Distinct candidate pairs (tag, a, b), a < b by pos, of the exact-group heads, per LSH config."""
    def bands(batch: Any):
        from curate.dedup.lsh import band_keys, fingerprint, star_rank
        from curate.dedup.minhash import signatures

        texts = batch["text"].tolist()
        pos = batch["pos"].tolist()
        sig = signatures(texts, num_perm=num_perm, shingle=shingle, seed=seed, value_bits=16, workers=1)
        fp = fingerprint(sig)
        for c in configs:
            for b in range(c.bands):
                keys = band_keys(sig, b, c.rows).tolist()
                ranks = star_rank(fp, b).tolist()
                for p, k, r in zip(pos, keys, ranks, strict=True):
                    yield (c.tag, b, k), (r, p)

    def star(items: list):
        by: dict[Any, list[tuple[int, int]]] = {}
        for k, v in items:
            by.setdefault(k, []).append(v)
        for (tag, _, _), members in by.items():
            if len(members) < 2:
                continue
            head = min(members)[1]   # the local engine's centre: smallest (star_rank, position)
            for _, p in members:
                if p != head:
                    yield (tag, min(head, p), max(head, p)), None

    def distinct(items: list):
        for k in dict.fromkeys(k for k, _ in items):
            yield k, None

    pairs = bag.step(bag.to_bag(heads, bands, n), star, n)
    return bag.step(pairs, distinct, n)


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
