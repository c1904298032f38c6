"""`finetune sweep`: search lr / batch size / epochs / LoRA rank on the validation metric, print a ranked table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

Opt = typer.Option


def _values(raw: Optional[str], cast: Any) -> list[Any] | None:
    from schemas.errors import UsageError

    if raw is None:
        return None
    try:
        return [cast(v) for v in raw.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"cannot read {raw!r} as a comma-separated list of numbers", fix="write e.g. 1e-5,3e-5") from None


def register(app: typer.Typer) -> None:
    @app.command()
    def sweep(
        overrides: Annotated[Optional[list[str]], typer.Argument(help="key=value overrides of the base config")] = None,
        config: Annotated[Optional[Path], Opt("--config", help="Base YAML config.")] = None,
        model: Annotated[Optional[str], Opt("--model")] = None,
        task: Annotated[Optional[str], Opt("--task")] = None,
        method: Annotated[Optional[str], Opt("--method")] = None,
        data: Annotated[Optional[str], Opt("--data")] = None,
        train: Annotated[Optional[str], Opt("--train")] = None,
        val: Annotated[Optional[str], Opt("--val")] = None,
        out: Annotated[Optional[str], Opt("--out")] = None,
        max_steps: Annotated[Optional[int], Opt("--max-steps")] = None,
        lr: Annotated[Optional[str], Opt("--lr", help="Comma-separated values, e.g. 1e-5,3e-5,1e-4.")] = None,
        batch_size: Annotated[Optional[str], Opt("--batch-size", help="Comma-separated values.")] = None,
        epochs: Annotated[Optional[str], Opt("--epochs", help="Comma-separated values.")] = None,
        lora_r: Annotated[Optional[str], Opt("--lora-r", help="Comma-separated ranks.")] = None,
        strategy: Annotated[str, Opt("--strategy", help="grid or random.")] = "grid",
        n_trials: Annotated[Optional[int], Opt("--n-trials", help="Trials to run (random) or cap (grid).")] = None,
        overwrite: Annotated[bool, Opt("--overwrite", help="Replace an earlier sweep in --out (never a folder "
                                       "another program wrote).")] = False,
        ctx: typer.Context = None,  # type: ignore[assignment]
    ) -> None:
        """Search a small grid or random space on the validation metric and print the ranked trials."""
        from finetune.commands.run import resolve_config
        from finetune.sweep import print_table
        from finetune.sweep import sweep as do_sweep
        from schemas.errors import UsageError

        if strategy not in ("grid", "random"):
            raise UsageError(f"--strategy {strategy!r} is unknown", fix="use grid or random")
        flags = {"model": model, "task": task, "method": method, "data.split_dir": data, "data.train": train,
                 "data.val": val, "out": out, "max_steps": max_steps, "progress": False}
        cfg = resolve_config(config, flags, overrides or [])
        from curate.io.outputs import claim_outputs

        claim_outputs(ctx, folder=cfg.out, overwrite=overwrite, command="finetune sweep")
        space = {k: v for k, v in {"lr": _values(lr, float), "batch_size": _values(batch_size, int),
                                   "epochs": _values(epochs, float), "lora_r": _values(lora_r, int)}.items() if v}
        result = do_sweep(cfg, space, n_trials=n_trials, strategy=strategy, seed=cfg.seed)
        print_table(result)
        ranked = [{"params": t.params, result.metric: t.value, "metrics": t.metrics, "out": t.out} for t in result.ranked()]
        from curate import write_text

        write_text(json.dumps(ranked, indent=1), Path(cfg.out) / "sweep.json")
