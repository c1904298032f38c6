"""fp32 vs bf16 autocast on this CPU: five kinds of model work, each timed in both formats in one
process, alternating, on the bundled models.

- MiniLM full fine-tune step (batch 32 x 36 tokens, AdamW), MiniLM forward (batch 32 x 36, inference mode);
- SmolLM2 LoRA step (r 8 on q/v, batch 8 x 110 tokens), SmolLM2 greedy generation (8 prompts x 80 tokens,
  20 new tokens), SmolLM2 perplexity through `evalsuite.perplexity` (8 documents of 253 tokens, windows of
  128, batch 8).
Each case: one warm-up call per format, then `--repeats` timed rounds alternating fp32 and bf16 (so a
change of machine load hits both), the median seconds per call reported. bf16 means `torch.autocast("cpu",
torch.bfloat16)` over fp32 weights, as `common.precision.autocast` does. Refuses to run on a CPU without bf16
instructions (the comparison would be against emulation).

    .venv/bin/python bench/precision.py --write
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sections import CONDITIONS, write_section
from common.precision import autocast, cpu_has_bf16


def _timed(fn: Callable[[], object], fmt: str) -> float:
    with autocast(fmt):
        t = time.perf_counter()
        fn()
        return time.perf_counter() - t


def _compare(fn: Callable[[], object], repeats: int) -> dict[str, float]:
    for fmt in ("fp32", "bf16"):
        _timed(fn, fmt)  # warm-up: first-call allocations and kernel selection
    got: dict[str, list[float]] = {"fp32": [], "bf16": []}
    for _ in range(repeats):
        for fmt in ("fp32", "bf16"):
            got[fmt].append(_timed(fn, fmt))
    return {fmt: statistics.median(v) for fmt, v in got.items()}


def _minilm() -> tuple[Callable[[], object], Callable[[], object]]:
    import torch
    from transformers import AutoModelForSequenceClassification

    from common.models import minilm_dir

    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(str(minilm_dir()), num_labels=3)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-5)
    ids = torch.randint(1000, 20000, (32, 36))
    mask, labels = torch.ones_like(ids), torch.randint(0, 3, (32,))

    def step() -> None:
        model.train()
        model(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()
        opt.step()
        opt.zero_grad()

    def forward() -> None:
        model.eval()
        with torch.inference_mode():
            model(input_ids=ids, attention_mask=mask)

    return step, forward


def _smollm2() -> tuple[Callable[[], object], Callable[[], object], Callable[[], object]]:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from common.models import smollm2_dir
    from evalsuite.perplexity import perplexity

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(str(smollm2_dir()), dtype=torch.float32)
    model = get_peft_model(base, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"],
                                            task_type="CAUSAL_LM"))
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-4)
    ids = torch.randint(1000, 20000, (8, 110))
    mask = torch.ones_like(ids)

    def step() -> None:
        model.train()
        model(input_ids=ids, attention_mask=mask, labels=ids).loss.backward()
        opt.step()
        opt.zero_grad()

    def generate() -> None:
        model.eval()
        with torch.inference_mode():
            model.generate(input_ids=ids[:, :80], attention_mask=mask[:, :80], max_new_tokens=20,
                           min_new_tokens=20, do_sample=False, pad_token_id=0)

    tok = AutoTokenizer.from_pretrained(str(smollm2_dir()))
    docs = [f"Document {i}: the river ran past the old stone mill, and the miller counted sacks. " * 12
            for i in range(8)]

    def score() -> None:   # evalsuite perplexity's own loop: 8 windows of 128 tokens per forward pass
        perplexity(model, tok, docs, max_length=128, stride=128, batch_size=8)

    return step, generate, score


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--write", action="store_true", help="write the BENCHMARKS.md section")
    args = ap.parse_args()
    if not cpu_has_bf16():
        sys.exit("this CPU has no bf16 instructions (avx512_bf16/amx_bf16): nothing to compare")
    import torch
    from transformers.utils import logging

    logging.set_verbosity_error()
    rows = []
    minilm_step, minilm_forward = _minilm()
    smol_step, smol_generate, smol_score = _smollm2()
    for name, fn in (("MiniLM full fine-tune step, 32 x 36", minilm_step),
                     ("MiniLM forward (inference), 32 x 36", minilm_forward),
                     ("SmolLM2 LoRA step, 8 x 110", smol_step),
                     ("SmolLM2 greedy generation, 8 x 80 + 20 new", smol_generate),
                     ("SmolLM2 perplexity (`evalsuite.perplexity`), 8 docs x 253 tokens, 128-token windows",
                      smol_score)):
        t = _compare(fn, args.repeats)
        rows.append(f"| {name} | {t['fp32']:.3f} | {t['bf16']:.3f} | {t['fp32'] / t['bf16']:.2f}x |")
        print(rows[-1], flush=True)
    body = "\n".join([
        "### CPU bf16: fp32 vs bf16 autocast, same process (common/precision.py)",
        "",
        f"`.venv/bin/python bench/precision.py --repeats {args.repeats} --write` ({CONDITIONS}; torch "
        f"{torch.__version__}, {torch.get_num_threads()} threads). Median seconds per call over "
        f"{args.repeats} alternating rounds after one warm-up each.",
        "",
        "| work | fp32 s | bf16 s | bf16 speed-up |",
        "|---|---:|---:|---:|",
        *rows,
    ])
    if args.write:
        write_section("precision", body)
    print(body)


if __name__ == "__main__":
    main()
