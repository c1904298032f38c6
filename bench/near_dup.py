"""Near-duplicate engines side by side on one corpus: datavet (one-permutation MinHash, NumPy), rensa (Rust
MinHash, 128 real permutations), a text-dedup-style NumPy MinHash (128 universal hashes mod 2^61-1), and
datasketch MinHashLSH. All use the same byte 5-shingles and 128 permutations at Jaccard 0.8.

`rensa` and `textdedup` put their signatures into datavet's banding (21 x 6), exact-Jaccard verification and
clustering, so their difference from `datavet` is the signature engine alone. `rensa_lsh` is rensa end to end
(its own tokenisation-to-digest path and RMinHashLSH index, 32 x 4 bands), verified and clustered like
datavet. datasketch runs its own LSH (insert every row, query every row), on at most --datasketch-n rows
because it is slow. Figures are wall seconds of the engine call, corpus building excluded.

Recall: planted (original, edited copy) pairs whose exact Jaccard is >= 0.8 that the engine puts together
(same cluster; for datasketch: the original is among the copy's query results). Precision: a sample of up to
2,000 reported pairs, the share whose exact Jaccard is >= 0.8 (1.0 by construction where candidates are
verified exactly; datasketch reports unverified LSH candidates).

    .venv/bin/python bench/near_dup.py --n 1000000 --datasketch-n 50000 --write
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import build
from curate.dedup import near_duplicates
from curate.dedup.lsh import candidate_pairs, choose_bands, components, jaccard, shingle_set, verify_pairs
from curate.dedup.minhash import shingle_hashes

PERM, THR, SH = 128, 0.8, 5
METHOD = (
    "Method: one corpus (bench/corpus.py, 5% planted one-word edits), all engines in one process one after "
    "another, 128 permutations, byte 5-shingles, Jaccard 0.8; seconds = the engine call (clusters out), "
    "corpus building and scoring excluded; datasketch on a smaller corpus built the same way, compared by "
    "rows/s; recall over planted pairs with exact Jaccard >= 0.8, precision over 2,000 sampled reported "
    "pairs."
)
MERSENNE = np.uint64((1 << 61) - 1)


def _banded(texts, sig):
    b, r = choose_bands(THR, PERM)
    cand = candidate_pairs(sig, b, r)
    scored = verify_pairs(texts, sig, cand, THR, SH)
    return components(len(texts), scored.pairs), scored.pairs


def eng_datavet(texts):
    nd = near_duplicates(texts, THR, PERM, SH)
    return nd.cluster, nd.pairs


def _offsets(row, n):
    return np.concatenate([[0], np.cumsum(np.bincount(row, minlength=n))]).astype(np.uint64)


def eng_rensa(texts):
    """rensa's Rust MinHash (128 permutations) on our shingle hashes, inside datavet's
    banding/verification."""
    import rensa

    out_sig = []
    for lo in range(0, len(texts), 100_000):
        part = texts[lo:lo + 100_000]
        h, row = shingle_hashes(part, SH)
        m = rensa.RMinHash.digest_matrix_from_flat_token_hashes(h, _offsets(row, len(part)), PERM, 0)
        out_sig.append(np.asarray(m.to_rows(), dtype=np.uint64))
    return _banded(texts, np.concatenate(out_sig))


def eng_rensa_lsh(texts):
    """rensa end to end as its users run it: Python byte-shingle sets, rensa digests and RMinHashLSH
    (32 bands x 4 rows: rensa needs num_perm divisible by the band count, so 21 x 6 is not available),
    candidate lists from `query_all`; then the same exact-Jaccard verification and clustering as datavet."""
    import rensa

    lsh = rensa.RMinHashLSH(THR, PERM, 32)
    mhs, sigs = [], []
    for lo in range(0, len(texts), 100_000):
        toks = [list(shingle_set(t, SH)) for t in texts[lo:lo + 100_000]]
        part = rensa.RMinHash.from_token_sets(toks, PERM, 0)
        lsh.insert_pairs(zip(range(lo, lo + len(part)), part, strict=True))
        sigs.append(np.asarray([m.digest() for m in part], dtype=np.uint32))
        mhs += part
    n = len(texts)
    codes = []
    for lo in range(0, n, 100_000):
        res = lsh.query_all(mhs[lo:lo + 100_000])
        lens = np.fromiter(map(len, res), dtype=np.int64, count=len(res))
        b = np.fromiter((k for r in res for k in r), dtype=np.int64, count=int(lens.sum()))
        a = np.repeat(np.arange(lo, lo + len(res), dtype=np.int64), lens)
        keep = a < b
        codes.append(a[keep] * n + b[keep])
    code = np.unique(np.concatenate(codes)) if codes else np.zeros(0, dtype=np.int64)
    cand = np.stack([code // n, code % n], axis=1)
    sig = np.concatenate(sigs)
    scored = verify_pairs(texts, sig, cand, THR, SH)
    return components(n, scored.pairs), scored.pairs


def eng_textdedup(texts):
    rng = np.random.default_rng(0)
    a = rng.integers(1, int(MERSENNE), PERM, dtype=np.uint64)
    b = rng.integers(0, int(MERSENNE), PERM, dtype=np.uint64)
    sig = np.empty((len(texts), PERM), dtype=np.uint64)
    for lo in range(0, len(texts), 20_000):
        part = texts[lo:lo + 20_000]
        h, row = shingle_hashes(part, SH)
        h = h >> np.uint64(34)   # 30-bit keys so a*h fits in uint64 before the Mersenne reduction
        starts = np.concatenate([[0], np.flatnonzero(np.diff(row)) + 1])
        for k in range(PERM):
            v = (a[k] * h + b[k]) % MERSENNE
            sig[lo:lo + len(part), k] = np.minimum.reduceat(v, starts)
    return _banded(texts, sig)


def eng_datasketch(texts):
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=THR, num_perm=PERM)
    mhs = []
    for i, t in enumerate(texts):
        m = MinHash(num_perm=PERM, seed=1)
        m.update_batch(list(shingle_set(t, SH)))
        lsh.insert(i, m)
        mhs.append(m)
    pairs = set()
    for i, m in enumerate(mhs):
        for j in lsh.query(m):
            if j != i:
                pairs.add((min(i, j), max(i, j)))
    return None, np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)


def score(texts, planted, cluster, pairs, rng):
    pos = [(a, b) for a, b in planted if jaccard(shingle_set(texts[a], SH), shingle_set(texts[b], SH)) >= THR]
    if cluster is not None:
        found = sum(cluster[a] == cluster[b] for a, b in pos)
    else:
        ps = {tuple(p) for p in pairs.tolist()}
        found = sum((a, b) in ps for a, b in pos)
    idx = rng.sample(range(len(pairs)), min(2000, len(pairs)))
    good = sum(
        jaccard(shingle_set(texts[int(pairs[k, 0])], SH), shingle_set(texts[int(pairs[k, 1])], SH)) >= THR
        for k in idx
    )
    return found / max(len(pos), 1), good / max(len(idx), 1), len(pos)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--datasketch-n", type=int, default=20_000)
    ap.add_argument("--engines", default="datavet,rensa_lsh,rensa,textdedup,datasketch")
    ap.add_argument("--write", action="store_true", help="write the table into BENCHMARKS.md")
    ap.add_argument(
        "--split",
        action="store_true",
        help="only datavet: time prepare (exact groups + signatures) and the rest, print peak RSS",
    )
    args = ap.parse_args()
    texts, planted = build(args.n)
    if args.split:
        _split(texts)
        return
    rows = []
    for name in args.engines.split(","):
        n = min(args.n, args.datasketch_n) if name == "datasketch" else args.n
        # a slow engine gets its own smaller corpus built the same way (same planted share)
        t_sub, pl = (texts, planted) if n == args.n else build(n)
        fn = globals()[f"eng_{name}"]
        t0 = time.perf_counter()
        cluster, pairs = fn(t_sub)
        dt = time.perf_counter() - t0
        rec, prec, npos = score(t_sub, pl, cluster, pairs, random.Random(0))
        rows.append((name, n, dt, n / dt, rec, prec, npos, len(pairs)))
        print(f"{name}: {n} rows {dt:.1f}s recall {rec:.4f} precision {prec:.4f}", flush=True)
    base = {r[0]: r[3] for r in rows}
    lines = [
        "| engine | rows | seconds | rows/s | x datasketch (rows/s) | recall (planted, J>=0.8) "
        "| precision (sampled) | pairs |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, n, dt, rps, rec, prec, npos, npairs in rows:
        x = f"{rps / base['datasketch']:.1f}" if "datasketch" in base else "-"
        lines.append(
            f"| {name} | {n:,} | {dt:.1f} | {rps:,.0f} | {x} | {rec:.4f} (of {npos:,}) | "
            f"{prec:.4f} | {npairs:,} |"
        )
    table = "\n".join(lines)
    cmd = "`.venv/bin/python bench/near_dup.py " + " ".join(sys.argv[1:]) + "`"
    print(table)
    if args.write:
        from bench.sections import CONDITIONS, write_section

        write_section("near-duplicate", f"{cmd} (2-core CPU, {CONDITIONS})\n\n"
                       f"{table}\n\n{METHOD}\n")


def _split(texts) -> None:
    import resource

    from curate.dedup import prepare

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    t0 = time.perf_counter()
    prep = prepare(texts, PERM, SH)
    t1 = time.perf_counter()
    nd = near_duplicates(texts, THR, PERM, SH, prepared=prep)
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(
        f"rows {len(texts):,}: exact groups + signatures {t1 - t0:.1f} s; "
        f"banding ({nd.candidates:,} candidates) "
        f"+ exact-Jaccard verification + components {t2 - t1:.1f} s; total {t2 - t0:.1f} s; "
        f"{len(nd.pairs):,} pairs; peak RSS {peak:.2f} GiB ({before:.2f} GiB after building the corpus)"
    )




if __name__ == "__main__":
    main()
