"""Row subsets: `--head N` (the first N rows) and `--sample N --seed S` (a seeded random sample of N rows).

Real files are often sorted (by label, by date, by source), so the first N rows can be a single class. A
sample is drawn with reservoir sampling (Vitter's algorithm R) over the raw rows, before validation, so a
sampled run accounts for exactly the rows it used (quarantined rows included) and holds at most N rows in
memory. The same file, N and seed always give the same rows; they are returned in source order.

`--limit` is the old name of `--head` and stays as a deprecated alias.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

T = TypeVar("T")

LIMIT_DEPRECATED = (
    "--limit is deprecated: it takes the first N rows; say --head N for that, or --sample N [--seed S]"
)


def reservoir(items: Iterable[T], n: int, seed: int = 0) -> tuple[list[T], int]:
    """A uniform random sample of `n` items from a stream, in stream order, and how many items were seen.

    Args:
        items: Any iterable (read once).
        n: Sample size (>= 1).
        seed: Seed of `random.Random`; the same stream, `n` and seed give the same sample.

    Returns:
        (sample, seen): at most `n` items in their original order, and the length of the stream.
    """
    rng = random.Random(seed)
    keep: list[tuple[int, T]] = []
    seen = 0
    for i, item in enumerate(items):
        seen = i + 1
        if i < n:
            keep.append((i, item))
        else:
            j = rng.randrange(i + 1)
            if j < n:
                keep[j] = (i, item)
    keep.sort(key=lambda p: p[0])
    return [item for _, item in keep], seen


def subset_rows(rows: Iterable[T], head: int | None = None, sample: int | None = None,
                seed: int = 0) -> tuple[Iterator[T], dict[str, Any]]:
    """Apply `head` or `sample` to a row stream.

    Returns:
        (rows, info): the rows to use, and a dict describing the subset (filled in as the rows are read:
        `mode` is "all", "head" or "sample"; a sample also records `seed` and `rows_in_source`).
    """
    if head is not None and sample is not None:
        from schemas.errors import UsageError

        raise UsageError("--head and --sample both given", fix="use --head N (first N rows) or --sample N "
                                                                "(random rows), not both")
    if sample is not None:
        picked, seen = reservoir(rows, sample, seed)
        return iter(picked), {"mode": "sample", "n": sample, "seed": seed, "rows_in_source": seen}
    if head is not None:
        return islice(rows, head), {"mode": "head", "n": head}
    return iter(rows), {"mode": "all"}


def describe(info: dict[str, Any] | None) -> str | None:
    """One line for summaries and reports: what part of the source a run used; None for the whole file."""
    if not info or info.get("mode") == "all":
        return None
    if info["mode"] == "head":
        return f"the first {info['n']:,} rows only (--head): a sorted file gives a biased subset"
    return (
        f"a random sample of {min(info['n'], info['rows_in_source']):,} of {info['rows_in_source']:,} rows "
        f"(--sample {info['n']} --seed {info['seed']})"
    )


def sample_list(items: list[T], n: int | None, seed: int = 0) -> list[T]:
    """A seeded random sample of `n` list items in their original order (all of them when n is None or
    >= len)."""
    if n is None or n >= len(items):
        return list(items)
    idx = sorted(random.Random(seed).sample(range(len(items)), n))
    return [items[i] for i in idx]
