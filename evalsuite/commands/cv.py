"""`evalsuite cv`: k-fold cross-validation of a fine-tune over a `curate split --kfold` folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from common.options import grouped, out_option, overwrite_option
from evalsuite.commands.options import Json
from finetune.commands.options import BASE, KNOBS, train_config

Opt = typer.Option
Out = out_option(
    "Fold runs, out-of-fold predictions, label_issues.json, manifest.json and the report (in OUT/report).",
    Path,
)
Overwrite = overwrite_option(
    "Replace an earlier datavet output in OUT (never a folder another program wrote; default: refuse)."
)


def register(app: typer.Typer) -> None:
    @app.command()
    @grouped
    def cv(
        data: Annotated[
            str,
            Opt(
                "--data",
                help="Split folder with fold-0/, fold-1/, ... from `curate split --kfold` (required).",
            ),
        ] = "",
        base: dict = BASE,
        knobs: dict = KNOBS.without("lr", "grad_accum"),
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
        out: Out = Path("reports/cv"),
        report_dir: Annotated[
            Optional[Path],
            Opt("--report-dir", hidden=True, help="Deprecated: the report goes to OUT/report."),
        ] = None,
        json_out: Json = None,
        overwrite: Overwrite = False,
        cli: typer.Context = None,  # type: ignore[assignment]
    ) -> None:
        """Train and evaluate each fold; report mean +/- std and the likely label errors."""
        import json

        from evalsuite.cv import run_cv
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
        cfg = train_config(base, {"data.limit_val": eval_limit}, knobs)
        res = run_cv(data, cfg, out=out, report_dir=report_dir)
        for k, v in res.aggregate.items():
            typer.echo(f"{k:<18} {v['mean']:.4f} +/- {v['std']:.4f}")
        if res.label_issues is not None:
            typer.echo(f"likely label errors: {res.label_issues.count}")
        typer.echo(f"report: {res.paths['html']}")
        if json_out:
            from curate import write_text

            write_text(json.dumps(res.to_json(), indent=2), json_out)
