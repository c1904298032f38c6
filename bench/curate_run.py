"""The whole `curate run` on a large corpus (bench/corpus.py): wall time, peak RSS and where the time goes.

The parent builds an N-row JSONL (text + label) and runs `run_pipeline` in a child process with every
default check enabled, so the peak RSS (`ru_maxrss` of the child, RUSAGE_CHILDREN) is the run's own and
excludes building the corpus. The child times each stage by wrapping the functions the pipeline calls
(load, normalize, each check's `run`, writers). There is no peer pipeline to run side by side (the peers
in the near-duplicate section are engines, not pipelines); the figure is compared with the target
(<= 60 s, <= 2 GB at 1M rows).

    .venv/bin/python bench/curate_run.py --n 1000000 --write
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sections import CONDITIONS


def _child(path: str, out: str) -> None:
    import curate.io
    import curate.normalize
    from curate.checks import REGISTRY
    from curate.pipeline import run_pipeline
    from schemas.configs.curate import CurateConfig

    stages: dict[str, float] = {}
    peak_after: dict[str, float] = {}

    def hwm_gib() -> float:
        """The process's peak RSS so far (VmHWM), GiB."""
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024 / 1024
        return float("nan")

    def timed(name, fn):
        @functools.wraps(fn)
        def wrap(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                stages[name] = stages.get(name, 0.0) + time.perf_counter() - t0
                peak_after[name] = hwm_gib()
        return wrap

    curate.io.load = timed("load", curate.io.load)
    curate.normalize.normalized_context = timed("normalize", curate.normalize.normalized_context)
    for w in ("write_records", "write_json", "write_jsonl"):
        setattr(curate.io, w, timed("write", getattr(curate.io, w)))
    for name, cls in REGISTRY.items():
        cls.run = timed(f"check:{name}", cls.run)
    cfg = CurateConfig.model_validate(
        {"input": {"path": path}, "out": out, "fail_on": "never", "report": False}
    )
    t0 = time.perf_counter()
    res = run_pipeline(cfg)
    dt = time.perf_counter() - t0
    print(json.dumps({"seconds": dt, "rows": res.rows_read, "kept": res.kept, "removed": res.removed,
                      "quarantined": res.quarantined, "by_reason": res.removed_by_reason,
                      "stages": {k: [round(v, 2), round(peak_after[k], 2)]
                                 for k, v in sorted(stages.items(), key=lambda kv: -kv[1])}}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return
    from bench.corpus import build, write_jsonl

    tmp = Path(tempfile.mkdtemp())
    texts, _ = build(args.n)
    write_jsonl(texts, str(tmp / "corpus.jsonl"))
    del texts
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--child", str(tmp / "corpus.jsonl"), str(tmp / "out")],
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode:
        sys.exit(proc.stderr)
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 / 1024
    ok = res["rows"] == res["kept"] + res["removed"] + res["quarantined"]
    lines = [
        "| rows | run_pipeline s | process wall s (incl. imports) | peak RSS (GiB) | kept | removed "
        "| quarantined | invariant |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
        f"| {res['rows']:,} | {res['seconds']:.1f} | {wall:.1f} | {rss:.2f} | {res['kept']:,} | "
        f"{res['removed']:,} | "
        f"{res['quarantined']:,} | {'holds' if ok else 'BROKEN'} |",
        "",
        "| stage | seconds | peak RSS so far after it (GiB) |",
        "|---|---:|---:|",
    ]
    lines += [f"| {k} | {v:.1f} | {m:.2f} |" for k, (v, m) in res["stages"].items()]
    table = "\n".join(lines)
    print(table)
    print("removed by reason:", res["by_reason"])
    if args.write:
        from bench.sections import write_section

        write_section(
            "curate-run",
            f"`.venv/bin/python bench/curate_run.py {' '.join(sys.argv[1:])}` (2-core CPU, "
            f"{CONDITIONS}; target <= 60 s and "
            "<= 2 GB at 1M rows). Method: run_pipeline in a child process, every default "
            "check on, peak RSS = the child's ru_maxrss; stage times by wrapping the "
            "functions the pipeline calls (checks sharing the dedup cache are charged to "
            "the first that asks).\n\n"
            f"{table}\n",
        )


if __name__ == "__main__":
    main()
