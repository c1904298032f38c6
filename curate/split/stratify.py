"""What each row is stratified on: its label (one or several), a named field, or a length bucket.

`strata_matrix` returns a rows x strata count matrix: one 1 per row for single-valued strata, one 1 per
label for multilabel rows. Length buckets are quantiles of the character length of `record_text`, so each
bucket holds about the same number of rows whatever the length distribution (`length_buckets`, default 4).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from curate.split.errors import SplitError
from schemas.records import RecordKind, record_text

MISSING = "<missing>"


@dataclass
class Strata:
    """Rows x strata counts, the strata names, and what was stratified on."""

    matrix: np.ndarray  # shape (rows, strata), integer counts
    names: list[str]
    by: str  # "label", "length", "none" or a field name
    multilabel: bool = False

    def row_strata(self, i: int) -> list[str]:
        return [self.names[j] for j in np.flatnonzero(self.matrix[i])]


def field_value(record: dict[str, Any], name: str) -> Any:
    """A record's top-level field, else its metadata field of that name, else None."""
    if name in record:
        return record[name]
    return (record.get("metadata") or {}).get(name)


def has_field(records: list[dict[str, Any]], name: str) -> bool:
    return any(name in r or name in (r.get("metadata") or {}) for r in records)


def resolve_by(stratify: str, kind: RecordKind) -> str:
    if stratify == "auto":
        return "label" if kind is RecordKind.classification else "length"
    if stratify == "label" and kind is not RecordKind.classification:
        raise SplitError(f"--stratify label needs classification data, but these records are {kind.value}",
                         fix="use --stratify length, --stratify FIELD (a metadata field) or --stratify none")
    return stratify


def label_values(records: list[dict[str, Any]]) -> list[list[str]]:
    """Each row's labels as a list (one item for single-label rows)."""
    return [list(r["label"]) if isinstance(r.get("label"), list) else [str(r.get("label"))] for r in records]


def strata_matrix(records: list[dict[str, Any]], kind: RecordKind, stratify: str,
                  length_buckets: int = 4) -> Strata:
    """Build the strata for `records`. Raises SplitError naming the field when it does not exist."""
    by = resolve_by(stratify, kind)
    n = len(records)
    if by == "none" or n == 0:
        return Strata(np.ones((n, 1), dtype=np.int64), ["all"], "none" if by == "none" else by)
    if by == "length":
        lengths = np.array([len(record_text(r, kind)) for r in records])
        edges = np.unique(np.quantile(lengths, np.linspace(0, 1, length_buckets + 1)[1:-1]))
        bucket = np.searchsorted(edges, lengths, side="left")
        bounds = [0, *[int(e) for e in edges], None]
        names = [f"len {bounds[b]}-{bounds[b + 1]}" if bounds[b + 1] is not None else f"len >{bounds[b]}"
                 for b in range(len(edges) + 1)]
        m = np.zeros((n, len(names)), dtype=np.int64)
        m[np.arange(n), bucket] = 1
        return _drop_empty(Strata(m, names, "length"))
    if by == "label":
        values = label_values(records)
        multilabel = any(isinstance(r.get("label"), list) for r in records)
    else:
        if not has_field(records, by):
            sample = sorted({*records[0].keys(), *(records[0].get("metadata") or {}).keys()} - {"metadata"})
            raise SplitError(f"--stratify {by!r}: no record has a field {by!r} (fields: {', '.join(sample)})",
                             fix="pass --stratify label, length, none, or one of the fields listed")
        values = []
        for r in records:
            v = field_value(r, by)
            values.append([MISSING if v is None else str(v)])
        multilabel = False
    names = sorted({v for vs in values for v in vs})
    index = {v: j for j, v in enumerate(names)}
    m = np.zeros((n, len(names)), dtype=np.int64)
    for i, vs in enumerate(values):
        for v in set(vs):
            m[i, index[v]] = 1
    return Strata(m, names, by, multilabel)


def _drop_empty(s: Strata) -> Strata:
    keep = s.matrix.sum(axis=0) > 0
    return Strata(
        s.matrix[:, keep], [nm for nm, k in zip(s.names, keep, strict=True) if k], s.by, s.multilabel
    )


def rare_strata(strata: Strata, need: int) -> dict[str, int]:
    """Categorical strata with fewer than `need` rows (length buckets and `none` are never rare)."""
    if strata.by in ("length", "none"):
        return {}
    counts = strata.matrix.sum(axis=0)
    return {nm: int(c) for nm, c in zip(strata.names, counts, strict=True) if c < need}


def counts_of(rows_strata: np.ndarray, names: list[str]) -> dict[str, int]:
    totals = rows_strata.sum(axis=0) if len(rows_strata) else np.zeros(len(names), dtype=np.int64)
    return {nm: int(c) for nm, c in zip(names, totals, strict=True)}


def label_counts(records: list[dict[str, Any]]) -> dict[str, int]:
    c: Counter[str] = Counter(v for vs in label_values(records) for v in vs)
    return dict(sorted(c.items()))
