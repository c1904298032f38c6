"""Which number format a model computes in, for training (finetune) and inference (evalsuite), in one place.

`precision` is one word in every CLI and config:
- `auto`: bf16 on CUDA, fp32 on CPU. CPU results then stay comparable across machines, because not every
  CPU has bf16 arithmetic and an emulated bf16 would differ and be slower.
- `fp32`: full precision everywhere.
- `bf16`: bfloat16 autocast (weights stay fp32; matmuls run in bf16, softmax and norms in fp32). On CUDA,
  or on a CPU with native bf16 instructions (x86 `avx512_bf16` or `amx_bf16`). Measured on the project's
  2-core AMD EPYC (`bench/precision.py`, BENCHMARKS.md "CPU bf16"): MiniLM training 2.15x, MiniLM inference
  2.67x, SmolLM2 LoRA 2.17x and generation 1.59x faster than fp32. A CPU without those instructions is
  refused: emulated bf16 is slower than fp32.
- `fp16`: CUDA only.
torch is imported inside the functions.
"""

from __future__ import annotations

import contextlib
import functools
import platform
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from schemas.errors import UsageError

Precision = Literal["auto", "fp32", "bf16", "fp16"]
CHOICES: tuple[str, ...] = ("auto", "fp32", "bf16", "fp16")
_NATIVE_FLAGS = ("avx512_bf16", "amx_bf16")


class PrecisionError(UsageError):
    """A precision this machine cannot run (exit 2)."""

    title = "unsupported precision"


@functools.cache
def cpu_has_bf16() -> bool:
    """Whether this CPU has bf16 arithmetic (x86 `avx512_bf16`/`amx_bf16`, read from /proc/cpuinfo on Linux).

    Other platforms answer False: there is no portable flag to read, and `precision=bf16` then says so.
    """
    if platform.system() != "Linux":
        return False
    try:
        flags = next(
            (line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")), ""
        )
    except OSError:
        return False
    return any(f in flags.split() for f in _NATIVE_FLAGS)


def resolve(precision: str, *, cuda: bool) -> str:
    """The format a run uses: "fp32", "bf16" or "fp16", from the requested one and the device.

    Raises:
        PrecisionError: fp16 without CUDA, or bf16 on a CPU without bf16 instructions.
    """
    if precision not in CHOICES:
        raise PrecisionError(f"unknown precision {precision!r}", fix=f"use one of: {', '.join(CHOICES)}")
    if precision == "auto":
        return "bf16" if cuda else "fp32"
    if cuda or precision == "fp32":
        return precision
    if precision == "fp16":
        raise PrecisionError("precision=fp16 needs a GPU", fix="use bf16 (if the CPU has it) or fp32")
    if not cpu_has_bf16():
        raise PrecisionError(
            "precision=bf16 on this CPU would be emulated (no avx512_bf16 or amx_bf16 instructions), "
            "slower than fp32",
            fix="use precision=fp32 (or auto) on this machine",
        )
    return "bf16"


def fastest_cpu() -> str:
    """bf16 where this CPU computes it natively, else fp32 (what the demo picks)."""
    return "bf16" if cpu_has_bf16() else "fp32"


def for_cpu_inference(trained: str) -> str:
    """What the CPU evaluates a model in that trained in `trained`: bf16 where the CPU has it, else fp32."""
    return "bf16" if trained == "bf16" and cpu_has_bf16() else "fp32"


@contextlib.contextmanager
def autocast(resolved: str, device_type: str = "cpu") -> Iterator[None]:
    """Run the block's forward passes in `resolved` ("fp32": unchanged; "bf16"/"fp16": torch autocast)."""
    if resolved == "fp32":
        yield
        return
    import torch

    dtype = torch.bfloat16 if resolved == "bf16" else torch.float16
    with torch.autocast(device_type, dtype=dtype):
        yield
