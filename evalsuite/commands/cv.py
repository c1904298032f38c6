"""`evalsuite cv`: k-fold cross-validation of a fine-tune over a `curate split --kfold` folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

Opt = typer.Option


def register(app: typer.Typer) -> None:
    @app.command()
    def cv(
        overrides: Annotated[Optional[list[str]], typer.Argument(help="finetune key=value overrides, e.g. optim.lr=3e-5")] = None,
        data: Annotated[str, Opt("--data", help="Split folder with fold-0/, fold-1/, ... (curate split --kfold).")] = "",
        model: Annotated[Optional[str], Opt("--model", help="minilm, smollm2 or a folder.")] = None,
        config: Annotated[Optional[Path], Opt("--config", help="finetune YAML config.")] = None,
        task: Annotated[Optional[str], Opt("--task", help="classification or sft.")] = None,
        method: Annotated[Optional[str], Opt("--method", help="full, lora or qlora.")] = None,
        epochs: Annotated[Optional[float], Opt("--epochs")] = None,
        max_steps: Annotated[Optional[int], Opt("--max-steps")] = None,
        batch_size: Annotated[Optional[int], Opt("--batch-size")] = None,
        max_length: Annotated[Optional[int], Opt("--max-length")] = None,
        seed: Annotated[Optional[int], Opt("--seed")] = None,
        eval_limit: Annotated[Optional[int], Opt("--eval-limit", min=1, help="Each fold run validates on a seeded "
                                                 "sample of N val rows (out-of-fold predictions still cover all).")] = None,
        out: Annotated[Path, Opt("--out", help="Fold runs and out-of-fold predictions go here.")] = Path("reports/cv"),
        report_dir: Annotated[Optional[Path], Opt("--report-dir", help="Report folder (default OUT/report).")] = None,
        json_out: Annotated[Optional[Path], Opt("--json", help="Write the JSON result here.")] = None,
    ) -> None:
        """Train each fold with finetune's `run`, evaluate it, and report mean +/- std and likely label errors."""
        import json

        from evalsuite.cv import run_cv
        from finetune.commands.run import resolve_config
        from schemas.errors import UsageError

        if not data:
            raise UsageError("no split folder given", fix="pass --data DIR written by `curate split DATA --kfold K --out DIR`")
        flags = {"model": model, "task": task, "method": method, "epochs": epochs, "max_steps": max_steps,
                 "batch_size": batch_size, "max_length": max_length, "seed": seed,
                 "data.limit_val": eval_limit}
        cfg = resolve_config(config, flags, overrides or [])
        res = run_cv(data, cfg, out=out, report_dir=report_dir)
        for k, v in res.aggregate.items():
            typer.echo(f"{k:<18} {v['mean']:.4f} +/- {v['std']:.4f}")
        if res.label_issues is not None:
            typer.echo(f"likely label errors: {res.label_issues.count}")
        typer.echo(f"report: {res.paths['html']}")
        if json_out:
            json_out.write_text(json.dumps(res.to_json(), indent=2))
