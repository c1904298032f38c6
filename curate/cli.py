"""The `curate` command line: data-QA commands run before training."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Annotated, Optional

import typer

import curate.commands
from schemas.cli import run_app, version_string
from schemas.deprecation import FILE, Deprecated

app = typer.Typer(name="curate", help="Check and curate fine-tuning data before training.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)


def _version(value: bool) -> None:
    if value:
        typer.echo(version_string("curate"))
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Show the version and exit.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
) -> None:
    """Check and curate fine-tuning data before training."""


# Each module in curate/commands/ is one sub-command and registers itself.
for _info in sorted(pkgutil.iter_modules(curate.commands.__path__), key=lambda i: i.name):
    _module = importlib.import_module(f"curate.commands.{_info.name}")
    if hasattr(_module, "register"):
        _module.register(app)


# Old spellings that still work (with a note on stderr); the README's vocabulary table lists the new ones.
DEPRECATED = (
    Deprecated("-c", "--set", commands=("check",)),
    Deprecated("--report-dir", "--out", commands=("check",)),
    Deprecated("--fail-on", "--fail-on", commands=("check",), values={"error": "fail", "warning": "warn"}),
    Deprecated(FILE, "--config", commands=("run",)),
)


def main(argv: list[str] | None = None) -> None:
    raise SystemExit(run_app(app, "curate", argv, deprecated=DEPRECATED))
