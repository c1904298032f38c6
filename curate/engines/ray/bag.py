"""Shuffles of pickled tuples ("bags"): a Dataset with a bucket `_b` and a pickled value `_v` per row.

`dump` and `load` are the only pickling in datavet's packages (a test holds that): the bytes `load` reads
are ones `dump` made in the same run, handed between Ray tasks through Ray's object store (which pickles
every task argument the same way); they are never read from a file, so nothing a user can place is
unpickled.

Joins and graph steps move small tuples whose shapes differ from step to step (pairs, texts with their
signatures, node states); one binary column keeps Ray Data's schemas out of the way. `regroup` sends every
tuple to the bucket of its key; the step function then sees all tuples of one bucket at once.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from curate.engines.ray.shuffle import by_bucket, int_bucket


def key_int(key: Any) -> int:
    """A stable int64 for a key: ints as they are, anything else (tuples, strings) hashed."""
    if isinstance(key, int):
        return key
    return int.from_bytes(hashlib.blake2b(repr(key).encode(), digest_size=8).digest(), "little", signed=True)


def bucket_of(keys: list[Any], n: int) -> np.ndarray:
    return int_bucket(np.array([key_int(k) for k in keys], dtype=np.int64), n)


def dump(value: Any) -> bytes:
    """One bag value as bytes, for a `_v` column."""
    return pickle.dumps(value, protocol=5)


def load(raw: bytes) -> Any:
    """A value `dump` made in this run (from a `_v` column of a Dataset this run built)."""
    return pickle.loads(raw)


def pack(items: list[tuple[Any, Any]], n: int) -> dict[str, Any]:
    """(key, value) pairs as a bag batch."""
    if not items:
        return {"_b": np.zeros(0, dtype=np.int64), "_v": np.array([], dtype=object)}
    keys = [k for k, _ in items]
    return {"_b": bucket_of(keys, n), "_v": np.array([dump((k, v)) for k, v in items],
                                                     dtype=object)}


def to_bag(ds: Any, fn: Callable[[Any], Iterable[tuple[Any, Any]]], n: int) -> Any:
    """Map each pandas batch of `ds` to (key, value) pairs, as a bag keyed for `n` buckets."""
    def one(batch: Any) -> dict[str, Any]:
        return pack(list(fn(batch)), n)

    return ds.map_batches(one, batch_format="pandas")


def step(bag: Any, fn: Callable[[list[tuple[Any, Any]]], Iterable[tuple[Any, Any]]], n: int) -> Any:
    """One shuffle: `fn` gets every (key, value) of one bucket and returns (new key, value) pairs, which are
    bucketed by their new key for the next step."""
    import pandas as pd

    def one(df: Any) -> Any:
        items = [load(v) for v in df["_v"].tolist()]
        out = pack(list(fn(items)), n)
        return pd.DataFrame(out)

    return by_bucket(bag, one, n)


def unpack(bag: Any) -> Any:
    """The values of a bag, iterated on the driver (for small results: findings, counts)."""
    for batch in bag.iter_batches(batch_format="pandas", batch_size=4096):
        for v in batch["_v"].tolist():
            yield load(v)
