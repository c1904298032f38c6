"""Format readers. Each turns a source into `RawRow`s: a parsed dict, or the reason it could not be parsed.

Readers never drop a row: a line that cannot be parsed comes out with `error` set, and the loader
quarantines it with its raw text. Blank lines in line-oriented files are not rows.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curate.errors import DataUsageError
from curate.io.encoding import Decoded, decode_bytes, decode_one


@dataclass
class RawRow:
    row: int                      # 0-based row number among the source's rows
    raw: str                      # the source text of the row, for the quarantine
    obj: dict[str, Any] | None    # parsed fields, or None when the row could not be parsed
    line: int | None = None       # 1-based physical line, for line-oriented files
    error: tuple[str, str] | None = None  # (reason, message)
    source: str = ""


@dataclass
class Source:
    path: str
    format: str
    encoding: str = "utf-8"
    encoding_note: str | None = None
    columns: list[str] | None = None   # known up front for tabular formats
    split: str | None = None           # the split read from a DatasetDict folder


SUFFIX_FORMATS = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "tsv", ".tab": "tsv",
    ".parquet": "parquet", ".pq": "parquet",
}


def detect_format(path: Path) -> str:
    if path.is_dir():
        if (path / "dataset_info.json").exists() or (path / "state.json").exists() or (path / "dataset_dict.json").exists():
            return "hf"
        if any(p.is_dir() and any(p.glob("*.txt")) for p in path.iterdir()):
            return "textdir"
        raise DataUsageError(
            f"{path} is a folder but neither a Hugging Face save_to_disk folder nor a folder of <label>/*.txt files",
            fix="point at a data file, a save_to_disk folder, or a folder with one sub-folder of .txt files per label",
        )
    fmt = SUFFIX_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DataUsageError(
            f"cannot tell the format of {path.name} from its extension {path.suffix or '(none)'}",
            fix="use .jsonl, .json, .csv, .tsv or .parquet, or pass --format",
        )
    return fmt


def depth_exceeds(value: Any, limit: int) -> bool:
    """True when `value` nests dicts/lists deeper than `limit` (iterative: no recursion to overflow)."""
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict | list):
            if d > limit:
                return True
            stack.extend((c, d + 1) for c in (v.values() if isinstance(v, dict) else v))
    return False


def _parse_json(text: str) -> tuple[Any, tuple[str, str] | None]:
    try:
        return json.loads(text), None
    except RecursionError:
        return None, ("too_deeply_nested", "JSON nests deeper than the parser allows")
    except json.JSONDecodeError as e:
        where = f"line {e.lineno} column {e.colno}" if e.lineno > 1 else f"column {e.colno}"
        return None, ("malformed_json", f"invalid JSON: {e.msg} at {where}")


def read_jsonl(path: Path, decoded: Decoded) -> Iterator[RawRow]:
    row = 0
    n = len(decoded.lines)
    for i, text in enumerate(decoded.lines):
        if text is None:
            raw = decoded.raw_lines[i].decode("utf-8", errors="replace").rstrip("\r\n")
            yield RawRow(row, raw, None, i + 1, ("undecodable_line", "line is binary or not in the given encoding"))
            row += 1
            continue
        stripped = text.strip()
        if not stripped:
            continue
        obj, err = _parse_json(stripped)
        raw = text.rstrip("\r\n")
        if err and i == n - 1 and not text.endswith(("\n", "\r")) and err[0] == "malformed_json":
            err = ("truncated_line", "the last line is cut off (no closing brace or newline): the file was truncated")
        if err is None and not isinstance(obj, dict):
            err = ("not_an_object", f"expected a JSON object per line, got {type(obj).__name__}")
            obj = None
        yield RawRow(row, raw, obj, i + 1, err)
        row += 1


def read_json_array(path: Path, decoded: Decoded) -> Iterator[RawRow]:
    text = decoded.text
    obj, err = _parse_json(text)
    if err:
        # A whole-file JSON that does not parse may still be JSON lines saved as .json.
        if text.lstrip().startswith("{"):
            yield from read_jsonl(path, decoded)
            return
        raise DataUsageError(f"{path.name} is not valid JSON: {err[1]}",
                             fix="fix the JSON, or save one object per line as .jsonl so bad rows can be quarantined")
    if isinstance(obj, dict):
        for key in ("data", "rows", "records", "examples"):
            if isinstance(obj.get(key), list):
                obj = obj[key]
                break
    if not isinstance(obj, list):
        raise DataUsageError(f"{path.name} holds a JSON {type(obj).__name__}, not an array of records",
                             fix="store a JSON array of objects, or one object per line (.jsonl)")
    for i, item in enumerate(obj):
        raw = json.dumps(item, ensure_ascii=False)[:100_000] if not isinstance(item, str) else item
        if not isinstance(item, dict):
            yield RawRow(i, raw, None, None, ("not_an_object", f"array item is a {type(item).__name__}, not an object"))
        else:
            yield RawRow(i, raw, item)


class _LineTap:
    """Feeds lines to csv.reader while remembering which physical lines the current row came from."""

    def __init__(self, decoded: Decoded):
        self.decoded = decoded
        self.pos = 0
        self.taken: list[int] = []

    def __iter__(self) -> _LineTap:
        return self

    def __next__(self) -> str:
        while self.pos < len(self.decoded.lines):
            i = self.pos
            self.pos += 1
            line = self.decoded.lines[i]
            self.taken.append(i)
            return line if line is not None else "\x00__undecodable__\n"
        raise StopIteration


def read_csv(path: Path, decoded: Decoded, delimiter: str) -> tuple[list[str], Iterator[RawRow]]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    tap = _LineTap(decoded)
    reader = csv.reader(tap, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise DataUsageError(f"{path.name} is empty", fix="pass a file with a header row and data rows") from None
    header = [h.strip() for h in header]
    tap.taken.clear()

    def rows() -> Iterator[RawRow]:
        row = 0
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                lines = list(tap.taken)
                tap.taken.clear()
                raw = "".join(decoded.lines[j] or "" for j in lines).rstrip("\r\n")
                yield RawRow(row, raw, None, lines[0] + 1 if lines else None, ("malformed_csv", str(e)))
                row += 1
                continue
            lines = list(tap.taken)
            tap.taken.clear()
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            first = lines[0] + 1 if lines else None
            if any(decoded.lines[j] is None for j in lines):
                raw = "".join(decoded.raw_lines[j].decode("utf-8", errors="replace") for j in lines).rstrip("\r\n")
                yield RawRow(row, raw, None, first, ("undecodable_line", "line is binary or not in the given encoding"))
            else:
                raw = "".join(decoded.lines[j] for j in lines).rstrip("\r\n")  # type: ignore[misc]
                if len(fields) != len(header):
                    yield RawRow(row, raw, None, first, (
                        "wrong_field_count", f"row has {len(fields)} fields, the header has {len(header)}"))
                else:
                    yield RawRow(row, raw, dict(zip(header, fields, strict=True)), first)
            row += 1

    return header, rows()


def read_parquet(path: Path) -> tuple[list[str], Iterator[RawRow]]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as e:
        raise DataUsageError(f"{path.name} is not a readable Parquet file: {e}",
                             fix="check the file was fully written; re-export it from its source") from None
    columns = list(pf.schema_arrow.names)

    def rows() -> Iterator[RawRow]:
        row = 0
        for batch in pf.iter_batches(batch_size=65_536):
            for item in batch.to_pylist():
                yield RawRow(row, _raw_json(item), item)
                row += 1

    return columns, rows()


def read_hf(path: Path, split: str | None = None) -> tuple[list[str], Iterator[RawRow], str | None]:
    """Rows of a `save_to_disk` folder, and which split of a DatasetDict was read (None for a Dataset).

    ClassLabel columns (and lists of them) are read as their names, not their integer ids.
    """
    from datasets import ClassLabel, Dataset, DatasetDict, Sequence, load_from_disk

    try:
        ds = load_from_disk(str(path))
    except Exception as e:
        raise DataUsageError(f"{path} is not a readable save_to_disk folder: {e}",
                             fix="save it with Dataset.save_to_disk, or export it to JSONL") from None
    chosen = None
    if isinstance(ds, DatasetDict):
        if split is not None and split not in ds:
            raise DataUsageError(f"{path} has no split {split!r}", details=[f"splits: {', '.join(ds)}"],
                                 fix=f"pass --split with one of: {', '.join(ds)}")
        chosen = split or ("train" if "train" in ds else next(iter(ds)))
        ds = ds[chosen]
    elif split is not None:
        raise DataUsageError(f"{path} is a single Dataset, not a DatasetDict: it has no split {split!r}",
                             fix="leave out --split")
    assert isinstance(ds, Dataset)
    columns = list(ds.column_names)
    names: dict[str, Any] = {}
    for col, feat in ds.features.items():
        if isinstance(feat, ClassLabel):
            names[col] = feat.int2str
        elif isinstance(feat, Sequence) and isinstance(feat.feature, ClassLabel):
            names[col] = feat.feature.int2str
        elif isinstance(feat, list) and len(feat) == 1 and isinstance(feat[0], ClassLabel):
            names[col] = feat[0].int2str

    def named(item: dict[str, Any]) -> dict[str, Any]:
        for col, to_name in names.items():
            v = item.get(col)
            if isinstance(v, int) and v >= 0:
                item[col] = to_name(v)
            elif isinstance(v, list):
                item[col] = [to_name(x) if isinstance(x, int) and x >= 0 else x for x in v]
        return item

    def rows() -> Iterator[RawRow]:
        for i, item in enumerate(ds):
            item = named(dict(item))
            yield RawRow(i, _raw_json(item), item)

    return columns, rows(), chosen


def read_textdir(path: Path, src: Source | None = None) -> Iterator[RawRow]:
    """One row per `<label>/<name>.txt` file. A file that is not UTF-8 is decoded as cp1252 and counted in
    `src.encoding_note`; a binary file is quarantined (`undecodable_file`)."""
    files = sorted(f for d in sorted(path.iterdir()) if d.is_dir() for f in d.glob("*.txt"))
    fallback = 0
    for i, f in enumerate(files):
        label = f.parent.name
        rel = f"{label}/{f.name}"
        data = f.read_bytes()
        text, enc = decode_one(data)
        if text is None:
            yield RawRow(i, data[:2000].decode("latin-1"), None, None,
                         ("undecodable_file", f"{rel} is not text (binary content)"), rel)
            continue
        if enc == "cp1252" and src is not None:
            fallback += 1
            src.encoding_note = f"{fallback} file(s) were not valid UTF-8 and were decoded as cp1252"
        yield RawRow(i, text, {"id": rel, "text": text, "label": label}, None, None, rel)


def _raw_json(item: Any) -> str:
    try:
        return json.dumps(item, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return repr(item)[:100_000]


def open_source(path: Path, fmt: str, encoding: str | None,
                split: str | None = None) -> tuple[Source, list[str] | None, Iterator[RawRow]]:
    """Open `path` as `fmt`; return the source description, its columns (if tabular) and its rows."""
    if fmt in ("jsonl", "json", "csv", "tsv"):
        data = path.read_bytes()
        decoded = decode_bytes(data, encoding)
        src = Source(str(path), fmt, decoded.encoding, decoded.note)
        if fmt == "jsonl":
            return src, None, read_jsonl(path, decoded)
        if fmt == "json":
            head = decoded.text.lstrip()[:1]
            if head == "{" and "\n{" in decoded.text.strip():
                src.format = "jsonl"
                return src, None, read_jsonl(path, decoded)
            return src, None, read_json_array(path, decoded)
        columns, rows = read_csv(path, decoded, "," if fmt == "csv" else "\t")
        src.columns = columns
        return src, columns, rows
    if fmt == "parquet":
        columns, rows = read_parquet(path)
        return Source(str(path), fmt, "binary", None, columns), columns, rows
    if fmt == "hf":
        columns, rows, chosen = read_hf(path, split)
        src = Source(str(path), fmt, "arrow", None, columns)
        src.split = chosen
        return src, columns, rows
    if fmt == "textdir":
        src = Source(str(path), fmt, "utf-8", None, ["id", "text", "label"])
        return src, ["id", "text", "label"], read_textdir(path, src)
    raise DataUsageError(f"unknown format {fmt!r}", fix="use one of jsonl, json, csv, tsv, parquet, hf, textdir")
