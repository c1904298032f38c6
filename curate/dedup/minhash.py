"""A vectorised NumPy MinHash engine: byte shingles -> one-permutation MinHash signatures.

Why this design (chosen by `bench/near_dup.py`, figures in BENCHMARKS.md):

* Shingles are `shingle`-byte windows of the UTF-8 text (default 5). Windows of up to 8 bytes are packed
  into a uint64 exactly (an injective key), then scrambled by the splitmix64 finalizer, a bijection, so two
  different shingles never share a hash. Character 5-grams suit short texts (tweets, prompts): changing one
  word of a 15-word tweet removes ~10% of its shingles, whereas word 5-grams would remove a third.
* Signatures use one-permutation hashing (Li, Owen & Zhang 2012) with rotation densification (Shrivastava &
  Li 2014): each shingle is hashed ONCE; its top bits pick one of `num_perm` bins and the bin keeps its
  minimum. Classic MinHash costs shingles x permutations hash evaluations; this costs shingles, and the
  probability that two signatures agree in a bin is still the Jaccard similarity. Empty bins (short texts)
  borrow the next non-empty bin to the right, mixed with the distance, as the densification scheme says.
* Work is done in chunks of rows so memory stays flat in the row count (about 8 bytes x shingles of one
  chunk plus 8 bytes x num_perm per row for the signatures).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_EMPTY = np.uint64(0xFFFFFFFFFFFFFFFF)


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer, vectorised: a bijection on uint64 that spreads every input bit (in place safe)."""
    x = x ^ (x >> np.uint64(30))
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


def encode(texts: Sequence[str], shingle: int) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 bytes of all texts in one array (each padded with NULs to at least `shingle` bytes) + offsets."""
    enc = [t.encode("utf-8", "surrogatepass") for t in texts]
    enc = [b if len(b) >= shingle else b + b"\0" * (shingle - len(b)) for b in enc]
    lens = np.fromiter((len(b) for b in enc), dtype=np.int64, count=len(enc))
    offsets = np.zeros(len(enc) + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    buf = np.frombuffer(b"".join(enc), dtype=np.uint8)
    return buf, offsets


def shingle_hashes(texts: Sequence[str], shingle: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Hash every `shingle`-byte window of every text.

    Returns:
        (hashes, row) — uint64 hash per window and the int64 row index it belongs to (rows are contiguous).
    """
    buf, offsets = encode(texts, shingle)
    lens = np.diff(offsets)
    nwin = lens - shingle + 1
    total = int(nwin.sum())
    row = np.repeat(np.arange(len(lens), dtype=np.int64), nwin)
    # window start = row start + position within the row
    first = np.zeros(len(lens) + 1, dtype=np.int64)
    np.cumsum(nwin, out=first[1:])
    start = np.arange(total, dtype=np.int64) + np.repeat(offsets[:-1] - first[:-1], nwin)
    # hash every byte position of the joined buffer with contiguous shifted slices (no gathers), then keep
    # the positions where a window starts inside its own row
    span = len(buf) - shingle + 1
    wide = buf.astype(np.uint64)
    allpos = np.zeros(span, dtype=np.uint64)
    if shingle <= 8:
        for j in range(shingle):   # pack the window's bytes: exact, no collisions
            allpos |= wide[j:j + span] << np.uint64(8 * j)
    else:
        for j in range(shingle):   # polynomial rolling hash, wraps mod 2**64
            allpos *= np.uint64(1099511628211)
            allpos += wide[j:j + span] + np.uint64(1)
    h = allpos[start]
    h ^= np.uint64(seed) * _GOLDEN
    return mix64(h), row


def signatures(texts: Sequence[str], num_perm: int = 128, shingle: int = 5, seed: int = 0,
               chunk: int = 50_000) -> np.ndarray:
    """One-permutation MinHash signatures, shape (len(texts), num_perm), dtype uint64.

    Args:
        texts: the (normalized) texts.
        num_perm: signature length; must be a power of two (bins are picked by the hash's top bits).
        shingle: window size in UTF-8 bytes.
        seed: changes every hash; signatures are only comparable under the same seed.
        chunk: rows hashed at a time (bounds memory).
    """
    if num_perm < 2 or num_perm & (num_perm - 1):
        raise ValueError(f"num_perm must be a power of two >= 2, got {num_perm}")
    bits = num_perm.bit_length() - 1
    out = np.empty((len(texts), num_perm), dtype=np.uint64)
    for lo in range(0, len(texts), chunk):
        part = texts[lo:lo + chunk]
        h, row = shingle_hashes(part, shingle, seed)
        binidx = (h >> np.uint64(64 - bits)).astype(np.int64)
        # bin-major layout so densification walks contiguous rows of memory
        sig = np.full(num_perm * len(part), _EMPTY, dtype=np.uint64)
        np.minimum.at(sig, binidx * len(part) + row, h)
        out[lo:lo + len(part)] = _densify(sig.reshape(num_perm, len(part))).T
    return out


def _densify(sig: np.ndarray) -> np.ndarray:
    """Rotation densification, in place on a (num_perm, rows) array: an empty bin takes the first non-empty
    bin to its right (circularly), re-mixed with the distance so that borrowed values differ from originals."""
    k, n = sig.shape
    empty = sig == _EMPTY
    if not empty.any():
        return sig
    val = np.zeros(n, dtype=np.uint64)
    dist = np.zeros(n, dtype=np.uint64)
    # two sweeps right-to-left: the first only primes the carry so that the wrap-around is seen
    for sweep in (0, 1):
        for j in range(k - 1, -1, -1):
            e = empty[j]
            dist += np.uint64(1)
            if sweep == 0:
                val = np.where(e, val, sig[j])
                dist[~e] = 0
                continue
            if e.any():
                sig[j, e] = mix64(val[e] + dist[e] * _GOLDEN)
            ne = ~e
            val[ne] = sig[j, ne]
            dist[ne] = 0
    return sig
