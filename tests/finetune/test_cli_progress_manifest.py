"""`finetune run` as a user runs it: progress on stderr while it runs (output piped, not a terminal), nothing
but the result on stdout, and a manifest whose recorded command line re-runs the same training."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROGRESS = "progress |"


def _env() -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "COLUMNS": "200",
        "NO_COLOR": "1",
        "DATAVET_PROGRESS_EVERY": "0",
    }
    for k in ("DATAVET_PROGRESS", "DATAVET_DEBUG"):
        env.pop(k, None)
    return env


def _args(model: Path, split: Path, out: Path) -> list[str]:
    return ["run", "--model", str(model), "--kind", "classification", "--data", str(split), "--out", str(out),
            "--max-steps", "12", "--batch-size", "8", "--max-length", "32", "--seed", "3",
            "--set", "optim.lr=1e-3", "--set", "eval_every=6"]


def test_piped_finetune_shows_progress_before_it_ends_and_reruns_from_its_manifest(
    tiny_bert, cls_split, tmp_path
):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "finetune", *_args(tiny_bert, cls_split, out)], cwd=REPO,
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout: list[str] = []
    # a full stdout pipe must not block it
    reader = threading.Thread(target=lambda: stdout.extend(proc.stdout))
    reader.start()
    seen = []  # (line, was the run still unfinished when the line arrived)
    for line in proc.stderr:
        if line.startswith(PROGRESS):
            seen.append((line, not (out / "summary.json").exists()))
    rc = proc.wait(timeout=600)
    reader.join()
    assert rc == 0, "".join(stdout)

    # 1. progress: piped output still gets lines while the run goes on, on stderr only
    train = [line for line, _ in seen if line.startswith(f"{PROGRESS} train ")]
    assert train and any(early for _, early in seen), "no progress line arrived before the run finished"
    # step counts with a rate, an ETA and the loss while training; the final evaluation has its own lines
    # (the rate reads "N steps/s", or "N s per step" below 0.1 steps/s, as on a heavily loaded machine)
    assert any("/12 (" in line and ("steps/s" in line or "s per step" in line) and "ETA" in line
               and "loss" in line for line in train)
    assert any(line.startswith(f"{PROGRESS} evaluate (30 rows)") for line, _ in seen)
    assert not any(PROGRESS in line for line in stdout), "progress must stay off stdout"

    # 2. the manifest holds every argument and the resolved config, and its command line re-runs the output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["argv"] == ["finetune", *_args(tiny_bert, cls_split, out)]  # every argument, in order
    assert manifest["config"]["optim"]["lr"] == 1e-3 and manifest["config"]["kind"] == "classification"
    assert manifest["rerun"].startswith(f"cd {REPO} && finetune run ")
    before = {f: (out / f).read_text() for f in ("config.yaml", "summary.json")}
    os.rename(out, tmp_path / "first")
    prog, *args = manifest["argv"]
    again = subprocess.run([sys.executable, "-m", prog, *args], cwd=manifest["cwd"], env=_env(),
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert (out / "config.yaml").read_text() == before["config.yaml"]
    s1, s2 = json.loads(before["summary.json"]), json.loads((out / "summary.json").read_text())
    assert s2["steps"] == s1["steps"] == 12
    assert s2["final_metrics"] == s1["final_metrics"]  # same seed, same data, same CPU: the same training
