"""The Ray engine on a two-node cluster simulated on one machine (`ray.cluster_utils.Cluster`): the same
answers as the local engine, with work scheduled on both nodes."""

from __future__ import annotations

import pytest

from curate.pipeline import run_pipeline
from schemas.configs.curate import CurateConfig
from tests.curate.ray_support import differences, write_planted

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def two_nodes():
    import os

    from ray.cluster_utils import Cluster

    os.environ.setdefault("DATAVET_RAY_PARTITIONS", "2")
    from curate.engines.ray.session import LOCAL_SYSTEM_CONFIG

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "object_store_memory": 128 * 2**20,
                                                            "include_dashboard": False,
                                                            "_system_config": LOCAL_SYSTEM_CONFIG})
    cluster.add_node(num_cpus=1, object_store_memory=128 * 2**20)
    ray.init(address=cluster.address, log_to_driver=False, logging_level="ERROR")
    cluster.wait_for_nodes()
    yield cluster
    ray.shutdown()
    cluster.shutdown()


def test_two_nodes_same_answers(two_nodes, tmp_path):
    from curate.engines.ray import run_ray_pipeline

    assert len([n for n in ray.nodes() if n["Alive"]]) == 2
    src = write_planted(tmp_path / "shards", 300, shards=2)
    one = tmp_path / "one.jsonl"
    one.write_text("".join(p.read_text(encoding="utf-8") for p in src), encoding="utf-8")
    conf = {
        "normalize": {"labels": ["positive", "negative", "neutral"]},
        "remove": {"conflicting_labels": True},
        "fail_on": "never",
    }
    run_pipeline(
        CurateConfig.model_validate({**conf, "input": {"path": str(one)}, "out": str(tmp_path / "l")})
    )
    res = run_ray_pipeline(CurateConfig.model_validate({**conf, "input": {"path": str(tmp_path / "shards")},
                                                        "out": str(tmp_path / "r")}))
    assert differences(tmp_path / "l", tmp_path / "r", same_source=False) == []
    assert res.removed > 0


def test_task_returns_over_4_kib_go_to_the_object_store(two_nodes):
    """LOCAL_SYSTEM_CONFIG: a task's 50 KB return is stored on a node, not returned into the driver's heap
    (Ray's default keeps returns under 100 KiB there); a 1 KB one (a count, a block's metadata) still comes
    straight back."""
    from ray.experimental import get_object_locations

    @ray.remote
    def part(size: int) -> bytes:
        return b"x" * size

    small, big = part.remote(1_000), part.remote(50_000)
    assert [len(b) for b in ray.get([small, big])] == [1_000, 50_000]
    where = get_object_locations([small, big])
    assert where[big]["node_ids"], "a 50 KB return was kept in the driver's heap"
    assert not where[small]["node_ids"]
