"""Precision: which number format runs where (common.precision), and bf16 training on a CPU that has it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import common.precision as P
from finetune.train import run
from schemas.configs.train import TrainConfig

NATIVE = P.cpu_has_bf16()


@pytest.fixture
def cpu_flags(monkeypatch):
    """Pretend this CPU has (True) or lacks (False) bf16 instructions."""

    def set_flags(has: bool) -> None:
        monkeypatch.setattr(P, "cpu_has_bf16", lambda: has)

    return set_flags


def test_auto_is_bf16_on_cuda_and_fp32_on_cpu(cpu_flags):
    cpu_flags(True)  # even a CPU with bf16 stays fp32 under auto: CPU results comparable across machines
    assert P.resolve("auto", cuda=False) == "fp32"
    assert P.resolve("auto", cuda=True) == "bf16"
    assert P.resolve("fp16", cuda=True) == "fp16"
    assert P.resolve("fp32", cuda=True) == "fp32"


def test_bf16_on_a_cpu_runs_only_where_the_cpu_has_it(cpu_flags):
    cpu_flags(True)
    assert P.resolve("bf16", cuda=False) == "bf16"
    assert P.fastest_cpu() == "bf16"
    assert P.for_cpu_inference("bf16") == "bf16"
    cpu_flags(False)
    with pytest.raises(P.PrecisionError, match="emulated") as e:
        P.resolve("bf16", cuda=False)
    assert "precision=fp32" in str(e.value)
    assert P.fastest_cpu() == "fp32"
    assert P.for_cpu_inference("bf16") == "fp32"
    with pytest.raises(P.PrecisionError, match="needs a GPU"):
        P.resolve("fp16", cuda=False)
    with pytest.raises(P.PrecisionError, match="unknown precision"):
        P.resolve("int8", cuda=False)


def test_the_cpu_flag_is_read_from_cpuinfo():
    flags = Path("/proc/cpuinfo").read_text().split()
    assert P.cpu_has_bf16() == ("avx512_bf16" in flags or "amx_bf16" in flags)


def test_autocast_changes_the_matmul_format_only_for_bf16():
    x = torch.randn(4, 4)
    with P.autocast("fp32"):
        assert (x @ x).dtype == torch.float32
    with P.autocast("bf16"):
        assert (x @ x).dtype == torch.bfloat16
    assert (x @ x).dtype == torch.float32  # nothing leaks out of the block


def _cfg(model, split, out, precision):
    return TrainConfig.model_validate({
        "model": str(model), "data": {"split_dir": str(split)}, "out": str(out), "batch_size": 8,
        "optim": {"lr": 1e-3, "warmup": 0}, "progress": False, "seed": 0, "epochs": 4, "eval_every": 12,
        "precision": precision,
    })


@pytest.mark.skipif(not NATIVE, reason="this CPU has no bf16 instructions")
def test_bf16_training_on_cpu_learns_like_fp32(tiny_bert, cls_split, tmp_path):
    fp32 = run(_cfg(tiny_bert, cls_split, tmp_path / "fp32", "fp32"))
    bf16 = run(_cfg(tiny_bert, cls_split, tmp_path / "bf16", "bf16"))
    assert (fp32.precision, bf16.precision) == ("fp32", "bf16")
    assert json.loads((tmp_path / "bf16" / "summary.json").read_text())["precision"] == "bf16"
    # the same run in another number format: a different trajectory, the same learning
    assert bf16.final_metrics["loss"] != fp32.final_metrics["loss"]
    assert bf16.final_metrics["loss"] == pytest.approx(fp32.final_metrics["loss"], abs=0.1)
    assert bf16.final_metrics["accuracy"] > 0.6
    # the saved weights stay float32 (autocast computes in bf16, the master weights do not change format)
    from safetensors.torch import load_file

    assert {t.dtype for t in load_file(tmp_path / "bf16" / "model.safetensors").values()} == {torch.float32}
    # and the process can go back to fp32: the same numbers as its first fp32 run
    again = run(_cfg(tiny_bert, cls_split, tmp_path / "fp32-again", "fp32"))
    assert again.final_metrics["loss"] == fp32.final_metrics["loss"]


def test_bf16_on_a_cpu_without_it_is_refused_before_training(tiny_bert, cls_split, tmp_path, cpu_flags):
    cpu_flags(False)
    with pytest.raises(P.PrecisionError, match="emulated"):
        run(_cfg(tiny_bert, cls_split, tmp_path / "o", "bf16"))
    assert not (tmp_path / "o" / "model.safetensors").exists()
