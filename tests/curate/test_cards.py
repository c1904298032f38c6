"""Dataset cards for `curate run` and `curate split` outputs: hub-parsable, and true to the row accounting."""

from __future__ import annotations

import json

from huggingface_hub import DatasetCard

from curate.card import size_category
from curate.pipeline import run_pipeline
from schemas.configs.curate import CurateConfig

LONG = "the service on this flight was slow and the seats were very uncomfortable"


def _data(tmp_path):
    rows = [{"id": "a", "text": LONG, "label": "neg"}, {"id": "b", "text": LONG + "  ", "label": "neg"},
            {"id": "c", "text": "   ", "label": "pos"}]
    rows += [
        {
            "id": f"p{i}",
            "text": f"good flight number {i} with a friendly crew",
            "label": "pos" if i % 2 else "neg",
        }
        for i in range(40)
    ]
    p = tmp_path / "d.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{not json\n", encoding="utf-8")
    return p


def test_curated_folder_card_parses_and_matches_the_accounting(tmp_path) -> None:
    out = tmp_path / "out"
    res = run_pipeline(CurateConfig.model_validate({
        "input": {"path": str(_data(tmp_path))}, "out": str(out), "fail_on": "never", "report": False,
        "split": {"val": 0.25, "test": 0.0}}))
    card = DatasetCard.load(out / "README.md")
    meta = card.data.to_dict()
    assert "datavet" in meta["tags"] and meta["task_categories"] == ["text-classification"]
    assert meta["size_categories"] == size_category(res.kept)
    assert meta["dataset_info"]["splits"] == [{"name": "train", "num_examples": res.kept}]
    assert {f["name"] for f in meta["dataset_info"]["features"]} >= {"id", "text", "label"}
    paths = [f["path"] for c in meta["configs"] for f in c["data_files"]]
    assert "curated.jsonl" in paths and all((out / p).is_file() for p in paths)
    # the body states every count, and they add up to what was read
    assert f"| read | {res.rows_read:,} |" in card.text and f"| kept | {res.kept:,} |" in card.text
    assert f"| quarantined (could not be read as a valid record) | {res.quarantined:,} |" in card.text
    for reason, n in res.removed_by_reason.items():
        assert f"| {reason} | {n:,} |" in card.text
    assert res.rows_read == res.kept + res.quarantined + res.removed


def test_split_folder_card_lists_each_split(tmp_path, run_main) -> None:
    from curate.cli import main

    out = tmp_path / "splits"
    assert run_main(main, ["split", str(_data(tmp_path)), "--out", str(out)]) == 0
    card = DatasetCard.load(out / "README.md")
    meta = card.data.to_dict()
    manifest = json.loads((out / "manifest.json").read_text())
    files = {f["split"]: f["path"] for f in meta["configs"][0]["data_files"]}
    assert set(files) == {k.replace("/", "_") for k in manifest["splits"]}
    assert all((out / p).is_file() for p in files.values())
    sizes = {s["name"]: s["num_examples"] for s in meta["dataset_info"]["splits"]}
    assert sizes == {k.replace("/", "_"): v["rows"] for k, v in manifest["splits"].items()}


def test_size_categories_follow_the_hub_buckets() -> None:
    assert [size_category(n) for n in (0, 999, 1000, 54_321, 2_000_000)] == [
        "n<1K", "n<1K", "1K<n<10K", "10K<n<100K", "1M<n<10M"]
