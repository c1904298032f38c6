"""One vocabulary across curate, finetune and evalsuite (README "Vocabulary"): every option has help with its
default, the shared words are used everywhere, the old spellings still work with a one-line note, and
`curate checks` lists every check with its parameters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer.main
import yaml

import curate.cli
import evalsuite.cli
import finetune.cli
from common.deprecation import rewrite_args

TOOLS = {"curate": curate.cli, "finetune": finetune.cli, "evalsuite": evalsuite.cli}
COMMANDS = [(tool, name) for tool, mod in TOOLS.items() for name in typer.main.get_command(mod.app).commands]
OLD_WORDS = ("--task", "--report-dir", "-c")
# Commands that read records of some kind, and commands that write an output folder.
KIND_COMMANDS = {("curate", "check"), ("curate", "export"), ("curate", "split"), ("finetune", "run"),
                 ("finetune", "sweep"), ("evalsuite", "cv"), ("evalsuite", "compare"), ("evalsuite", "score"),
                 ("evalsuite", "perplexity")}
OUT_COMMANDS = {("curate", "check"), ("curate", "run"), ("curate", "split"), ("finetune", "run"),
                ("finetune", "sweep"), ("evalsuite", "cv"), ("evalsuite", "compare"), ("evalsuite", "demo")}


@pytest.fixture(autouse=True)
def _fresh_notes():
    from schemas.deprecation import reset_notes

    reset_notes()


def _command(tool: str, name: str):
    return typer.main.get_command(TOOLS[tool].app).commands[name]


def _says_default(p) -> bool:
    """typer prints `[default: X]` for a non-None default; otherwise the help text must name it."""
    shown = p.show_default is not False and p.default is not None and not (p.is_flag and p.default is False)
    return shown or p.required or "default" in (p.help or "").lower()


def test_the_command_list_is_complete():
    assert {("curate", "check"), ("curate", "checks"), ("curate", "run"), ("finetune", "run"),
            ("evalsuite", "compare"), ("evalsuite", "cv"), ("evalsuite", "demo")} <= set(COMMANDS)


@pytest.mark.parametrize(("tool", "name"), COMMANDS)
def test_every_option_has_help_with_its_default_and_the_shared_words(tool, name, run_main, capsys):
    assert run_main(TOOLS[tool].main, [name, "--help"]) == 0
    text = capsys.readouterr().out
    assert "<bool>" not in text
    cmd = _command(tool, name)
    options = [p for p in cmd.params if p.param_type_name == "option" and not p.hidden and p.name != "help"]
    names = {o for p in options for o in p.opts + p.secondary_opts}
    for p in options:
        assert (p.help or "").strip(), f"{tool} {name} {p.opts[0]} has no help"
        assert _says_default(p), f"{tool} {name} {p.opts[0]}: the help does not say the default"
        assert p.opts[0] in text
    assert not names & set(OLD_WORDS), f"{tool} {name} still shows an old spelling"
    if "--config" in names:
        assert "--set" in names, f"{tool} {name} takes --config but no --set"
    if (tool, name) in KIND_COMMANDS:
        assert "--kind" in names
    if (tool, name) in OUT_COMMANDS:
        assert "--out" in names
    if "--fail-on" in names:
        assert "fail" in text and "warn" in text and "never" in text


def test_old_spellings_are_rewritten_with_one_note_each(capsys):
    group = typer.main.get_command(finetune.cli.app)
    args = rewrite_args(group, ["run", "--task", "sft", "optim.lr=1e-4", "--max-steps", "3", "seed=2"],
                        finetune.cli.DEPRECATED, "finetune")
    assert args == [
        "run",
        "--kind",
        "completion",
        "--set",
        "optim.lr=1e-4",
        "--max-steps",
        "3",
        "--set",
        "seed=2",
    ]
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("deprecated" in line for line in err)
    assert "--task sft" in err[0] and "--kind completion" in err[0]
    group = typer.main.get_command(curate.cli.app)
    assert rewrite_args(group, ["check", "d.jsonl", "-c", "a=1", "--report-dir", "r", "--fail-on=warning"],
                        curate.cli.DEPRECATED, "curate") == \
        ["check", "d.jsonl", "--set", "a=1", "--out", "r", "--fail-on", "warn"]
    assert rewrite_args(group, ["run", "cfg.yaml", "--set", "out=x"], curate.cli.DEPRECATED, "curate") == \
        ["run", "--config", "cfg.yaml", "--set", "out=x"]
    # new spellings, and a value that merely contains `=` after an option, pass untouched
    same = ["run", "--config", "c.yaml", "--set", "a=b", "--data", "x=y/"]
    assert rewrite_args(typer.main.get_command(finetune.cli.app), same, finetune.cli.DEPRECATED) == same


def _clean(tmp_path: Path) -> Path:
    p = tmp_path / "clean.jsonl"
    rows = [{"text": f"sentence number {i} about topic {i % 3}", "label": "ab"[i % 2]} for i in range(12)]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return p


def test_old_curate_check_spellings_still_work_end_to_end(run_main, capsys, tmp_path):
    data = _clean(tmp_path)
    rc = run_main(curate.cli.main, ["check", str(data), "--report-dir", str(tmp_path / "old"), "-c",
                                    "checks.length.min_chars=2", "--fail-on", "warning"])
    out, err = capsys.readouterr()
    assert (tmp_path / "old" / "index.html").is_file()
    assert rc == (1 if "warn" in out or "fail" in out else 0)
    notes = [line for line in err.splitlines() if "deprecated" in line]
    assert len(notes) == 3 and any("--report-dir" in n and "--out" in n for n in notes)
    # the same check in the new words writes the same verdict, without notes
    rc_new = run_main(curate.cli.main, ["check", str(data), "--out", str(tmp_path / "new"), "--set",
                                        "checks.length.min_chars=2", "--fail-on", "warn"])
    assert rc_new == rc and "deprecated" not in capsys.readouterr().err


def test_fail_on_levels_new_and_old(run_main, capsys, tmp_path):
    data = _clean(tmp_path)  # 12 rows, 2 labels: class_balance warns (fewer than 10 rows per class)
    json_out = tmp_path / "c.json"
    run_main(curate.cli.main, ["check", str(data), "--json", str(json_out), "--fail-on", "never"])
    statuses = {c["status"] for c in json.loads(json_out.read_text())["checks"]}
    assert statuses <= {"pass", "warn", "fail", "error", "not_run", "not_applicable"}
    failing = bool(statuses & {"fail", "error"})
    warned = failing or "warn" in statuses
    assert run_main(curate.cli.main, ["check", str(data), "--fail-on", "fail"]) == int(failing)
    assert run_main(curate.cli.main, ["check", str(data), "--fail-on", "warn"]) == int(warned)
    assert run_main(curate.cli.main, ["check", str(data), "--fail-on", "error"]) == int(failing)


def test_config_keys_use_the_new_words_and_the_old_ones_still_load(capsys, tmp_path):
    from schemas.configs.base import load_config
    from schemas.configs.curate import CurateConfig
    from schemas.configs.train import TrainConfig

    old = tmp_path / "old.yaml"
    old.write_text("task: sft\nmodel: smollm2\n")
    cfg = load_config(TrainConfig, old)
    assert (cfg.kind, cfg.task) == ("completion", "sft")
    assert "config key `task` is deprecated" in capsys.readouterr().err
    dumped = cfg.model_dump(mode="json")
    assert dumped["kind"] == "completion" and dumped["task"] == "sft"  # old readers still find `task`
    assert TrainConfig.model_validate(dumped) == cfg  # a written config.yaml loads back as is
    gate = load_config(CurateConfig, overrides={"input.path": "x.jsonl", "fail_on": "warning"})
    assert gate.fail_on == "warn"


def test_curate_run_takes_its_config_as_an_option_and_still_as_an_argument(run_main, capsys, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        yaml.safe_dump({"input": {"path": str(_clean(tmp_path))}, "fail_on": "never", "report": False})
    )
    assert run_main(curate.cli.main, ["run", "--config", str(cfg), "--out", str(tmp_path / "new")]) == 0
    assert run_main(curate.cli.main, ["run", str(cfg), "--out", str(tmp_path / "old")]) == 0
    assert "deprecated" in capsys.readouterr().err
    new = json.loads((tmp_path / "new" / "manifest.json").read_text())
    assert new["argv"][:3] == ["curate", "run", "--config"] and new["config"]["fail_on"] == "never"
    old = json.loads((tmp_path / "old" / "manifest.json").read_text())
    assert old["argv"][:4] == ["curate", "run", "--config", str(cfg)]  # recorded in the new spelling


def test_curate_checks_lists_every_check_with_its_description_and_parameters(run_main, capsys):
    from curate.checks import REGISTRY

    assert run_main(curate.cli.main, ["checks"]) == 0
    out = capsys.readouterr().out
    for name, cls in REGISTRY.items():
        assert f"{name}  (" in out and cls.description in out
        for param in cls.Params.model_fields:
            assert f"checks.{name}.{param}:" in out
    assert "opt-in: --enable semantic_duplicate" in out
    assert run_main(curate.cli.main, ["checks", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in listed][: len(REGISTRY)] == list(REGISTRY)


def test_compare_without_a_kind_on_classification_data_says_so(run_main, capsys, tmp_path):
    data = _clean(tmp_path)
    rc = run_main(
        evalsuite.cli.main, ["compare", "--base", "minilm", "--tuned", str(tmp_path), "--data", str(data)]
    )
    err = capsys.readouterr().err
    assert rc == 2
    assert (
        "kind: classification (inferred" in err and "classification records" in err and "--train-data" in err
    )
    assert "--prompt-field" not in err
    # the wrong kind named explicitly: the fix names compare's own option, not the loader's field options
    rc = run_main(
        evalsuite.cli.main,
        [
            "compare",
            "--base",
            "minilm",
            "--tuned",
            str(tmp_path),
            "--data",
            str(data),
            "--kind",
            "completion",
        ],
    )
    err = capsys.readouterr().err
    assert rc == 2 and "holds classification records, not completion records" in err
    assert "--kind classification" in err and "--prompt-field" not in err
