"""`curate run --config FILE`: the whole curation (load, normalize, check, remove, mask, write, split)
from a YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from common.options import config_option, out_option, overwrite_option, set_option

Config = config_option(
    "YAML config (schemas.configs.curate.CurateConfig; see configs/curate/) (required).", Path
)
Set = set_option("Override a config key, e.g. --set fail_on=warn (repeatable; default: none).")
Out = out_option("Output folder (default: the config's `out`, else reports/curated).", Optional[str])
Overwrite = overwrite_option(
    "Replace an earlier datavet output in the output folder (never another program's; default: refuse)."
)


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        config: Config,
        sets: Set = None,
        out: Out = None,
        engine: Annotated[
            str,
            typer.Option(
                "--engine", help="local (default) or ray (needs datavet[ray]; see docs/scaling.md)."
            ),
        ] = "local",
        address: Annotated[
            Optional[str],
            typer.Option(
                "--address", help="Ray cluster address for --engine ray (default: start a local Ray)."
            ),
        ] = None,
        overwrite: Overwrite = False,
    ) -> None:
        """Curate the data described by --config and write the curated dataset, removed rows and reports."""
        from curate.console import print_check_summary, print_load_summary
        from curate.engines import run as run_engine
        from schemas.configs.base import load_config
        from schemas.configs.curate import CurateConfig

        items = list(sets or []) + ([f"out={out}"] if out else [])
        cfg = load_config(CurateConfig, config, items)
        if cfg.input.limit is not None:
            typer.secho(
                "note: input.limit is deprecated: it takes the first N rows; say input.head for that, or "
                "input.sample (random rows, seeded by input.seed)",
                fg="yellow",
                err=True,
            )
        command = f"curate run --config {config}" + "".join(f" --set {o}" for o in items)
        command += (
            f" --engine {engine}" + (f" --address {address}" if address else "") if engine != "local" else ""
        )
        res = run_engine(
            cfg, command, engine=engine, address=address, config_dir=config.parent, overwrite=overwrite
        )
        print_load_summary(res.report.input)
        print_check_summary(res.report)
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(res.removed_by_reason.items())) or "none"
        typer.echo(f"rows read {res.rows_read} = kept {res.kept} + quarantined {res.quarantined} + removed "
                   f"{res.removed} ({reasons})")
        if res.pii_masked:
            typer.echo(f"PII masks applied: {res.pii_masked}")
        for note in res.notes:
            typer.secho(f"note: {note}", fg="yellow")
        typer.echo(f"wrote {res.out}: {', '.join(res.files)}")
        if res.verdict is not None:
            from curate.console import print_verdict

            print_verdict(res.verdict)
        if res.gate_failed:
            typer.secho(f"quality gate failed (fail_on: {cfg.fail_on})", fg="red", err=True)
            raise typer.Exit(1)
