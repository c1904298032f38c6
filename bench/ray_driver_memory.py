"""The Ray driver's own memory on one `curate run`: traced Python allocations (tracemalloc) and VmHWM.

`nice -n 19 .venv/bin/python bench/ray_driver_memory.py 20000 /tmp/dm` (a new or empty folder) builds the
bench/corpus.py corpus of that many rows as JSONL shards (bench/ray_scaling.py's: 8 up to 1M rows), starts
a local Ray (2 CPUs, 512 MiB object store),
runs 300 rows untraced first (imports, Ray start), then the corpus with every default check and no HTML
report, and prints one JSON line: the traced peak and what is still traced at the end (MiB), the process's
VmHWM, and with `--stages` the traced peak of each driver-side stage (its own allocations, MiB).
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import json
import os
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

STAGES = [("results", "row_stats"), ("results", "row_findings"), ("results", "bias_result"),
          ("results", "class_balance_result"), ("results", "length_result"), ("duplicates", "exact_result"),
          ("duplicates", "near_result"), ("duplicates", "conflict_result"), ("write", "write_shards"),
          ("ids", "settle"), ("components", "components"), ("pipeline", "_write_card"), ("load", "plan"),
          ("findings", "concat")]


def _hwm_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024
    return 0.0


def _shards(n: int, tmp: Path) -> Path:
    """The corpus as bench/ray_scaling.py shards it, and the first 300 rows as `warm.jsonl`, in `tmp`."""
    from bench.ray_scaling import _corpus

    one, shards = _corpus(n, tmp)
    with one.open(encoding="utf-8") as src:
        (tmp / "warm.jsonl").write_text("".join(itertools.islice(src, 300)), encoding="utf-8")
    return shards


def _traced_stages(stages: dict) -> None:
    """Each stage's own traced peak (MiB above what was traced when it began)."""
    for mod, name in STAGES:
        m = importlib.import_module(f"curate.engines.ray.{mod}")
        fn = getattr(m, name)

        def wrapped(*a, _fn=fn, _name=name, **k):
            start = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            try:
                return _fn(*a, **k)
            finally:
                peak = tracemalloc.get_traced_memory()[1]
                stages[_name] = max(stages.get(_name, 0.0), round((peak - start) / 2**20, 2))
                stages["_peak"] = max(stages.get("_peak", 0), peak)   # reset_peak forgets it
                tracemalloc.reset_peak()
        setattr(m, name, wrapped)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("rows", type=int)
    ap.add_argument("tmp")
    ap.add_argument("--stages", action="store_true")
    args = ap.parse_args()
    import ray

    from curate.engines.ray import run_ray_pipeline
    from curate.engines.ray.session import start_local
    from schemas.configs.curate import CurateConfig

    tmp = Path(args.tmp)
    if tmp.exists() and (not tmp.is_dir() or any(tmp.iterdir())):
        sys.exit(f"{tmp} is not a new or empty folder: this script writes its corpus and outputs there")
    tmp.mkdir(parents=True, exist_ok=True)
    shards = _shards(args.rows, tmp)
    start_local(2, 512)   # the engine's own local start

    def cfg(path: Path, out: str) -> CurateConfig:
        return CurateConfig.model_validate({"input": {"path": str(path)}, "out": str(tmp / out),
                                            "fail_on": "never", "report": False})

    run_ray_pipeline(cfg(tmp / "warm.jsonl", f"warm-{os.getpid()}"))
    stages: dict = {}
    if args.stages:
        _traced_stages(stages)
    tracemalloc.start(1)
    t0 = time.perf_counter()
    res = run_ray_pipeline(cfg(shards, f"out-{args.rows}-{os.getpid()}"))
    seconds = time.perf_counter() - t0
    now, peak = tracemalloc.get_traced_memory()
    peak = max(peak, stages.pop("_peak", 0))
    print(json.dumps({"rows": args.rows, "seconds": round(seconds, 1),
                      "traced_peak_mib": round(peak / 2**20, 2), "traced_end_mib": round(now / 2**20, 2),
                      "vmhwm_mib": round(_hwm_mib(), 1),
                      "kept": res.kept, "removed": res.removed, "stages": stages}))
    ray.shutdown()


if __name__ == "__main__":
    main()
