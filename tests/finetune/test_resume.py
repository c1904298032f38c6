"""A run SIGKILLed mid-training and resumed ends with the same metrics as an uninterrupted run (CPU, exact).

The checkpoint holds the weights, AdamW moments, scheduler, RNG states (dropout is on in the tiny model) and
the data position; batch order is a function of (seed, epoch), so the resumed run replays the same batches.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from finetune.train import run
from schemas.configs.train import TrainConfig

REPO = Path(__file__).resolve().parents[2]


def test_sigkill_then_resume_matches_uninterrupted(tiny_bert, cls_split, tmp_path):
    base = {"model": str(tiny_bert), "data": {"split_dir": str(cls_split)}, "batch_size": 8, "epochs": 5,
            "optim": {"lr": 1e-3}, "eval_every": 12, "checkpoint_every": 5, "progress": False, "seed": 3,
            "early_stopping": {"metric": "macro_f1"}}
    reference = run(TrainConfig.model_validate({**base, "out": str(tmp_path / "ref")}))

    out = tmp_path / "killed"
    cfg_file = tmp_path / "run.yaml"
    cfg_file.write_text(yaml.safe_dump({**base, "out": str(out)}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "finetune", "run", "--config", str(cfg_file)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    state_file = out / "checkpoint" / "trainer_state.json"
    deadline = time.monotonic() + 120
    killed_at = None
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            step = json.loads(state_file.read_text())["step"]
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            step = 0
        if step >= 10:
            proc.send_signal(signal.SIGKILL)
            killed_at = step
            break
        time.sleep(0.01)
    proc.wait()
    assert killed_at is not None, (
        f"the run ended before a checkpoint was seen: {proc.stderr.read().decode()[-2000:]}"
    )
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "summary.json").exists()  # it really died mid-training
    ckpt_step = json.loads(state_file.read_text())["step"]
    assert ckpt_step < reference.steps
    with open(out / "metrics.jsonl", "a") as f:  # a kill mid-write tears the last line; --resume must cope
        f.write('{"step": 99, "split": "tr')

    resumed = run(TrainConfig.model_validate({**base, "out": str(out), "resume": True}))
    assert resumed.steps == reference.steps
    assert resumed.best_step == reference.best_step
    for k, v in reference.final_metrics.items():
        assert resumed.final_metrics[k] == pytest.approx(v, abs=1e-6), k
    for k, v in reference.best_metrics.items():
        assert resumed.best_metrics[k] == pytest.approx(v, abs=1e-6), k
    # metrics.jsonl reads as one run: the val events match the reference's one for one
    val = lambda p: [json.loads(x) for x in (p / "metrics.jsonl").read_text().splitlines() if '"val"' in x]  # noqa: E731
    assert [e["step"] for e in val(out)] == [e["step"] for e in val(tmp_path / "ref")]
    assert [round(e["loss"], 6) for e in val(out)] == [round(e["loss"], 6) for e in val(tmp_path / "ref")]
    # TensorBoard too: the replayed steps are purged, so each scalar has the reference's steps, once each
    ref_tb, got_tb = tb_scalars(tmp_path / "ref" / "tb"), tb_scalars(out / "tb")
    assert set(got_tb) == set(ref_tb)
    for tag, points in ref_tb.items():
        assert [s for s, _ in got_tb[tag]] == [s for s, _ in points], tag
        assert [v for _, v in got_tb[tag]] == pytest.approx([v for _, v in points], abs=1e-6), tag


def tb_scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """Scalars as TensorBoard shows them (its EventAccumulator applies purge_step across event files)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    acc.Reload()
    return {
        t: [(e.step, e.value) for e in acc.Scalars(t)]
        for t in acc.Tags()["scalars"]
        if t != "train/tokens_per_s"
    }
