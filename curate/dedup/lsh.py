"""Banded LSH over MinHash signatures, candidate verification, and clustering.

Defaults and why:

* `threshold=0.8` Jaccard over byte 5-shingles: at 0.8 two short texts differ by about one word in fifteen;
  lower thresholds start merging template tweets that only share boilerplate (measured on bundled:tweets).
* `num_perm=128` bins: enough that a band of `rows` bins is a sharp filter, cheap to store (512 bytes per
  row as uint32).
* Bands x rows are chosen automatically (`choose_bands`) as the largest `rows` (fewest spurious candidates)
  whose probability of making a pair at exactly `threshold` a candidate is at least `target_recall` (0.99).
  For 128 bins and 0.8 that is 21 bands of 6 rows: P(candidate | J=0.8) = 0.998, P(candidate | J=0.5) = 0.28,
  P(candidate | J=0.3) = 0.015. Every candidate is then verified, so low-similarity candidates cost time,
  never precision.
* Band keys: one uint64 per row and band (a random linear combination of the band's uint32 bins, mixed),
  grouped by one argsort per band; pairs are packed as one int64 (i * n + j) and deduplicated by a sort.
* Verification: by default the exact Jaccard of the two shingle sets (`verify="exact"`), so precision
  against exact Jaccard is 1.0 by construction. It is vectorised (`exact_jaccard`): each row's distinct
  packed 5-byte shingles, sorted, then per pair a binary search of one set's (pair, shingle) keys in the
  other's; pairs whose signature estimate is far below the threshold
  (by more than 0.2, five times the 0.04 estimation error measured at 128 bins) are dropped without
  computing the exact value.
  `verify="estimate"` uses the signature agreement only (faster, ~0.04 error at 128 bins).
* Buckets are linked as stars (every member paired with the bucket's centre), so a bucket of m identical
  signatures costs m - 1 pairs, not m^2/2; clusters are connected components of verified pairs. The centre
  is the member with the smallest `star_rank` (a hash of its whole signature and the band), so it changes
  from band to band and depends only on who is in the bucket, never on a sort's tie order: the result is
  the same on any NumPy build, on any split of the bands between workers, and on the Ray engine, which
  forms the same buckets with a shuffle (curate/engines/ray/dedup.py). (It used to be whichever member
  NumPy's unstable argsort put first.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from curate.dedup.minhash import mix64


def collision_probability(j: float, bands: int, rows: int) -> float:
    """P(two texts of Jaccard `j` share at least one band) = 1 - (1 - j^rows)^bands."""
    return 1.0 - (1.0 - j ** rows) ** bands


def choose_bands(threshold: float, num_perm: int, target_recall: float = 0.99) -> tuple[int, int]:
    """The (bands, rows) with the most rows per band such that P(candidate | J=threshold) >= target_recall."""
    best = (num_perm, 1)
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if bands < 1:
            break
        if collision_probability(threshold, bands, rows) >= target_recall:
            best = (bands, rows)
    return best


def _sorted_unique(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values by sort + compare (NumPy 2.4's hash-based np.unique is several times slower
    on millions of integers)."""
    x = np.sort(x)
    if len(x) < 2:
        return x
    keep = np.empty(len(x), dtype=bool)
    keep[0] = True
    np.not_equal(x[1:], x[:-1], out=keep[1:])
    return x[keep]


_BAND_MULT = (np.random.default_rng(0x5EED).integers(1, 2**63, 64, dtype=np.uint64) | np.uint64(1))


def band_keys(sig: np.ndarray, band: int, rows: int) -> np.ndarray:
    """One uint64 key per row for band `band`: a random linear combination of its `rows` bins (mod 2^64),
    finalised by splitmix64. Different bins may collide with probability ~2^-32, which only adds a
    candidate that verification then rejects."""
    block = sig[:, band * rows:(band + 1) * rows]
    key = block[:, 0].astype(np.uint64)
    key *= _BAND_MULT[0]
    for c in range(1, rows):
        key += block[:, c].astype(np.uint64) * _BAND_MULT[c % 64]
    return mix64(key, out=key)


def fingerprint(sig: np.ndarray) -> np.ndarray:
    """One uint64 per row from its whole signature (a random linear combination of all bins, mixed)."""
    return band_keys(sig, 0, sig.shape[1])


def star_rank(fp: np.ndarray, band: int) -> np.ndarray:
    """The order in which a band's bucket members compete to be its star centre: a hash of the row's whole
    signature and the band, so the centre changes from band to band (as an arbitrary one would)."""
    return mix64(fp ^ np.uint64(((band + 1) * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF))


def star_pairs(members: np.ndarray, bucket: np.ndarray, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Star links of buckets: per bucket, (centre, member) for every other member; the centre is the member
    with the smallest (rank, index). Depends only on bucket membership, never on a sort's tie order."""
    o = np.lexsort((members, rank, bucket))
    b, m = bucket[o], members[o]
    first = np.ones(len(o), dtype=bool)
    if len(o):
        np.not_equal(b[1:], b[:-1], out=first[1:])
    head = m[first][np.cumsum(first) - 1]
    return head[~first], m[~first]


def candidate_pairs(sig: np.ndarray, bands: int, rows: int, band_range: tuple[int, int] | None = None,
                    fp: np.ndarray | None = None) -> np.ndarray:
    """Pairs (i, j), i < j, sharing at least one band, as an (m, 2) int64 array without repeats, sorted.

    Args:
        sig: signatures (all bins).
        bands, rows: the banding.
        band_range: only bands [b0, b1) (a worker's share); None for all.
        fp: `fingerprint(sig)` when already computed.
    """
    n = sig.shape[0]
    found = []
    b0, b1 = band_range or (0, bands)
    for b in range(b0, b1):
        key = band_keys(sig, b, rows)
        order = np.argsort(key)
        sk = key[order]
        del key
        same = np.empty(n, dtype=bool)
        if n:
            same[0] = False
            np.equal(sk[1:], sk[:-1], out=same[1:])
        if not same.any():
            continue
        # positions (in sorted order) inside a bucket of two or more, and their bucket numbers
        multi = same.copy()
        multi[:-1] |= same[1:]
        at = np.flatnonzero(multi)
        bucket = np.cumsum(~same)[at]
        members = order[at]
        if fp is None:
            fp = fingerprint(sig)
        a, c = star_pairs(members, bucket, star_rank(fp[members], b))
        # one int64 code per pair (i * n + j) so repeats across bands are dropped by one np.unique
        found.append(np.minimum(a, c) * n + np.maximum(a, c))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    code = _sorted_unique(np.concatenate(found))
    return np.stack([code // n, code % n], axis=1)


def shingle_set(text: str, shingle: int) -> set[bytes]:
    """The byte shingles of a text, as the MinHash engine sees them (short texts: the padded text)."""
    b = text.encode("utf-8", "surrogatepass")
    if len(b) < shingle:
        b += b"\0" * (shingle - len(b))
    return {b[i:i + shingle] for i in range(len(b) - shingle + 1)}


def jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def _row_sets(texts: Sequence[str], rows: np.ndarray, shingle: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted, distinct packed shingles of `texts[rows]` in CSR form: (values, offsets of len(rows) + 1).

    Only for shingle <= 5: a packed shingle takes 40 bits, leaving 24 for the local row number in one
    sortable uint64 (hence chunks of at most 2^23 rows)."""
    from curate.dedup.minhash import packed_windows

    w, r = packed_windows([texts[i] for i in rows.tolist()], shingle)
    w |= r.astype(np.uint64) << np.uint64(40)
    del r
    w = _sorted_unique(w)
    offsets = np.searchsorted(w, np.arange(len(rows) + 1, dtype=np.uint64) << np.uint64(40))
    w &= np.uint64((1 << 40) - 1)
    return w, offsets


def _gather(values: np.ndarray, offsets: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate the CSR segments `which` (in that order): (values, segment number of each value)."""
    lo, hi = offsets[which], offsets[which + 1]
    ln = hi - lo
    seg = np.repeat(np.arange(len(which), dtype=np.int64), ln)
    starts = np.zeros(len(which) + 1, dtype=np.int64)
    np.cumsum(ln, out=starts[1:])
    pos = np.arange(int(starts[-1]), dtype=np.int64) - np.repeat(starts[:-1] - lo, ln)
    return values[pos], seg


def exact_jaccard(texts: Sequence[str], pairs: np.ndarray, shingle: int, chunk: int = 8_192) -> np.ndarray:
    """Exact Jaccard of byte-shingle sets for each pair, vectorised (same sets as `shingle_set`).

    For shingle <= 5 the sets are the exact packed windows, intersected per pair by binary search over
    (pair, shingle) keys sorted together; larger shingles fall back to Python sets.
    """
    out = np.empty(len(pairs))
    if shingle > 5:
        cache: dict[int, set[bytes]] = {}

        def sets(i: int) -> set[bytes]:
            s = cache.get(i)
            if s is None:
                s = cache[i] = shingle_set(texts[i], shingle)
            return s

        for k, (a, b) in enumerate(pairs.tolist()):
            out[k] = jaccard(sets(a), sets(b))
        return out
    for lo in range(0, len(pairs), chunk):
        p = pairs[lo:lo + chunk]
        rows = _sorted_unique(p.ravel())
        inv = np.searchsorted(rows, p)
        vals, offs = _row_sets(texts, rows, shingle)
        size = np.diff(offs)
        va, sa = _gather(vals, offs, inv[:, 0])
        vb, sb = _gather(vals, offs, inv[:, 1])
        # (pair, shingle) keys: both arrays come out sorted, pair-major, then by shingle
        va |= sa.astype(np.uint64) << np.uint64(40)
        vb |= sb.astype(np.uint64) << np.uint64(40)
        pos = np.searchsorted(vb, va)
        pos[pos == len(vb)] = 0
        hit = vb[pos] == va if len(vb) else np.zeros(len(va), dtype=bool)
        inter = np.bincount(sa[hit], minlength=len(p)).astype(float)
        union = size[inv[:, 0]] + size[inv[:, 1]] - inter
        out[lo:lo + len(p)] = inter / union
    return out


@dataclass
class PairScores:
    pairs: np.ndarray      # (m, 2) int64
    jaccard: np.ndarray    # (m,) float, exact or estimated per `exact`
    exact: bool


def verify_pairs(texts: Sequence[str], sig: np.ndarray, pairs: np.ndarray, threshold: float, shingle: int,
                 verify: str = "exact") -> PairScores:
    """Keep the candidate pairs whose Jaccard is >= threshold (see the module docstring)."""
    if len(pairs) == 0:
        return PairScores(pairs, np.zeros(0), verify == "exact")
    est = np.empty(len(pairs))
    step = 16_384   # gathers of ~8 MB: reused heap memory instead of fresh pages for every step
    for lo in range(0, len(pairs), step):
        p = pairs[lo:lo + step]
        est[lo:lo + step] = (sig[p[:, 0]] == sig[p[:, 1]]).mean(axis=1)
    if verify == "estimate":
        keep = est >= threshold
        return PairScores(pairs[keep], est[keep], False)
    maybe = np.flatnonzero(est >= threshold - 0.2)
    exact = exact_jaccard(texts, pairs[maybe], shingle)
    ok = exact >= threshold
    return PairScores(pairs[maybe[ok]], exact[ok], True)


def components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Cluster id per item: the smallest index in its connected component (singletons: their own index)."""
    if len(pairs) == 0:
        return np.arange(n, dtype=np.int64)
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    g = coo_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, lab = connected_components(g, directed=False)
    first = np.full(lab.max() + 1, n, dtype=np.int64)
    np.minimum.at(first, lab, np.arange(n, dtype=np.int64))
    return first[lab]
