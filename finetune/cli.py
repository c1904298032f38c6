"""The `finetune` command line."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Annotated, Optional

import typer

import finetune.commands
from schemas.cli import run_app, version_string
from schemas.deprecation import KEY_VALUE, Deprecated

app = typer.Typer(name="finetune", help="Fine-tune a compact model: classification or causal-LM SFT, full or LoRA.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)


def _version(value: bool) -> None:
    if value:
        typer.echo(version_string("finetune"))
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Show the version and exit.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
) -> None:
    """Fine-tune a compact model: classification or causal-LM SFT, full or LoRA."""


# Each module in finetune/commands/ is one sub-command and registers itself.
for _info in sorted(pkgutil.iter_modules(finetune.commands.__path__), key=lambda i: i.name):
    _module = importlib.import_module(f"finetune.commands.{_info.name}")
    if hasattr(_module, "register"):
        _module.register(app)


# Old spellings that still work (with a note on stderr); the README's vocabulary table lists the new ones.
DEPRECATED = (
    Deprecated("--task", "--kind", values={"sft": "completion"}),
    Deprecated(KEY_VALUE, "--set", commands=("run", "sweep")),
)


def main(argv: list[str] | None = None) -> None:
    raise SystemExit(run_app(app, "finetune", argv, deprecated=DEPRECATED))
