"""`accelerate launch -m finetune run` on two CPU processes (gloo), as docs/scaling-training.md describes.

- 2 processes x batch B follow the loss curve of 1 process x batch 2B (dropout off, plain batch order: the
  single process's batch k is exactly the union of the two processes' batch k), within LOSS_TOL;
- only the main process writes: the output folder has the single-process run's files, each event logged once;
- a run killed with SIGKILL on either process resumes to the uninterrupted two-process run's numbers (1e-6),
  with dropout on, so each process's own RNG stream must come back from the checkpoint.

Each launch starts two Python processes that import torch and transformers; the tiny model keeps the training
itself to a few seconds.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from finetune.train import run
from schemas.configs.train import TrainConfig

REPO = Path(__file__).resolve().parents[2]
# Measured largest difference between the two curves: 1.8e-7 (float32 summation order of the gradient
# all-reduce and of the padded matmuls); 1e-4 leaves room for other BLAS builds and is still 100 times smaller
# than the range the curve moves over (asserted below).
LOSS_TOL = 1e-4
# written by the test, so a user's ~/.cache/huggingface/accelerate config cannot interfere
ACCELERATE_CONFIG = {
    "compute_environment": "LOCAL_MACHINE",
    "distributed_type": "MULTI_GPU",
    "num_machines": 1,
    "machine_rank": 0,
    "num_processes": 2,
    "gpu_ids": "all",
    "mixed_precision": "no",
    "rdzv_backend": "static",
    "same_network": True,
    "main_training_function": "main",
    "use_cpu": False,
    "downcast_bf16": "no",
    "tpu_use_cluster": False,
}


def base_cfg(split: Path, model: Path, **kw) -> dict:
    cfg = {"model": str(model), "data": {"split_dir": str(split)}, "batch_size": 8, "epochs": 4,
           "optim": {"lr": 1e-3, "warmup": 0}, "eval_every": 6, "log_every": 1, "checkpoint_every": 2,
           "group_by_length": False, "progress": False, "seed": 5, "early_stopping": {"metric": "macro_f1"}}
    cfg.update(kw)
    return cfg


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(tmp: Path, cfg: dict, name: str) -> subprocess.Popen:
    """`accelerate launch --config_file ... -m finetune run --config ...` with two processes."""
    acc_file = tmp / "accelerate.yaml"
    acc_file.write_text(yaml.safe_dump(ACCELERATE_CONFIG))
    cfg_file = tmp / f"{name}.yaml"
    cfg_file.write_text(yaml.safe_dump(cfg))
    accelerate = Path(sys.executable).parent / "accelerate"
    cmd = [str(accelerate), "launch", "--config_file", str(acc_file), "--main_process_port", str(free_port()),
           "-m", "finetune", "run", "--config", str(cfg_file)]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True
    )


def finish(proc: subprocess.Popen) -> str:
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out[-3000:]
    return out


def kill_rank_after(proc: subprocess.Popen, out: Path, rank: int, min_step: int) -> int:
    """SIGKILL the worker with RANK=`rank` once a checkpoint at `min_step` or later exists; the step seen."""
    import psutil

    state_file = out / "checkpoint" / "trainer_state.json"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            step = json.loads(state_file.read_text())["step"]
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            step = 0
        if step >= min_step:
            workers = [p for p in psutil.Process(proc.pid).children(recursive=True)
                       if p.environ().get("RANK") == str(rank) and "finetune" in " ".join(p.cmdline())]
            assert len(workers) == 1, [p.cmdline() for p in workers]
            workers[0].send_signal(signal.SIGKILL)
            proc.communicate(timeout=300)  # the launcher tears the other process down and fails
            assert proc.returncode != 0
            assert not (out / "summary.json").exists()  # it really died mid-training
            return step
        time.sleep(0.01)
    raise AssertionError(
        f"the run ended before a checkpoint at step {min_step}: {proc.communicate()[0][-3000:]}"
    )


def events(out: Path, split: str) -> list[dict]:
    from finetune.metrics_log import read_events

    return [e for e in read_events(out / "metrics.jsonl") if e["split"] == split]


@pytest.fixture(scope="module")
def two_process_run(tmp_path_factory, tiny_bert):
    """One uninterrupted two-process run with dropout on: the reference of the resume test."""
    from tests.finetune.conftest import cls_rows, write_jsonl

    tmp = tmp_path_factory.mktemp("ddp")
    split = tmp / "split"
    write_jsonl(split / "train.jsonl", cls_rows(96, 1))
    write_jsonl(split / "val.jsonl", cls_rows(30, 2))
    out = tmp / "two-proc"
    out_text = finish(launch(tmp, {**base_cfg(split, tiny_bert), "out": str(out)}, "two-proc"))
    return tmp, split, out, out_text


def test_two_processes_follow_the_single_process_loss_curve(two_process_run, tiny_bert):
    tmp, split, _, _ = two_process_run
    two = tmp / "two-proc-nodrop"
    finish(launch(tmp, {**base_cfg(split, tiny_bert, dropout=0.0), "out": str(two)}, "two-proc-nodrop"))
    one = tmp / "one-proc"
    res = run(
        TrainConfig.model_validate(
            {**base_cfg(split, tiny_bert, dropout=0.0, batch_size=16), "out": str(one)}
        )
    )

    two_train, one_train = events(two, "train"), events(one, "train")
    assert [e["step"] for e in two_train] == [e["step"] for e in one_train] == list(range(1, res.steps + 1))
    assert res.steps == 24
    assert [e["loss"] for e in two_train] == pytest.approx([e["loss"] for e in one_train], abs=LOSS_TOL)
    assert [e["loss"] for e in events(two, "val")] == pytest.approx([e["loss"] for e in events(one, "val")],
                                                                      abs=LOSS_TOL)
    losses = [e["loss"] for e in one_train]
    assert max(losses) - min(losses) > 100 * LOSS_TOL  # the curve moves far more than the tolerance allows


def test_only_the_main_process_writes(two_process_run):
    _, _, out, out_text = two_process_run
    names = {p.name for p in out.iterdir()}
    assert {
        "model.safetensors",
        "metrics.jsonl",
        "summary.json",
        "config.yaml",
        "manifest.json",
        "labels.json",
        "tb",
    } <= names
    assert not names & {"checkpoint", "checkpoint.tmp", "best.safetensors"}
    assert len(list((out / "tb").iterdir())) == 1  # one event file: the other process opened no writer
    for split in ("train", "val"):
        steps = [e["step"] for e in events(out, split)]
        assert steps == sorted(set(steps)), f"{split} events logged more than once"
    assert out_text.count("finetune run ->") == 1  # one summary table, from the main process


def test_resume_after_either_process_is_killed(two_process_run, tiny_bert):
    tmp, split, reference, _ = two_process_run
    out = tmp / "killed"
    cfg = {**base_cfg(split, tiny_bert), "out": str(out)}
    first = kill_rank_after(launch(tmp, cfg, "killed"), out, rank=1, min_step=4)
    second = kill_rank_after(
        launch(tmp, {**cfg, "resume": True}, "resume-1"), out, rank=0, min_step=first + 4
    )
    assert first < second < 24
    finish(launch(tmp, {**cfg, "resume": True}, "resume-2"))

    got, ref = (json.loads((d / "summary.json").read_text()) for d in (out, reference))
    assert got["steps"] == ref["steps"] and got["best_step"] == ref["best_step"]
    for k, v in ref["final_metrics"].items():
        assert got["final_metrics"][k] == pytest.approx(v, abs=1e-6), k
    for split_name in ("train", "val"):
        assert [e["step"] for e in events(out, split_name)] == [
            e["step"] for e in events(reference, split_name)
        ]
        assert [e["loss"] for e in events(out, split_name)] == pytest.approx(
            [e["loss"] for e in events(reference, split_name)], abs=1e-6)
