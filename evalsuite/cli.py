"""The `evalsuite` command line."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Annotated, Optional

import typer

import evalsuite.commands
from schemas.cli import run_app, version_string
from schemas.deprecation import KEY_VALUE, Deprecated

app = typer.Typer(name="evalsuite", help="Score, compare and cross-validate models; write self-contained reports.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)


def _version(value: bool) -> None:
    if value:
        typer.echo(version_string("evalsuite"))
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Show the version and exit.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
) -> None:
    """Score, compare and cross-validate models; write self-contained reports."""


# Each module in evalsuite/commands/ is one sub-command and registers itself.
for _info in sorted(pkgutil.iter_modules(evalsuite.commands.__path__), key=lambda i: i.name):
    _module = importlib.import_module(f"evalsuite.commands.{_info.name}")
    if hasattr(_module, "register"):
        _module.register(app)


# Old spellings that still work (with a note on stderr); the README's vocabulary table lists the new ones.
DEPRECATED = (
    Deprecated("--task", "--kind", values={"generation": "completion", "sft": "completion"}),
    Deprecated("--report-dir", "--out", commands=("compare",)),
    Deprecated(KEY_VALUE, "--set", commands=("cv",)),
)


def main(argv: list[str] | None = None) -> None:
    raise SystemExit(run_app(app, "evalsuite", argv, deprecated=DEPRECATED))
