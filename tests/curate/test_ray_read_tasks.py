"""Small shards are read together (`curate.engines.ray.load.group_units`): fewer read tasks mean fewer
blocks in every later Dataset, and the driver holds state per block. Grouping must not change an answer,
not even where a quarantined row says it came from."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from curate.engines.ray.load import group_units
from curate.pipeline import run_pipeline
from schemas.configs.curate import CurateConfig
from schemas.errors import UsageError
from tests.curate.ray_support import differences, write_planted

CONF = {"normalize": {"labels": ["positive", "negative", "neutral"], "html": "unescape"},
        "remove": {"conflicting_labels": True}, "fail_on": "never"}


@given(st.lists(st.one_of(st.none(), st.integers(0, 5_000)), max_size=60), st.integers(1, 20),
       st.integers(0, 20_000))
def test_groups_keep_order_budget_and_parallelism(sizes, least, most):
    groups = group_units(sizes, least, most)
    assert all(groups)   # no task without a unit
    if most == 0:
        assert groups == [[u] for u in range(len(sizes))]
    assert [u for g in groups for u in g] == list(range(len(sizes)))   # every unit once, in order
    assert len(groups) >= min(least, len(sizes))   # never fewer tasks than buckets (or units)
    known = sum(s for s in sizes if s is not None)
    budget = max(1, min(most, known // max(1, min(least, len(sizes)) or 1)))
    for g in groups:
        if len(g) > 1:   # a unit of unknown size is read alone; a task of several stays within the budget
            assert None not in [sizes[u] for u in g]
            assert sum(sizes[u] for u in g) <= budget


def test_groups_of_known_cases():
    assert group_units([10] * 12, 4, 1_000) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]
    assert group_units([10] * 3, 4, 1_000) == [[0], [1], [2]]          # fewer units than buckets: one each
    assert group_units([5, 5, 5, 5], 1, 10) == [[0, 1], [2, 3]]        # at most `most` bytes a task
    assert group_units([100, 1, 1, 1], 3, 1_000) == [[0], [1], [2, 3]]  # a big unit alone, then halved
    assert group_units([1, None, 1, 1], 1, 1_000) == [[0], [1], [2, 3]]  # unknown size: read alone


def test_read_budget_from_the_environment(monkeypatch):
    from curate.engines.ray.load import GROUP_BYTES, group_bytes

    monkeypatch.delenv("DATAVET_RAY_READ_MB", raising=False)
    assert group_bytes() == GROUP_BYTES
    monkeypatch.setenv("DATAVET_RAY_READ_MB", " 8 ")
    assert group_bytes() == 8 * 2**20
    assert group_units([10] * 12, 4, 0) == [[u] for u in range(12)]   # 0: one task per unit
    monkeypatch.setenv("DATAVET_RAY_READ_MB", "lots")
    with pytest.raises(UsageError) as e:
        group_bytes()
    assert "'lots'" in str(e.value) and "MiB" in e.value.fix


def test_sizes_list_an_object_store_folder_once(tmp_path, monkeypatch):
    """Object-storage units are sized from one listing of their folder (not a request per file); a unit
    the listing does not name, a bundled dataset and a folder have no size, and are read alone."""
    from curate.engines.ray import load

    calls = []

    def listing(folder):
        calls.append(folder)
        return {f"s3://b/c/part-{k}.jsonl": 100 + k for k in range(3)}

    monkeypatch.setattr(load, "_listing", listing)
    (tmp_path / "a.jsonl").write_text("{}\n")
    units = [f"s3://b/c/part-{k}.jsonl" for k in range(4)] + ["bundled:tweets", str(tmp_path / "a.jsonl"),
                                                              str(tmp_path)]
    sizes = load._sizes(units)
    assert sizes == [100, 101, 102, None, None, 3, None]
    assert calls == ["s3://b/c"]
    # the unsized object-storage shard is named in the input summary's notes; bundled and folders are not
    assert load._unsized_notes(units, sizes) == [
        "1 object-storage shard(s) could not be sized (their folder listing failed): each is read in a task "
        "of its own, not grouped with small neighbours"]
    assert load._unsized_notes(units[:3], sizes[:3]) == []


def test_small_shards_read_together_give_the_same_answers(local_ray, tmp_path, monkeypatch):
    """12 small shards and an empty one are read in as few tasks as the buckets allow, and the run's
    output equals, row for row and check for check, that of the same shards read one task each (the
    quarantine's source, line and row included) and the local engine's on the same rows as one file."""
    from curate.engines.ray import run_ray_pipeline, shuffle

    monkeypatch.delenv("DATAVET_RAY_READ_MB", raising=False)
    monkeypatch.setenv("DATAVET_RAY_PARTITIONS", "2")
    one = write_planted(tmp_path / "one.jsonl", 300)[0]
    files = write_planted(tmp_path / "shards", 300, shards=12)
    (tmp_path / "shards" / "part-005b.jsonl").write_text("")   # inside a group: no rows, no error
    files = sorted(tmp_path.joinpath("shards").iterdir())

    def cfg(path, out):
        return CurateConfig.model_validate({**CONF, "input": {"path": str(path)}, "out": str(out)})

    run_pipeline(cfg(one, tmp_path / "local"))
    run_ray_pipeline(cfg(tmp_path / "shards", tmp_path / "together"))
    together = json.loads((tmp_path / "together" / "manifest.json").read_text())["extra"]
    n = shuffle.partitions()
    assert together["units"] == 13
    assert together["read_tasks"] == len(group_units([f.stat().st_size for f in files], n))
    assert n <= together["read_tasks"] < 13
    monkeypatch.setenv("DATAVET_RAY_READ_MB", "0")   # every shard its own task
    run_ray_pipeline(cfg(tmp_path / "shards", tmp_path / "apart"))
    assert json.loads((tmp_path / "apart" / "manifest.json").read_text())["extra"]["read_tasks"] == 13
    assert differences(tmp_path / "apart", tmp_path / "together") == []
    assert differences(tmp_path / "local", tmp_path / "together", same_source=False) == []
    quarantined = (tmp_path / "together" / "quarantine.jsonl").read_text().splitlines()
    sources = {json.loads(q)["source"] for q in quarantined}
    assert quarantined and sources <= {str(f) for f in files}


def test_a_bad_read_budget_stops_before_any_task(monkeypatch, tmp_path):
    """`load.plan` reads DATAVET_RAY_READ_MB before its probe task: no Ray is needed to be told."""
    import ray

    from curate.engines.ray import load
    from schemas.configs.load import LoadConfig

    def probe(*a, **k):
        raise AssertionError("the probe task was started before the budget was read")

    write_planted(tmp_path / "shards", 30, shards=3)
    monkeypatch.setattr(ray, "remote", probe)
    monkeypatch.setenv("DATAVET_RAY_READ_MB", "-1")
    with pytest.raises(UsageError, match="DATAVET_RAY_READ_MB"):
        load.plan(LoadConfig(path=str(tmp_path / "shards")), 2)


def test_object_store_names_match_between_listing_and_sizes(tmp_path, monkeypatch):
    """`list_units` and `_sizes` name object-storage files the same way (else grouping would quietly be
    off): a local folder served as `s3://b/c` through pyarrow's SubTreeFileSystem."""
    import pyarrow.fs as pafs

    from curate.engines.ray import load

    (tmp_path / "b" / "c").mkdir(parents=True)
    for k, body in enumerate(["{}\n", "{}\n{}\n", ""]):
        (tmp_path / "b" / "c" / f"part-{k}.jsonl").write_text(body)
    local = pafs.SubTreeFileSystem(str(tmp_path), pafs.LocalFileSystem())
    class Served:   # pyarrow's FileSystem type cannot be patched; the module's name for it can
        @staticmethod
        def from_uri(uri):
            return local, uri.split("://", 1)[1]

    monkeypatch.setattr(pafs, "FileSystem", Served)
    units = load.list_units("s3://b/c")
    assert units == [f"s3://b/c/part-{k}.jsonl" for k in range(3)]
    assert load._sizes(units) == [3, 6, 0]
