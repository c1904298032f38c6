"""Hugging Face `save_to_disk` folders: the split read is chosen and reported, ClassLabel names survive."""

from __future__ import annotations

import pytest

import curate
from curate.errors import CurateError


@pytest.fixture
def dataset_dict(tmp_path):
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

    feats = Features({"text": Value("string"), "label": ClassLabel(names=["neg", "pos"])})
    train = Dataset.from_dict(
        {"text": [f"train {i}" for i in range(40)], "label": [i % 2 for i in range(40)]}, features=feats
    )
    test = Dataset.from_dict({"text": [f"test {i}" for i in range(24)], "label": [1] * 24}, features=feats)
    path = tmp_path / "dd"
    DatasetDict({"train": train, "test": test}).save_to_disk(str(path))
    return path


def test_default_split_is_train_and_the_summary_says_so(dataset_dict) -> None:
    d = curate.load(dataset_dict)
    assert d.summary.rows_read == 40 and d.summary.split == "train"


def test_split_option_reads_the_named_split(dataset_dict) -> None:
    d = curate.load(dataset_dict, split="test")
    assert d.summary.rows_read == 24 and d.summary.split == "test"
    assert {r["text"] for r in d.records} == {f"test {i}" for i in range(24)}


def test_unknown_split_names_the_splits(dataset_dict) -> None:
    with pytest.raises(CurateError) as e:
        curate.load(dataset_dict, split="validation")
    assert "train, test" in " ".join(e.value.details) and "--split" in e.value.fix


def test_classlabel_names_are_kept_through_load_and_export(dataset_dict, tmp_path) -> None:
    d = curate.load(dataset_dict)
    assert {r["label"] for r in d.records} == {"neg", "pos"}
    out = tmp_path / "exported"
    curate.write_records(d.records, out, "hf")
    again = curate.load(out)
    assert {r["label"] for r in again.records} == {"neg", "pos"}


def test_export_cli_takes_split(dataset_dict, tmp_path, run_main) -> None:
    from curate.cli import main

    out = tmp_path / "test.jsonl"
    assert run_main(main, ["export", str(dataset_dict), str(out), "--split", "test"]) == 0
    assert len(out.read_text().splitlines()) == 24
