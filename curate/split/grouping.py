"""Which rows must stay in the same split: a user group column, or duplicate clusters from `curate.dedup`.

Grouping is what stops near-duplicates from straddling train and test and inflating every score. Rows
without a group value are their own group. Cluster ids come from `curate.dedup.near_duplicate_clusters`
(threshold `near_dup_threshold`, default 0.8 Jaccard) or `exact_duplicate_groups`; callers that already hold
cluster ids pass them in as `group_ids` and nothing is recomputed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from curate.split.errors import SplitError
from curate.split.stratify import field_value, has_field
from schemas.configs.split import SplitConfig
from schemas.records import RecordKind, record_text


def group_keys(records: list[dict[str, Any]], kind: RecordKind, cfg: SplitConfig,
               group_ids: list | None = None) -> tuple[list[str], str]:
    # Keys are "g:<group>" (the group's value, or a cluster's first row id) or "row:<i>" (no group).
    """One group key per row and a description of where the groups came from.

    Args:
        records: The rows to split.
        kind: Their record kind (chooses the text used for duplicate clustering).
        cfg: The split config (`group_field` / `group_by`).
        group_ids: Precomputed group or cluster ids, one per row; these win over `cfg`.

    Returns:
        (keys, source): string keys, equal for rows that must stay together, and e.g. "field 'user'".
    """
    n = len(records)
    if group_ids is not None:
        if len(group_ids) != n:
            raise SplitError(f"group_ids has {len(group_ids):,} entries for {n:,} records",
                             fix="pass exactly one group id per record, in record order")
        return [f"g:{g}" if g is not None else f"row:{i}" for i, g in enumerate(group_ids)], "given group ids"
    if cfg.group_field:
        if not has_field(records, cfg.group_field):
            raise SplitError(f"--group-field {cfg.group_field!r}: no record has that field",
                             fix="name a column of the input (kept under each record's metadata) or 'group'")
        keys = []
        for i, r in enumerate(records):
            v = field_value(r, cfg.group_field)
            keys.append(f"row:{i}" if v is None or v == "" else f"g:{v}")
        return keys, f"field {cfg.group_field!r}"
    if cfg.group_by:
        texts = [record_text(r, kind) for r in records]
        ids = cluster_ids(texts, cfg)
        # a cluster is named by its first row's id, which is what the split files record as `group`
        return [
            f"g:{records[g]['id']}" for g in ids
        ], f"{cfg.group_by} clusters (key: {cfg.dedup_key.spec()})"
    return [f"row:{i}" for i in range(n)], "none (each row its own group)"


def cluster_ids(texts: list[str], cfg: SplitConfig) -> list[int]:
    """Cluster ids from curate.dedup: near-duplicate clusters or exact-duplicate groups of `texts`."""
    from curate import dedup
    from curate.dedup.key import dedup_keys

    keys = dedup_keys(texts, cfg.dedup_key)
    if cfg.group_by == "near_duplicate":
        # The hash seed stays fixed: clusters are a property of the data, not of the split seed.
        return list(dedup.near_duplicate_clusters(keys, threshold=cfg.near_dup_threshold))
    return list(dedup.exact_duplicate_groups(keys))


def group_label(key: str) -> str | None:
    """The group a key names, as written to the split files (None: the row is its own group)."""
    return key[2:] if key.startswith("g:") else None


def units_from_keys(keys: list[str]) -> tuple[np.ndarray, list[str]]:
    """Map group keys to dense unit indices (first-seen order, so the result does not depend on hashing)."""
    index: dict[str, int] = {}
    unit = np.empty(len(keys), dtype=np.int64)
    for i, k in enumerate(keys):
        unit[i] = index.setdefault(k, len(index))
    return unit, list(index)
