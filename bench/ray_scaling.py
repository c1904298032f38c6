"""`curate run` on the Ray engine against the local engine, on the bench/corpus.py corpus written as shards.

For each size: the local engine (run_pipeline in a child process; peak RSS = the child's VmHWM) and the
Ray engine (run_ray_pipeline in a child process that starts a local Ray with 2 CPUs and a 512 MiB object
store). Ray's memory is sampled every 0.2 s from /proc: the driver's VmHWM, and each Ray worker process's
VmHWM (its peak RSS; shared object-store pages it maps are counted in every process that touches them).
Scaling: the same corpus on a `ray.cluster_utils.Cluster` of one node with 1 CPU, then two nodes with 1 CPU
each (simulated on this machine). Kept/removed/quarantined counts of both engines are printed side by side.

    .venv/bin/python bench/ray_scaling.py --sizes 20000 80000 --scaling-n 40000 --write
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sections import CONDITIONS

SHARDS = 8


def _hwm_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _ray_workers() -> list[int]:
    import psutil

    out = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        cmd = " ".join(p.info.get("cmdline") or [])
        if "default_worker.py" in cmd or cmd.startswith("ray::"):
            out.append(p.info["pid"])
    return out


def _child_local(path: str, out: str) -> None:
    from curate.pipeline import run_pipeline
    from schemas.configs.curate import CurateConfig

    cfg = CurateConfig.model_validate(
        {"input": {"path": path}, "out": out, "fail_on": "never", "report": False}
    )
    t0 = time.perf_counter()
    res = run_pipeline(cfg)
    print(json.dumps({"seconds": time.perf_counter() - t0, "kept": res.kept, "removed": res.removed,
                      "quarantined": res.quarantined, "peak_gib": _hwm_kib(os.getpid()) / 2**20}))


def _child_ray(path: str, out: str, nodes: int) -> None:
    import ray

    from curate.engines.ray import run_ray_pipeline
    from schemas.configs.curate import CurateConfig

    cluster = None
    if nodes:
        from ray.cluster_utils import Cluster

        cluster = Cluster(
            initialize_head=True,
            head_node_args={"num_cpus": 1, "object_store_memory": 256 * 2**20, "include_dashboard": False},
        )
        for _ in range(nodes - 1):
            cluster.add_node(num_cpus=1, object_store_memory=256 * 2**20)
        ray.init(address=cluster.address, log_to_driver=False, logging_level="ERROR")
        cluster.wait_for_nodes()
    else:
        ray.init(
            address="local",
            num_cpus=2,
            object_store_memory=512 * 2**20,
            include_dashboard=False,
            log_to_driver=False,
            logging_level="ERROR",
        )
    peaks: dict[int, int] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for pid in _ray_workers():
                peaks[pid] = max(peaks.get(pid, 0), _hwm_kib(pid))
            done.wait(0.2)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    cfg = CurateConfig.model_validate(
        {"input": {"path": path}, "out": out, "fail_on": "never", "report": False}
    )
    t0 = time.perf_counter()
    res = run_ray_pipeline(cfg)
    seconds = time.perf_counter() - t0
    done.set()
    th.join()
    workers = sorted((v for v in peaks.values() if v), reverse=True)
    print(json.dumps({"seconds": seconds, "kept": res.kept, "removed": res.removed,
                      "quarantined": res.quarantined, "driver_gib": _hwm_kib(os.getpid()) / 2**20,
                      "workers": len(workers), "worker_max_gib": (workers[0] if workers else 0) / 2**20,
                      "worker_median_gib": (workers[len(workers) // 2] if workers else 0) / 2**20}))
    ray.shutdown()
    if cluster is not None:
        cluster.shutdown()


def _run(args: list[str]) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DATAVET_RAY_PARTITIONS": os.environ.get("DATAVET_RAY_PARTITIONS", "4")},
    )
    if proc.returncode:
        sys.exit(proc.stderr[-3000:])
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["wall"] = time.perf_counter() - t0
    return res


def _corpus(n: int, tmp: Path) -> tuple[Path, Path]:
    from bench.corpus import build, write_jsonl

    texts, _ = build(n)
    one = tmp / f"corpus-{n}.jsonl"
    write_jsonl(texts, str(one))
    shards = tmp / f"shards-{n}"
    shards.mkdir()
    lines = one.read_text(encoding="utf-8").splitlines(keepends=True)
    size = -(-len(lines) // SHARDS)
    for k in range(SHARDS):
        (shards / f"part-{k:03d}.jsonl").write_text("".join(lines[k * size:(k + 1) * size]), encoding="utf-8")
    return one, shards


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[20_000, 80_000])
    ap.add_argument("--scaling-n", type=int, default=40_000, help="0: no 1 -> 2 node runs")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        if args.child[0] == "local":
            _child_local(*args.child[1:])
        else:
            _child_ray(args.child[1], args.child[2], int(args.child[3]))
        return
    tmp = Path(tempfile.mkdtemp())
    rows = [
        "| rows | engine | run s | rows/s | driver peak RSS (GiB) | Ray workers "
        "| worker peak RSS max / median (GiB) "
        "| kept | removed | quarantined |",
        "|---:|---|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    measured = {}
    for n in args.sizes:
        one, shards = _corpus(n, tmp)
        loc = _run(["--child", "local", str(one), str(tmp / f"local-{n}")])
        loc_rss = loc["peak_gib"]
        rows.append(
            f"| {n:,} | local | {loc['seconds']:.1f} | {n / loc['seconds']:,.0f} | {loc_rss:.2f} | – | – | "
            f"{loc['kept']:,} | {loc['removed']:,} | {loc['quarantined']:,} |"
        )
        r = _run(["--child", "ray", str(shards), str(tmp / f"ray-{n}"), "0"])
        measured[n] = r
        rows.append(
            f"| {n:,} | ray (2 CPUs) | {r['seconds']:.1f} | {n / r['seconds']:,.0f} | "
            f"{r['driver_gib']:.2f} | "
            f"{r['workers']} | {r['worker_max_gib']:.2f} / {r['worker_median_gib']:.2f} | {r['kept']:,} | "
            f"{r['removed']:,} | {r['quarantined']:,} |"
        )
        print(rows[-2], rows[-1], sep="\n", flush=True)
    if not args.scaling_n:
        print("\n".join(rows))
        return
    n = args.scaling_n
    one, shards = _corpus(n, tmp) if n not in args.sizes else (tmp / f"corpus-{n}.jsonl", tmp / f"shards-{n}")
    scale = ["| rows | simulated nodes x CPUs | run s | rows/s | speed-up |", "|---:|---|---:|---:|---:|"]
    base = None
    for nodes in (1, 2):
        r = _run(["--child", "ray", str(shards), str(tmp / f"scale-{nodes}"), str(nodes)])
        base = base or r["seconds"]
        scale.append(
            f"| {n:,} | {nodes} x 1 | {r['seconds']:.1f} | {n / r['seconds']:,.0f} | "
            f"{base / r['seconds']:.2f}x |"
        )
        print(scale[-1], flush=True)
    table = "\n".join(rows) + "\n\n" + "\n".join(scale)
    print(table)
    big = max(measured)
    rate = big / measured[big]["seconds"] / 2   # rows/s per CPU on the Ray engine, at the largest size
    est = {"rate_per_cpu": rate, "hours_100m_64cpu": 100e6 / (rate * 64) / 3600,
           "hours_100m_512cpu": 100e6 / (rate * 512) / 3600}
    print(json.dumps(est))
    if args.write:
        from bench.sections import write_section

        write_section(
            "ray-scaling",
            f"`.venv/bin/python bench/ray_scaling.py {' '.join(sys.argv[1:])}` "
            f"(2-core CPU, {CONDITIONS}). Corpus: bench/corpus.py, {SHARDS} JSONL shards "
            "for Ray, the same rows as one file for the local engine; every default check "
            "on, no HTML report. Peak RSS: each child's own VmHWM; for Ray, VmHWM of "
            "the driver and of every Ray worker process sampled every 0.2 s.\n\n"
            f"{table}\n\nMeasured Ray throughput at {big:,} rows: {rate:,.0f} rows/s per "
            f"CPU. Linear in CPUs, 100M rows would take about "
            f"{est['hours_100m_64cpu']:.1f} h on 64 CPUs and {est['hours_100m_512cpu']:.1f} h "
            "on 512 CPUs; the worked estimate below the section says what bends that line.\n",
        )


if __name__ == "__main__":
    main()
