"""`split_records`: rows in, disjoint stratified (and optionally group-aware) splits out; `write_splits`
writes them with a manifest. Rows inside each file are in a shuffled order (seeded with the split seed):
a file in input order (often sorted by label) makes any "first N rows" of it a single class. When rows are
grouped, each row's group (the group field's value or its duplicate cluster's first row id) is written as
its `group` (or `metadata.split_group` when the row already has a different `group`). Every row given is
accounted for: in a split, in train only, or in
dropped.jsonl with its reason (`--rare-class drop`). Deduplication is `curate run`'s job, not this one's.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from curate.split import layout
from curate.split.assign import balanced_assign, iterative_assign, sklearn_group_kfold
from curate.split.errors import SplitError
from curate.split.grouping import group_keys, group_label, units_from_keys
from curate.split.stratify import Strata, counts_of, label_counts, rare_strata, strata_matrix
from schemas.configs.split import SplitConfig, SplitFileStats, SplitManifest
from schemas.manifest import CURRENT_ARGV
from schemas.records import RecordKind, infer_kind, record_text

SPLIT_FILES = ("train.jsonl", "val.jsonl", "test.jsonl", "dropped.jsonl", "manifest.json")


@dataclass
class SplitResult:
    """The outcome of `split_records`: row indices per file, statistics, and what was dropped."""

    config: SplitConfig
    kind: RecordKind
    records: list[dict[str, Any]]
    files: dict[str, np.ndarray]  # "train", "fold-0/val", ... -> row indices into `records`
    parts: dict[str, np.ndarray]  # disjoint parts (plus "train-only") -> row indices
    stats: dict[str, SplitFileStats]
    strata_by: str
    group_source: str
    groups: int
    groups_straddling: int
    exact_duplicate_texts_straddling: int
    method: str
    dropped: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    # per row: "g:<group>" or "row:<i>" (see grouping.group_keys)
    keys: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def mode(self) -> str:
        return "kfold" if self.config.kfold else "holdout"

    def order(self, name: str) -> np.ndarray:
        """Row indices of one file in the order written: shuffled, seeded by the split seed and the file
        name."""
        idx = self.files[name]
        rng = np.random.default_rng([self.config.seed & 0xFFFFFFFF, zlib.crc32(name.encode("utf-8"))])
        return idx[rng.permutation(len(idx))]

    def rows(self, name: str) -> list[dict[str, Any]]:
        """The records of one file, e.g. `rows("fold-0/val")`, in the written (shuffled) order, each with its
        group recorded when rows were grouped."""
        return [self._with_group(int(i)) for i in self.order(name)]

    def _with_group(self, i: int) -> dict[str, Any]:
        rec = self.records[i]
        label = group_label(self.keys[i]) if self.keys else None
        if label is None or rec.get("group") == label:
            return rec
        if rec.get("group") is None:
            return {**rec, "group": label}
        return {**rec, "metadata": {**(rec.get("metadata") or {}), "split_group": label}}

    def manifest(self) -> SplitManifest:
        return SplitManifest(
            mode=self.mode, kfold=self.config.kfold, kind=self.kind.value, stratify=self.strata_by,
            config=self.config.model_dump(mode="json"), input_rows=len(self.records),
            dropped_rows=len(self.dropped), groups=self.groups, groups_straddling=self.groups_straddling,
            exact_duplicate_texts_straddling=self.exact_duplicate_texts_straddling,
            duplicate_key=self.config.dedup_key.spec(), warnings=self.warnings, splits=self.stats,
            argv=CURRENT_ARGV.get())


def ids_sha256(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode("utf-8")).hexdigest()


def split_records(records: list[dict[str, Any]], cfg: SplitConfig, group_ids: list | None = None,
                  kind: RecordKind | None = None) -> SplitResult:
    """Split `records` into holdout or k-fold parts, stratified and keeping groups whole.

    Args:
        records: Loaded records (plain dicts as `curate.load` returns them), each with an `id`.
        cfg: The split options.
        group_ids: Optional group or cluster id per record (e.g. from `curate.dedup`); rows sharing an id
            always land in the same part. Overrides `cfg.group_field` / `cfg.group_by`.
        kind: The record kind; inferred from the first record's fields when omitted.

    Returns:
        A SplitResult; write it with `write_splits`.

    Raises:
        SplitError: a class too small for every split (with `rare_class="error"`), more folds than rows or
            groups, a split that would be empty, or a group larger than a fold. Each names the fix.
    """
    t0 = time.perf_counter()
    if not records:
        raise SplitError("there are no records to split", fix="check the input path and the load summary")
    kind = kind or infer_kind(records[0].keys())
    n = len(records)
    part_names, fractions = layout.parts(cfg)
    strata = strata_matrix(records, kind, cfg.stratify, cfg.length_buckets)
    keys, group_source = group_keys(records, kind, cfg, group_ids)

    # Rare classes: a class needs one row in every part, so K folds (+ test) or train/val/test rows.
    dropped: list[dict[str, Any]] = []
    active = np.ones(n, dtype=bool)
    forced = np.zeros(n, dtype=bool)
    rare = rare_strata(strata, need=len(part_names))
    if rare:
        what = "folds" if cfg.kfold else "splits"
        named = ", ".join(f"{k!r} ({v} row{'s' * (v != 1)})" for k, v in sorted(rare.items()))
        msg = f"{len(part_names)} {what} need at least {len(part_names)} rows of each class"
        if cfg.rare_class == "error":
            raise SplitError(
                f"{len(rare)} class{'es' * (len(rare) != 1)} too small to split: {named}; {msg}",
                fix="pass --rare-class drop (rows go to dropped.jsonl) or --rare-class train-only, "
                "merge the class into another, or use fewer folds",
            )
        idx = [strata.names.index(k) for k in rare]
        hit = strata.matrix[:, idx].any(axis=1)
        if cfg.rare_class == "drop":
            active &= ~hit
            for i in np.flatnonzero(hit):
                cls = ", ".join(repr(s) for s in strata.row_strata(int(i)) if s in rare)
                dropped.append({"id": records[i]["id"], "reason": "rare_class",
                                "message": f"class {cls} has too few rows: {msg}", "record": records[i]})
        else:
            forced = hit
    if not active.any():
        raise SplitError(
            "every row was dropped as a rare class", fix="use --rare-class train-only or add data"
        )

    unit, unit_keys = units_from_keys(keys)
    unit_active = np.zeros(len(unit_keys), dtype=bool)
    unit_active[unit[active]] = True
    unit_forced = np.zeros(len(unit_keys), dtype=bool)
    unit_forced[unit[forced & active]] = True  # a group with a train-only row goes to train whole
    assignable_units = np.flatnonzero(unit_active & ~unit_forced)
    row_assignable = active & ~unit_forced[unit]
    n_rows = int(row_assignable.sum())
    _check_feasible(
        cfg, part_names, fractions, n_rows, unit, row_assignable, unit_keys, len(assignable_units)
    )

    # Dense re-indexing of the assignable units.
    local = np.full(len(unit_keys), -1, dtype=np.int64)
    local[assignable_units] = np.arange(len(assignable_units))
    rows = np.flatnonzero(row_assignable)
    row_unit = local[unit[rows]]
    sizes = np.bincount(row_unit, minlength=len(assignable_units))
    counts = np.zeros((len(assignable_units), strata.matrix.shape[1]), dtype=np.int64)
    np.add.at(counts, row_unit, strata.matrix[rows])

    if cfg.method == "sklearn":
        method = "sklearn StratifiedGroupKFold"
        unit_part = sklearn_group_kfold(strata.matrix[rows].argmax(axis=1), row_unit, cfg.kfold, cfg.seed)
    elif cfg.method == "iterstrat":
        method = "iterative stratification"
        unit_part = iterative_assign(counts, fractions, cfg.seed)
    else:
        method = "balanced group-stratified"
        unit_part = balanced_assign(counts, sizes, fractions, cfg.seed)
    row_part = unit_part[row_unit]

    part_rows = {name: rows[row_part == b] for b, name in enumerate(part_names)}
    for name, idx in part_rows.items():
        if len(idx) == 0:
            raise SplitError(f"split {name!r} received no rows ({n_rows:,} rows in {len(assignable_units):,} "
                             "groups could not fill it)",
                             fix="raise its fraction, use fewer folds, or group less coarsely")
    forced_rows = np.flatnonzero(active & unit_forced[unit])
    if len(forced_rows):
        part_rows[layout.TRAIN_ONLY] = forced_rows
    files = layout.files(cfg, part_rows)

    used = np.flatnonzero(active)
    stats = {name: _file_stats(name, idx, records, kind, strata, used) for name, idx in files.items()}
    straddling, exact = _integrity(records, kind, keys, part_rows, cfg)
    return SplitResult(config=cfg, kind=kind, records=records, files=files, parts=part_rows, stats=stats,
                       strata_by=strata.by, group_source=group_source,
                       groups=len(np.unique(unit[active])), groups_straddling=straddling,
                       exact_duplicate_texts_straddling=exact, method=method, dropped=dropped,
                       seconds=time.perf_counter() - t0, keys=keys, warnings=_class_warnings(kind, stats))


def _class_warnings(kind: RecordKind, stats: dict[str, SplitFileStats]) -> list[str]:
    """A split file with a single class (or a whole input with one) cannot train or evaluate a classifier."""
    if kind is not RecordKind.classification:
        return []
    seen = {lab for s in stats.values() for lab in s.label_counts}
    if len(seen) == 1:
        return [f"the input holds a single class ({next(iter(seen))!r}): a classifier cannot be trained or "
                "evaluated on it (a --head of a sorted file? use --sample)"]
    return [f"{s.path} holds a single class ({next(iter(s.label_counts))!r}) of the {len(seen)} in the input"
            for s in stats.values() if len(s.label_counts) == 1]


def _check_feasible(cfg: SplitConfig, part_names: list[str], fractions: np.ndarray, n_rows: int,
                    unit: np.ndarray, row_assignable: np.ndarray, unit_keys: list[str], n_units: int) -> None:
    if cfg.kfold and cfg.kfold > n_rows:
        raise SplitError(f"--kfold {cfg.kfold} asks for more folds than the {n_rows:,} rows to split",
                         fix=f"use --kfold {max(2, n_rows)} or fewer, or add data")
    if cfg.kfold and cfg.kfold > n_units:
        raise SplitError(f"--kfold {cfg.kfold} asks for more folds than the {n_units:,} groups to split",
                         fix=f"use --kfold {n_units} or fewer, or group less coarsely")
    for name, f in zip(part_names, fractions, strict=True):
        if f * n_rows < 1:
            raise SplitError(
                f"split {name!r} would be empty: {f:.3g} x {n_rows:,} rows = {f * n_rows:.2f} rows",
                fix=f"raise its fraction to at least {1 / max(n_rows, 1):.3g}, or add data",
            )
    sizes = np.bincount(unit[row_assignable])
    if len(sizes) and sizes.max() > 0:
        big = int(sizes.argmax())
        limit = min(fractions) * n_rows if cfg.kfold else max(fractions) * n_rows
        if sizes[big] > limit:
            where = "a fold" if cfg.kfold else "the largest split"
            raise SplitError(
                f"group {unit_keys[big][2:]!r} has {int(sizes[big]):,} rows, more than {where} "
                f"({limit:,.0f} rows)",
                fix="use fewer folds, a finer --group-field, or a higher near-duplicate threshold")


def _file_stats(name: str, idx: np.ndarray, records: list[dict[str, Any]], kind: RecordKind, strata: Strata,
                used: np.ndarray) -> SplitFileStats:
    global_counts = strata.matrix[used].sum(axis=0)
    global_share = global_counts / max(len(used), 1)
    m = strata.matrix[idx]
    share = m.sum(axis=0) / max(len(idx), 1)
    dev = np.abs(share - global_share) * 100
    worst = int(dev.argmax()) if len(dev) else 0
    rows = [records[i] for i in idx]
    return SplitFileStats(
        path=f"{name}.jsonl", rows=len(idx),
        label_counts=label_counts(rows) if kind is RecordKind.classification else {},
        strata_counts=counts_of(m, strata.names), max_deviation_pp=round(float(dev.max(initial=0.0)), 4),
        worst_stratum=strata.names[worst] if len(dev) else None,
        ids_sha256=ids_sha256([r["id"] for r in rows]))


def _integrity(records: list[dict[str, Any]], kind: RecordKind, keys: list[str],
               part_rows: dict[str, np.ndarray], cfg: SplitConfig) -> tuple[int, int]:
    """Count groups, and texts identical under the duplicate key, found in more than one disjoint part
    (recomputed from the output)."""
    from curate.dedup.key import dedup_key

    part_of = {}
    for name, idx in part_rows.items():
        disjoint = "train" if (name == layout.TRAIN_ONLY and not cfg.kfold) else name
        for i in idx:
            part_of[int(i)] = disjoint
    by_group: dict[str, set[str]] = {}
    by_text: dict[str, set[str]] = {}
    for i, p in part_of.items():
        by_group.setdefault(keys[i], set()).add(p)
        by_text.setdefault(dedup_key(record_text(records[i], kind), cfg.dedup_key), set()).add(p)
    return (sum(len(v) > 1 for v in by_group.values()), sum(len(v) > 1 for v in by_text.values()))


def write_splits(result: SplitResult, out_dir: str | Path, *, overwrite: bool = False) -> Path:
    """Write the split files, dropped.jsonl (when rows were dropped) and manifest.json under `out_dir`.

    The folder is built beside `out_dir` and swapped into place, so a reader never sees a half-written
    split, and files of an earlier split with other options (e.g. more folds) do not linger.

    Raises:
        OutputError: `out_dir` exists and is neither an empty folder nor (with `overwrite`) a folder
            datavet wrote.
    """
    from curate.io.outputs import check_dir_target, os_errors_as_usage, replace_dir
    from curate.io.writers import write_json, write_jsonl

    out = check_dir_target(out_dir, overwrite=overwrite)
    with os_errors_as_usage(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the split folder is ordinary output
    try:
        for name in result.files:
            write_jsonl(result.rows(name), tmp / f"{name}.jsonl")
        if result.dropped:
            write_jsonl(result.dropped, tmp / "dropped.jsonl")
        write_json(result.manifest(), tmp / "manifest.json")
        from curate.card import split_card_text, write_card

        write_card(
            tmp / "README.md", split_card_text(result.manifest().model_dump(mode="json"), result.records[:1])
        )
        with os_errors_as_usage(out):
            replace_dir(tmp, out, overwrite=overwrite, command="curate split")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
