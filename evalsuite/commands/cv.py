"""`evalsuite cv`: k-fold cross-validation of a fine-tune over a `curate split --kfold` folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from finetune.commands.run import (
    BatchOpt,
    ConfigOpt,
    EpochsOpt,
    KindOpt,
    MaxLenOpt,
    MaxStepsOpt,
    MethodOpt,
    ModelOpt,
    SeedOpt,
    SetOpt,
)

Opt = typer.Option


def register(app: typer.Typer) -> None:
    @app.command()
    def cv(
        data: Annotated[
            str,
            Opt(
                "--data",
                help="Split folder with fold-0/, fold-1/, ... from `curate split --kfold` (required).",
            ),
        ] = "",
        config: ConfigOpt = None,
        sets: SetOpt = None,
        model: ModelOpt = None,
        kind: KindOpt = None,
        method: MethodOpt = None,
        epochs: EpochsOpt = None,
        max_steps: MaxStepsOpt = None,
        batch_size: BatchOpt = None,
        max_length: MaxLenOpt = None,
        seed: SeedOpt = None,
        eval_limit: Annotated[
            Optional[int],
            Opt(
                "--eval-limit",
                min=1,
                help="Each fold run validates on a seeded "
                "sample of N val rows; out-of-fold predictions still cover all "
                "(default: every row).",
            ),
        ] = None,
        out: Annotated[
            Path,
            Opt(
                "--out",
                help="Fold runs, out-of-fold predictions, label_issues.json, "
                "manifest.json and the report (in OUT/report).",
            ),
        ] = Path("reports/cv"),
        report_dir: Annotated[
            Optional[Path],
            Opt("--report-dir", hidden=True, help="Deprecated: the report goes to OUT/report."),
        ] = None,
        json_out: Annotated[
            Optional[Path], Opt("--json", help="Write the JSON result to this file (default: none).")
        ] = None,
        overwrite: Annotated[
            bool,
            Opt(
                "--overwrite",
                help="Replace an earlier datavet output in OUT (never a "
                "folder another program wrote; default: refuse).",
            ),
        ] = False,
        cli: typer.Context = None,  # type: ignore[assignment]
    ) -> None:
        """Train each fold with finetune's `run`, evaluate it, and report mean +/- std and likely label
        errors."""
        import json

        from evalsuite.cv import run_cv
        from finetune.commands.run import resolve_config
        from schemas.deprecation import note
        from schemas.errors import UsageError

        if not data:
            raise UsageError(
                "no split folder given",
                fix="pass --data DIR written by `curate split DATA --kfold K --out DIR`",
            )
        from curate.io.outputs import claim_outputs

        claim_outputs(cli, folder=out, files=(json_out,), overwrite=overwrite, command="evalsuite cv")
        if report_dir is not None:
            note("--report-dir", "--out (the report is written to OUT/report)", "evalsuite cv")
        flags = {"model": model, "kind": kind, "method": method, "epochs": epochs, "max_steps": max_steps,
                 "batch_size": batch_size, "max_length": max_length, "seed": seed,
                 "data.limit_val": eval_limit}
        cfg = resolve_config(config, flags, sets or [])
        res = run_cv(data, cfg, out=out, report_dir=report_dir)
        for k, v in res.aggregate.items():
            typer.echo(f"{k:<18} {v['mean']:.4f} +/- {v['std']:.4f}")
        if res.label_issues is not None:
            typer.echo(f"likely label errors: {res.label_issues.count}")
        typer.echo(f"report: {res.paths['html']}")
        if json_out:
            from curate import write_text

            write_text(json.dumps(res.to_json(), indent=2), json_out)
