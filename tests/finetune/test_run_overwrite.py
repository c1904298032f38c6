"""`finetune run --overwrite` replaces an earlier run's folder when it holds only what datavet wrote there
(weights and tokenizer from save_pretrained, TensorBoard events, metrics, summary) and refuses, exit 2, when
a file was placed in it by hand, deleting nothing."""

from __future__ import annotations

import json
from pathlib import Path

from common.outputs import MARKER
from finetune.cli import main as finetune_main


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_overwrite_replaces_a_pure_run_folder_and_keeps_a_user_file(tiny_bert, cls_split, tmp_path, run_main,
                                                                   capsys):
    out = tmp_path / "run"
    argv = ["run", "--model", str(tiny_bert), "--kind", "classification", "--data", str(cls_split), "--out",
            str(out), "--max-steps", "2", "--batch-size", "8", "--max-length", "32", "--set", "eval_every=2",
            "--set", "progress=false"]
    assert run_main(finetune_main, argv) == 0
    listed = json.loads((out / MARKER).read_text())["entries"]
    assert {"summary.json", "config.json", "metrics.jsonl", "tb"} <= set(listed)  # library writes too
    assert run_main(finetune_main, [*argv, "--overwrite"]) == 0

    tb_file = next(p for p in (out / "tb").iterdir())
    (out / "tb" / "my-notes.txt").write_text("which run was this?")  # placed inside a datavet subfolder
    before = _tree(out)
    capsys.readouterr()
    assert run_main(finetune_main, [*argv, "--overwrite"]) == 2
    assert "tb/my-notes.txt" in capsys.readouterr().err
    assert _tree(out) == before and tb_file.exists()
