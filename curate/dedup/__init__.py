"""Deduplication engines: exact groups, MinHash-LSH near-duplicate clusters, MiniLM semantic duplicates.

Public API (used by the checks, the split stage and `curate run`):

* `exact_duplicate_groups(texts) -> list[int]`
* `near_duplicate_clusters(texts, threshold=0.8, num_perm=128, shingle=5, seed=0) -> list[int]`
* `near_duplicates(texts, ...) -> NearDuplicates` (clusters plus the verified pairs and their Jaccard)
* `prepare(texts, num_perm=128, shingle=5, seed=0) -> Signatures` (exact groups + signatures, reusable by
  `near_duplicates(..., prepared=)` at several thresholds; `curate.dedup.shared` caches it per run)

Importing this package does not import torch; `curate.dedup.semantic` imports it inside its functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from curate.dedup.exact import exact_duplicate_groups
from curate.dedup.lsh import choose_bands, components

DEFAULT_THRESHOLD = 0.8
DEFAULT_NUM_PERM = 128
DEFAULT_SHINGLE = 5


@dataclass
class Signatures:
    """What near-duplicate detection at any threshold needs from the texts: computed once, shared.

    Attributes:
        group: per text, the index of the first identical text.
        uniq: indices of the first copy of each distinct text (the rows that are hashed).
        sig: (len(uniq), num_perm) uint16 (b-bit) MinHash signatures of those texts.
    """

    group: np.ndarray
    uniq: np.ndarray
    sig: np.ndarray
    num_perm: int
    shingle: int
    seed: int


def prepare(texts: Sequence[str], num_perm: int = DEFAULT_NUM_PERM, shingle: int = DEFAULT_SHINGLE,
            seed: int = 0) -> Signatures:
    """Collapse identical texts and MinHash the distinct ones (the threshold-independent half of the work)."""
    from curate.dedup.minhash import signatures

    n = len(texts)
    group = np.asarray(exact_duplicate_groups(texts), dtype=np.int64)
    uniq = np.flatnonzero(group == np.arange(n))
    # 16-bit values (b-bit minwise hashing): half the memory of the largest array a run holds; chance
    # agreements (1 in 65536 per bin) barely move the estimate and only add candidates that are verified
    sig = signatures([texts[i] for i in uniq.tolist()] if len(uniq) < n else texts, num_perm=num_perm,
                     shingle=shingle, seed=seed, value_bits=16)
    return Signatures(group, uniq, sig, num_perm, shingle, seed)


@dataclass
class NearDuplicates:
    """The result of near-duplicate detection over `n` texts.

    Attributes:
        cluster: per text, the index of its cluster's first member (itself when it has no near duplicate).
        pairs: (m, 2) verified pairs of indices (i < j) of DISTINCT texts with Jaccard >= threshold.
        jaccard: (m,) their Jaccard (exact unless `verify="estimate"`).
        exact_group: per text, the index of the first identical text (exact duplicates are collapsed first).
        bands, rows: the LSH banding used.
        candidates: how many candidate pairs banding produced (before verification).
    """

    cluster: np.ndarray
    pairs: np.ndarray
    jaccard: np.ndarray
    exact_group: np.ndarray
    bands: int
    rows: int
    candidates: int


def near_duplicates(texts: Sequence[str], threshold: float = DEFAULT_THRESHOLD, num_perm: int = DEFAULT_NUM_PERM,
                    shingle: int = DEFAULT_SHINGLE, seed: int = 0, bands: int | None = None,
                    verify: str = "exact", prepared: Signatures | None = None) -> NearDuplicates:
    """Find near-duplicate clusters with MinHash LSH (see `curate.dedup.lsh` for the defaults' rationale).

    Identical texts are collapsed before hashing, so they always share a cluster and cost nothing extra.

    Args:
        texts: normalized texts.
        threshold: Jaccard similarity over byte shingles at or above which two texts are near duplicates.
        num_perm: MinHash signature length (a power of two).
        shingle: shingle size in UTF-8 bytes.
        seed: hash seed.
        bands: number of LSH bands; rows per band = num_perm // bands. None picks them from the threshold.
        verify: "exact" (exact Jaccard of candidates) or "estimate" (signature agreement).
        prepared: `prepare(texts, num_perm, shingle, seed)` computed earlier (reused across thresholds).
    """
    from curate.dedup.lsh import candidate_pairs, verify_pairs
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    if bands is None:
        bands, rows = choose_bands(threshold, num_perm)
    else:
        if not 1 <= bands <= num_perm:
            raise ValueError(f"bands must be between 1 and num_perm ({num_perm}), got {bands}")
        rows = num_perm // bands
    n = len(texts)
    if prepared is None:
        prepared = prepare(texts, num_perm, shingle, seed)
    elif (prepared.num_perm, prepared.shingle, prepared.seed, len(prepared.group)) != (num_perm, shingle, seed, n):
        raise ValueError("prepared signatures were computed with other num_perm/shingle/seed or other texts")
    group, uniq, sig = prepared.group, prepared.uniq, prepared.sig
    utexts = [texts[i] for i in uniq.tolist()] if len(uniq) < n else texts
    cand = candidate_pairs(sig, bands, rows)
    scored = verify_pairs(utexts, sig, cand, threshold, shingle, verify)
    pairs = uniq[scored.pairs] if len(scored.pairs) else np.zeros((0, 2), dtype=np.int64)
    # clusters over all texts: verified near pairs plus each exact duplicate linked to its first copy
    dup = np.flatnonzero(group != np.arange(n))
    links = np.concatenate([pairs, np.stack([group[dup], dup], axis=1)]) if len(dup) else pairs
    cluster = components(n, links)
    return NearDuplicates(cluster=cluster, pairs=pairs, jaccard=scored.jaccard, exact_group=group, bands=bands,
                          rows=rows, candidates=len(cand))


def near_duplicate_clusters(texts: Sequence[str], threshold: float = DEFAULT_THRESHOLD,
                            num_perm: int = DEFAULT_NUM_PERM, shingle: int = DEFAULT_SHINGLE,
                            seed: int = 0) -> list[int]:
    """For each text, a cluster id: the index of the cluster's first member; singletons get their own index.

    Exact duplicates are always in the same cluster.
    """
    return near_duplicates(texts, threshold, num_perm, shingle, seed).cluster.tolist()


__all__ = ["DEFAULT_NUM_PERM", "DEFAULT_SHINGLE", "DEFAULT_THRESHOLD", "NearDuplicates", "Signatures",
           "exact_duplicate_groups", "near_duplicate_clusters", "near_duplicates", "prepare"]
