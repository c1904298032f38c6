"""finetune's loop against HF `Trainer`: same model, data, batch size, max length and optimizer steps, on CPU.

Each measurement runs in its own subprocess so peak RSS (ru_maxrss) belongs to one trainer only.
tokens/s counts real (non-padding) tokens of the training batches over the time spent in training steps
(ours: the loop's step time; Trainer: the duration of `trainer.train()` with eval, saving and logging off).

    .venv/bin/python bench/trainer.py                 # both cases, writes the `trainer` section of
                                                      # BENCHMARKS.md
    .venv/bin/python bench/trainer.py --steps-minilm 10 --steps-smollm2 4 --no-write
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CASES = {
    # name: (model, task, method, data, kind, batch size, max length)
    "minilm-full": ("minilm", "classification", "full", "bundled:tweets", "classification", 32, 64),
    "smollm2-lora": ("smollm2", "sft", "lora", "bundled:bbc", "completion", 8, 128),
}
# Both trainers see exactly steps x batch_size rows, once: the same tokens, so tokens/s compares the time
# each needs for the same work (with fewer rows than that, which batches land in the first steps decides).

from bench.sections import CONDITIONS  # noqa: E402


def ours(case: str, steps: int, out: str) -> dict:
    from finetune.train import run
    from schemas.configs.train import TrainConfig

    model, _task, method, data, kind, bs, ml = CASES[case]
    rows = steps * bs
    cfg = TrainConfig.model_validate(
        {
            "model": model,
            "kind": kind,
            "method": method,
            "data": {"train": data, "kind": kind, "limit_train": rows, "limit_val": 16},
            "batch_size": bs,
            "max_length": ml,
            "max_steps": steps,
            "optim": {"lr": 1e-4},
            "out": out,
            "progress": False,
            "log_every": 1000,
        }
    )
    res = run(cfg)
    return {"tokens_per_s": res.tokens_per_s, "tokens": res.train_tokens,
            "tokens_per_cpu_s": res.train_tokens / res.train_cpu_s}


def hf(case: str, steps: int, out: str) -> dict:
    import torch
    from transformers import Trainer, TrainingArguments

    from finetune import data as D
    from finetune.models import load_for_training, resolve_model
    from finetune.train import read_splits
    from schemas.configs.train import TrainConfig

    model_name, task, method, data, kind, bs, ml = CASES[case]
    rows = steps * bs
    cfg = TrainConfig.model_validate(
        {
            "model": model_name,
            "kind": kind,
            "method": method,
            "data": {"train": data, "kind": kind, "limit_train": rows, "limit_val": 16},
        }
    )
    train, _, _ = read_splits(cfg)  # the same rows our run reads
    assert len(train) == rows
    id2label, label2id = D.label_maps(train) if task == "classification" else ({}, {})
    model, tok = load_for_training(
        resolve_model(model_name).path, task, method=method, lora=cfg.lora, id2label=id2label
    )
    examples, _ = D.tokenize_split(train, tok, task, ml, label2id=label2id)
    counted = {"tokens": 0}

    def collate(batch: list[dict]) -> dict:
        b = D.collate(batch, tok.pad_token_id)  # dynamic padding, like DataCollatorWithPadding / ForSeq2Seq
        counted["tokens"] += b.pop("n_tokens")
        return b

    args = TrainingArguments(
        output_dir=out,
        per_device_train_batch_size=bs,
        max_steps=steps,
        learning_rate=1e-4,
        save_strategy="no",
        eval_strategy="no",
        logging_strategy="no",
        report_to=[],
        use_cpu=True,
        dataloader_num_workers=0,
        disable_tqdm=True,
        seed=0,
        remove_unused_columns=False,
    )
    trainer = Trainer(model=model, args=args, train_dataset=examples, data_collator=collate)
    t0, c0 = time.perf_counter(), time.process_time()
    trainer.train()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    del torch
    return {"tokens_per_s": counted["tokens"] / wall, "tokens": counted["tokens"],
            "tokens_per_cpu_s": counted["tokens"] / cpu}


THREADS = 1


def measure(which: str, case: str, steps: int) -> dict:
    """Run one trainer in a fresh interpreter; return its tokens/s and peak RSS."""
    proc = subprocess.run([sys.executable, __file__, "--one", which, "--case", case, "--steps", str(steps),
                           "--threads", str(THREADS)],
                          capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        raise SystemExit(f"{which} {case} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--one", choices=["ours", "hf"])
    ap.add_argument("--case", choices=list(CASES))
    ap.add_argument("--steps", type=int)
    ap.add_argument("--steps-minilm", type=int, default=20)
    ap.add_argument("--steps-smollm2", type=int, default=6)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads per trainer; 1 keeps CPU-time figures honest on a shared machine")
    a = ap.parse_args()
    global THREADS
    THREADS = a.threads
    if a.one:
        import torch

        torch.set_num_threads(a.threads)
        with tempfile.TemporaryDirectory() as out:
            r = (ours if a.one == "ours" else hf)(a.case, a.steps, out)
        r["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(r))
        return
    rows = []
    for case, steps in (("minilm-full", a.steps_minilm), ("smollm2-lora", a.steps_smollm2)):
        o, h = measure("ours", case, steps), measure("hf", case, steps)
        rows.append(f"| {case} | {steps} | {CASES[case][5]} x {CASES[case][6]} | {o['tokens_per_s']:,.0f} | "
                    f"{h['tokens_per_s']:,.0f} | {o['tokens_per_s'] / h['tokens_per_s']:.2f}x | "
                    f"{o['tokens_per_cpu_s']:,.0f} | {h['tokens_per_cpu_s']:,.0f} | "
                    f"**{o['tokens_per_cpu_s'] / h['tokens_per_cpu_s']:.2f}x** | "
                    f"{o['peak_rss_mb']:,.0f} | {h['peak_rss_mb']:,.0f} |")
    table = "\n".join([
        "| case | steps | batch x max len | finetune tok/s (wall) | Trainer tok/s (wall) | wall ratio | "
        "finetune tok/CPU-s | Trainer tok/CPU-s | CPU ratio | finetune peak RSS MB | Trainer peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|", *rows])
    print(table)
    if not a.no_write:
        import torch
        import transformers

        note = (
            f"Command: `.venv/bin/python bench/trainer.py --steps-minilm {a.steps_minilm} --steps-smollm2 "
            f"{a.steps_smollm2}` (torch {torch.__version__}, transformers {transformers.__version__}, "
            "CPU fp32, "
            f"{a.threads} torch thread(s) per trainer). {CONDITIONS}; tokens per CPU-second of "
            "the training steps is the steadier measure when the machine is shared. "
            "Both trainers ran back to back in separate "
            "processes, each on exactly steps x batch rows, once. Peer: HF `Trainer` with its "
            "defaults (fused AdamW, no length grouping) and dynamic padding, on the same rows, model, LoRA "
            "config, batch size, max length and steps. "
            "Where ours gains: length-grouped batches (less padding) "
            "and, for SFT, the LM head applied only at answer positions."
        )
        from bench.sections import write_section

        write_section("trainer", f"### Trainer: finetune vs HF Trainer (CPU)\n\n{table}\n\n{note}")


if __name__ == "__main__":
    main()
