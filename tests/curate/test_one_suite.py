"""`curate check` and `curate run` run the checks through one suite runner: the same config gives the same
check results, and the same config mistakes are caught the same way, before any data loads."""

from __future__ import annotations

import json

import pytest
import yaml

LONG = "the service on this flight was slow and the seats were very uncomfortable"
SUITE = {"name": "mini", "expectations": [{"type": "expect_column_values_to_not_be_null", "column": "text"}]}


def _setup(tmp_path, **extra):
    rows = [{"id": "a", "text": LONG, "label": "neg"}, {"id": "b", "text": LONG, "label": "pos"},
            {"id": "c", "text": LONG.replace("slow", "slw"), "label": "neg"}]
    rows += [
        {
            "id": f"r{i}",
            "text": f"flight {i} was {'great' if i % 2 else 'awful'} today",
            "label": "pos" if i % 2 else "neg",
        }
        for i in range(30)
    ]
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    conf_dir = tmp_path / "conf"
    conf_dir.mkdir()
    (conf_dir / "suite.yaml").write_text(yaml.safe_dump(SUITE))
    cfg = {"input": {"path": str(data)}, "out": str(tmp_path / "run"), "fail_on": "never", "report": False,
           "expectations": "suite.yaml", "checks": {"near_duplicate": {"threshold": 0.7}},
           "disable": ["label_issues", "pii"], **extra}
    path = conf_dir / "curate.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _comparable(report: dict) -> dict:
    return {
        c["name"]: (
            c["status"],
            c.get("count"),
            sorted((f["id"], f["reason"]) for f in c.get("findings", [])),
        )
        for c in report["checks"]
    }


def test_one_config_gives_the_same_check_results_in_check_and_run(tmp_path, run_main) -> None:
    from curate.cli import main

    conf = _setup(tmp_path)
    out_json = tmp_path / "check.json"
    assert run_main(main, ["check", "--config", str(conf), "--json", str(out_json)]) == 0
    assert run_main(main, ["run", str(conf)]) == 0
    checked = json.loads(out_json.read_text())
    ran = json.loads((tmp_path / "run" / "checks.json").read_text())
    assert _comparable(checked) == _comparable(ran)
    names = {c["name"] for c in ran["checks"]}
    # the relative suite path was resolved against the config's folder in both, and the suite really ran
    assert "expectations" in names and _comparable(ran)["expectations"][0] != "error"
    assert "pii" not in names and "label_issues" not in names


@pytest.mark.parametrize("extra", [
    {"enable": ["semantic_duplicate"], "disable": ["semantic_duplicate"]},   # both enabled and disabled
    {"checks": {"near_duplicate": {"threshold": 7}}},                        # a parameter out of range
    {"checks": {"no_such_check": {}}},                                       # an unknown check
    {"split": {"val": 0.9, "test": 0.5}},                                    # a split that leaves no train
])
def test_config_mistakes_fail_the_same_way_before_any_load(tmp_path, run_main, capsys, extra) -> None:
    from curate.cli import main

    conf = _setup(tmp_path, **extra)
    cfg = yaml.safe_load(conf.read_text())
    cfg["input"]["path"] = str(tmp_path / "missing.jsonl")  # a load would fail with "does not exist"
    conf.write_text(yaml.safe_dump(cfg))
    for argv in (["check", "--config", str(conf)], ["run", str(conf)]):
        assert run_main(main, argv) == 2, argv
        err = capsys.readouterr().err
        assert "does not exist" not in err and "config" in err.lower(), err
    assert not (tmp_path / "run").exists()  # nothing was written


def test_split_section_is_typed_and_takes_the_run_seed(tmp_path) -> None:
    from schemas.configs.curate import CurateConfig
    from schemas.configs.split import SplitConfig

    cfg = CurateConfig.model_validate({"input": {"path": "x"}, "seed": 7, "split": {"val": 0.2}})
    assert isinstance(cfg.split, SplitConfig) and cfg.split.seed == 7 and cfg.split.val == 0.2
    own = CurateConfig.model_validate({"input": {"path": "x"}, "seed": 7, "split": {"val": 0.2, "seed": 3}})
    assert own.split.seed == 3
