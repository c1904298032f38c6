"""Shared CLI plumbing for the three command-line tools: one error panel, exit codes, `--version`, `--debug`.

Exit codes: 0 success, 1 a failed quality gate, 2 a usage or config error (ours or click's: an unknown
option, a missing argument), 3 an unexpected internal error (a bug; the panel says to rerun with `--debug`),
130 interrupted. A traceback is shown only with `--debug` (or DATAVET_DEBUG=1). rich and typer are imported
lazily so `import schemas` stays cheap.
"""


import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from common.deprecation import Deprecated, rewrite_args
from schemas.errors import DatavetError, UsageError, os_usage_error
from schemas.manifest import CURRENT_ARGV

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
        body.append(
            "\n\nThis is a bug in datavet; rerun with --debug for the traceback and report it.", style="dim"
        )
        head = title or "internal error"
    console.print(Panel(body, title=f"[bold red]{head}", border_style="red", expand=False))


def _click_exceptions() -> tuple[tuple[type[BaseException], ...], ...]:
    """(exit, abort, usage, click-error, no-args-help) exception classes of click and of typer's vendored
    copy.

    typer >= 0.26 ships its own copy of click (`typer._click`), whose exceptions do not derive from click's;
    catching only `click.exceptions` turned `--bogus` into an "internal error" with exit 3.
    """
    import typer

    mods = []
    for name in ("typer._click.exceptions", "click.exceptions"):
        try:
            mods.append(importlib.import_module(name))
        except ImportError:  # pragma: no cover - one of the two is always there
            continue

    def pick(attr: str) -> tuple[type[BaseException], ...]:
        return tuple(getattr(m, attr) for m in mods if hasattr(m, attr))

    exits = (typer.Exit, *pick("Exit"))
    aborts = (typer.Abort, *pick("Abort"))
    return exits, aborts, pick("NoArgsIsHelpError"), pick("ClickException")


def _usage_panel(err: BaseException, prog: str) -> None:
    """Print a click usage error (unknown option, missing argument) as the same one panel as our errors."""
    ctx = getattr(err, "ctx", None)
    command = ctx.command_path if ctx is not None else prog
    message = err.format_message() if hasattr(err, "format_message") else str(err)
    print_error(UsageError(message, fix=f"run `{command} --help` to see the commands and options"))


def _polish_help(command: Any) -> None:
    """A flag shows no `<bool>` type in help: its name says it all (typer prints one for every option)."""
    for sub in [command, *getattr(command, "commands", {}).values()]:
        for p in getattr(sub, "params", []):
            if getattr(p, "is_flag", False) and p.metavar is None:
                p.metavar = ""
        if hasattr(sub, "get_help_option") and not getattr(sub, "_datavet_help", False):
            sub.get_help_option = _bare_help_option(sub.get_help_option)
            sub._datavet_help = True


def _bare_help_option(get: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def get_help_option(ctx: Any) -> Any:
        opt = get(ctx)
        if opt is not None:
            opt.metavar = ""
        return opt

    return get_help_option


def run_app(app: Callable[..., Any], prog: str, argv: list[str] | None = None,
            deprecated: Sequence[Deprecated] = ()) -> int:
    """Run a typer app; turn every error into one panel and an exit code. Returns the exit code.

    Args:
        app: the typer app.
        prog: the program name shown in usage lines and hints.
        argv: the arguments (default: `sys.argv[1:]`). `--debug` anywhere turns on tracebacks.
        deprecated: the tool's old spellings; each is rewritten to its new one with a note on stderr.

    Returns:
        0 on success, 1 for a failed quality gate (a command raising `typer.Exit(1)`), 2 for usage and
        config errors, 3 for an unexpected internal error, 130 when interrupted.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get(DEBUG_ENV) == "1"
    if "--debug" in args:
        args.remove("--debug")
        os.environ[DEBUG_ENV] = "1"
    exits, aborts, no_args, click_errors = _click_exceptions()
    try:
        import typer.main

        command = typer.main.get_command(app)  # type: ignore[arg-type]
        _polish_help(command)
        args = rewrite_args(command, args, deprecated, prog)
        token = CURRENT_ARGV.set([prog, *args])
        try:
            # With standalone_mode=False click returns the code of a typer.Exit instead of raising it.
            rc = command.main(args=args, prog_name=prog, standalone_mode=False)
        finally:
            CURRENT_ARGV.reset(token)
        return rc if isinstance(rc, int) else 0
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except exits as e:
        return int(getattr(e, "exit_code", 0) or 0)
    except (*aborts, KeyboardInterrupt):
        return 130
    except no_args as e:
        e.show()  # a bare `curate` prints its help; like click, it exits 2 (nothing was run)
        return 2
    except click_errors as e:
        if debug:
            raise
        _usage_panel(e, prog)
        return 2  # every click error (bad option, bad value, unreadable file argument) is a usage mistake
    except DatavetError as e:
        if debug:
            raise
        print_error(e)
        return e.exit_code
    except OSError as e:  # disk full, read-only folder, permission denied: the user's to fix, exit 2
        if debug:
            raise
        mapped = os_usage_error(e)
        print_error(mapped or e)
        return 2 if mapped is not None else 3
    except Exception as e:  # an unexpected failure still gets one panel, not a wall of frames
        if debug:
            raise
        print_error(e)
        return 3


def config_default(model: Any, key: str) -> Any:
    """The default of dotted `key` in a pydantic config class (`optim.lr` of TrainConfig -> 5e-05)."""
    cls, parts = model, key.split(".")
    for i, part in enumerate(parts):
        f = cls.model_fields[part]
        if i == len(parts) - 1:
            return f.default_factory() if f.default_factory is not None else f.default
        cls = f.annotation


def config_help(model: Any, key: str, text: str) -> str:
    """One-line option help naming its default and its config key, e.g. "Peak learning rate (default 5e-05;
    config key optim.lr)". Used where the option's own default is None because the config decides."""
    default = config_default(model, key)
    shown = "none" if default is None else str(default).lower() if isinstance(default, bool) else default
    return f"{text} (default {shown}; config key {key})"


def make_app(prog: str, help: str, commands: Any) -> Any:
    """The typer app of one command line: `--version`, `--debug`, and one sub-command per module of the
    `commands` package (each module registers itself with a `register(app)` function)."""
    import pkgutil
    from typing import Annotated

    import typer

    app = typer.Typer(name=prog, help=help, no_args_is_help=True, pretty_exceptions_enable=False,
                      add_completion=False)

    def _version(value: bool) -> None:
        if value:
            typer.echo(version_string(prog))
            raise typer.Exit()

    @app.callback(help=help)
    def _root(
        version: Annotated[
            bool | None,
            typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
        ] = None,
        debug: Annotated[
            bool, typer.Option("--debug", help="Show tracebacks for errors (default: off).")
        ] = False,
    ) -> None:
        pass

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        if hasattr(module, "register"):
            module.register(app)
    return app
