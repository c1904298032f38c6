"""Issue 9 items 1, 7, 8, 10: datavet never deletes or replaces what it did not create; every output is
atomic; a folder being written is locked; plain I/O failures are exit 2 with a fix, not exit 3.

Tests run as root, so read-only folders and full disks are injected (monkeypatch), never made with chmod.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curate.cli import main as curate_main
from curate.io import OutputError, output_dir, write_hf, write_json, write_jsonl, write_text
from curate.io.outputs import LOCK, MARKER, write_marker

REPO = Path(__file__).resolve().parents[2]


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _run_cfg(tmp_path: Path, data: Path, out: Path) -> Path:
    cfg = tmp_path / "run.yaml"
    cfg.write_text(f"input:\n  path: {data}\nout: {out}\nfail_on: never\nreport: false\n", encoding="utf-8")
    return cfg


# --- item 1: an existing folder is never deleted ---------------------------------------------------------

def test_json_output_onto_a_folder_is_refused_and_the_folder_survives(run_main, data_file, tmp_path, capsys):
    v = tmp_path / "v"
    (v / "sub").mkdir(parents=True)
    (v / "sub" / "keep.txt").write_text("mine")
    assert run_main(curate_main, ["check", str(data_file), "--json", str(v), "--fail-on", "never"]) == 2
    assert "never replaces a folder" in capsys.readouterr().err
    assert (v / "sub" / "keep.txt").read_text() == "mine"


def test_json_output_dot_does_not_touch_the_working_directory(run_main, data_file, tmp_path, monkeypatch):
    (tmp_path / "precious.txt").write_text("keep")
    before = _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert run_main(curate_main, ["check", str(data_file), "--json", ".", "--fail-on", "never"]) == 2
    assert _tree(tmp_path) == before


@pytest.mark.parametrize("overwrite", [False, True])
def test_export_into_a_foreign_folder_is_refused_even_with_overwrite(
    run_main, data_file, tmp_path, overwrite
):
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "notes.md").write_text("not datavet's")
    argv = ["export", str(data_file), str(v2)] + (["--overwrite"] if overwrite else [])
    assert run_main(curate_main, argv) == 2
    assert _tree(v2) == {"notes.md": b"not datavet's"}


def test_export_replaces_its_own_hf_folder_only_with_overwrite(run_main, data_file, tmp_path, capsys):
    out = tmp_path / "hf"
    assert run_main(curate_main, ["export", str(data_file), str(out)]) == 0
    assert (out / MARKER).is_file() and (out / "state.json").is_file()
    capsys.readouterr()
    assert run_main(curate_main, ["export", str(data_file), str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert run_main(curate_main, ["export", str(data_file), str(out), "--overwrite"]) == 0


def test_report_dir_of_another_program_is_refused(run_main, data_file, tmp_path):
    rep = tmp_path / "site"
    rep.mkdir()
    (rep / "index.html").write_text("<p>my own page</p>")
    assert (
        run_main(curate_main, ["check", str(data_file), "--report-dir", str(rep), "--fail-on", "never"]) == 2
    )
    assert (rep / "index.html").read_text() == "<p>my own page</p>"


def test_curate_run_refuses_foreign_folder_and_needs_overwrite_for_its_own(
    run_main, data_file, tmp_path, capsys
):
    out = tmp_path / "out"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    cfg = _run_cfg(tmp_path, data_file, out)
    assert run_main(curate_main, ["run", str(cfg), "--overwrite"]) == 2
    assert _tree(out) == {"thesis.tex": b"years of work"}

    mine = tmp_path / "mine"
    cfg = _run_cfg(tmp_path, data_file, mine)
    assert run_main(curate_main, ["run", str(cfg)]) == 0
    assert json.loads((mine / MARKER).read_text())["written_by"] == "curate run"
    with output_dir(mine, overwrite=True):  # an earlier datavet output with a file this run does not write
        (mine / "stale.jsonl").write_text("from an earlier run")
    capsys.readouterr()
    assert run_main(curate_main, ["run", str(cfg)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert run_main(curate_main, ["run", str(cfg), "--overwrite"]) == 0
    assert not (mine / "stale.jsonl").exists() and (mine / "curated.jsonl").is_file()


def test_an_empty_existing_folder_is_used(tmp_path, data_file, run_main):
    out = tmp_path / "empty"
    out.mkdir()
    assert (
        run_main(curate_main, ["split", str(data_file), "--out", str(out), "--val", "0.34", "--test", "0.34"])
        == 0
    )
    assert (out / "manifest.json").is_file()


def test_write_hf_never_removes_a_foreign_folder(tmp_path, records):
    target = tmp_path / "ds"
    target.mkdir()
    (target / "x").write_text("x")
    with pytest.raises(OutputError, match="not written by datavet"):
        write_hf(records, target, overwrite=True)
    assert (target / "x").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]  # no temporary folder left behind


@pytest.fixture
def records() -> list[dict]:
    return [{"id": str(i), "text": f"t{i}", "label": "a", "group": None, "metadata": {}} for i in range(3)]


# --- item 10: a path that is a file or lies under a file, a read-only folder, a full disk -> exit 2 ---------

def test_output_under_a_file_is_exit_2(run_main, data_file, tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    assert run_main(curate_main, ["check", str(data_file), "--json", str(blocker / "c.json"),
                                  "--fail-on", "never"]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert run_main(curate_main, ["split", str(data_file), "--out", str(blocker / "s")]) == 2
    cfg = _run_cfg(tmp_path, data_file, blocker / "deeper" / "out")
    assert run_main(curate_main, ["run", str(cfg)]) == 2
    assert blocker.read_text() == "x"


def test_folder_output_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "out"
    f.write_text("a file")
    with pytest.raises(OutputError, match="not a folder"), output_dir(f):
        pass
    assert f.read_text() == "a file"


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES])
def test_read_only_folder_is_exit_2(run_main, data_file, tmp_path, monkeypatch, capsys, code):
    import curate.io.writers as writers

    def refuse(*a, **k):
        raise OSError(code, os.strerror(code), str(tmp_path / "ro"))

    monkeypatch.setattr(writers.tempfile, "mkstemp", refuse)
    assert run_main(curate_main, ["check", str(data_file), "--json", str(tmp_path / "ro" / "c.json"),
                                  "--fail-on", "never"]) == 2
    err = capsys.readouterr().err
    assert "read-only" in err or "permission denied" in err
    assert "How to fix" in err and "internal error" not in err


def test_full_disk_keeps_the_old_file_and_leaves_no_temporary(tmp_path, full_disk):
    target = tmp_path / "c.json"
    write_json({"old": True}, target)
    full_disk(after=5)
    with pytest.raises(OutputError, match="disk is full") as e:
        write_json({"new": "x" * 1000}, target)
    assert "free some space" in (e.value.fix or "")
    assert json.loads(target.read_text()) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]


def test_full_disk_through_the_cli_is_exit_2(run_main, data_file, tmp_path, full_disk, capsys):
    full_disk(after=50)
    assert run_main(curate_main, ["check", str(data_file), "--json", str(tmp_path / "c.json"),
                                  "--fail-on", "never"]) == 2
    assert "disk is full" in capsys.readouterr().err
    assert not (tmp_path / "c.json").exists()


def test_report_index_html_is_never_half_written(tmp_path, full_disk):
    """Item 7: the report writer goes through the atomic writer; a full disk keeps the previous page."""
    from common.render import write_report
    from schemas.report import Report

    rep = Report(title="t", kind="qa")
    paths = write_report(rep, tmp_path / "r")
    good = paths["html"].read_bytes()
    full_disk(after=100)
    with pytest.raises(OutputError):
        write_report(Report(title="new " * 500, kind="qa"), tmp_path / "r")
    assert paths["html"].read_bytes() == good


def test_finetune_summary_json_survives_a_full_disk(tmp_path, full_disk):
    """Item 7: finetune's summary.json goes through the atomic writer: a full disk keeps the previous one."""
    from types import SimpleNamespace

    from finetune.train import write_outputs
    from schemas.configs.train import TrainConfig

    cfg = TrainConfig(out=str(tmp_path))
    write_outputs(cfg, SimpleNamespace(model_dump_json=lambda indent: '{"steps": 1}'), "m")
    full_disk(after=3)
    with pytest.raises(OutputError, match="disk is full"):
        write_outputs(cfg, SimpleNamespace(model_dump_json=lambda indent: '{"steps": 2, "more": 1}'), "m")
    assert json.loads((tmp_path / "summary.json").read_text()) == {"steps": 1}


def test_evalsuite_json_survives_a_full_disk(run_main, tmp_path, full_disk, capsys):
    """Item 7: evalsuite's --json goes through the atomic writer (and a full disk is exit 2)."""
    from evalsuite.cli import main as eval_main

    refs = tmp_path / "refs.jsonl"
    refs.write_text("".join(json.dumps({"id": str(i), "text": f"t{i}", "label": "ab"[i % 2]}) + "\n"
                            for i in range(4)))
    preds = tmp_path / "preds.jsonl"
    preds.write_text("".join(json.dumps({"id": str(i), "prediction": "a"}) + "\n" for i in range(4)))
    out = tmp_path / "scores.json"
    out.write_text('{"earlier": true}')
    full_disk(after=10)
    argv = ["score", "--task", "classification", "--predictions", str(preds), "--references", str(refs),
            "--json", str(out)]
    assert run_main(eval_main, argv) == 2
    assert "disk is full" in capsys.readouterr().err
    assert json.loads(out.read_text()) == {"earlier": True}


def test_a_write_under_a_blocking_file_inside_the_writer_is_exit_2(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        write_text("y", tmp_path / "f" / "g" / "h.txt")


def test_unexpected_os_errors_still_say_internal(run_main, monkeypatch, data_file, tmp_path, capsys):
    """The exit-2 mapping is for errors the user can fix; anything else stays a visible bug (exit 3)."""
    import curate.io.writers as writers

    def boom(*a, **k):
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(writers.tempfile, "mkstemp", boom)
    assert run_main(curate_main, ["check", str(data_file), "--json", str(tmp_path / "c.json"),
                                  "--fail-on", "never"]) == 3


# --- item 8: a folder being written is locked ------------------------------------------------------------

_HOLDER = """
import sys, time
from pathlib import Path
from curate.io import output_dir
with output_dir(sys.argv[1], command="holder"):
    Path(sys.argv[2]).write_text("locked")
    while not Path(sys.argv[3]).exists():
        time.sleep(0.05)
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200", "NO_COLOR": "1"}


def _wait_for(path: Path, proc: subprocess.Popen, limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    while not path.exists():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else "holder exited"
        assert time.monotonic() < deadline, "the helper process never got going"
        time.sleep(0.05)


def test_second_concurrent_run_into_one_folder_fails_fast(tmp_path, data_file):
    out, ready, done = tmp_path / "out", tmp_path / "ready", tmp_path / "done"
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(out), str(ready), str(done)], env=_env(),
                              stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(ready, holder)
        cfg = _run_cfg(tmp_path, data_file, out)
        second = subprocess.run([sys.executable, "-m", "curate", "run", str(cfg), "--overwrite"], env=_env(),
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stderr
        assert "another datavet process is writing" in second.stderr
        assert not (out / "curated.jsonl").exists()  # the second run wrote nothing into the folder
    finally:
        done.write_text("")
        holder.wait(timeout=60)
    assert holder.returncode == 0
    # the lock dies with its holder: now the folder can be written (with --overwrite: it is datavet's)
    assert subprocess.run([sys.executable, "-m", "curate", "run", str(cfg), "--overwrite"], env=_env(),
                          capture_output=True, text=True, timeout=120).returncode == 0
    assert (out / LOCK).exists() and (out / "curated.jsonl").is_file()


def test_lock_is_released_when_the_holder_is_killed(tmp_path):
    out, ready = tmp_path / "out", tmp_path / "ready"
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(out), str(ready), str(tmp_path / "never")],
                              env=_env(), stderr=subprocess.PIPE, text=True)
    _wait_for(ready, holder)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=60)
    with output_dir(out, overwrite=True) as claimed:
        assert claimed == out


# --- SIGKILL during a write: never a half-written final output ---------------------------------------------

_WRITER = """
import sys
from curate.io import write_jsonl
def rows():
    for i in range(10**9):
        yield {"id": str(i), "text": "x" * 200}
write_jsonl(rows(), sys.argv[1])
"""


def test_sigkill_during_a_write_leaves_the_old_file_whole(tmp_path):
    target = tmp_path / "data.jsonl"
    write_jsonl([{"id": "old"}], target)
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(target)], env=_env(), stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    # wait until the temporary file holds data (the write is under way), then kill
    while not any(
        p.name.startswith(".data.jsonl.") and p.stat().st_size > 100_000 for p in tmp_path.iterdir()
    ):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert target.read_text() == '{"id": "old"}\n'
    write_jsonl([{"id": "new"}], target)  # the next run is unaffected by the leftover temporary
    assert target.read_text() == '{"id": "new"}\n'


# --- finetune run and evalsuite compare use the same guard -------------------------------------------------

def test_finetune_run_refuses_a_foreign_folder_before_training(tmp_path, run_main, capsys):
    from finetune.cli import main as finetune_main

    model = tmp_path / "m"
    model.mkdir()
    (model / "config.json").write_text('{"max_position_embeddings": 512}')
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    argv = ["run", "--model", str(model), "--data", str(tmp_path / "splits"), "--out", str(out)]
    assert run_main(finetune_main, [*argv, "--overwrite"]) == 2
    assert "not written by datavet" in capsys.readouterr().err
    assert _tree(out) == {"notes.txt": b"mine"}
    # an earlier run's folder needs --overwrite; --resume continues in it without one
    out.joinpath("notes.txt").unlink()
    out.joinpath("summary.json").write_text("{}")
    write_marker(out, "finetune run")
    assert run_main(finetune_main, argv) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert run_main(finetune_main, [*argv, "--resume"]) == 2  # gets past the guard, then: no split files
    assert "earlier datavet output" not in capsys.readouterr().err


def test_compare_report_dir_of_another_program_is_refused_before_models_load(tmp_path, run_main, capsys):
    from evalsuite.cli import main as eval_main

    rep = tmp_path / "site"
    rep.mkdir()
    (rep / "index.html").write_text("mine")
    argv = ["compare", "--base", "nonexistent", "--tuned", "nonexistent", "--data", "x.jsonl",
            "--report-dir", str(rep), "--overwrite"]
    assert run_main(eval_main, argv) == 2
    assert "not written by datavet" in capsys.readouterr().err
    assert (rep / "index.html").read_text() == "mine"


def test_demo_replaces_only_an_earlier_demo(tmp_path, monkeypatch):
    import evalsuite.demo as demo

    def fake_demo(out, quick, seed, sizes, precision):
        (out / "index.html").write_text("new")
        if not calls:
            (out / "stale.txt").write_text("from the first demo")
        calls.append(out)
        return 0

    calls: list[Path] = []
    monkeypatch.setattr(demo, "_run_demo", fake_demo)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "stuff.txt").write_text("mine")
    with pytest.raises(OutputError, match="not written by datavet"):
        demo.run_demo(foreign)
    assert _tree(foreign) == {"stuff.txt": b"mine"}
    ours = tmp_path / "demo"
    assert demo.run_demo(ours) == 0 and (ours / "stale.txt").is_file()
    assert demo.run_demo(ours) == 0  # its own earlier output: replaced without asking
    assert not (ours / "stale.txt").exists() and (ours / "index.html").read_text() == "new"
    (ours / "notes.md").write_text("my notes on the demo")  # but a file placed there by hand stays
    with pytest.raises(OutputError, match=r"notes\.md"):
        demo.run_demo(ours)
    assert (ours / "notes.md").read_text() == "my notes on the demo" and (ours / "index.html").is_file()
    legacy = tmp_path / "legacy"  # a demo folder written before folders were marked
    legacy.mkdir()
    (legacy / "stages.json").write_text("[]")
    assert demo.run_demo(legacy) == 0 and not (legacy / "stages.json").exists()


def test_finetune_sweep_refuses_a_foreign_folder(tmp_path, run_main, capsys):
    from finetune.cli import main as finetune_main

    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert run_main(finetune_main, ["sweep", "--out", str(out), "--lr", "1e-3,1e-4", "--overwrite"]) == 2
    assert "not written by datavet" in capsys.readouterr().err
    assert _tree(out) == {"notes.txt": b"mine"}


def test_a_failed_command_leaves_no_empty_output_folder(tmp_path, run_main):
    out = tmp_path / "new-report"
    assert run_main(curate_main, ["check", str(tmp_path / "missing.jsonl"), "--report-dir", str(out)]) == 2
    assert not out.exists()
    kept = tmp_path / "kept"
    kept.mkdir()  # an empty folder the user made is used, and left in place when the command fails
    assert run_main(curate_main, ["check", str(tmp_path / "missing.jsonl"), "--report-dir", str(kept)]) == 2
    assert kept.is_dir() and list(kept.iterdir()) == []


def test_the_python_api_run_claims_its_folder_like_the_cli(tmp_path) -> None:
    from common.outputs import OutputError
    from finetune.api import run

    foreign = tmp_path / "theirs"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    # refused by the folder claim itself, before the (missing) data is even looked at
    with pytest.raises(OutputError):
        run(
            {"model": "minilm", "data": {"split_dir": str(tmp_path / "none")}, "out": str(foreign)},
            overwrite=True,
        )
    assert (foreign / "notes.txt").read_text() == "keep me"
