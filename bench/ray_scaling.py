"""`curate run` on the Ray engine against the local engine, on the bench/corpus.py corpus written as shards.

For each size: the local engine (run_pipeline in a child process; peak RSS = the child's VmHWM) and the
Ray engine (run_ray_pipeline in a child process that starts a local Ray with 2 CPUs and a 512 MiB object
store). Ray's memory is sampled every 0.2 s from /proc: the driver's VmHWM, with the peaks of its
private memory (RssAnon) and of the object-store pages it has mapped (RssShmem: at most the store's
size), and each Ray worker process's VmHWM (its peak RSS; shared object-store pages it maps are counted
in every process that touches them).
Scaling: the same corpus on a `ray.cluster_utils.Cluster` of one node with 1 CPU, then two nodes with 1 CPU
each (simulated on this machine). Kept/removed/quarantined counts of both engines are printed side by side,
with the 1-minute load average sampled every 5 s during each run (mean / max): on a shared machine rows/s
is what the run got, not what the machine can do; memory is unaffected.

`--timeout S` stops a run after S seconds and reports what it reached (the driver's and workers' peaks so
far); `--local-max N` skips the local engine above N rows.

    .venv/bin/python bench/ray_scaling.py --sizes 20000 80000 --scaling-n 40000 --write
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sections import CONDITIONS

SHARDS = 8  # at least this many input shards for Ray ...
SHARD_ROWS = 125_000  # ... and at most this many rows in each: inputs are sharded (docs/scaling.md), so the
# first shard, which the driver probes whole, stays the same size as the corpus grows


def _status_kib(pid: int, *fields: str) -> list[int]:
    """Fields of /proc/PID/status, in KiB (0 when the process is gone)."""
    got = dict.fromkeys(fields, 0)
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name = line.split(":", 1)[0]
            if name in got:
                got[name] = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return [got[f] for f in fields]


def _hwm_kib(pid: int) -> int:
    return _status_kib(pid, "VmHWM")[0]


def _spill_dirs() -> list[Path]:
    """This run's spill folders: Ray spills to `ray_spilled_objects_<node>` in its session folder."""
    from ray._private.worker import _global_node

    session = Path(_global_node.get_session_dir_path()) if _global_node is not None else None
    return list(session.glob("ray_spilled_objects*")) if session else []


def _dir_bytes(dirs: list[Path]) -> int:
    total = 0
    for d in dirs:
        for root, _, files in os.walk(d):
            for f in files:
                with contextlib.suppress(OSError):
                    total += os.path.getsize(os.path.join(root, f))
    return total


def _spilled_total_mib() -> float:
    """What Ray wrote to spill over the run (its object store summary: "Spilled N MiB")."""
    import re

    import ray
    from ray._private.internal_api import memory_summary

    address = ray.get_runtime_context().gcs_address   # this run's Ray: another may run on the machine
    m = re.search(r"Spilled (\d+) MiB", memory_summary(address=address, stats_only=True))
    return float(m.group(1)) if m else 0.0


def _ray_workers() -> list[int]:
    """The worker processes of the Ray this process started (its descendants), not another Ray's."""
    import psutil

    out = []
    for p in psutil.Process(os.getpid()).children(recursive=True):
        try:
            cmd = " ".join(p.cmdline())
        except psutil.Error:
            continue
        if "default_worker.py" in cmd or cmd.startswith("ray::"):
            out.append(p.pid)
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
    from curate.engines.ray.session import LOCAL_SYSTEM_CONFIG, start_local
    from schemas.configs.curate import CurateConfig

    cluster = None
    if nodes:
        from ray.cluster_utils import Cluster

        cluster = Cluster(
            initialize_head=True,
            head_node_args={"num_cpus": 1, "object_store_memory": 256 * 2**20, "include_dashboard": False,
                            "_system_config": LOCAL_SYSTEM_CONFIG},
        )
        for _ in range(nodes - 1):
            cluster.add_node(num_cpus=1, object_store_memory=256 * 2**20)
        ray.init(address=cluster.address, log_to_driver=False, logging_level="ERROR")
        cluster.wait_for_nodes()
    else:
        start_local(2, 512)   # the engine's own local start (curate.engines.ray.session)
    peaks: dict[int, int] = {}
    spill = {"disk_peak": 0}
    own = {"anon": 0, "shmem": 0}   # the driver's peak private memory, and object-store pages it mapped
    done = threading.Event()

    def sample() -> None:
        last = last_disk = 0.0
        while not done.is_set():
            anon, shmem = _status_kib(os.getpid(), "RssAnon", "RssShmem")
            own["anon"], own["shmem"] = max(own["anon"], anon), max(own["shmem"], shmem)
            for pid in _ray_workers():
                peaks[pid] = max(peaks.get(pid, 0), _hwm_kib(pid))
            if time.monotonic() - last_disk > 1:   # spill on disk right now (walking the folder costs)
                last_disk = time.monotonic()
                spill["disk_peak"] = max(spill["disk_peak"], _dir_bytes(_spill_dirs()))
            if time.monotonic() - last > 10:   # progress for the parent, which may stop a run (--timeout)
                last = time.monotonic()
                progress = {**_peaks(peaks), "spill_disk_peak_gib": spill["disk_peak"] / 2**30}
                print(json.dumps({"progress": progress}), file=sys.stderr, flush=True)
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
    extra = json.loads((res.out / "manifest.json").read_text(encoding="utf-8"))["extra"]
    print(json.dumps({"seconds": seconds, "kept": res.kept, "removed": res.removed,
                      "quarantined": res.quarantined, **_peaks(peaks),
                      "units": extra["units"], "read_tasks": extra["read_tasks"], "shuffle": extra["shuffle"],
                      "spill_disk_peak_gib": spill["disk_peak"] / 2**30,
                      "spilled_total_gib": _spilled_total_mib() / 1024,
                      "driver_anon_gib": own["anon"] / 2**20, "driver_shmem_gib": own["shmem"] / 2**20}))
    ray.shutdown()
    if cluster is not None:
        cluster.shutdown()


def _peaks(peaks: dict[int, int]) -> dict:
    """The driver's (this process's) and the Ray workers' peak RSS so far, in GiB."""
    workers = sorted((v for v in peaks.values() if v), reverse=True)
    return {"driver_gib": _hwm_kib(os.getpid()) / 2**20, "workers": len(workers),
            "worker_max_gib": (workers[0] if workers else 0) / 2**20,
            "worker_median_gib": (workers[len(workers) // 2] if workers else 0) / 2**20}


def _stop(pid: int) -> None:
    """Kill a timed-out child and every process it started (its Ray), by pid."""
    import psutil

    try:
        family = [pid, *(c.pid for c in psutil.Process(pid).children(recursive=True))]
    except psutil.NoSuchProcess:
        family = [pid]
    for p in family:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)


def _run(args: list[str], timeout: float | None = None) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, __file__, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "DATAVET_RAY_PARTITIONS": os.environ.get("DATAVET_RAY_PARTITIONS", "4")},
    )
    loads, hwm = [os.getloadavg()[0]], 0
    while True:
        try:
            out, err = proc.communicate(timeout=5)
            break
        except subprocess.TimeoutExpired:
            loads.append(os.getloadavg()[0])
            hwm = max(hwm, _hwm_kib(proc.pid))
            if timeout and time.perf_counter() - t0 > timeout:
                _stop(proc.pid)
                out, err = proc.communicate()
                progress = [json.loads(x)["progress"] for x in err.splitlines()
                            if x.startswith('{"progress"')]
                res = {"timed_out": True, "seconds": time.perf_counter() - t0,
                       **(progress[-1] if progress else {"driver_gib": hwm / 2**20})}
                res["driver_gib"] = max(res.get("driver_gib", 0), hwm / 2**20)
                res.update(load_mean=sum(loads) / len(loads), load_max=max(loads))
                return res
    if proc.returncode:
        sys.exit(err[-3000:])
    res = json.loads(out.strip().splitlines()[-1])
    res["wall"] = time.perf_counter() - t0
    res.update(load_mean=sum(loads) / len(loads), load_max=max(loads))
    return res


def _row(n: int, engine: str, r: dict) -> str:
    """One table row; a run stopped by --timeout shows its time and its peaks so far."""
    load = f"{r['load_mean']:.1f} / {r['load_max']:.1f}"
    driver = f"{r.get('driver_gib', r.get('peak_gib', 0)):.2f}"
    if "driver_anon_gib" in r:
        driver += f" ({r['driver_anon_gib']:.2f} / {r['driver_shmem_gib']:.2f})"
    if "workers" in r:
        workers = f"{r['workers']} | {r['worker_max_gib']:.2f} / {r['worker_median_gib']:.2f}"
        spill = f"{r.get('spill_disk_peak_gib', 0):.2f} / " + (
            f"{r['spilled_total_gib']:.2f}" if "spilled_total_gib" in r else "–")
    else:
        workers, spill = "– | –", "–"
    if r.get("timed_out"):
        return (f"| {n:,} | {engine} | not finished in {r['seconds']:.0f} s | – | {driver} (so far) | "
                f"{workers} (so far) | {spill} (so far) | – | – | – | {load} |")
    return (f"| {n:,} | {engine} | {r['seconds']:.1f} | {n / r['seconds']:,.0f} | {driver} | {workers} | "
            f"{spill} | {r['kept']:,} | {r['removed']:,} | {r['quarantined']:,} | {load} |")


def _corpus(n: int, tmp: Path, shard_rows: int = SHARD_ROWS) -> tuple[Path, Path]:
    from bench.corpus import build, write_jsonl

    texts, _ = build(n)
    one = tmp / f"corpus-{n}.jsonl"
    write_jsonl(texts, str(one))
    shards = tmp / f"shards-{n}"
    shards.mkdir()
    size = -(-n // max(SHARDS, -(-n // shard_rows)))
    with one.open(encoding="utf-8") as src:
        for k in itertools.count():
            chunk = list(itertools.islice(src, size))
            if not chunk:
                break
            (shards / f"part-{k:03d}.jsonl").write_text("".join(chunk), encoding="utf-8")
    return one, shards


def _positive(text: str) -> int:
    if not text.isdecimal() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of rows, 1 or more")
    return int(text)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[20_000, 80_000])
    ap.add_argument("--scaling-n", type=int, default=40_000, help="0: no 1 -> 2 node runs")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--timeout", type=float, default=None, help="stop a run after this many seconds")
    ap.add_argument("--local-max", type=int, default=None, help="skip the local engine above this many rows")
    ap.add_argument("--shard-rows", type=_positive, default=SHARD_ROWS,
                    help="at most this many rows per Ray input shard (fewer rows per shard: more shards)")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        if args.child[0] == "local":
            _child_local(*args.child[1:])
        else:
            _child_ray(args.child[1], args.child[2], int(args.child[3]))
        return
    tmp = Path(tempfile.mkdtemp())   # corpora and outputs; removed at the end
    try:
        _bench(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _bench(args: argparse.Namespace, tmp: Path) -> None:
    rows = [
        "| rows | engine | run s | rows/s | driver peak RSS (GiB; Ray: (private / object-store pages)) "
        "| Ray workers "
        "| worker peak RSS max / median (GiB) | spill on disk: peak / written (GiB) | kept | removed "
        "| quarantined | load avg 1 min (mean / max) |",
        "|---:|---|---:|---:|---:|---:|---|---|---:|---:|---:|---|",
    ]
    measured = {}
    for n in args.sizes:
        one, shards = _corpus(n, tmp, args.shard_rows)
        if args.local_max is None or n <= args.local_max:
            rows.append(_row(n, "local", _run(["--child", "local", str(one), str(tmp / f"local-{n}")],
                                              args.timeout)))
            print(rows[-1], flush=True)
        r = _run(["--child", "ray", str(shards), str(tmp / f"ray-{n}"), "0"], args.timeout)
        if not r.get("timed_out"):
            measured[n] = r
        rows.append(_row(n, "ray (2 CPUs)", r))
        print(rows[-1], flush=True)
        if "read_tasks" in r:   # how the Ray run read its input (the manifest's extra)
            print(f"ray at {n:,} rows: {r['units']} files in {r['read_tasks']} read tasks, "
                  f"{r['shuffle']} shuffle", file=sys.stderr, flush=True)
    if not args.scaling_n:
        print("\n".join(rows))
        return
    n = args.scaling_n
    if n in args.sizes:
        one, shards = tmp / f"corpus-{n}.jsonl", tmp / f"shards-{n}"
    else:
        one, shards = _corpus(n, tmp, args.shard_rows)
    scale = ["| rows | simulated nodes x CPUs | run s | rows/s | speed-up |", "|---:|---|---:|---:|---:|"]
    base = None
    for nodes in (1, 2):
        r = _run(["--child", "ray", str(shards), str(tmp / f"scale-{nodes}"), str(nodes)])
        base = base or r["seconds"]
        scale.append(f"| {n:,} | {nodes} x 1 | {r['seconds']:.1f} | {n / r['seconds']:,.0f} | "
                     f"{base / r['seconds']:.2f}x |")
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
            f"(2-core CPU, {CONDITIONS}). Corpus: bench/corpus.py, JSONL shards of at most "
            f"{args.shard_rows:,} rows (at least {SHARDS}) "
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
