"""What k-fold CV costs next to its folds run one by one, and where a short run's time goes (issue 12 item 4).

1. A seeded sample of `bundled:tweets` is split with `curate split --kfold K`.
2. `evalsuite cv` trains and scores the K folds in one process; the peer is K separate `finetune run`s on the
   same fold folders with the same settings (what a user would script by hand). Target: cv <= 1.1x the K runs.
3. One `finetune run` of 20 steps over all of `bundled:tweets` (~34k training rows; val subsampled with
   `--eval-limit`): the share of its wall time spent in training steps (summary.json: train tokens over
   tokens/s) against the process's wall time, imports included. Target: >= 0.5.

Every command runs as a child process; wall time and the children's CPU seconds (user + system) are both
recorded, so a figure taken on a shared machine can be read against its CPU time.

    .venv/bin/python bench/cv_cost.py                          # writes the `cv-cost` section of BENCHMARKS.md
    .venv/bin/python bench/cv_cost.py --rows 600 --steps 10 --no-write
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.sections import CONDITIONS, write_section  # noqa: E402

THREADS = {"n": 1}


def timed(args: list[str]) -> dict:
    """Run a child process; wall seconds and its CPU seconds. Raises on a non-zero exit."""
    r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": str(THREADS["n"])})
    wall, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(
            f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        )
    return {"wall_s": wall, "cpu_s": r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime}


def make_folds(tmp: Path, rows: int, k: int, seed: int) -> Path:
    import curate

    recs = curate.load("bundled:tweets").records
    picked = random.Random(seed).sample(recs, rows)
    data = tmp / "tweets.jsonl"
    curate.write_jsonl(picked, data)
    folds = tmp / "folds"
    timed(["curate", "split", str(data), "--out", str(folds), "--kfold", str(k), "--seed", str(seed)])
    return folds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1000, help="tweets in the k-fold sample")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-length", type=int, default=48)
    ap.add_argument("--eval-limit", type=int, default=200, help="val rows of the 20-step run on all tweets")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads per child (OMP_NUM_THREADS): one "
        "thread keeps CPU seconds honest on a shared machine, where spinning threads inflate them",
    )
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    THREADS["n"] = a.threads
    common = ["--model", "minilm", "--task", "classification", "--max-steps", str(a.steps), "--batch-size",
              str(a.batch_size), "--max-length", str(a.max_length), "--seed", str(a.seed)]
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        folds = make_folds(tmp, a.rows, a.k, a.seed)
        singles = [timed(["finetune", "run", *common, "--data", str(folds / f"fold-{i}"), "--out",
                          str(tmp / f"single-{i}"), "--no-progress"]) for i in range(a.k)]
        cv = timed(["evalsuite", "cv", *common, "--data", str(folds), "--out", str(tmp / "cv")])
        short_out = tmp / "short"
        short = timed(
            [
                "finetune",
                "run",
                *common,
                "--train",
                "bundled:tweets",
                "--eval-limit",
                str(a.eval_limit),
                "--out",
                str(short_out),
                "--no-progress",
            ]
        )
        summary = json.loads((short_out / "summary.json").read_text())
    single_wall, single_cpu = sum(s["wall_s"] for s in singles), sum(s["cpu_s"] for s in singles)
    train_s = summary["train_tokens"] / max(summary["tokens_per_s"], 1e-9)
    st = summary["data_stats"]["train"]
    ratio_wall, ratio_cpu = cv["wall_s"] / single_wall, cv["cpu_s"] / single_cpu
    share_proc, share_run = train_s / short["wall_s"], train_s / summary["wall_s"]
    share_cpu = summary["train_cpu_s"] / max(short["cpu_s"], 1e-9)
    body = f"""### CV cost: `evalsuite cv` vs {a.k} single `finetune run`s, and a 20-step run's time

Command: `.venv/bin/python bench/cv_cost.py --rows {a.rows} --k {a.k} --steps {a.steps} \
--batch-size {a.batch_size} \
--threads {a.threads}` \
(MiniLM, max length {a.max_length}, {a.threads} torch \
thread(s) per process; {CONDITIONS}). Wall time and the child processes' CPU seconds; on a \
busy machine a process waits for a core most of its wall time, so the CPU column is the one to judge by there.

| what | wall s | CPU s | target | met |
|---|---:|---:|---|---|
| `evalsuite cv`, K={a.k}, {a.rows:,} tweets, {a.steps} steps per fold | \
{cv["wall_s"]:.1f} | {cv["cpu_s"]:.1f} | | |
| {a.k} x `finetune run` on the same fold folders | {single_wall:.1f} | {single_cpu:.1f} | | |
| ratio cv / singles | {ratio_wall:.2f}x | {ratio_cpu:.2f}x | <= 1.1x | \
wall: {"yes" if ratio_wall <= 1.1 else "no"}; CPU: {"yes" if ratio_cpu <= 1.1 else "no"} |
| `finetune run --train bundled:tweets --max-steps {a.steps} --eval-limit {a.eval_limit}` | \
{short["wall_s"]:.1f} | {short["cpu_s"]:.1f} | | |
| its training steps | {train_s:.1f} | {summary["train_cpu_s"]:.1f} | | |
| training share of the process's time (wall inside `run()`: {share_run:.2f}) | {share_proc:.2f} | \
{share_cpu:.2f} | >= 0.5 | \
wall: {"yes" if share_proc >= 0.5 else "no"}; CPU: {"yes" if share_cpu >= 0.5 else "no"} |

The 20-step run tokenized {st["tokenized"]:,} of its {st["rows"]:,} training rows (the first mega-batch its \
steps reach) and validated on {summary["data_stats"]["val"]["rows"]:,} sampled val rows. cv reads each \
fold's \
out-of-fold probabilities from the run's `val_predictions.jsonl` instead of predicting val again, and \
imports \
torch once instead of {a.k} times. Before this change (issue 12): a 20-step run took 418 s of which 74 s \
training, \
and cv at 40 steps did not finish one fold in 13 minutes.
"""
    print(body)
    if not a.no_write:
        write_section("cv-cost", body)


if __name__ == "__main__":
    main()
