"""Shuffles as Ray Data groupbys on a bucket column: every key-based step (duplicate ids, exact groups, LSH
bands, connected components, joins by row position) hashes its key into one of `n` buckets (`_b`), lets
Ray Data's shuffle bring each bucket to one task, and handles the keys of that bucket with pandas there.
One task per bucket, not one Python call per key: a million tiny groups would cost a million calls.
A bucket holds about 1/n of the keyed rows, so `n` (`partitions()`) sets the memory of a shuffle task, as
long as `n` stays below the input's block count: Ray Data's sort shuffle (`session.configure_data_context`)
cuts a shuffle into as many sorted parts as its input has blocks, and a task holds at least one part.
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
