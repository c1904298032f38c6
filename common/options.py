"""Command-line options declared once, for curate, finetune and evalsuite.

The three tools spell one idea one way (README "Vocabulary"): `--config FILE`, `--set KEY=VALUE`, `--out
PATH`, `--overwrite`, `--json FILE`, `--fail-on LEVEL`. The functions below fix each option's name, value
type and metavar; the help text says what the option means to one command, so it is the caller's. Each
returns an `Annotated` type that a command module binds to a name once and uses as a parameter's annotation:

    Set = set_option("Override a config key, e.g. --set fail_on=warn (repeatable; default: none).")

    def run(sets: Set = None) -> None: ...

`declared_word` tells which of them declared a parameter (a test checks that every command uses them).

`OptionGroup` and `grouped` declare once a run of options that several commands take together (the
loader's field options, the trainer's knobs): a command names the group as one parameter and receives the
values of the group's options in it, as a dict.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

# id(OptionInfo) -> (the OptionInfo, its word); the info is kept so that its id stays its own
_DECLARED: dict[int, tuple[Any, str]] = {}


def _declare(word: str, value: Any, **option: Any) -> Any:
    info = typer.Option(word, **option)
    _DECLARED[id(info)] = (info, word)
    return Annotated[value, info]


def declared_word(info: Any) -> str | None:
    """The shared option (`"--set"`, ...) whose function declared `info` (a typer OptionInfo), else None."""
    hit = _DECLARED.get(id(info))
    return hit[1] if hit is not None and hit[0] is info else None


def config_option(help: str, value: Any = Optional[Path]) -> Any:
    """`--config FILE`: a YAML file holding the command's settings (`value=Path` makes it required)."""
    return _declare("--config", value, help=help)


def set_option(help: str, metavar: str | None = "KEY=VALUE") -> Any:
    """`--set KEY=VALUE`, repeatable: overrides one key of the `--config` file each time."""
    return _declare("--set", Optional[list[str]], metavar=metavar, help=help)


def out_option(help: str, value: Any = Optional[Path]) -> Any:
    """`--out PATH`: where the command writes its output folder (or file)."""
    return _declare("--out", value, help=help)


def overwrite_option(help: str) -> Any:
    """`--overwrite`: replace an earlier datavet output; never a folder another program wrote."""
    return _declare("--overwrite", bool, help=help)


def json_option(help: str = "Write the JSON result to this file (default: none).") -> Any:
    """`--json FILE`: the machine-readable result, written to a file (stdout stays human-readable)."""
    return _declare("--json", Optional[Path], help=help)


def precision_option(help: str) -> Any:
    """`--precision auto|fp32|bf16|fp16`: what the models compute in (`common.precision`: where each runs)."""
    return _declare("--precision", Optional[str], metavar="auto|fp32|bf16|fp16", help=help)


def fail_on_option(help: str) -> Any:
    """`--fail-on fail|warn|never`: the quality gate; the command exits 1 when a check reaches the level."""
    return _declare("--fail-on", Optional[str], help=help)


# `--limit N`, the old name of `--head N` (first N rows): hidden, and read through curate's `head_or_limit`,
# which prints the deprecation note.
Limit = _declare(
    "--limit", Optional[int], min=1, hidden=True, help="Deprecated alias of --head (first N rows)."
)


class OptionGroup:
    """Options that several commands take together, each declared once: name -> (Annotated type, default).

    A command takes the group as one parameter whose default is the group, and is decorated with `grouped`
    (below `@app.command()`): the group's options stand in that parameter's place, in the group's order,
    and the parameter receives their values as {option parameter name: value}.
    """

    def __init__(self, **options: tuple[Any, Any]) -> None:
        self.options = dict(options)

    def without(self, *names: str) -> OptionGroup:
        """The same group less the options `names` (for a command that takes the others only)."""
        unknown = set(names) - set(self.options)
        if unknown:
            raise ValueError(f"not options of this group: {sorted(unknown)}")
        return OptionGroup(**{k: v for k, v in self.options.items() if k not in names})


def grouped(command: Callable[..., Any]) -> Callable[..., Any]:
    """Put the options of each `OptionGroup` default of `command` in that parameter's place (see OptionGroup).

    The signature typer reads is the new one (set as `__signature__`), with every annotation evaluated, so
    the command's own options keep their names, help and order.
    """
    own = inspect.signature(command, eval_str=True)
    groups: dict[str, OptionGroup] = {}
    params: list[inspect.Parameter] = []
    for p in own.parameters.values():
        if not isinstance(p.default, OptionGroup):
            params.append(p.replace(kind=inspect.Parameter.KEYWORD_ONLY))
            continue
        groups[p.name] = p.default
        params += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=a, default=d)
                   for name, (a, d) in p.default.options.items()]
    names = [p.name for p in params]
    clash = sorted({n for n in names if names.count(n) > 1})
    if clash:
        raise ValueError(f"{command.__name__}: parameters declared twice: {clash}")

    @functools.wraps(command)
    def run(**kwargs: Any) -> Any:
        for name, group in groups.items():
            kwargs[name] = {k: kwargs.pop(k) for k in group.options}
        return command(**kwargs)

    run.__signature__ = own.replace(parameters=params)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in params if p.annotation is not p.empty}
    return run


def resolve_config(model: Any, path: Any, sets: list[str] | None, flags: dict[str, Any], *,
                   sets_win: bool = False) -> Any:
    """A command's config: the `--config` YAML, then `--set KEY=VALUE` and the command's own flags.

    A flag left at None sets nothing. Where both set a key, the flag wins (curate: the flag is the narrower
    word), or `--set` does with `sets_win` (finetune: its `--set` help says so). Everything is validated
    once, so every problem is in one error.

    Args:
        model: The pydantic config class.
        path: The YAML file, or None for the class's defaults.
        sets: The `--set` values, `key.sub=value` each (the value is read as YAML).
        flags: Dotted config key -> the value of the flag that sets it.
        sets_win: Whether `--set` wins over a flag that sets the same key.
    """
    from schemas.configs.base import load_config, parse_override

    given = {k: v for k, v in flags.items() if v is not None}
    overrides = {".".join(k): v for k, v in (parse_override(s) for s in sets or [])}
    return load_config(model, path, {**given, **overrides} if sets_win else {**overrides, **given})
