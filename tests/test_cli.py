"""The three CLIs: --help and --version, one error panel with a fix, exit codes 0/1/2/3, --debug
tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import common.cli
import curate.cli
import evalsuite.cli
import finetune.cli

MAINS = {"curate": curate.cli.main, "finetune": finetune.cli.main, "evalsuite": evalsuite.cli.main}


@pytest.fixture
def clean_jsonl(tmp_path: Path) -> Path:
    p = tmp_path / "clean.jsonl"
    rows = [{"text": f"sentence number {i} about topic {i % 3}", "label": "ab"[i % 2]} for i in range(8)]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return p


@pytest.fixture
def broken_jsonl(tmp_path: Path) -> Path:
    p = tmp_path / "broken.jsonl"
    p.write_text('{"text": "fine", "label": "a"}\n{"text": "cut off\n', encoding="utf-8")
    return p


@pytest.mark.parametrize("prog", sorted(MAINS))
def test_version(prog: str, run_main, capsys) -> None:
    assert run_main(MAINS[prog], ["--version"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{prog} (datavet) ") and out.strip().split()[-1][0].isdigit()


@pytest.mark.parametrize("prog", sorted(MAINS))
def test_help(prog: str, run_main, capsys) -> None:
    assert run_main(MAINS[prog], ["--help"]) == 0
    out = capsys.readouterr().out
    assert f"Usage: {prog}" in out and "--version" in out and "--debug" in out


@pytest.mark.parametrize("prog", sorted(MAINS))
def test_python_dash_m_version(prog: str, run_module) -> None:
    r = run_module(prog, "--version")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"{prog} (datavet) ")


def test_curate_check_help_lists_contract_options(run_main, capsys) -> None:
    assert run_main(curate.cli.main, ["check", "--help"]) == 0
    out = capsys.readouterr().out
    for opt in (
        "--json",
        "--fail-on",
        "--kind",
        "--text-field",
        "--label-field",
        "--encoding",
        "--head",
        "--sample",
    ):
        assert opt in out


def test_missing_file_is_one_panel_with_a_fix_and_exit_2(run_main, capsys, tmp_path: Path) -> None:
    assert run_main(curate.cli.main, ["check", str(tmp_path / "nope.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "nope.jsonl does not exist" in err
    assert "How to fix:" in err and "bundled:tweets" in err
    assert err.count("╭") == 1  # one panel
    assert "Traceback" not in err


def test_unknown_option_is_a_usage_panel_exit_2(run_main, capsys) -> None:
    assert run_main(curate.cli.main, ["check", "--bogus"]) == 2
    err = capsys.readouterr().err
    assert "No such option: --bogus" in err
    assert "curate check --help" in err and "internal error" not in err


def test_missing_argument_exit_2(run_main, capsys) -> None:
    # DATA is optional for `check` (a --config may name it), so the command itself says what is missing.
    assert run_main(curate.cli.main, ["check"]) == 2
    err = capsys.readouterr().err
    assert "no data to check" in err and "usage error" in err


def test_missing_click_argument_exit_2(run_main, capsys) -> None:
    assert run_main(curate.cli.main, ["export"]) == 2
    assert "Missing argument" in capsys.readouterr().err


def test_unknown_command_exit_2(run_main, capsys) -> None:
    assert run_main(finetune.cli.main, ["no-such-command"]) == 2
    assert "No such command" in capsys.readouterr().err


def test_missing_column_names_columns_found_exit_2(run_main, capsys, tmp_path: Path) -> None:
    p = tmp_path / "cols.csv"
    p.write_text("body,topic\nhello,a\n", encoding="utf-8")
    assert run_main(curate.cli.main, ["check", str(p), "--kind", "classification"]) == 2
    err = capsys.readouterr().err
    assert "columns found: body, topic" in err and "--text-field" in err


def test_bad_gate_level_exit_2(run_main, capsys, clean_jsonl: Path) -> None:
    assert run_main(curate.cli.main, ["check", str(clean_jsonl), "--fail-on", "sometimes"]) == 2
    assert "not a gate level" in capsys.readouterr().err


def test_failed_gate_exits_1_and_passing_exits_0(run_main, capsys, broken_jsonl: Path) -> None:
    assert run_main(curate.cli.main, ["check", str(broken_jsonl)]) == 1
    assert "quality gate failed" in capsys.readouterr().err
    assert run_main(curate.cli.main, ["check", str(broken_jsonl), "--fail-on", "never"]) == 0


def test_internal_error_exit_3_and_debug_shows_traceback(
    run_main, capsys, monkeypatch, clean_jsonl: Path
) -> None:
    import curate.io

    def boom(*a, **k):
        raise RuntimeError("planted failure")

    monkeypatch.setattr(curate.io, "load", boom)
    assert run_main(curate.cli.main, ["check", str(clean_jsonl)]) == 3
    err = capsys.readouterr().err
    assert "internal error" in err and "RuntimeError: planted failure" in err and "--debug" in err
    with pytest.raises(RuntimeError, match="planted failure"):
        common.cli.run_app(curate.cli.app, "curate", ["check", str(clean_jsonl), "--debug"])


def test_debug_reraises_user_errors_with_traceback(run_module, tmp_path: Path) -> None:
    r = run_module("curate", "check", str(tmp_path / "nope.jsonl"), "--debug")
    assert r.returncode != 0
    assert "Traceback (most recent call last)" in r.stderr and "DataUsageError" in r.stderr
    r = run_module("curate", "check", str(tmp_path / "nope.jsonl"))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "does not exist" in r.stderr


def test_check_json_contract(run_main, capsys, tmp_path: Path) -> None:
    """The keys docs/json-contract.md promises, with the rows_read invariant and the schema findings."""
    p = tmp_path / "mixed.jsonl"
    p.write_text(
        '{"id": "a", "text": "one", "label": "x"}\n{bad\n{"text": "two"}\n{"id": "d", "text": "three", '
        '"label": "y"}\n',
        encoding="utf-8",
    )
    out = tmp_path / "out" / "report.json"
    assert run_main(curate.cli.main, ["check", str(p), "--json", str(out)]) == 1
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["version"] == 1
    inp = doc["input"]
    assert {"path", "format", "encoding", "kind", "rows_read", "rows_loaded", "rows_quarantined",
            "quarantine_reasons", "encoding_note"} <= set(inp)
    assert (inp["rows_read"], inp["rows_loaded"], inp["rows_quarantined"]) == (4, 2, 2)
    assert inp["quarantine_reasons"] == {"malformed_json": 1, "missing_field": 1}
    schema = next(c for c in doc["checks"] if c["name"] == "schema")
    assert schema["status"] == "fail" and schema["count"] == 2
    assert {"name", "status", "count", "description", "message", "summary", "findings"} <= set(schema)
    by_reason = {f["reason"]: f for f in schema["findings"]}
    bad = by_reason["malformed_json"]
    assert (bad["id"], bad["line"], bad["row"], bad["raw"], bad["severity"]) == ("1", 2, 1, "{bad", "error")
    assert by_reason["missing_field"]["id"] == "2"
    for c in doc["checks"]:
        assert c["status"] in {"pass", "warn", "fail", "error", "not_run", "not_applicable"}
        for f in c["findings"]:
            assert {"id", "reason", "severity"} <= set(f)


def test_export_bundled_chat(run_main, capsys, tmp_path: Path) -> None:
    out = tmp_path / "chat.jsonl"
    assert (
        run_main(curate.cli.main, ["export", "bundled:chat", str(out), "--kind", "chat", "--limit", "30"])
        == 0
    )
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 30 and all(r["messages"][0]["role"] == "user" for r in rows)


def test_export_rejects_unknown_output_extension_before_loading(run_main, capsys, tmp_path: Path) -> None:
    assert run_main(curate.cli.main, ["export", "bundled:chat", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert ".csv" in err and ".jsonl or .parquet" in err
    assert not (tmp_path / "x.csv").exists()
