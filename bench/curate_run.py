"""The whole `curate run` on a large corpus (bench/corpus.py): wall time and peak RSS, plus the invariant.

Runs `run_pipeline` in this process on a JSONL of N rows (text + label), every default check enabled, and
reports wall seconds and peak RSS (ru_maxrss). Peer in the same run: `datasketch` is not a pipeline, so the
only peer figure is the near-duplicate section; here the number is compared with the target (60 s, 2 GB).

    .venv/bin/python bench/curate_run.py --n 1000000 --write
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import build, write_jsonl
from curate.pipeline import run_pipeline
from schemas.configs.curate import CurateConfig


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    texts, _ = build(args.n)
    write_jsonl(texts, str(tmp / "corpus.jsonl"))
    del texts
    cfg = CurateConfig.model_validate({"input": {"path": str(tmp / "corpus.jsonl")}, "out": str(tmp / "out"),
                                       "fail_on": "never", "report": False})
    t0 = time.perf_counter()
    res = run_pipeline(cfg)
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    slowest = sorted((c.name, c.status.value) for c in res.report.checks)
    table = "\n".join([
        "| rows | seconds | peak RSS (GiB) | kept | removed | quarantined | invariant |",
        "|---:|---:|---:|---:|---:|---:|---|",
        f"| {res.rows_read:,} | {dt:.1f} | {rss:.2f} | {res.kept:,} | {res.removed:,} | {res.quarantined:,} | "
        f"{'holds' if res.rows_read == res.kept + res.removed + res.quarantined else 'BROKEN'} |"])
    print(table)
    print("checks:", slowest)
    if args.write:
        from bench.near_dup import _write_section

        _write_section("curate-run", f"`.venv/bin/python bench/curate_run.py {' '.join(sys.argv[1:])}` "
                                     "(2 shared cores, under load; peak RSS includes building the corpus)\n\n"
                                     f"{table}\n")


if __name__ == "__main__":
    main()
