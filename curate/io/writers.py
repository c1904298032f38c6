"""Writers for JSONL, Parquet and Hugging Face folders. Every write is atomic: the data goes to a temporary
file or folder next to the target and is renamed into place only when complete, so an interrupted run never
leaves a half-written output. What may be replaced is decided by `curate.io.outputs`: a file output never
replaces a folder, and a folder output replaces only a folder datavet wrote (with `overwrite`).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from curate.io.outputs import check_dir_target, check_file_target, os_error, os_errors_as_usage, replace_dir


@contextmanager
def atomic_path(target: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success rename it onto `target`, on failure remove it.

    Raises:
        OutputError: `target` is a folder or lies under a file, or the write failed for a reason the user
            can fix (disk full, read-only or unwritable folder); the temporary file is removed first.
    """
    target = check_file_target(target)
    with os_errors_as_usage(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix + ".tmp", dir=target.parent)
    os.close(fd)
    # mkstemp creates 0600; an output file should get the usual permissions (0666 less the umask).
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        check_file_target(target)  # a folder may have appeared there while we wrote
        os.replace(tmp_path, target)
    except BaseException as e:
        if tmp_path.is_dir():
            shutil.rmtree(tmp_path, ignore_errors=True)
        else:
            tmp_path.unlink(missing_ok=True)
        mapped = os_error(e, target) if isinstance(e, OSError) else None
        if mapped is not None:
            raise mapped from e
        raise


@contextmanager
def atomic_text(target: str | Path) -> Iterator[IO[str]]:
    with atomic_path(target) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        yield fh


def write_text(text: str, target: str | Path) -> Path:
    """Write `text` (UTF-8) to `target` atomically. Returns the path."""
    with atomic_text(target) as fh:
        fh.write(text)
    return Path(target)


# One encoder for every line: `json.dumps(..., ensure_ascii=False)` builds a new JSONEncoder per call.
# The output is byte-identical to json.dumps with the same options.
_ENCODE = json.JSONEncoder(ensure_ascii=False, sort_keys=False).encode
_BATCH = 4096


def write_jsonl(rows: Iterable[Any], target: str | Path) -> int:
    """Write dicts or pydantic models as JSON lines (UTF-8, sorted by nothing: input order kept)."""
    n = 0
    batch: list[str] = []
    with atomic_text(target) as fh:
        for r in rows:
            if hasattr(r, "model_dump"):
                r = r.model_dump(mode="json")
            batch.append(_ENCODE(r))
            n += 1
            if len(batch) >= _BATCH:
                # one write per batch of lines instead of two per row
                batch.append("")
                fh.write("\n".join(batch))
                batch = []
        if batch:
            batch.append("")
            fh.write("\n".join(batch))
    return n


def write_json(obj: Any, target: str | Path) -> None:
    if hasattr(obj, "model_dump"):
        obj = obj.model_dump(mode="json")
    with atomic_text(target) as fh:
        json.dump(obj, fh, ensure_ascii=False, indent=2)
        fh.write("\n")


def _flatten_for_arrow(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Arrow needs one type per column; free-form metadata is stored as a JSON string.
    return [{**r, "metadata": json.dumps(r["metadata"], ensure_ascii=False)} if isinstance(r.get("metadata"), dict)
            else r for r in rows]


def write_parquet(rows: list[dict[str, Any]], target: str | Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(_flatten_for_arrow(rows))
    with atomic_path(target) as tmp:
        pq.write_table(table, tmp)
    return len(rows)


def write_hf(rows: list[dict[str, Any]], target: str | Path, *, overwrite: bool = False) -> int:
    """Write an HF save_to_disk folder, built beside `target` and swapped in when complete.

    Raises:
        OutputError: `target` exists and is not an empty folder or (with `overwrite`) a folder datavet wrote.
    """
    from datasets import Dataset

    target = check_dir_target(target, overwrite=overwrite)  # refuse before the work, and again at the swap
    ds = Dataset.from_list(_flatten_for_arrow(rows))
    with os_errors_as_usage(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        with os_errors_as_usage(target):
            ds.save_to_disk(str(tmp))
            tmp.chmod(0o755)  # mkdtemp makes it private; the folder is ordinary output
            replace_dir(tmp, target, overwrite=overwrite, command="write_hf")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return len(rows)


WRITERS = {"jsonl": write_jsonl, "parquet": write_parquet, "hf": write_hf}
SUFFIX_WRITERS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


def writer_format(target: str | Path, fmt: str | None = None) -> str:
    """The format `write_records` uses: `fmt` when given, else from the suffix; no suffix means an HF folder.

    Raises:
        UsageError: for an unknown `fmt` or a suffix that names no format we write (e.g. `.csv`, `.json`).
    """
    from schemas.errors import UsageError

    target = Path(target)
    if fmt is not None:
        if fmt not in WRITERS:
            raise UsageError(f"cannot write format {fmt!r}", fix=f"use one of: {', '.join(WRITERS)}")
        return fmt
    if not target.suffix:
        return "hf"
    found = SUFFIX_WRITERS.get(target.suffix.lower())
    if found is None:
        raise UsageError(
            f"cannot tell which format to write from the extension {target.suffix!r} of {target.name}",
            fix="name the output .jsonl or .parquet, or give a folder name without an extension for a "
                "Hugging Face save_to_disk folder",
        )
    return found


def write_records(rows: list[dict[str, Any]], target: str | Path, fmt: str | None = None, *,
                  overwrite: bool = False) -> int:
    """Write records atomically as JSONL, Parquet or an HF save_to_disk folder.

    Args:
        rows: record dicts as `curate.load` returns them.
        target: output path: `.jsonl`/`.ndjson`, `.parquet`/`.pq`, or a name without extension (HF folder).
        fmt: `jsonl`, `parquet` or `hf`, overriding the extension.
        overwrite: an HF folder may replace a folder datavet wrote earlier (never anyone else's).

    Returns:
        The number of rows written.
    """
    fmt = writer_format(target, fmt)
    if fmt == "hf":
        return write_hf(rows, target, overwrite=overwrite)
    return WRITERS[fmt](rows, Path(target))
