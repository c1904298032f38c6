"""`finetune run`: resolve the config (YAML, then flags, then key=value overrides), train, print the summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

Opt = typer.Option


def resolve_config(config: Optional[Path], flags: dict[str, Any], overrides: list[str]) -> Any:
    """YAML < flags < key=value overrides, validated once (all problems in one error)."""
    from schemas.configs.base import load_config
    from schemas.configs.train import TrainConfig

    flag_overrides = {k: v for k, v in flags.items() if v is not None}
    return load_config(TrainConfig, config, overrides={**flag_overrides, **_dict(overrides)})


def _dict(overrides: list[str]) -> dict[str, Any]:
    from schemas.configs.base import parse_override

    return {".".join(k): v for k, v in (parse_override(o) for o in overrides)}


def print_result(result: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"finetune run -> {result.out}", show_header=True)
    t.add_column("metric")
    t.add_column("best", justify="right")
    t.add_column("final", justify="right")
    for k in result.final_metrics:
        t.add_row(k, f"{result.best_metrics.get(k, float('nan')):.4f}", f"{result.final_metrics[k]:.4f}")
    Console().print(t)
    Console().print(f"steps {result.steps}  stop: {result.stop_reason}  best step {result.best_step}  "
                    f"{result.tokens_per_s:,.0f} tok/s  peak {result.peak_mem_mb:,.0f} MB  {result.wall_s:.1f} s")
    for split in ("train", "val"):
        st = result.data_stats.get(split, {})
        q = sum(result.data_stats.get("quarantined", {}).get(split, {}).values())
        Console().print(f"{split}: {st.get('rows', 0)} rows, {st.get('truncated', 0)} truncated at max_length, "
                        f"{st.get('no_answer_tokens', 0)} dropped with no answer token left, {q} quarantined by the loader")


def register(app: typer.Typer) -> None:
    @app.command(context_settings={"allow_extra_args": False})
    def run(
        overrides: Annotated[Optional[list[str]], typer.Argument(help="key=value overrides, e.g. optim.lr=3e-5")] = None,
        config: Annotated[Optional[Path], Opt("--config", help="YAML config (see configs/finetune/).")] = None,
        model: Annotated[Optional[str], Opt("--model", help="minilm, smollm2, a folder, or a hub id.")] = None,
        task: Annotated[Optional[str], Opt("--task", help="classification or sft.")] = None,
        method: Annotated[Optional[str], Opt("--method", help="full, lora or qlora.")] = None,
        data: Annotated[Optional[str], Opt("--data", help="Split folder with train.jsonl and val.jsonl.")] = None,
        train: Annotated[Optional[str], Opt("--train", help="Training file (or bundled:NAME).")] = None,
        val: Annotated[Optional[str], Opt("--val", help="Validation file.")] = None,
        out: Annotated[Optional[str], Opt("--out", help="Output folder.")] = None,
        epochs: Annotated[Optional[float], Opt("--epochs")] = None,
        max_steps: Annotated[Optional[int], Opt("--max-steps")] = None,
        lr: Annotated[Optional[float], Opt("--lr")] = None,
        batch_size: Annotated[Optional[int], Opt("--batch-size")] = None,
        grad_accum: Annotated[Optional[int], Opt("--grad-accum")] = None,
        max_length: Annotated[Optional[int], Opt("--max-length")] = None,
        seed: Annotated[Optional[int], Opt("--seed")] = None,
        resume: Annotated[bool, Opt("--resume", help="Continue from the checkpoint in --out.")] = False,
        merge: Annotated[bool, Opt("--merge", help="LoRA: also write merged weights.")] = False,
        no_progress: Annotated[bool, Opt("--no-progress", help="No progress bar.")] = False,
        allow_pickle: Annotated[bool, Opt("--allow-pickle", help="Also load pickle weights (pytorch_model.bin), "
                                          "which can run code: only files you trust.")] = False,
    ) -> None:
        """Fine-tune a model on curated splits (classification or SFT; full, LoRA or QLoRA)."""
        from finetune.train import run as train_run

        flags = {"model": model, "task": task, "method": method, "data.split_dir": data, "data.train": train,
                 "data.val": val, "out": out, "epochs": epochs, "max_steps": max_steps, "optim.lr": lr,
                 "batch_size": batch_size, "grad_accum": grad_accum, "max_length": max_length, "seed": seed,
                 "resume": resume or None, "merge": merge or None, "progress": False if no_progress else None,
                 "allow_pickle": allow_pickle or None}
        cfg = resolve_config(config, flags, overrides or [])
        result = train_run(cfg)
        from accelerate import PartialState

        if PartialState().is_main_process:  # under `accelerate launch`, one summary, not one per process
            print_result(result)
