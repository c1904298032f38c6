"""`evalsuite ablate CONFIG`: does curation pay? Train on raw, curated and leave-one-step-out data;
compare."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from common.options import config_option, out_option, set_option

Config = config_option("YAML config (the same as CONFIG; default: none, one of the two is required).")
Set = set_option("Override a config key, e.g. --set max_steps=50 (repeatable; default: none).")
Out = out_option("Output folder (default: the config's `out`, else reports/ablate).", Optional[str])


def register(app: typer.Typer) -> None:
    @app.command()
    def ablate(
        config_arg: Annotated[
            Optional[Path],
            typer.Argument(
                metavar="CONFIG",
                help="YAML config "
                "(schemas.configs.ablate.AblateConfig), e.g. configs/ablate/tweets.yaml; or --config.",
            ),
        ] = None,
        config: Config = None,
        overrides: Set = None,
        out: Out = None,
    ) -> None:
        """Train the same model with the same budget on each data variant and report what each curation step
        did to macro-F1 on one clean held-out test set. Re-running resumes: finished runs are not
        retrained."""
        from evalsuite.ablate.runner import run_ablation
        from schemas.configs.ablate import AblateConfig
        from schemas.configs.base import load_config
        from schemas.errors import UsageError

        path = config or config_arg
        if path is None:
            raise UsageError(
                "no ablation config given", fix="pass one: evalsuite ablate configs/ablate/tweets.yaml"
            )
        items = list(overrides or []) + ([f"out={out}"] if out else [])
        cfg = load_config(AblateConfig, path, items)
        res = run_ablation(cfg)
        for c in res.comparisons:
            typer.echo(f"{c['variant']:<28} macro-F1 {c['score']:.4f}  vs raw {c['delta']:+.4f} "
                       f"[{c['ci'][0]:+.4f}, {c['ci'][1]:+.4f}]  {c['verdict']}")
        for s in res.steps:
            twin = f"; vs random removal: {s['random_verdict']}" if "random_verdict" in s else ""
            typer.echo(f"step {s['step']:<20} {s['verdict']}{twin}")
        typer.echo(f"trained {len(res.trained)} run(s), reused {len(res.reused)}; {res.wall_s:.0f}s")
        typer.echo(f"report: {res.paths.get('html')}")
