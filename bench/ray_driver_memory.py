"""The Ray driver's own memory on one `curate run`: traced Python allocations (tracemalloc) and VmHWM.

`nice -n 19 .venv/bin/python bench/ray_driver_memory.py 20000 /tmp/dm` (a new or empty folder) builds the
bench/corpus.py corpus of that many rows as JSONL shards (bench/ray_scaling.py's: 8 up to 1M rows), starts
a local Ray (2 CPUs, 512 MiB object store),
runs 300 rows untraced first (imports, Ray start), then the corpus with every default check and no HTML
report, and prints one JSON line: the traced peak and what is still traced at the end (MiB), the process's
VmHWM, and with `--stages` the traced peak of each driver-side stage (its own allocations, MiB).

`--where` also samples the process's private memory (RssAnon) every 50 ms and names, for each sample, the
innermost `curate/engines/ray` line the main thread is on (where the driver waits while Ray runs a stage):
it prints each such line's peak private memory (MiB) in the order first reached, and at the end the private
memory before and after glibc's `malloc_trim` (freed heap the process had kept vs memory still in use).
Tracemalloc sees only Python's allocations; this sees Ray's C++ ones too.

`--blocks` prints, for each `curate/engines/ray` line that materializes a Dataset, the number of blocks
it made (the largest, if the line runs more than once): the driver owns an object reference and metadata
per block, and a sort shuffle of M blocks makes M x M intermediate objects.
"""

from __future__ import annotations

import argparse
import contextlib
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


def _status_mib(key: str) -> float:
    """One memory field of this process's /proc status (VmHWM, RssAnon, ...) in MiB."""
    from bench.ray_scaling import _status_kib

    return _status_kib(os.getpid(), key)[0] / 1024


def _shards(n: int, tmp: Path, shard_rows: int | None) -> Path:
    """The corpus as bench/ray_scaling.py shards it (or in shards of at most `shard_rows` rows), and the
    first 300 rows as `warm.jsonl`, in `tmp`."""
    from bench.ray_scaling import SHARD_ROWS, _corpus

    one, shards = _corpus(n, tmp, shard_rows or SHARD_ROWS)
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


def _where(frame) -> str:
    """The innermost Ray-engine line of a stack, and the one that called it."""
    chain = []
    while frame is not None and len(chain) < 2:
        if "/curate/engines/ray/" in frame.f_code.co_filename:
            chain.append(f"{Path(frame.f_code.co_filename).stem}:{frame.f_lineno}")
        frame = frame.f_back
    return " < ".join(chain) or "-"


class _PrivateMemory:
    """Samples RssAnon every 50 ms and keeps its peak per `_where` of the main thread."""

    def __init__(self) -> None:
        import threading

        self.peaks: dict[str, float] = {}
        self._main = threading.get_ident()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            at = _where(sys._current_frames().get(self._main))
            self.peaks[at] = max(self.peaks.get(at, 0.0), _status_mib("RssAnon"))

    def __enter__(self) -> _PrivateMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _count_blocks(counts: dict) -> None:
    """Record `num_blocks()` of every Dataset the Ray engine materializes, by the line that asked."""
    from ray.data import Dataset

    materialize = Dataset.materialize

    def counted(self, *a, **k):
        out = materialize(self, *a, **k)
        at = _where(sys._getframe(1))
        counts[at] = max(counts.get(at, 0), out.num_blocks())
        return out
    Dataset.materialize = counted


def _trimmed() -> dict:
    """Private memory before and after glibc's malloc_trim (None where there is no glibc)."""
    from curate.engines.ray.heap import malloc_trim

    before = _status_mib("RssAnon")
    trim = malloc_trim()
    if trim is None:
        return {"private_mib": round(before, 1), "after_malloc_trim_mib": None}
    trim()
    return {"private_mib": round(before, 1), "after_malloc_trim_mib": round(_status_mib("RssAnon"), 1)}


def main() -> None:
    from bench.ray_scaling import _positive

    ap = argparse.ArgumentParser()
    ap.add_argument("rows", type=int)
    ap.add_argument("tmp")
    ap.add_argument("--stages", action="store_true")
    ap.add_argument("--where", action="store_true", help="private memory per driver-side line")
    ap.add_argument("--blocks", action="store_true", help="blocks of each materialized Dataset")
    ap.add_argument("--shuffle", choices=["sort", "hash"], default=None,
                    help="the shuffle to use instead of the engine's choice (DATAVET_RAY_SHUFFLE)")
    ap.add_argument("--shard-rows", type=_positive, default=None,
                    help="rows per input shard (default: bench/ray_scaling.py's, at least 8 shards)")
    args = ap.parse_args()
    import ray

    from curate.engines.ray import run_ray_pipeline
    from curate.engines.ray.session import start_local
    from schemas.configs.curate import CurateConfig

    tmp = Path(args.tmp)
    if tmp.exists() and (not tmp.is_dir() or any(tmp.iterdir())):
        sys.exit(f"{tmp} is not a new or empty folder: this script writes its corpus and outputs there")
    tmp.mkdir(parents=True, exist_ok=True)
    shards = _shards(args.rows, tmp, args.shard_rows)
    if args.shuffle:
        os.environ["DATAVET_RAY_SHUFFLE"] = args.shuffle
    start_local(2, 512)   # the engine's own local start

    def cfg(path: Path, out: str) -> CurateConfig:
        return CurateConfig.model_validate({"input": {"path": str(path)}, "out": str(tmp / out),
                                            "fail_on": "never", "report": False})

    run_ray_pipeline(cfg(tmp / "warm.jsonl", f"warm-{os.getpid()}"))
    stages: dict = {}
    if args.stages:
        _traced_stages(stages)
    blocks: dict = {}
    if args.blocks:
        _count_blocks(blocks)
    tracemalloc.start(1)
    t0 = time.perf_counter()
    with _PrivateMemory() if args.where else contextlib.nullcontext() as private:
        res = run_ray_pipeline(cfg(shards, f"out-{args.rows}-{os.getpid()}"))
    seconds = time.perf_counter() - t0
    extra = json.loads((res.out / "manifest.json").read_text(encoding="utf-8"))["extra"]
    now, peak = tracemalloc.get_traced_memory()
    peak = max(peak, stages.pop("_peak", 0))
    print(json.dumps({"rows": args.rows, "seconds": round(seconds, 1),
                      "traced_peak_mib": round(peak / 2**20, 2), "traced_end_mib": round(now / 2**20, 2),
                      "vmhwm_mib": round(_status_mib("VmHWM"), 1),
                      "kept": res.kept, "removed": res.removed, "units": extra["units"],
                      "read_tasks": extra["read_tasks"], "shuffle": extra["shuffle"], "stages": stages}))
    if private is not None:
        for at, mib in private.peaks.items():
            print(f"{mib:8.1f}  {at}")
        print(json.dumps(_trimmed()))
    for at, count in blocks.items():
        print(f"{count:8d} blocks  {at}")
    ray.shutdown()


if __name__ == "__main__":
    main()
