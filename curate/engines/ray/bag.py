"""Shuffles of small tuples ("bags"): a Dataset with a bucket `_b` and a MessagePack value `_v` per row.

A value is plain data only: None, bools, ints, floats, strings, bytes, tuples and dicts (numpy scalars
become Python ones). MessagePack decodes into those types and nothing else, so reading a `_v` can never run
code, whoever wrote it; a value of any other type (a pydantic model, a set) is refused at `dump`, and the
steps pass models as their `model_dump(mode="json")`. Lists come back as tuples (`use_list=False`), which
keeps them hashable as dict keys.

Joins and graph steps move small tuples whose shapes differ from step to step (pairs, texts with their
signatures, node states); one binary column keeps Ray Data's schemas out of the way. `step` sends every
tuple to the bucket of its key; the step function then sees all tuples of one bucket at once.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable
from typing import Any

import msgpack
import numpy as np

from curate.engines.ray.shuffle import by_bucket, int_bucket


def key_int(key: Any) -> int:
    """A stable int64 for a key: ints as they are, anything else (tuples, strings) hashed."""
    if isinstance(key, int):
        return key
    return int.from_bytes(hashlib.blake2b(repr(key).encode(), digest_size=8).digest(), "little", signed=True)


def bucket_of(keys: list[Any], n: int) -> np.ndarray:
    return int_bucket(np.array([key_int(k) for k in keys], dtype=np.int64), n)


def _plain(value: Any) -> Any:
    """MessagePack's hook for a type it does not know: numpy scalars as Python ones; anything else refused."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"a bag value must be plain data, not {type(value).__name__} "
                    "(pass a pydantic model as its model_dump(mode='json'))")


_local = threading.local()


def dump(value: Any) -> bytes:
    """One bag value as bytes, for a `_v` column. One packer per thread: `packb` builds a new one per call,
    which costs ~3x the packing of a small tuple (bench/bag_codec.py)."""
    packer = getattr(_local, "packer", None)
    if packer is None:
        packer = _local.packer = msgpack.Packer(default=_plain, use_bin_type=True)
    return packer.pack(value)


def load(raw: bytes) -> Any:
    """The value `dump` made: plain data only (lists as tuples); decoding never runs code."""
    return msgpack.unpackb(raw, use_list=False, raw=False, strict_map_key=False)


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
