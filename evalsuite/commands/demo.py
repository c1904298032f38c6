"""`evalsuite demo`: the end-to-end demo behind `make demo`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from common.options import out_option, precision_option, set_option

Out = out_option("Where the demo's reports land.", Path)
Precision = precision_option(
    "What the fine-tunes and comparisons compute in (default: bf16 where this CPU has bf16 instructions, "
    "else fp32)."
)
Set = set_option(
    "Override a stage size, e.g. --set cls_batch=16 (repeatable; names: see evalsuite/demo.py DemoSizes; "
    "default: none).",
    metavar=None,
)


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        out: Out = Path("reports/demo"),
        quick: Annotated[
            bool, typer.Option("--quick", help="Tiny sizes, for CI smoke tests (default: full sizes).")
        ] = False,
        seed: Annotated[
            int, typer.Option("--seed", help="Seed for sampling, splits and training (default: 0).")
        ] = 0,
        sets: Set = None,
        precision: Precision = None,
        readme_summary: Annotated[
            bool,
            typer.Option(
                "--readme-summary",
                help="Run nothing: print the README's "
                "demo paragraph from the finished run in --out (its JSON outputs; default: off).",
            ),
        ] = False,
    ) -> None:
        """Run curate -> split -> finetune -> compare on the bundled data and models; print the report."""
        if readme_summary:
            from evalsuite.demo_summary import readme_summary as summary

            typer.echo(summary(out))
            return
        from evalsuite.demo import run_demo
        from schemas.errors import UsageError

        bad = [x for x in sets or [] if "=" not in x]
        if bad:
            raise UsageError(f"--set needs NAME=VALUE, got {bad[0]!r}", fix="e.g. --set cls_batch=16")
        overrides = dict(x.split("=", 1) for x in sets or [])
        raise typer.Exit(run_demo(out, quick=quick, seed=seed, overrides=overrides, precision=precision))
