"""Deduplication engines: exact groups, MinHash-LSH near-duplicate clusters, MiniLM semantic duplicates.

Public API (used by the checks, the split stage and `curate run`):

* `exact_duplicate_groups(texts) -> list[int]`
* `near_duplicate_clusters(texts, threshold=0.8, num_perm=128, shingle=5, seed=0) -> list[int]`
* `near_duplicates(texts, ...) -> NearDuplicates` (clusters plus the verified pairs and their Jaccard)
* `prepare(texts, num_perm=128, shingle=5, seed=0) -> Signatures` (exact groups + signatures, reusable by
  `near_duplicates(..., prepared=)` at several thresholds; `curate.dedup.shared` caches it per run)

Importing this package does not import torch; `curate.dedup.semantic` imports it inside its functions.

From `PARALLEL_MIN_PAIRS` candidate pairs on, verification runs on all cores (fork pool, Linux):
each pair's Jaccard depends only on its two texts, so contiguous slices of the candidates are verified
apart and concatenated in order, giving the serial result exactly. MinHash signatures and LSH banding
(bands split between workers, pairs united) are parallel the same way from
`curate.dedup.minhash.PARALLEL_MIN_ROWS` rows on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from curate.dedup.exact import exact_duplicate_groups
from curate.dedup.lsh import choose_bands, components

DEFAULT_THRESHOLD = 0.8
DEFAULT_NUM_PERM = 128
DEFAULT_SHINGLE = 5
# Candidate pairs from which verification runs on all cores: ~50k pairs verify in ~0.2 s serially on this
# 2-core machine, about what starting a fork pool and returning the results costs. Measured on the
# bench/corpus.py 1M-row corpus (2.0M candidates at 0.8): 4.95 s serial, 3.15 s on 2 cores; banding the
# same signatures: 1.56 s serial, 0.98 s on 2 cores.
PARALLEL_MIN_PAIRS = 50_000
# What forked verification workers read (set in the parent just before the fork; never pickled).
_FORK_VERIFY: tuple | None = None
_FORK_BANDS: tuple[np.ndarray, int] | None = None


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


def near_duplicates(
    texts: Sequence[str],
    threshold: float = DEFAULT_THRESHOLD,
    num_perm: int = DEFAULT_NUM_PERM,
    shingle: int = DEFAULT_SHINGLE,
    seed: int = 0,
    bands: int | None = None,
    verify: str = "exact",
    prepared: Signatures | None = None,
) -> NearDuplicates:
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
    elif (prepared.num_perm, prepared.shingle, prepared.seed, len(prepared.group)) != (
        num_perm,
        shingle,
        seed,
        n,
    ):
        raise ValueError("prepared signatures were computed with other num_perm/shingle/seed or other texts")
    group, uniq, sig = prepared.group, prepared.uniq, prepared.sig
    utexts = [texts[i] for i in uniq.tolist()] if len(uniq) < n else texts
    cand = _candidates(sig, bands, rows)
    scored = _verify(utexts, sig, cand, threshold, shingle, verify)
    pairs = uniq[scored.pairs] if len(scored.pairs) else np.zeros((0, 2), dtype=np.int64)
    # clusters over all texts: verified near pairs plus each exact duplicate linked to its first copy
    dup = np.flatnonzero(group != np.arange(n))
    links = np.concatenate([pairs, np.stack([group[dup], dup], axis=1)]) if len(dup) else pairs
    cluster = components(n, links)
    return NearDuplicates(
        cluster=cluster,
        pairs=pairs,
        jaccard=scored.jaccard,
        exact_group=group,
        bands=bands,
        rows=rows,
        candidates=len(cand),
    )


def _candidates(sig: np.ndarray, bands: int, rows: int, workers: int | None = None) -> np.ndarray:
    """`lsh.candidate_pairs`, with the bands split between all cores from `PARALLEL_MIN_ROWS` rows on.

    Each worker bands a contiguous range of bands (a band's keys depend only on its own columns); the
    union of their pairs, sorted and without repeats, is exactly the serial result.
    """
    from curate.dedup.lsh import _sorted_unique, candidate_pairs
    from curate.dedup.minhash import PARALLEL_MIN_ROWS, _workers

    global _FORK_BANDS
    n = sig.shape[0]
    n_workers = (_workers() if n >= PARALLEL_MIN_ROWS else 1) if workers is None else workers
    n_workers = min(n_workers, bands)
    if n_workers <= 1 or n < 2:
        return candidate_pairs(sig, bands, rows)
    import multiprocessing

    edges = np.linspace(0, bands, n_workers + 1).astype(np.int64).tolist()
    _FORK_BANDS = (sig, rows)
    try:
        with multiprocessing.get_context("fork").Pool(n_workers) as pool:
            codes = pool.map(_band_range, [(a, b) for a, b in pairwise(edges) if b > a])
    finally:
        _FORK_BANDS = None
    code = _sorted_unique(np.concatenate(codes))
    if len(code) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    return np.stack([code // n, code % n], axis=1)


def _band_range(bounds: tuple[int, int]) -> np.ndarray:
    """Worker: the candidate pairs of bands [b0, b1), as int64 codes i * n + j."""
    from curate.dedup.lsh import candidate_pairs

    assert _FORK_BANDS is not None
    sig, rows = _FORK_BANDS
    b0, b1 = bounds
    p = candidate_pairs(sig, b1 - b0, rows, band_range=(b0, b1))
    return p[:, 0] * sig.shape[0] + p[:, 1]


def _verify(texts: Sequence[str], sig: np.ndarray, cand: np.ndarray, threshold: float, shingle: int,
            verify: str, workers: int | None = None):
    """`lsh.verify_pairs`, on all cores from `PARALLEL_MIN_PAIRS` candidates on; the same result either way.

    Args:
        workers: processes; None picks all cores (see `curate.dedup.minhash._workers`) when there are
            enough candidates, else 1.
    """
    from curate.dedup.lsh import PairScores, verify_pairs
    from curate.dedup.minhash import _workers

    global _FORK_VERIFY
    n_workers = (_workers() if len(cand) >= PARALLEL_MIN_PAIRS else 1) if workers is None else workers
    if n_workers <= 1 or len(cand) < 2 * n_workers:
        return verify_pairs(texts, sig, cand, threshold, shingle, verify)
    import multiprocessing

    # a few slices per worker, so one that finishes early takes another (pairs differ in cost)
    edges = np.linspace(0, len(cand), 3 * n_workers + 1).astype(np.int64)
    bounds = [(int(a), int(b)) for a, b in pairwise(edges.tolist()) if b > a]
    _FORK_VERIFY = (texts, sig, cand, threshold, shingle, verify)
    try:
        with multiprocessing.get_context("fork").Pool(n_workers) as pool:
            parts = list(pool.imap(_verify_slice, bounds))
    finally:
        _FORK_VERIFY = None
    return PairScores(
        np.concatenate([p for p, _ in parts]), np.concatenate([j for _, j in parts]), verify == "exact"
    )


def _verify_slice(bounds: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Worker: the verified pairs and their Jaccard among candidates [lo, hi) inherited through fork."""
    from curate.dedup.lsh import verify_pairs

    assert _FORK_VERIFY is not None
    texts, sig, cand, threshold, shingle, verify = _FORK_VERIFY
    lo, hi = bounds
    scored = verify_pairs(texts, sig, cand[lo:hi], threshold, shingle, verify)
    return scored.pairs, scored.jaccard


def near_duplicate_clusters(texts: Sequence[str], threshold: float = DEFAULT_THRESHOLD,
                            num_perm: int = DEFAULT_NUM_PERM, shingle: int = DEFAULT_SHINGLE,
                            seed: int = 0) -> list[int]:
    """For each text, a cluster id: the index of the cluster's first member; singletons get their own index.

    Exact duplicates are always in the same cluster.
    """
    return near_duplicates(texts, threshold, num_perm, shingle, seed).cluster.tolist()


__all__ = ["DEFAULT_NUM_PERM", "DEFAULT_SHINGLE", "DEFAULT_THRESHOLD", "NearDuplicates", "Signatures",
           "exact_duplicate_groups", "near_duplicate_clusters", "near_duplicates", "prepare"]
