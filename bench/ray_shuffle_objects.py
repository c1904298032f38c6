"""What one shuffle of M blocks costs the Ray driver, by shuffle strategy: the engine's `by_bucket` groupby
(`curate.engines.ray.shuffle`) on plain generated rows, nothing else of the pipeline.

`nice -n 19 .venv/bin/python bench/ray_shuffle_objects.py` runs every strategy x block count of
`--strategies` x `--blocks`, each in a fresh process (a driver's heap does not shrink back between runs):
a local Ray (2 CPUs, 512 MiB object store, the engine's own start), one small shuffle first (imports,
workers), then `--rows` rows of `--payload` bytes of text in M blocks, shuffled into `--buckets` buckets.
It prints one JSON line per run and a markdown table: the driver's private memory (RssAnon) before the
shuffle and its peak during it (sampled every 20 ms), the most object references the driver held at once
(sampled every 0.2 s) next to M x M, and the shuffle's time.

Ray Data's sort shuffle cuts a shuffle into as many partitions as its input has blocks, so its map tasks
return M x M pieces that the driver owns until the reduce tasks have read them; its hash shuffle hands the
pieces to aggregator actors from inside the map tasks, so the driver owns about M + buckets objects.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ray_driver_memory import _status_mib


class _Sampler:
    """Peak RssAnon (every 20 ms) and peak count of the driver's object references (every 0.2 s)."""

    def __init__(self) -> None:
        import ray

        self._core = ray._private.worker.global_worker.core_worker
        self.private = 0.0
        self.refs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        tick = 0
        while not self._stop.wait(0.02):
            self.private = max(self.private, _status_mib("RssAnon"))
            tick += 1
            if tick % 10 == 0:
                self.refs = max(self.refs, len(self._core.get_all_reference_counts()))

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _rows(ray, rows: int, blocks: int, n: int, payload: int):
    """`rows` rows in `blocks` blocks: a bucket column `_b` and ~`payload` bytes of text each."""
    def fill(b):
        import numpy as np

        ids = b["id"]
        return {"_b": (ids * 2654435761 % n).astype(np.int64), "id": ids,
                "text": np.array([f"row {i:012d} " + "x" * payload for i in ids], dtype=object)}

    return ray.data.range(rows, override_num_blocks=blocks).map_batches(fill, batch_format="numpy")


def one(strategy: str, blocks: int, rows: int, n: int, payload: int) -> dict:
    """One run in this process (see the module docstring)."""
    import ray

    from curate.engines.ray.session import configure_data_context, start_local
    from curate.engines.ray.shuffle import by_bucket

    start_local(2, 512)
    configure_data_context()
    ctx = ray.data.DataContext.get_current()
    ctx.shuffle_strategy = strategy
    ctx.hash_shuffle_operator_actor_num_cpus_override = 0   # on 2 CPUs: see bench/ray_driver_memory.py

    def count(df):
        import pandas as pd

        return pd.DataFrame({"_b": [int(df["_b"].iloc[0])], "rows": [len(df)]})

    by_bucket(_rows(ray, 1000, 4, n, payload), count, n).materialize()
    src = _rows(ray, rows, blocks, n, payload).materialize()
    before = _status_mib("RssAnon")
    t0 = time.perf_counter()
    with _Sampler() as s:
        out = by_bucket(src, count, n).materialize()
        got = sum(int(r["rows"]) for r in out.iter_rows())
    secs = time.perf_counter() - t0
    ray.shutdown()
    if got != rows:
        raise SystemExit(f"the shuffle lost rows: {got} of {rows}")
    return {"strategy": strategy, "blocks": blocks, "rows": rows, "buckets": n, "payload": payload,
            "seconds": round(secs, 1),
            "private_before_mib": round(before, 1), "private_peak_mib": round(s.private, 1),
            "refs_peak": s.refs}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--strategies", nargs="+", default=["sort_shuffle_pull_based", "hash_shuffle"])
    ap.add_argument("--blocks", nargs="+", type=int, default=[16, 64, 128])
    ap.add_argument("--rows", type=int, default=400_000)
    ap.add_argument("--buckets", type=int, default=4)
    ap.add_argument("--payload", type=int, default=100, help="bytes of text per row")
    ap.add_argument("--one", nargs=2, metavar=("STRATEGY", "BLOCKS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        strategy, blocks = args.one[0], int(args.one[1])
        print(json.dumps(one(strategy, blocks, args.rows, args.buckets, args.payload)), flush=True)
        return
    results = []
    for strategy in args.strategies:
        for m in args.blocks:
            cmd = [sys.executable, __file__, "--one", strategy, str(m), "--rows", str(args.rows),
                   "--buckets", str(args.buckets), "--payload", str(args.payload)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            line = out.strip().splitlines()[-1]
            print(line, flush=True)
            results.append(json.loads(line))
    print("\n| strategy | blocks M | M x M | driver refs at most | private before -> peak (MiB) | "
          "added (MiB) | shuffle s |\n|---|---:|---:|---:|---|---:|---:|")
    for r in results:
        print(f"| {r['strategy']} | {r['blocks']} | {r['blocks'] ** 2:,} | {r['refs_peak']:,} | "
              f"{r['private_before_mib']} -> {r['private_peak_mib']} | "
              f"{r['private_peak_mib'] - r['private_before_mib']:.1f} | {r['seconds']} |")


if __name__ == "__main__":
    main()
