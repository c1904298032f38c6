"""`--overwrite` deletes only what datavet wrote: the marker of an output folder lists every file and folder
datavet wrote there, and a folder that holds anything else (a file placed there by hand) is refused, exit 2,
with nothing deleted. Includes a property test over random sets of datavet-written and user-placed paths.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.outputs import MARKER, OutputError, continued_dir, output_dir, replace_dir
from curate.cli import main as curate_main

REPO = Path(__file__).resolve().parents[2]


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _listed(folder: Path) -> list[str]:
    return json.loads((folder / MARKER).read_text())["entries"]


def _run_cfg(tmp_path: Path, data: Path, out: Path) -> Path:
    cfg = tmp_path / "run.yaml"
    cfg.write_text(f"input:\n  path: {data}\nout: {out}\nfail_on: never\nreport: true\n", encoding="utf-8")
    return cfg


def test_curate_run_lists_what_it_wrote_and_reruns_with_overwrite(run_main, data_file, tmp_path):
    out = tmp_path / "out"
    cfg = _run_cfg(tmp_path, data_file, out)
    assert run_main(curate_main, ["run", str(cfg)]) == 0
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                     if p.name not in (MARKER, ".datavet-output.lock"))
    assert _listed(out) == on_disk and "curated.jsonl" in on_disk
    first = _tree(out)
    assert run_main(curate_main, ["run", str(cfg), "--overwrite"]) == 0
    second = _tree(out)
    assert second.pop("manifest.json") != first.pop("manifest.json")  # it records the argv (--overwrite)
    assert second == first  # otherwise the same inputs give the same folder, marker included


def test_a_user_file_in_a_curate_run_folder_survives_overwrite(run_main, data_file, tmp_path, capsys):
    out = tmp_path / "out"
    cfg = _run_cfg(tmp_path, data_file, out)
    assert run_main(curate_main, ["run", str(cfg)]) == 0
    (out / "notes.md").write_text("my notes")
    before = _tree(out)
    capsys.readouterr()
    for extra in ([], ["--overwrite"]):
        assert run_main(curate_main, ["run", str(cfg), *extra]) == 2
        err = capsys.readouterr().err
        assert "notes.md" in err and "datavet did not write" in err and "move them out" in err
        assert _tree(out) == before  # nothing deleted, datavet's own files included
    (out / "notes.md").rename(tmp_path / "notes.md")  # the fix the message gives
    assert run_main(curate_main, ["run", str(cfg), "--overwrite"]) == 0


def test_a_user_file_inside_a_datavet_subfolder_is_found(tmp_path):
    out = tmp_path / "out"
    with output_dir(out):
        (out / "model").mkdir()
        (out / "model" / "weights.bin").write_bytes(b"w")
    (out / "model" / "my-copy.safetensors").write_bytes(b"mine")
    with pytest.raises(OutputError, match=r"model/my-copy\.safetensors"), output_dir(out, overwrite=True):
        pass
    assert (out / "model" / "my-copy.safetensors").read_bytes() == b"mine"
    assert (out / "model" / "weights.bin").read_bytes() == b"w"


@pytest.mark.parametrize("argv", [["split", "{data}", "--out", "{out}", "--val", "0.34", "--test", "0.34"],
                                  ["export", "{data}", "{out}"]])
def test_swapped_in_folders_keep_a_user_file(run_main, data_file, tmp_path, capsys, argv):
    """`curate split` and `curate export` to an HF folder build beside the target and swap it in
    (`replace_dir`): the swap happens only when the old folder holds nothing unlisted."""
    out = tmp_path / "out"
    argv = [a.format(data=data_file, out=out) for a in argv]
    assert run_main(curate_main, argv) == 0
    assert run_main(curate_main, [*argv, "--overwrite"]) == 0  # a pure datavet folder: replaced
    (out / "notes.md").write_text("mine")
    before = _tree(out)
    capsys.readouterr()
    assert run_main(curate_main, [*argv, "--overwrite"]) == 2
    assert "notes.md" in capsys.readouterr().err
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.jsonl", "out"]  # no temporary folder left


def test_a_marker_from_an_earlier_version_is_refused_unless_the_folder_is_empty(tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    (old / MARKER).write_text('{"written_by": "curate run"}\n')  # no list: datavet's own files are unknown
    (old / "curated.jsonl").write_text("{}\n")
    with pytest.raises(OutputError, match="earlier datavet version") as e, output_dir(old, overwrite=True):
        pass
    assert "delete the folder yourself" in (e.value.fix or "")
    assert (old / "curated.jsonl").read_text() == "{}\n"
    (old / "curated.jsonl").unlink()
    with output_dir(old, overwrite=True):  # nothing in it but the marker: used
        (old / "new.txt").write_text("x")
    assert _listed(old) == ["new.txt"]


_KILLED = """
import os, sys, time
from pathlib import Path
from common.outputs import output_dir
out = Path(sys.argv[1])
with output_dir(out, command="killed"):
    (out / "part").mkdir()
    (out / "part" / "0.jsonl").write_text("x")
    Path(sys.argv[2]).write_text("")
    time.sleep(600)
"""


def test_overwrite_cleans_up_after_a_killed_run(tmp_path):
    out, ready = tmp_path / "out", tmp_path / "ready"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", _KILLED, str(out), str(ready)], env=env)
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert json.loads((out / MARKER).read_text()).get("writing") is True  # it could not list its files
    with output_dir(out, overwrite=True):
        assert not (out / "part").exists()  # the killed run's files went
        (out / "new.txt").write_text("y")
    assert _listed(out) == ["new.txt"]


def test_a_continued_folder_adds_what_the_run_wrote_and_nothing_else(tmp_path):
    out = tmp_path / "out"
    with output_dir(out):
        (out / "checkpoint").write_text("c")
    (out / "notes.md").write_text("mine")  # placed by hand between the kill and the resume
    with continued_dir(out):
        (out / "summary.json").write_text("{}")
    assert _listed(out) == ["checkpoint", "summary.json"]
    with pytest.raises(OutputError, match=r"notes\.md"), output_dir(out, overwrite=True):
        pass


# --- property: --overwrite never removes a path it did not write ------------------------------------------

_SEGMENT = st.sampled_from(["a", "b", "notes.md", "model", ".hidden", "x y"])
_PATHS = st.sets(st.lists(_SEGMENT, min_size=1, max_size=3).map("/".join), min_size=1, max_size=8)


def _as_files(paths: set[str]) -> list[str]:
    """The paths that can all be files at once (none is the folder of another)."""
    return sorted(p for p in paths if not any(q.startswith(p + "/") for q in paths))


def _write(root: Path, rel: str, text: str) -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text)


@settings(max_examples=40, deadline=None)
@given(paths=_PATHS, data=st.data(), swap=st.booleans())
def test_overwrite_never_removes_a_user_placed_path(tmp_path_factory, paths, data, swap):
    files = _as_files(paths)
    user = data.draw(st.sets(st.sampled_from(files), max_size=len(files)))
    ours = [f for f in files if f not in user]
    root = tmp_path_factory.mktemp("prop")
    out = root / "out"

    def write_ours(folder: Path) -> None:
        for f in ours:
            _write(folder, f, "datavet")

    if swap:
        tmp = root / "tmp1"
        tmp.mkdir()
        write_ours(tmp)
        replace_dir(tmp, out)
    else:
        with output_dir(out) as o:
            write_ours(o)
    for f in user:  # placed by hand afterwards (inside datavet's folders too)
        _write(out, f, "user")
    before = _tree(out)
    try:
        if swap:
            tmp = root / "tmp2"
            tmp.mkdir()
            replace_dir(tmp, out, overwrite=True)
        else:
            with output_dir(out, overwrite=True):
                pass
    except OutputError as e:
        assert user, "a folder holding only datavet's files was refused"
        assert any(u.split("/")[0] in str(e) for u in user)
        assert _tree(out) == before  # refused before anything was deleted
    else:
        assert not user
        assert [p for p in out.rglob("*") if p.name != MARKER and p.name != ".datavet-output.lock"] == []
