"""Shared CLI plumbing for the three command-line tools: one error panel, exit codes, `--version`, `--debug`.

Exit codes: 0 success, 1 a failed quality gate, 2 a usage or config error. A traceback is shown only with
`--debug`. rich and typer are imported lazily so `import schemas` stays cheap.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from schemas.errors import DatavetError

DEBUG_ENV = "DATAVET_DEBUG"


def version_string(prog: str) -> str:
    from importlib import metadata

    try:
        v = metadata.version("datavet")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        v = "0+unknown"
    return f"{prog} (datavet) {v}"


def print_error(err: BaseException, *, title: str | None = None) -> None:
    from rich.console import Console
    from rich.panel import Panel
    from rich.text import Text

    console = Console(stderr=True)
    body = Text()
    if isinstance(err, DatavetError):
        body.append(err.message)
        for d in err.details:
            body.append(f"\n  • {d}")
        if err.fix:
            body.append("\n\nHow to fix: ", style="bold")
            body.append(err.fix)
        head = title or err.title
    else:
        body.append(f"{type(err).__name__}: {err}")
        body.append("\n\nThis is a bug in datavet; rerun with --debug for the traceback and report it.", style="dim")
        head = title or "internal error"
    console.print(Panel(body, title=f"[bold red]{head}", border_style="red", expand=False))


def run_app(app: Callable[..., Any], prog: str, argv: list[str] | None = None) -> int:
    """Run a typer app; turn DatavetErrors into one panel and an exit code. Returns the exit code."""
    import click

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get(DEBUG_ENV) == "1"
    if "--debug" in args:
        args.remove("--debug")
        os.environ[DEBUG_ENV] = "1"
    try:
        # With standalone_mode=False click returns the code of a typer.Exit instead of raising it.
        rc = app(args=args, prog_name=prog, standalone_mode=False)
        return rc if isinstance(rc, int) else 0
    except SystemExit as e:  # typer.Exit inside commands
        return int(e.code or 0)
    except click.exceptions.Exit as e:
        return int(e.exit_code or 0)
    except click.exceptions.Abort:
        return 130
    except click.exceptions.ClickException as e:
        if debug:
            raise
        e.show()
        return 2
    except DatavetError as e:
        if debug:
            raise
        print_error(e)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # an unexpected failure still gets one panel, not a wall of frames
        if debug:
            raise
        print_error(e)
        return 3
