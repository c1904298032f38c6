"""The shared option declarations (common/options.py): every command declares the vocabulary's options
(`--config`, `--set`, `--out`, `--overwrite`, `--json`, `--fail-on`, the hidden `--limit`) through the one
shared function, and an option group puts its options in the command's place and hands back their values."""

from __future__ import annotations

import inspect
import json
import typing
from pathlib import Path

import pytest
import typer
import typer.main
from typer.models import OptionInfo

import curate.cli
import evalsuite.cli
import finetune.cli
from common.options import OptionGroup, declared_word, grouped, resolve_config

APPS = {"curate": curate.cli.app, "finetune": finetune.cli.app, "evalsuite": evalsuite.cli.app}
WORDS = {"--config", "--set", "--out", "--overwrite", "--json", "--fail-on", "--limit", "--precision"}
# Same spelling, another idea: `curate checks --json` is a flag (print the list on stdout), not a file.
NOT_THE_WORD = {("curate", "checks", "--json")}


def _commands():
    for tool, app in APPS.items():
        group = typer.main.get_command(app)
        for info in app.registered_commands:
            name = info.name or info.callback.__name__.replace("_", "-")
            yield tool, name, info.callback, group.commands[name]


COMMANDS = list(_commands())


def _option_infos(callback) -> dict[str, OptionInfo]:
    """The typer OptionInfo of each option parameter, as the command declares it (groups spliced in)."""
    out = {}
    for p in inspect.signature(callback, eval_str=True).parameters.values():
        if typing.get_origin(p.annotation) is typing.Annotated:
            infos = [m for m in p.annotation.__metadata__ if isinstance(m, OptionInfo)]
            if infos:
                out[p.name] = infos[0]
    return out


def _first_decl(info: OptionInfo) -> str:
    decls = [info.default, *(info.param_decls or ())] if isinstance(info.default, str) else info.param_decls
    return decls[0]


def test_every_command_was_found():
    found = {(t, n) for t, n, *_ in COMMANDS}
    assert found >= {("curate", "check"), ("curate", "run"), ("finetune", "sweep"), ("evalsuite", "cv"),
                     ("evalsuite", "compare")}


@pytest.mark.parametrize(("tool", "name", "callback", "command"), COMMANDS,
                         ids=[f"{t}-{n}" for t, n, *_ in COMMANDS])
def test_the_vocabulary_options_come_from_the_shared_declarations(tool, name, callback, command):
    infos = _option_infos(callback)
    shared = {declared_word(i) for i in infos.values()} - {None}
    for info in infos.values():
        word = _first_decl(info)
        if word in WORDS and (tool, name, word) not in NOT_THE_WORD:
            assert declared_word(info) == word, f"{tool} {name}: {word} is not from common.options"
    # what click shows is what was declared: no vocabulary option slipped in another way
    shown = {o for p in command.params for o in getattr(p, "opts", []) if o in WORDS}
    assert shown - {w for t, n, w in NOT_THE_WORD if (t, n) == (tool, name)} == shared


def test_the_commands_that_take_a_config_all_take_set_and_the_loader_options_are_one_group():
    with_config = {(t, n) for t, n, cb, _ in COMMANDS
                   if "--config" in {declared_word(i) for i in _option_infos(cb).values()}}
    assert {("curate", "check"), ("curate", "run"), ("finetune", "run"), ("finetune", "sweep"),
            ("evalsuite", "cv"), ("evalsuite", "compare"), ("evalsuite", "score"),
            ("evalsuite", "ablate")} <= with_config
    from curate.commands.options import LOADER

    for _, name, _, command in [c for c in COMMANDS if c[0] == "curate" and c[1] in ("check", "split")]:
        opts = [p.name for p in command.params]
        start = opts.index("kind")
        assert opts[start: start + len(LOADER.options)] == list(LOADER.options), name


def _tiny_app():
    app = typer.Typer(add_completion=False)
    seen = {}
    knobs = OptionGroup(
        steps=(typing.Annotated[int, typer.Option("--steps", help="Steps.")], 3),
        rate=(typing.Annotated[typing.Optional[float], typer.Option("--rate", help="Rate.")], None),
    )

    @app.command()
    @grouped
    def train(name: typing.Annotated[str, typer.Argument()], knobs: dict = knobs,
              last: typing.Annotated[bool, typer.Option("--last", help="Last.")] = False) -> None:
        """Train NAME."""
        seen.update(name=name, knobs=knobs, last=last)

    return app, seen


def test_a_group_stands_in_its_parameters_place_and_hands_back_its_values():
    from typer.testing import CliRunner

    app, seen = _tiny_app()
    res = CliRunner().invoke(app, ["x", "--rate", "0.5", "--last"])
    assert res.exit_code == 0, res.output
    assert seen == {"name": "x", "knobs": {"steps": 3, "rate": 0.5}, "last": True}
    params = [p.name for p in typer.main.get_command(app).params]
    assert params == ["name", "steps", "rate", "last"]
    help_text = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "120"}).output
    assert help_text.index("--steps") < help_text.index("--rate") < help_text.index("--last")
    assert "Train NAME." in help_text


def test_a_group_refuses_a_name_twice_and_an_unknown_option():
    group = OptionGroup(seed=(typing.Annotated[int, typer.Option("--seed")], 0))
    with pytest.raises(ValueError, match="not options of this group"):
        group.without("nope")

    def command(seed: int = 0, knobs: dict = group) -> None: ...

    with pytest.raises(ValueError, match="declared twice: \\['seed'\\]"):
        grouped(command)


def test_resolve_config_flags_win_unless_set_wins(tmp_path: Path):
    from schemas.configs.train import TrainConfig

    y = tmp_path / "c.yaml"
    y.write_text("model: minilm\nbatch_size: 4\nepochs: 1\n")
    flags = {"batch_size": 8, "epochs": None}
    cfg = resolve_config(TrainConfig, y, ["batch_size=16"], flags)
    assert cfg.batch_size == 8 and cfg.epochs == 1  # a flag wins over --set; None sets nothing
    cfg = resolve_config(TrainConfig, y, ["batch_size=16"], flags, sets_win=True)
    assert cfg.batch_size == 16 and cfg.model == "minilm"


def test_loader_fields_leave_defaults_to_the_config_and_fold_limit_into_head(capsys):
    from curate.commands.options import LOADER, loader_fields
    from schemas.records import RecordKind

    values = {name: default for name, (_, default) in LOADER.options.items()}
    assert set(loader_fields(values).values()) == {None}  # nothing given: a config file's values stand
    given = loader_fields({**values, "kind": RecordKind.chat, "format": "csv", "limit": 5})
    assert given["kind"] == "chat" and given["format"] == "csv" and given["head"] == 5
    assert "limit" not in given and "deprecated" in capsys.readouterr().err


def test_curate_export_reads_with_the_grouped_loader_options(run_main, capsys, tmp_path: Path):
    src = tmp_path / "in.csv"
    src.write_text("body,topic\n" + "".join(f"row {i},t{i % 2}\n" for i in range(6)), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    rc = run_main(curate.cli.main, ["export", str(src), str(out), "--text-field", "body", "--label-field",
                                    "topic", "--head", "4"])
    assert rc == 0, capsys.readouterr().err
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["text"], r["label"]) for r in rows] == [(f"row {i}", f"t{i % 2}") for i in range(4)]
