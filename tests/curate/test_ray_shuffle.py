"""Which shuffle the Ray engine uses, and that the hash shuffle gives the local engine's answers too.

A sort shuffle of M blocks makes M x M pieces the driver owns (bench/ray_shuffle_objects.py); above
`SORT_MAX_TASKS` read tasks the engine uses Ray's hash shuffle instead (`curate.engines.ray.shuffle`).
"""

from __future__ import annotations

import json

import pytest

from curate.pipeline import run_pipeline
from schemas.configs.curate import CurateConfig
from schemas.errors import UsageError
from tests.curate.ray_support import differences, write_planted

CONF = {"normalize": {"labels": ["positive", "negative", "neutral"], "html": "unescape"},
        "remove": {"conflicting_labels": True}, "fail_on": "never"}


def test_strategy_follows_the_read_tasks_unless_set(monkeypatch):
    from curate.engines.ray.shuffle import SORT_MAX_TASKS, strategy

    monkeypatch.delenv("DATAVET_RAY_SHUFFLE", raising=False)
    assert (strategy(1), strategy(SORT_MAX_TASKS), strategy(SORT_MAX_TASKS + 1)) == ("sort", "sort", "hash")
    monkeypatch.setenv("DATAVET_RAY_SHUFFLE", "auto")
    assert strategy(SORT_MAX_TASKS + 1) == "hash"
    monkeypatch.setenv("DATAVET_RAY_SHUFFLE", " Hash ")
    assert strategy(1) == "hash"
    monkeypatch.setenv("DATAVET_RAY_SHUFFLE", "sort")
    assert strategy(10_000) == "sort"
    monkeypatch.setenv("DATAVET_RAY_SHUFFLE", "push")
    with pytest.raises(UsageError) as e:
        strategy(1)
    assert "'push'" in str(e.value) and "sort, hash or auto" in e.value.fix


def test_many_files_shuffle_by_hash_with_the_local_answers(local_ray, tmp_path, monkeypatch):
    """More read tasks than `SORT_MAX_TASKS` (lowered to 2 here): the run shuffles by hash, says so in its
    manifest, and keeps, removes and quarantines the rows the local engine does on the same rows as one
    file; a run of one file goes back to the sort shuffle."""
    import ray

    from curate.engines.ray import run_ray_pipeline, shuffle

    monkeypatch.delenv("DATAVET_RAY_SHUFFLE", raising=False)
    monkeypatch.setattr(shuffle, "SORT_MAX_TASKS", 2)
    one = write_planted(tmp_path / "one.jsonl", 300)[0]
    write_planted(tmp_path / "shards", 300, shards=3)

    def cfg(path, out):
        return CurateConfig.model_validate({**CONF, "input": {"path": str(path)}, "out": str(out)})

    loc = run_pipeline(cfg(one, tmp_path / "local"))
    res = run_ray_pipeline(cfg(tmp_path / "shards", tmp_path / "ray"))
    ctx = ray.data.DataContext.get_current()
    assert ctx.shuffle_strategy == shuffle.STRATEGIES["hash"]
    assert ctx.hash_shuffle_operator_actor_num_cpus_override == 0
    extra = json.loads((tmp_path / "ray" / "manifest.json").read_text())["extra"]
    assert (extra["shuffle"], extra["read_tasks"]) == ("hash", 3)   # 3 shards of 100 rows: not grouped
    assert differences(tmp_path / "local", tmp_path / "ray", same_source=False) == []
    assert loc.removed > 0 and loc.quarantined > 0 and (res.kept, res.removed) == (loc.kept, loc.removed)
    run_ray_pipeline(cfg(one, tmp_path / "ray1"))
    assert json.loads((tmp_path / "ray1" / "manifest.json").read_text())["extra"]["shuffle"] == "sort"
    assert ray.data.DataContext.get_current().shuffle_strategy == shuffle.STRATEGIES["sort"]
