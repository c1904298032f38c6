"""Load and validate on Ray: a read task per input unit (a shard file, or a source curate reads whole) or
per run of small consecutive units, rows validated by curate's own loader code, so reasons and messages
are the local engine's.

* Inputs: one file, a folder of shards, a glob, or `bundled:NAME`; a path with a scheme (`s3://`, `gs://`,
  `hdfs://`, ...) is listed and read through `pyarrow.fs` (each task copies its shard to a local temp file).
  A folder the local loader reads whole (a Hugging Face save_to_disk folder, a folder of `<label>/*.txt`)
  is one unit. Parallelism comes from shards: a single file is read by one task.
* Small shards are read together: a read task takes consecutive units up to `GROUP_BYTES` of input
  (`group_units`), but there are at least min(`least`, units) read tasks (`least`: the shuffle's buckets).
  Every later Dataset has about as many blocks as the read made, and the driver holds a reference,
  metadata and per-stage stats for each block of each Dataset, so 10,000 files of 250 KB are read in
  about 75 tasks, as 75 files of 33 MB would be. Row positions still count per unit.
* The record kind and field mapping are decided once, by one task, from the first unit's first rows,
  exactly as `curate.io.load` decides them (its first `INFER_SAMPLE` parsed rows); every task then uses them.
  That task reads the whole first unit for its encoding note, so it runs on a worker, not on the driver.
* Row position `pos = unit << 40 | row` orders rows as the local loader does (by source, then row), and is
  the key every later stage uses for "first" (the kept row of a duplicate group is the smallest pos).
* Ids: tasks validate without settling ids (`_accept`'s `add` only collects the record); one shuffle then
  settles them by the local loader's rule (`curate.engines.ray.ids`): a repeated id the input gives is a
  `duplicate_id` quarantine entry, a clash with an id the loader made up (a row's row number) renames
  the made-up one to `id~N`.
"""

from __future__ import annotations

import glob as _glob
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from curate.errors import ConfigError, DataUsageError
from schemas.configs.load import LoadConfig

ROW_BITS = 40
SHARD_SUFFIXES = (".jsonl", ".ndjson", ".json", ".parquet", ".pq", ".csv", ".tsv")
_BATCH = 8_192
GROUP_BYTES = 32 * 2**20   # a read task takes consecutive small units up to this much input (group_units)


def group_bytes() -> int:
    """The input bytes a read task may gather from small units: `DATAVET_RAY_READ_MB` MiB, else
    `GROUP_BYTES`; 0 reads every unit in a task of its own.

    Raises:
        UsageError: `DATAVET_RAY_READ_MB` is not a whole number of MiB, 0 or more.
    """
    env = os.environ.get("DATAVET_RAY_READ_MB", "").strip()
    if not env:
        return GROUP_BYTES
    if not env.isdecimal() or not env.isascii():
        from schemas.errors import UsageError

        raise UsageError(f"DATAVET_RAY_READ_MB={env!r} is not a size in MiB",
                         fix="set it to a whole number of MiB (0: one read task per input file), or unset it")
    return int(env) * 2**20


@dataclass
class Plan:
    """What every read task needs: the units, the resolved LoadConfig, kind and field mapping."""

    units: list[str]
    cfg: LoadConfig
    kind: str
    mapping: dict[str, str]
    fmt: str
    encoding: str
    encoding_note: str | None
    notes: list[str]
    split: str | None
    groups: list[list[int]] | None = None   # the units of each read task (`group_units`); None: one each

    def tasks(self) -> list[list[int]]:
        """The unit numbers each read task reads, in order."""
        return self.groups if self.groups is not None else [[u] for u in range(len(self.units))]


def _is_uri(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def list_units(path: str) -> list[str]:
    """The shards an input names, in the order their rows count (sorted paths)."""
    if path.startswith("bundled:"):
        return [path]
    if _is_uri(path):
        import pyarrow.fs as pafs

        fs, base = pafs.FileSystem.from_uri(path)
        scheme = path.split("://", 1)[0]
        info = fs.get_file_info(base)
        if info.type == pafs.FileType.File:
            return [path]
        if info.type == pafs.FileType.Directory:
            sel = fs.get_file_info(pafs.FileSelector(base, recursive=False))
            files = sorted(
                f.path for f in sel if f.type == pafs.FileType.File and f.path.endswith(SHARD_SUFFIXES)
            )
            if files:
                return [f"{scheme}://{f}" for f in files]
        raise DataUsageError(f"{path} names no file and no folder of shards",
                             fix="point at a file, or a folder holding .jsonl or .parquet shards")
    if any(c in path for c in "*?["):
        files = sorted(p for p in _glob.glob(os.path.expanduser(path)) if Path(p).is_file())
        if not files:
            raise DataUsageError(
                f"the pattern {path} matches no file", fix="check the pattern and the folder"
            )
        return files
    p = Path(path).expanduser()
    if not p.exists():
        raise DataUsageError(
            f"{p} does not exist", fix="check the path, or use a bundled dataset: bundled:tweets"
        )
    if p.is_dir():
        files = sorted(str(f) for f in p.iterdir() if f.is_file() and f.suffix.lower() in SHARD_SUFFIXES)
        if files:
            return files
    return [str(p)]


@contextmanager
def local_copy(unit: str) -> Iterator[str]:
    """A local path for the unit: itself, or a temp copy of an object-storage file (removed afterwards)."""
    if not _is_uri(unit):
        yield unit
        return
    import pyarrow.fs as pafs

    fs, base = pafs.FileSystem.from_uri(unit)
    fd, tmp = tempfile.mkstemp(suffix=Path(base).suffix)
    try:
        with os.fdopen(fd, "wb") as out, fs.open_input_stream(base) as src:
            while chunk := src.read(1 << 22):
                out.write(chunk)
        yield tmp
    finally:
        os.unlink(tmp)


def _head(cfg: LoadConfig) -> int | None:
    """The first-N-rows limit: `head`, or `limit` (its old name) where a copy of the config set only that."""
    return cfg.head if cfg.head is not None else cfg.limit


def plan(cfg: LoadConfig, least: int) -> Plan:
    """Decide units, kind and mapping from the first unit (as the local loader would), in one Ray task, and
    which units each read task reads (`group_units`: small units together, at least `least` tasks)."""
    units = list_units(cfg.path)
    most = group_bytes()   # a bad DATAVET_RAY_READ_MB stops the run before any task
    if _head(cfg) is not None and len(units) > 1:
        raise ConfigError("input.head (--head) is not supported for several shards on the ray engine",
                          fix="drop --head, or point at one file")
    if cfg.sample is not None:
        raise ConfigError("input.sample (--sample) is not available on the ray engine",
                          fix="sample the input first (e.g. `curate run --sample N` on the local engine), or "
                              "use --head N on one file")
    import ray

    from schemas.errors import DatavetError

    # on a worker: the probe reads the whole first unit (its encoding note describes the whole file), so the
    # driver's memory does not follow the size of a shard
    got = ray.get(ray.remote(_probe).options(num_cpus=1, max_retries=0).remote(units[0], cfg))
    if isinstance(got, DatavetError):
        raise got
    if len(units) <= max(1, least) or most <= 0:   # one task per unit: no sizes needed
        return Plan(units, *got)
    sizes = _sizes(units)
    out = Plan(units, *got, groups=group_units(sizes, least, most))
    out.notes.extend(_unsized_notes(units, sizes))
    return out


def _unsized_notes(units: list[str], sizes: list[int | None]) -> list[str]:
    """A note for the input summary when object-storage shards could not be sized (and so are not grouped)."""
    n = sum(1 for u, s in zip(units, sizes, strict=True) if s is None and _is_uri(u))
    if not n:
        return []
    return [f"{n} object-storage shard(s) could not be sized (their folder listing failed): each is read in "
            "a task of its own, not grouped with small neighbours"]


def group_units(sizes: list[int | None], least: int, most: int | None = None) -> list[list[int]]:
    """Consecutive units packed into read tasks, in order. A task takes the next unit while its bytes stay
    within the budget, min(`most`, total // `least`); a unit larger than that, or of unknown size (None),
    is read alone. Then the task with the most units is halved until there are at least `least` tasks (or
    one per unit), so grouping never costs parallelism the shuffles would have had. `most`: GROUP_BYTES;
    0: every unit alone."""
    most = GROUP_BYTES if most is None else most
    want = min(max(1, least), len(sizes))
    if want == len(sizes) or most <= 0:
        return [[u] for u in range(len(sizes))]
    budget = max(1, min(most, sum(s for s in sizes if s is not None) // want))
    groups: list[list[int]] = []
    held = budget + 1   # the first unit starts a task
    for u, size in enumerate(sizes):
        if size is not None and held + size <= budget:
            groups[-1].append(u)
            held += size
        else:
            groups.append([u])
            held = size if size is not None else budget + 1   # after an unknown size, a new task
    while len(groups) < want:
        k = max(range(len(groups)), key=lambda i: len(groups[i]))
        g = groups[k]
        groups[k:k + 1] = [g[: len(g) // 2], g[len(g) // 2:]]
    return groups


def _sizes(units: list[str]) -> list[int | None]:
    """Each unit's size in bytes; None where it is not one file (a bundled dataset, a folder) or unknown.
    Object-storage units are looked up in one listing of their folder, not a request each."""
    listed: dict[str, dict[str, int]] = {}
    out: list[int | None] = []
    for u in units:
        if u.startswith("bundled:"):
            out.append(None)
        elif _is_uri(u):
            folder = u.rsplit("/", 1)[0]
            if folder not in listed:
                listed[folder] = _listing(folder)
            out.append(listed[folder].get(u))
        else:
            p = Path(u).expanduser()
            out.append(p.stat().st_size if p.is_file() else None)
    return out


def _listing(folder: str) -> dict[str, int]:
    """The files of an object-storage folder and their sizes, named as `list_units` names them; empty
    when it cannot be listed (each unit is then read alone)."""
    try:
        import pyarrow.fs as pafs

        fs, base = pafs.FileSystem.from_uri(folder)
        scheme = folder.split("://", 1)[0]
        sel = fs.get_file_info(pafs.FileSelector(base, recursive=False))
        return {f"{scheme}://{f.path}": int(f.size) for f in sel
                if f.type == pafs.FileType.File and f.size is not None}
    except (OSError, ValueError):
        return {}


def _probe(unit: str, cfg: LoadConfig) -> tuple | Exception:
    """Ray task: what `Plan` takes after the units, decided by the local loader from `unit`'s first rows;
    or the DatavetError that loading raised (returned, so the driver raises it with its message and fix)."""
    from curate.io.load import INFER_SAMPLE, load
    from schemas.errors import DatavetError

    try:
        with local_copy(unit) as first:
            probe_path = first if not unit.startswith("bundled:") else unit
            # enough rows that the probe decides from the same first INFER_SAMPLE parsed rows as a full load
            limit = min(_head(cfg) or 25 * INFER_SAMPLE, 25 * INFER_SAMPLE)
            probe = load(cfg.model_copy(update={"path": probe_path, "limit": limit}))
    except DatavetError as e:
        return e
    resolved = probe.config.model_copy(update={"path": cfg.path, "limit": cfg.limit})
    return (resolved, str(getattr(probe.kind, "value", probe.kind)), dict(probe.field_map),
            probe.summary.format, probe.summary.encoding, probe.summary.encoding_note,
            list(probe.summary.notes), probe.summary.split)


def _rows(unit: str, local: str, cfg: LoadConfig) -> Iterator[Any]:
    from curate.io.readers import detect_format, open_source

    if unit.startswith("bundled:"):
        from curate.io.bundled import open_bundled

        _, _, rows, _ = open_bundled(cfg.model_copy(update={"path": unit}))
        return rows
    path = Path(local)
    fmt = detect_format(path) if cfg.format == "auto" else cfg.format
    _, _, rows = open_source(path, fmt, cfg.encoding)
    if _is_uri(unit):
        def relabel(it: Iterator[Any]) -> Iterator[Any]:
            for r in it:
                r.source = r.source or unit
                yield r

        return relabel(rows)
    return rows


def read_task(batch: dict[str, Any], plan: Plan) -> Iterator[dict[str, list]]:
    """Ray task: the validated rows of the units of one read task (`Plan.tasks`), one unit after another."""
    task = int(batch["task"][0])
    for unit_no in plan.groups[task] if plan.groups is not None else [task]:
        yield from read_unit(unit_no, plan.units[unit_no], plan)


def read_unit(unit_no: int, unit: str, plan: Plan) -> Iterator[dict[str, list]]:
    """The validated rows of one unit, in batches: pos, ok, id, rec (record JSON), q (quarantine entry
    JSON: the entry for a quarantined row, and for a loaded row the entry it gets if its id repeats)."""
    from curate.io.load import _accept, _FastRecord, quarantine_entry
    from schemas.records import RecordKind

    cfg = plan.cfg
    kind = RecordKind(plan.kind)
    fast = _FastRecord(kind, plan.mapping, cfg)
    with local_copy(unit) as local:
        source_name = unit if unit.startswith("bundled:") or _is_uri(unit) else str(Path(local).expanduser())
        rows = _rows(unit, local, cfg)
        if _head(cfg) is not None:
            rows = islice(rows, _head(cfg))
        out: dict[str, list] = {"pos": [], "ok": [], "id": [], "explicit": [], "rec": [], "q": []}

        def qentry(r: Any, reason: str, message: str) -> str:
            return quarantine_entry(r, reason, message, source_name, cfg.id_field).model_dump_json()

        for r in rows:
            got: list[Any] = []
            quarantined: list[str] = []
            built = (
                fast.build(r.obj, r.row) if fast.enabled and r.error is None and r.obj is not None else None
            )
            if built is not None:
                got.append(built)
            else:
                def sink(rr: Any, reason: str, msg: str, into: list[str] = quarantined) -> None:
                    into.append(qentry(rr, reason, msg))

                def add(rr: Any, rec: dict[str, Any], into: list[Any] = got) -> None:
                    into.append(rec)   # ids are settled later, over all tasks (ids.settle)

                _accept(r, kind, plan.mapping, cfg, sink, add)
            out["pos"].append((unit_no << ROW_BITS) | r.row)
            if got:
                rec = got[0]
                out["ok"].append(True)
                out["id"].append(rec["id"])
                out["explicit"].append(r.obj is not None and r.obj.get(cfg.id_field) not in (None, ""))
                out["rec"].append(json.dumps(rec, ensure_ascii=False))
                out["q"].append(qentry(r, "duplicate_id", f"id {rec['id']!r} already used by an earlier row"))
            else:
                out["ok"].append(False)
                out["id"].append("")
                out["explicit"].append(False)
                out["rec"].append("")
                out["q"].append(quarantined[0])
            if len(out["pos"]) >= _BATCH:
                yield out
                out = {k: [] for k in out}
        if out["pos"]:
            yield out


def read(plan: Plan) -> Any:
    """A Dataset of every input row (loaded or quarantined; duplicate ids not yet resolved)."""
    import ray

    tasks = len(plan.tasks())
    items = ray.data.from_items([{"task": t} for t in range(tasks)], override_num_blocks=tasks)
    return items.map_batches(read_task, batch_size=1, fn_kwargs={"plan": plan}, batch_format="pandas")
