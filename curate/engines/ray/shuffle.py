"""Shuffles as Ray Data groupbys on a bucket column: every key-based step (duplicate ids, exact groups, LSH
bands, connected components, joins by row position) hashes its key into one of `n` buckets (`_b`), lets
Ray Data's shuffle bring each bucket to one task, and handles the keys of that bucket with pandas there.
One task per bucket, not one Python call per key: a million tiny groups would cost a million calls.
A bucket holds about 1/n of the keyed rows, so `n` (`partitions()`) sets the memory of a shuffle task, as
long as `n` stays below the input's block count: Ray Data's sort shuffle cuts a shuffle into as many
sorted parts as its input has blocks, and a task holds at least one part.

Which shuffle (`strategy`): a sort shuffle of M blocks makes M x M pieces, each an object the driver owns
until the reduce has read it, about 5 KiB of the driver's memory apiece (`bench/ray_shuffle_objects.py`:
+315 MiB for 256 blocks); Ray's hash shuffle makes the pieces inside its map tasks and hands them to
aggregator actors, so the driver owns about 2M objects (540, +3 MiB, for the same 256 blocks). But the
hash shuffle was slower in the pipeline on one 2-CPU machine: 1.8-2.6x the whole run at 250k rows
(aggregators started for each of its shuffles), and at 5M rows (40 files) its candidate verification
alone took more than twice the sort shuffle's 21 minutes (BENCHMARKS.md). At 128 blocks the sort
shuffle's pieces cost the driver 84-87 MiB, and a shuffle's blocks follow the read tasks (at 250k rows 8
files gave up to 22 blocks, 40 gave 53; a read task is one file, or several small ones read together:
`load.group_units`), so a run keeps the sort shuffle up to `SORT_MAX_TASKS` read tasks and shuffles by
hash above, where M x M heads for gigabytes (~3 GiB for 800 blocks).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np


def partitions() -> int:
    """Buckets per shuffle: `DATAVET_RAY_PARTITIONS`, else twice the cluster's CPUs (at least 2)."""
    env = os.environ.get("DATAVET_RAY_PARTITIONS")
    if env:
        return max(1, int(env))
    import ray

    cpus = int(ray.cluster_resources().get("CPU", 1)) if ray.is_initialized() else 1
    return max(2, 2 * cpus)


SORT_MAX_TASKS = 128   # read tasks up to which a run shuffles by sort (see the module docstring)
STRATEGIES = {"sort": "sort_shuffle_pull_based", "hash": "hash_shuffle"}


def strategy(tasks: int) -> str:
    """`sort` or `hash`: `DATAVET_RAY_SHUFFLE` if set, else `sort` for at most `SORT_MAX_TASKS` read tasks
    (a shuffle's blocks follow them: each task's rows become a block or more), `hash` above.

    Raises:
        UsageError: `DATAVET_RAY_SHUFFLE` is set to something else.
    """
    env = os.environ.get("DATAVET_RAY_SHUFFLE", "").strip().lower()
    if env in ("", "auto"):
        return "sort" if tasks <= SORT_MAX_TASKS else "hash"
    if env not in STRATEGIES:
        from schemas.errors import UsageError

        raise UsageError(f"DATAVET_RAY_SHUFFLE={env!r} is not a shuffle this engine knows",
                         fix="set it to sort, hash or auto (the default: sort up to "
                             f"{SORT_MAX_TASKS} read tasks, hash above)")
    return env


def use(name: str) -> None:
    """Every Dataset made after this call shuffles by `name` (`sort` or `hash`). The hash shuffle's
    aggregator actors ask for no CPU: they hold pieces between the map and the reduce and compute little
    until the end, and with Ray's default (a share of the CPUs each) a 2-CPU Ray made no progress for 8
    minutes, the aggregators of an earlier shuffle holding the CPUs the next one waited for."""
    import ray

    ctx = ray.data.DataContext.get_current()
    ctx.shuffle_strategy = STRATEGIES[name]
    if name == "hash":
        ctx.hash_shuffle_operator_actor_num_cpus_override = 0


def int_bucket(x: Any, n: int) -> np.ndarray:
    """A bucket in [0, n) per int64 key, spread by splitmix64 (row positions are sequential)."""
    from curate.dedup.minhash import mix64

    v = np.asarray(x, dtype=np.int64).astype(np.uint64)
    return (mix64(v) % np.uint64(n)).astype(np.int64)


def by_bucket(ds: Any, fn: Callable, n: int) -> Any:
    """`fn(pandas.DataFrame) -> pandas.DataFrame` once per bucket of `ds` (which has a `_b` column)."""
    return ds.groupby("_b", num_partitions=n).map_groups(fn, batch_format="pandas")


def counter_batches(ds: Any, fn: Callable[[Any], dict], **kw: Any) -> Iterator[dict]:
    """Small per-block summaries: `fn(batch)` returns a JSON-able dict per batch; the driver iterates them
    (one entry per batch, never a row) and merges them as they come, so it holds one at a time."""
    import json

    def one(batch: Any) -> dict:
        return {"s": [json.dumps(fn(batch))]}

    for r in ds.map_batches(one, batch_format="pandas", **kw).iter_rows():
        yield json.loads(r["s"])
