"""Old spellings that keep working: one table per tool, one rewrite of the command line, one note each.

datavet settled on one word per idea across curate, finetune and evalsuite (the README's "Vocabulary"
table). The words it replaced still work: before click parses the arguments, `rewrite_args` turns each old
spelling into the new one and prints a one-line deprecation note on stderr. Config files get the same
treatment through `note` (called from the config models' validators).

Kinds of old spelling a table can hold (`Deprecated.old`):
- an option name (`--task`, `-c`, `--report-dir`), optionally with renamed values (`--task sft` ->
  `--kind completion`); `old == new` renames only values (`--fail-on warning` -> `--fail-on warn`);
- `KEY=VALUE`: bare `key=value` arguments, now `--set key=value`;
- `FILE`: a first bare argument that is a config file, now `--config FILE`.

Nothing here imports click or typer: the command's parameters are read duck-typed (`opts`, `is_flag`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from schemas.deprecation import note

KEY_VALUE = "KEY=VALUE"
FILE = "FILE"


@dataclass(frozen=True)
class Deprecated:
    """One old spelling and its replacement.

    Attributes:
        old: The old option name, or `KEY_VALUE` / `FILE` for bare arguments.
        new: The option that replaces it.
        commands: Sub-commands it applies to; empty means all of the tool's sub-commands.
        values: Old value -> new value, for options whose values were renamed too.
    """

    old: str
    new: str
    commands: tuple[str, ...] = ()
    values: Mapping[str, str] = field(default_factory=dict)

    def applies(self, command: str | None) -> bool:
        return not self.commands or command in self.commands


def _value_takers(command: Any) -> set[str]:
    """Option strings of `command` that consume the next argument (not flags, not counters)."""
    out: set[str] = set()
    for p in getattr(command, "params", []):
        if (
            getattr(p, "param_type_name", "") != "option"
            or getattr(p, "is_flag", False)
            or getattr(p, "count", False)
        ):
            continue
        out.update(p.opts)
    return out


def _split_command(group: Any, args: Sequence[str]) -> tuple[int, Any]:
    """Index of the sub-command name in `args` and its command object (or (-1, None) when there is none)."""
    commands = getattr(group, "commands", {}) or {}
    for i, a in enumerate(args):
        if a == "--":
            return -1, None
        if not a.startswith("-"):
            return (i, commands.get(a)) if a in commands else (-1, None)
    return -1, None


def rewrite_args(group: Any, args: Sequence[str], table: Iterable[Deprecated], prog: str = "") -> list[str]:
    """Return `args` with every old spelling in `table` replaced by its new one; note each on stderr.

    Args:
        group: The tool's click group (its `commands` map names to commands with `params`).
        args: The command-line arguments, without the program name.
        table: The tool's deprecated spellings.
        prog: The tool's name, for the notes.

    Returns:
        The rewritten arguments (a new list; `args` is not changed).
    """
    args = list(args)
    at, command = _split_command(group, args)
    if command is None:
        return args
    name = args[at]
    rules = [d for d in table if d.applies(name)]
    if not rules:
        return args
    options = {d.old: d for d in rules if d.old.startswith("-")}
    key_value = next((d for d in rules if d.old == KEY_VALUE), None)
    file_rule = next((d for d in rules if d.old == FILE), None)
    takers = _value_takers(command) | {d.old for d in options.values()}
    where = f"{prog} {name}".strip()
    out, rest, positional = args[: at + 1], args[at + 1:], 0
    i = 0
    while i < len(rest):
        tok = rest[i]
        if tok == "--":
            out += rest[i:]
            break
        if tok.startswith("-") and len(tok) > 1:
            opt, eq, inline = tok.partition("=")
            rule = options.get(opt)
            needs_value = opt in takers and not eq
            value = inline if eq else (rest[i + 1] if needs_value and i + 1 < len(rest) else None)
            if rule is not None:
                new_value = rule.values.get(value, value) if value is not None else None
                if rule.old != rule.new:
                    shown = f"{rule.old} {value}" if rule.values and value in rule.values else rule.old
                    note(shown, f"{rule.new} {new_value}" if shown != rule.old else rule.new, where)
                elif value in rule.values:
                    note(f"{opt} {value}", f"{opt} {new_value}", where)
                opt, value = rule.new, new_value
            out += [opt] if value is None else [opt, value]
            i += 1 + (needs_value and value is not None)
            continue
        if key_value is not None and "=" in tok and not tok.startswith("="):
            note("a bare key=value argument", f"{key_value.new} key=value", where)
            out += [key_value.new, tok]
        elif file_rule is not None and positional == 0:
            note(f"`{where} {tok}` (config as an argument)", f"`{where} {file_rule.new} {tok}`")
            out += [file_rule.new, tok]
        else:
            out.append(tok)
        positional += 1
        i += 1
    return out
