"""Split balance and speed: datavet's balanced group-stratified assignment vs sklearn StratifiedGroupKFold
(and vs iterstrat's iterative stratification on multilabel rows), measured in the same run.

    .venv/bin/python bench/split_bench.py

Prints a markdown table; writes it into BENCHMARKS.md between `<!-- section:split -->` markers when they
exist.
Share dev = largest |label share in a held-out fold - global share| (percentage points); size dev = largest
|fold rows / target rows - 1| (%).
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sections import CONDITIONS  # noqa: E402
from curate.split import split_records  # noqa: E402
from curate.split.assign import balanced_assign, iterative_assign, sklearn_group_kfold  # noqa: E402
from schemas.configs.split import SplitConfig  # noqa: E402


def fold_stats(assign: np.ndarray, counts: np.ndarray, sizes: np.ndarray, k: int) -> tuple[float, float]:
    c = np.zeros((k, counts.shape[1]))
    np.add.at(c, assign, counts)
    n = np.zeros(k)
    np.add.at(n, assign, sizes)
    share = np.abs(c / n[:, None] - counts.sum(0) / sizes.sum()).max() * 100
    return float(share), float(np.abs(n / (sizes.sum() / k) - 1).max() * 100)


def tweets_rows() -> list[str]:
    import curate
    from curate.dedup import near_duplicate_clusters
    from schemas.records import RecordKind, record_text

    records = curate.load("bundled:tweets").records
    t = time.perf_counter()
    clusters = near_duplicate_clusters([record_text(r, RecordKind.classification) for r in records])
    t_cluster = time.perf_counter() - t
    rows = []
    for method in ("balanced", "sklearn"):
        t = time.perf_counter()
        res = split_records(records, SplitConfig(kfold=5, method=method), group_ids=clusters)
        secs = time.perf_counter() - t
        vals = [res.stats[f"fold-{i}/val"] for i in range(5)]
        target = len(records) / 5
        size_dev = max(abs(v.rows / target - 1) for v in vals) * 100
        per_fold = ", ".join(f"{v.max_deviation_pp:.3f}" for v in vals)
        rows.append(f"| tweets 38,158 rows, {res.groups:,} near-dup clusters, K=5 | {res.method} | "
                    f"{max(v.max_deviation_pp for v in vals):.3f} (per fold {per_fold}) | {size_dev:.2f} | "
                    f"{res.groups_straddling} | {secs:.2f} s (+{t_cluster:.1f} s clustering) |")
    return rows


def skewed_rows() -> list[str]:
    rows = []
    for n_groups, zipf in ((60, 1.6), (300, 1.8)):
        ours, theirs = [], []
        for data_seed in range(10):
            rng = np.random.default_rng(data_seed)
            sizes = rng.zipf(zipf, n_groups).clip(1, 40)
            labels = rng.integers(0, 3, n_groups)
            counts = np.zeros((n_groups, 3), dtype=np.int64)
            counts[np.arange(n_groups), labels] = sizes
            row_unit = np.repeat(np.arange(n_groups), sizes)
            ours.append(fold_stats(balanced_assign(counts, sizes, np.full(4, 0.25), 0), counts, sizes, 4))
            theirs.append(fold_stats(sklearn_group_kfold(labels[row_unit], row_unit, 4, 0), counts, sizes, 4))
        for name, vals in (("balanced group-stratified", ours), ("sklearn StratifiedGroupKFold", theirs)):
            share = np.mean([v[0] for v in vals])
            size = np.mean([v[1] for v in vals])
            wins = sum(a[0] <= b[0] + 1e-12 for a, b in zip(ours, theirs, strict=True))
            note = f"; balanced share <= sklearn in {wins}/10" if name.startswith("balanced") else ""
            rows.append(f"| planted: {n_groups} groups, Zipf({zipf}) sizes 1-40, one label each, K=4, "
                        f"10 data seeds (mean) | {name} | {share:.2f}{note} | {size:.2f} | 0 | - |")
    return rows


def multilabel_rows() -> list[str]:
    rng = random.Random(5)
    labs = [sorted(rng.sample("wxyz", rng.randint(1, 2))) for _ in range(400)]
    m = np.array([[int(c in ls) for c in "wxyz"] for ls in labs])
    one = np.ones(len(m), dtype=np.int64)
    out = []
    for name, a in (("balanced group-stratified", balanced_assign(m, one, np.full(4, 0.25), 0)),
                    ("iterstrat IterativeStratification", iterative_assign(m, np.full(4, 0.25), 0))):
        share, size = fold_stats(a, m, one, 4)
        out.append(f"| planted multilabel: 400 rows, 4 labels, 1-2 per row, K=4 | {name} | {share:.2f} | "
                   f"{size:.2f} | - | - |")
    return out


def main() -> None:
    lines = [f"Command: `.venv/bin/python bench/split_bench.py` (2-core CPU, {CONDITIONS}).", "",
             "| data | method | max share dev (pp) | max fold size dev (%) | groups straddling | time |",
             "|---|---|---|---|---|---|",
             *tweets_rows(), *skewed_rows(), *multilabel_rows()]
    table = "\n".join(lines)
    print(table)
    from bench.sections import write_section

    if write_section("split", table):
        print("\nwrote BENCHMARKS.md section:split")


if __name__ == "__main__":
    main()
