"""`curate split`: files, manifest, the printed table and integrity line, and one-panel errors (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate.cli import main


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def data(tmp_path: Path) -> Path:
    rows = [
        {
            "id": f"x{i}",
            "text": f"sample text number {i} about topic {i % 7}",
            "label": "pos" if i % 3 else "neg",
            "user": f"u{i // 4}",
        }
        for i in range(120)
    ]
    return _write_jsonl(tmp_path / "data.jsonl", rows)


def test_holdout_writes_three_files_and_manifest(run_main, capsys, data, tmp_path):
    out = tmp_path / "split"
    assert run_main(main, ["split", str(data), "--out", str(out), "--val", "0.2", "--test", "0.1"]) == 0
    printed = capsys.readouterr().out
    assert "groups straddling splits: 0" in printed and "max dev (pp)" in printed
    man = json.loads((out / "manifest.json").read_text())
    assert {k: v["rows"] for k, v in man["splits"].items()} == {"train": 84, "val": 24, "test": 12}
    ids = [json.loads(line)["id"] for f in ("train", "val", "test") for line in (out / f"{f}.jsonl").open()]
    assert sorted(ids) == sorted(f"x{i}" for i in range(120))  # records keep their ids, none lost


def test_kfold_with_group_field_and_test(run_main, capsys, data, tmp_path):
    out = tmp_path / "cv"
    argv = ["split", str(data), "--out", str(out), "--kfold", "3", "--test", "0.2", "--group-field", "user",
            "--seed", "4"]
    assert run_main(main, argv) == 0
    assert "30 from field 'user'" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [".datavet-output", "README.md", "fold-0", "fold-1",
                                                     "fold-2", "manifest.json", "test.jsonl"]
    users = {}
    for f in ["fold-0/val.jsonl", "fold-1/val.jsonl", "fold-2/val.jsonl", "test.jsonl"]:
        for line in (out / f).open():
            users.setdefault(json.loads(line)["metadata"]["user"], set()).add(f)
    assert len(users) == 30 and all(len(v) == 1 for v in users.values())


def test_rare_class_error_is_one_panel_exit_2(run_main, capsys, tmp_path):
    rows = [{"id": i, "text": f"t{i}", "label": "common"} for i in range(30)] + [{"id": 99, "text": "odd",
                                                                                 "label": "rare"}]
    data = _write_jsonl(tmp_path / "d.jsonl", rows)
    assert run_main(main, ["split", str(data), "--out", str(tmp_path / "o"), "--kfold", "4"]) == 2
    err = capsys.readouterr().err
    assert "'rare' (1 row)" in err and "--rare-class drop" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()
    assert run_main(main, ["split", str(data), "--out", str(tmp_path / "o"), "--kfold", "4",
                           "--rare-class", "drop"]) == 0
    assert json.loads((tmp_path / "o" / "dropped.jsonl").read_text())["id"] == "99"


def test_bad_option_values_exit_2(run_main, capsys, data, tmp_path):
    assert run_main(main, ["split", str(data), "--out", str(tmp_path / "o"), "--rare-class", "keep"]) == 2
    assert "rare_class" in capsys.readouterr().err
    assert run_main(main, ["split", str(data), "--out", str(tmp_path / "o"), "--kfold", "500",
                           "--stratify", "none"]) == 2
    assert "--kfold 500 asks for more folds than the 120 rows" in capsys.readouterr().err


@pytest.mark.slow
def test_tweets_kfold_near_duplicate_groups_within_one_point(run_main, capsys, tmp_path):
    out = tmp_path / "tweets"
    argv = ["split", "bundled:tweets", "--out", str(out), "--kfold", "5", "--group-by", "near_duplicate"]
    assert run_main(main, argv) == 0
    assert "groups straddling splits: 0" in capsys.readouterr().out
    man = json.loads((out / "manifest.json").read_text())
    assert man["groups_straddling"] == 0 and man["exact_duplicate_texts_straddling"] == 0
    assert man["groups"] < man["input_rows"]  # clusters were formed
    total = {k: sum(s["label_counts"].get(k, 0) for n, s in man["splits"].items() if n.endswith("/val"))
             for k in ("negative", "neutral", "positive")}
    for i in range(5):
        s = man["splits"][f"fold-{i}/val"]
        for label, n in total.items():
            assert abs(s["label_counts"][label] / s["rows"] - n / man["input_rows"]) < 0.01
