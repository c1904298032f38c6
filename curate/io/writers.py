"""Writers for JSONL, Parquet and Hugging Face folders. Every write is atomic: the data goes to a temporary
file or folder next to the target and is renamed into place only when complete, so an interrupted run never
leaves a half-written output. What may be replaced is decided by `curate.io.outputs`: a file output never
replaces a folder, and a folder output replaces only a folder datavet wrote (with `overwrite`).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from common.outputs import (  # noqa: F401  (atomic_path, atomic_text, write_text: re-exported for curate.io)
    atomic_path,
    atomic_text,
    check_dir_target,
    os_errors_as_usage,
    replace_dir,
    write_text,
)

# One encoder for every line: `json.dumps(..., ensure_ascii=False)` builds a new JSONEncoder per call.
# The output is byte-identical to json.dumps with the same options.
_ENCODE = json.JSONEncoder(ensure_ascii=False, sort_keys=False).encode
_BATCH = 4096


def encode_line(row: dict[str, Any]) -> str:
    """One JSON line as `write_jsonl` writes it (no newline)."""
    return _ENCODE(row)


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
    return [
        {**r, "metadata": json.dumps(r["metadata"], ensure_ascii=False)}
        if isinstance(r.get("metadata"), dict)
        else r
        for r in rows
    ]


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
