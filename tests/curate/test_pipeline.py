import json
from pathlib import Path

import pytest
import yaml

from curate.pipeline import run_pipeline
from schemas.configs.base import load_config
from schemas.configs.curate import CurateConfig
from schemas.errors import ConfigError

LONG = "the service on this flight was slow and the seats were very uncomfortable"


def _data(tmp_path):
    rows = [
        {"id": "a", "text": LONG, "label": "neg"},
        {"id": "b", "text": LONG + "  ", "label": "neg"},                       # exact after normalization
        {"id": "c", "text": LONG.replace("slow", "slw"), "label": "neg"},     # near duplicate of a
        {"id": "d", "text": "mail me at someone@example.com please", "label": "pos"},
        {"id": "e", "text": "   ", "label": "pos"},                             # empty after normalization
        {"id": "f", "text": "great crew and a smooth landing", "label": " Positive"},
    ]
    p = tmp_path / "d.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{not json\n", encoding="utf-8")
    return p


def test_run_writes_everything_and_accounts_for_every_row(tmp_path):
    cfg = CurateConfig.model_validate({
        "input": {"path": str(_data(tmp_path))}, "out": str(tmp_path / "out"), "mask_pii": True,
        "normalize": {"labels": ["neg", "positive", "pos"]}, "fail_on": "never", "report": False})
    res = run_pipeline(cfg)
    out = tmp_path / "out"
    assert res.rows_read == res.kept + res.quarantined + res.removed == 7
    assert res.quarantined == 1
    removed = [json.loads(x) for x in (out / "removed.jsonl").read_text().splitlines()]
    assert {(r["id"], r["reason"], r.get("duplicate_of")) for r in removed} == {
        ("b", "exact_duplicate", "a"), ("c", "near_duplicate", "a"), ("e", "empty", None)}
    kept = [json.loads(x) for x in (out / "curated.jsonl").read_text().splitlines()]
    assert [r["id"] for r in kept] == ["a", "d", "f"]
    assert "someone@example.com" not in kept[1]["text"] and res.pii_masked == 1
    assert kept[2]["label"] == "positive"
    assert json.loads((out / "checks.json").read_text())["input"]["rows_read"] == 7
    assert not (out / "check.json").exists()  # one contract file, not two copies
    man = json.loads((out / "manifest.json").read_text())
    assert man["extra"]["removed"] == 3
    assert CurateConfig.model_validate(yaml.safe_load((out / "config.yaml").read_text())) == cfg


def test_unknown_check_name_is_a_config_error(tmp_path):
    cfg = CurateConfig.model_validate({"input": {"path": str(_data(tmp_path))}, "out": str(tmp_path / "o"),
                                       "disable": ["near_dup"]})
    with pytest.raises(ConfigError) as e:
        run_pipeline(cfg)
    assert "near_duplicate" in e.value.fix


SHIPPED = Path(__file__).resolve().parents[2] / "configs" / "curate"


def test_the_shipped_curate_configs_exist():
    assert {"tweets.yaml", "tweets_split.yaml"} <= {p.name for p in SHIPPED.glob("*.yaml")}


@pytest.mark.parametrize("path", sorted(SHIPPED.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_load(path):
    assert load_config(CurateConfig, path).input.path == "bundled:tweets"


def test_cli_run(tmp_path):
    from curate.cli import main

    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        yaml.safe_dump({"input": {"path": str(_data(tmp_path))}, "fail_on": "never", "report": False})
    )
    with pytest.raises(SystemExit) as e:
        main(["run", str(cfg), "--out", str(tmp_path / "cli")])
    assert e.value.code == 0
    assert (tmp_path / "cli" / "removed.jsonl").is_file()


def test_manifest_hashes_the_file_behind_a_bundled_name() -> None:
    from curate.io.bundled import bundled_path
    from curate.pipeline import _hashable_path
    from schemas.manifest import sha256_path

    assert _hashable_path("bundled:chat") == str(bundled_path("chat"))
    assert _hashable_path("data.jsonl") == "data.jsonl"
    assert len(sha256_path(_hashable_path("bundled:chat"))) == 64


def test_the_collector_is_restored_after_a_run_even_when_it_fails(tmp_path) -> None:
    import gc

    import pytest

    from curate.errors import CurateError
    from curate.pipeline import run_pipeline
    from schemas.configs.curate import CurateConfig

    cfg = CurateConfig.model_validate(
        {"input": {"path": str(tmp_path / "missing.jsonl")}, "out": str(tmp_path / "o")}
    )
    assert gc.isenabled()
    with pytest.raises(CurateError):
        run_pipeline(cfg)
    assert gc.isenabled()
