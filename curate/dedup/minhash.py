"""A vectorised NumPy MinHash engine: byte shingles -> one-permutation MinHash signatures (uint32/uint16).

Why this design (chosen by `bench/near_dup.py`, figures in BENCHMARKS.md):

* Shingles are `shingle`-byte windows of the UTF-8 text (default 5). Windows of up to 8 bytes are packed
  into a uint64 exactly (an injective key), then scrambled by the splitmix64 finalizer, a bijection, so two
  different shingles never share a hash. Character 5-grams suit short texts (tweets, prompts): changing one
  word of a 15-word tweet removes ~10% of its shingles, whereas word 5-grams would remove a third.
* Signatures use one-permutation hashing (Li, Owen & Zhang 2012) with rotation densification (Shrivastava &
  Li 2014): each shingle is hashed ONCE; its top bits pick one of `num_perm` bins and the bin keeps the
  minimum of the hash's low 32 bits. Classic MinHash costs shingles x permutations hash evaluations; this
  costs shingles, and the probability that two signatures agree in a bin is still the Jaccard similarity
  (plus 2^-32 for two different minima that share their low 32 bits, which is negligible). Empty bins
  (short texts) borrow the next non-empty bin to the right, mixed with the distance.
* uint32 values halve the memory of uint64 (1M rows x 128 bins = 512 MiB) and the bandwidth of banding;
  `value_bits=16` (b-bit minwise hashing, used by `curate.dedup.prepare`) halves it again.
* Work is done in chunks of ~8k rows so memory stays flat in the row count (about 16 bytes x shingles of
  one chunk plus 2-4 bytes x num_perm per row for the signatures), and every temporary stays below glibc's
  mmap threshold: at 50k-row chunks a fifth of the time went to page faults on freshly mapped arrays.
* The windows are read as unaligned little-endian uint64 through a strided view of the byte buffer (one
  pass instead of one shift-and-or per byte); the bin minima are one `np.minimum.at` into a row-major
  block (a text's bins are adjacent, so the scatter stays in cache); densification sweeps a bin-major copy.
  Measured at 1M short rows (bench/corpus.py): 5.8 s for exact groups plus all signatures, shared CPU.
* Chunks are independent (a row's signature depends only on its own shingles), so from
  `PARALLEL_MIN_ROWS` rows on (Linux only: fork shares the texts with the workers for free) contiguous
  slabs of whole chunks are hashed on all cores and concatenated in order; the result equals the serial
  one bit for bit. Below that, starting the pool costs more than it saves.
"""

from __future__ import annotations

import mmap
import os
import sys
from collections.abc import Sequence

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_EMPTY32 = np.uint32(0xFFFFFFFF)
_LOW32 = np.uint64(0xFFFFFFFF)
# From this many rows, signatures are computed on all cores (a fork pool costs ~0.1 s to start; 50k rows
# take ~0.3 s serially on this 2-core machine). Measured at 1M rows (bench/corpus.py, 16-bit values):
# 5.4-5.7 s serial, 2.6-3.0 s on 2 cores.
PARALLEL_MIN_ROWS = 50_000
# Slabs per worker: a few, so a worker that finishes early picks up another and the cores stay busy.
_SLABS_PER_WORKER = 4
# The texts a forked worker reads and the shared output it writes (set in the parent just before the fork;
# never pickled).
_FORK_TEXTS: tuple[Sequence[str], np.ndarray] | None = None


def _workers() -> int:
    # fork shares the parent's texts and modules for free; elsewhere (macOS, Windows) stay serial.
    # Same rule as curate.normalize._workers.
    if sys.platform != "linux":
        return 1
    import multiprocessing

    if multiprocessing.current_process().daemon:
        return 1   # a pool worker may not start its own pool
    return max(1, min(os.cpu_count() or 1, 8))


def mix64(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """splitmix64 finalizer, vectorised: a bijection on uint64 that spreads every input bit.

    Args:
        x: uint64 array.
        out: where to write (may be `x` itself, which avoids allocating on large arrays).
    """
    tmp = x >> np.uint64(30)
    x = np.bitwise_xor(x, tmp, out=out)
    x *= _M1
    np.right_shift(x, np.uint64(27), out=tmp)
    x ^= tmp
    x *= _M2
    np.right_shift(x, np.uint64(31), out=tmp)
    x ^= tmp
    return x


def encode(texts: Sequence[str], shingle: int) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 bytes of all texts in one array (each padded with NULs to at least `shingle` bytes) + offsets."""
    enc = [t.encode("utf-8", "surrogatepass") for t in texts]
    lens = np.fromiter(map(len, enc), dtype=np.int64, count=len(enc))
    short = np.flatnonzero(lens < shingle)
    for i in short:   # rare: only texts shorter than one shingle are padded (a Python loop over few rows)
        enc[i] += b"\0" * (shingle - int(lens[i]))
    lens[short] = shingle
    offsets = np.zeros(len(enc) + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    buf = np.frombuffer(b"".join(enc), dtype=np.uint8)
    return buf, offsets


def packed_windows(texts: Sequence[str], shingle: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Every `shingle`-byte window of every text as a uint64 (the exact bytes for shingle <= 8, else a
    polynomial rolling hash), and the int64 row index of each window (rows are contiguous and in order)."""
    buf, offsets = encode(texts, shingle)
    lens = np.diff(offsets)
    nwin = lens - shingle + 1
    row = np.repeat(np.arange(len(lens), dtype=np.int64), nwin)
    # hash every byte position of the joined buffer with contiguous shifted slices (no gathers), then drop
    # the last shingle-1 positions of each row, the windows that would straddle two rows
    span = len(buf) - shingle + 1
    if shingle <= 8:
        # pack the window's bytes (exact, no collisions): read 8 bytes at every byte offset as one
        # little-endian uint64 through a strided view, then mask to the window
        pad = np.zeros(len(buf) + 8, dtype=np.uint8)
        pad[:len(buf)] = buf
        view = np.ndarray((span,), dtype="<u8", buffer=pad, strides=(1,))
        allpos = view & np.uint64((1 << (8 * shingle)) - 1)
        del pad, view
    else:
        allpos = np.zeros(span, dtype=np.uint64)
        tmp = np.empty(span, dtype=np.uint64)
        for j in range(shingle):   # polynomial rolling hash, wraps mod 2**64
            allpos *= np.uint64(1099511628211)
            tmp[:] = buf[j:j + span]
            tmp += np.uint64(1)
            allpos += tmp
        del tmp
    if shingle == 1:
        return allpos, row
    keep = np.ones(span, dtype=bool)
    ends = offsets[1:-1]   # a row's last shingle-1 starts straddle into the next row
    for d in range(1, shingle):
        keep[ends - d] = False
    return allpos[keep], row


def shingle_hashes(texts: Sequence[str], shingle: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Hash every `shingle`-byte window of every text.

    Returns:
        (hashes, row) — uint64 hash per window and the int64 row index it belongs to (rows are contiguous).
    """
    h, row = packed_windows(texts, shingle)
    if seed:
        h ^= np.uint64(seed) * _GOLDEN
    return mix64(h, out=h), row


def signatures(texts: Sequence[str], num_perm: int = 128, shingle: int = 5, seed: int = 0,
               chunk: int = 8_192, value_bits: int = 32, workers: int | None = None) -> np.ndarray:
    """One-permutation MinHash signatures, shape (len(texts), num_perm), dtype uint32 (or uint16).

    Args:
        texts: the (normalized) texts.
        num_perm: signature length; must be a power of two (bins are picked by the hash's top bits).
        shingle: window size in UTF-8 bytes.
        seed: changes every hash; signatures are only comparable under the same seed.
        chunk: rows hashed at a time (bounds memory; ~8k rows keeps every temporary array under glibc's mmap
            threshold, so memory is reused instead of page-faulted in afresh per chunk).
        value_bits: 32, or 16 for b-bit minwise hashing (Li & Koenig 2010): each bin keeps the low 16 bits
            of its 32-bit minimum, so two bins agree with probability J + (1 - J) / 65536 instead of J,
            at half the memory (1M rows x 128 bins: 256 MiB instead of 512).
        workers: processes to use; None picks all cores (up to 8) on Linux from `PARALLEL_MIN_ROWS` rows
            on, else 1. The result does not depend on it.
    """
    if value_bits not in (16, 32):
        raise ValueError(f"value_bits must be 16 or 32, got {value_bits}")
    if num_perm < 2 or num_perm & (num_perm - 1):
        raise ValueError(f"num_perm must be a power of two >= 2, got {num_perm}")
    n_workers = (_workers() if len(texts) >= PARALLEL_MIN_ROWS else 1) if workers is None else workers
    if n_workers > 1 and len(texts) > chunk:
        return _parallel_signatures(texts, n_workers, num_perm, shingle, seed, chunk, value_bits)
    return _serial_signatures(texts, num_perm, shingle, seed, chunk, value_bits)


def _parallel_signatures(texts: Sequence[str], n_workers: int, num_perm: int, shingle: int, seed: int,
                         chunk: int, value_bits: int) -> np.ndarray:
    """`_serial_signatures` over contiguous slabs of whole chunks on a fork pool, written in order."""
    import multiprocessing

    global _FORK_TEXTS
    n = len(texts)
    n_chunks = -(-n // chunk)
    per_slab = max(1, -(-n_chunks // (n_workers * _SLABS_PER_WORKER)))
    bounds = [(lo, min(n, lo + per_slab * chunk)) for lo in range(0, n, per_slab * chunk)]
    dtype = np.dtype(np.uint32 if value_bits == 32 else np.uint16)
    # the output lives in an anonymous MAP_SHARED mapping made before the fork: the workers write their
    # rows straight into it (no pickling of 256 MiB back through pipes by a third, competing process);
    # the array keeps the mapping alive and unmaps it when it is freed
    shm = mmap.mmap(-1, max(1, n * num_perm * dtype.itemsize))
    out = np.frombuffer(shm, dtype=dtype, count=n * num_perm).reshape(n, num_perm)
    _FORK_TEXTS = (texts, out)
    try:
        with multiprocessing.get_context("fork").Pool(min(n_workers, len(bounds))) as pool:
            args = [(lo, hi, num_perm, shingle, seed, chunk, value_bits) for lo, hi in bounds]
            done = sum(pool.imap_unordered(_slab, args))
    finally:
        _FORK_TEXTS = None
    assert done == n
    return out


def _slab(args: tuple[int, int, int, int, int, int, int]) -> int:
    """Worker: writes the signatures of rows [lo, hi) of the texts inherited through fork into the shared
    output; returns the number of rows written."""
    lo, hi, num_perm, shingle, seed, chunk, value_bits = args
    assert _FORK_TEXTS is not None
    texts, out = _FORK_TEXTS
    _serial_signatures(texts[lo:hi], num_perm, shingle, seed, chunk, value_bits, out=out[lo:hi])
    return hi - lo


def _serial_signatures(texts: Sequence[str], num_perm: int, shingle: int, seed: int, chunk: int,
                       value_bits: int, out: np.ndarray | None = None) -> np.ndarray:
    """`signatures` in this process, one chunk at a time (into `out` when given)."""
    bits = num_perm.bit_length() - 1
    if out is None:
        out = np.empty((len(texts), num_perm), dtype=np.uint32 if value_bits == 32 else np.uint16)
    buf = np.empty((min(chunk, len(texts)), num_perm), dtype=np.uint32)
    for lo in range(0, len(texts), chunk):
        part = texts[lo:lo + chunk]
        m = len(part)
        h, row = shingle_hashes(part, shingle, seed)
        # row-major flat index row * num_perm + bin (a text's bins are adjacent: cache-friendly scatter)
        row <<= bits
        row |= (h >> np.uint64(64 - bits)).view(np.int64)
        block = buf[:m]
        block.fill(_EMPTY32)
        np.minimum.at(block.reshape(-1), row, h.astype(np.uint32))   # the cast keeps the low 32 bits
        del h, row
        if (block == _EMPTY32).any():
            # densify a bin-major copy: the sweep then reads each bin as one contiguous vector
            t = np.ascontiguousarray(block.T)
            _densify(t)
            block[...] = t.T
        out[lo:lo + m] = block   # a uint16 output keeps the low 16 bits (C cast)
    return out


def _densify(sig: np.ndarray) -> None:
    """Rotation densification, in place on a bin-major (num_perm, n) uint32 block: an empty bin takes the
    first non-empty bin to its right (circularly), re-mixed with the distance so borrowed values differ
    from originals."""
    empty = sig == _EMPTY32
    if not empty.any():
        return
    k, n = sig.shape
    nonempty = ~empty
    # the carry starts as each row's first non-empty bin, seen from just past the last bin (the wrap-around;
    # every text has at least one shingle, so a non-empty bin exists)
    first = nonempty.argmax(axis=0)
    val = sig[first, np.arange(n)]
    dist = first.astype(np.uint32)
    src_val = np.empty_like(sig)
    src_dist = np.empty((k, n), dtype=np.uint32)
    for j in range(k - 1, -1, -1):
        dist += np.uint32(1)
        np.copyto(val, sig[j], where=nonempty[j])
        np.copyto(dist, np.uint32(0), where=nonempty[j])
        src_val[j] = val
        src_dist[j] = dist
    v = src_val.astype(np.uint64)
    v += src_dist.astype(np.uint64) * _GOLDEN
    np.copyto(sig, mix64(v, out=v).astype(np.uint32), where=empty)
