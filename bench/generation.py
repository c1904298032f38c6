"""Batched greedy generation vs a per-example `generate` loop, same model, prompts and settings.

    .venv/bin/python bench/generation.py [--n 16] [--max-new-tokens 16] [--batch-size 16]

Model: smollm2 (fp32, CPU), prompts: the first N bundled:chat questions through the chat template. Both
sides use greedy decoding with the KV cache; the peer is the common loop of one `model.generate` per
example. Also reports whether both produced identical text. Writes the `generation` section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sections import write_section  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=16)
    ap.add_argument("--batch-size", type=int, default=16)
    a = ap.parse_args()

    import torch

    from curate import load
    from evalsuite.generate import generate
    from evalsuite.perplexity import load_causal_lm

    torch.manual_seed(0)
    prompts = [r["prompt"] for r in load("bundled:chat", kind="completion", limit=a.n).records]
    model, tok = load_causal_lm("smollm2")
    generate(model, tok, prompts[:1], max_new_tokens=2)  # warm-up: first-call allocations
    t0 = time.perf_counter()
    batched = generate(model, tok, prompts, max_new_tokens=a.max_new_tokens, batch_size=a.batch_size)
    t_b = time.perf_counter() - t0
    t0 = time.perf_counter()
    single = [generate(model, tok, [p], max_new_tokens=a.max_new_tokens, batch_size=1)[0] for p in prompts]
    t_s = time.perf_counter() - t0
    same = sum(x == y for x, y in zip(batched, single, strict=True))
    table = "\n".join(
        [
            f"Command: `.venv/bin/python bench/generation.py --n {a.n} --max-new-tokens {a.max_new_tokens} "
            f"--batch-size {a.batch_size}` "
            "(smollm2 fp32, CPU, 2 cores shared with other jobs: figures under load).",
            "",
            "| method | prompts | seconds | prompts/s | speed-up |",
            "|---|---:|---:|---:|---:|",
            f"| per-example `generate` loop | {a.n} | {t_s:.2f} | {a.n / t_s:.2f} | 1.00x |",
            f"| datavet batched (left pad, KV cache, batch {a.batch_size}) | {a.n} | {t_b:.2f} | "
            f"{a.n / t_b:.2f} | "
            f"{t_s / t_b:.2f}x |",
            "",
            f"Identical outputs: {same}/{a.n} (fp32 batched matmuls may flip a near-tie greedy step).",
        ]
    )
    print(table)
    write_section("generation", table)


if __name__ == "__main__":
    main()
