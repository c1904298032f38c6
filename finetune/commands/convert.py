"""`finetune convert-weights DIR`: write safetensors beside a folder's pickle weights, reading tensors
only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("convert-weights")
    def convert_weights(
        folder: Annotated[
            Path,
            typer.Argument(help="Model or adapter folder holding pytorch_model.bin / adapter_model.bin."),
        ],
    ) -> None:
        """Convert pickle weights (.bin) to safetensors, which is what datavet loads. The pickle is read with
        torch's restricted unpickler (tensors only), so a payload hidden in it is refused, never run."""
        from common.weights import convert

        for path in convert(folder):
            typer.echo(f"wrote {path}")
