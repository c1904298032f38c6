"""`evalsuite demo`: the end-to-end demo behind `make demo`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        out: Annotated[Path, typer.Option("--out", help="Where the demo's reports land.")] = Path("reports/demo"),
        quick: Annotated[bool, typer.Option("--quick", help="Tiny sizes, for CI smoke tests (default: full "
                                            "sizes, about 5 minutes on 2 CPU cores).")] = False,
        seed: Annotated[int, typer.Option("--seed", help="Seed for sampling, splits and training.")] = 0,
    ) -> None:
        """Run curate -> split -> finetune -> compare on the bundled data and models; print the report path."""
        from evalsuite.demo import run_demo

        raise typer.Exit(run_demo(out, quick=quick, seed=seed))
