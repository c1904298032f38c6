"""Format readers. Each turns a source into `RawRow`s: a parsed dict, or the reason it could not be parsed.

Readers never drop a row: a line that cannot be parsed comes out with `error` set, and the loader
quarantines it with its raw text. Blank lines in line-oriented files are not rows.
"""

from __future__ import annotations

import csv
import json
import stat
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
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
    # the encoding note for the first N physical lines, when a limit stops the load early
    note_for: Callable[[int | None], str | None] | None = None
    notes: list[str] = field(default_factory=list)   # other things the reader wants the user to know


def check_regular(path: Path) -> None:
    """Refuse what is not a regular file or folder: a FIFO with no writer would block the load forever.

    Raises:
        DataUsageError: `path` is a FIFO, socket or device.
    """
    mode = path.stat().st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        kind = (
            "a FIFO (named pipe)"
            if stat.S_ISFIFO(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "a device"
        )
        raise DataUsageError(
            f"{path} is {kind}, not a regular file; datavet reads regular files only",
            fix="save the data to a file first (e.g. `cat pipe > data.jsonl`) and pass that file",
        )


SUFFIX_FORMATS = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "tsv", ".tab": "tsv",
    ".parquet": "parquet", ".pq": "parquet",
}


def detect_format(path: Path) -> str:
    if path.is_dir():
        if (
            (path / "dataset_info.json").exists()
            or (path / "state.json").exists()
            or (path / "dataset_dict.json").exists()
        ):
            return "hf"
        if any(p.is_dir() and any(f.suffix.lower() == ".txt" for f in p.iterdir()) for p in path.iterdir()):
            return "textdir"
        raise DataUsageError(
            f"{path} is a folder but neither a Hugging Face save_to_disk folder nor a folder of "
            "<label>/*.txt files",
            fix="point at a data file, a save_to_disk folder, or a folder with one sub-folder of .txt files "
            "per label",
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
        obj = json.loads(text)
    except RecursionError:
        return None, ("too_deeply_nested", "JSON nests deeper than the parser allows")
    except json.JSONDecodeError as e:
        where = f"line {e.lineno} column {e.colno}" if e.lineno > 1 else f"column {e.colno}"
        return None, ("malformed_json", f"invalid JSON: {e.msg} at {where}")
    except ValueError as e:  # e.g. an integer longer than Python converts (4300 digits)
        return None, ("number_too_long", f"a number in the row cannot be read: {e}")
    if ("\\ud" in text or "\\uD" in text) and _has_lone_surrogate(obj):
        return None, ("lone_surrogate", "a string holds a lone UTF-16 surrogate escape (e.g. \\ud800), "
                                        "which is not valid Unicode text")
    return obj, None


def _has_lone_surrogate(obj: Any) -> bool:
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _cr_records(text: str) -> list[str] | None:
    """The records of a JSONL line that holds bare CRs as record separators, or None when it holds none.

    JSON strings cannot contain a raw CR, so a CR inside a line that does not parse as one object separates
    records (a file saved with CR line ends in part).
    """
    body = text.rstrip("\r\n")
    if "\r" not in body:
        return None
    parts = [p for p in body.split("\r") if p.strip()]
    return parts if len(parts) > 1 else None


def read_jsonl(path: Path, decoded: Decoded) -> Iterator[RawRow]:
    row = 0
    n = len(decoded.lines)
    for i, text in enumerate(decoded.lines):
        if text is None:
            raw = decoded.raw_lines[i].decode("utf-8", errors="replace").rstrip("\r\n")
            yield RawRow(
                row, raw, None, i + 1, ("undecodable_line", "line is binary or not in the given encoding")
            )
            row += 1
            continue
        stripped = text.strip()
        if not stripped:
            continue
        obj, err = _parse_json(stripped)
        if err is not None and (parts := _cr_records(text)) is not None:
            for part in parts:  # one physical line, several records separated by bare CRs
                pobj, perr = _parse_json(part.strip())
                if perr is None and not isinstance(pobj, dict):
                    pobj, perr = (
                        None,
                        ("not_an_object", f"expected a JSON object per line, got {type(pobj).__name__}"),
                    )
                yield RawRow(row, part, pobj, i + 1, perr)
                row += 1
            continue
        raw = text.rstrip("\r\n")
        if err and i == n - 1 and not text.endswith(("\n", "\r")) and err[0] == "malformed_json":
            err = (
                "truncated_line",
                "the last line is cut off (no closing brace or newline): the file was truncated",
            )
        if err is None and not isinstance(obj, dict):
            err = ("not_an_object", f"expected a JSON object per line, got {type(obj).__name__}")
            obj = None
        yield RawRow(row, raw, obj, i + 1, err)
        row += 1


class _HugeInt(str):
    """An integer literal too long to convert; the row holding it is quarantined (`number_too_long`)."""


def _int_or_huge(s: str) -> int | _HugeInt:
    try:
        return int(s)
    except ValueError:
        return _HugeInt(s)


def _has_huge(value: Any) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, _HugeInt):
            return True
        if isinstance(v, dict | list):
            stack.extend(v.values() if isinstance(v, dict) else v)
    return False


def read_json_array(path: Path, decoded: Decoded) -> Iterator[RawRow]:
    text = decoded.text
    obj, err = _parse_json(text)
    if err and err[0] == "number_too_long":
        # one over-long integer must not lose the whole file: parse again, marking such numbers per item
        obj, err = json.loads(text, parse_int=_int_or_huge), None
    if err:
        # A whole-file JSON that does not parse may still be JSON lines saved as .json.
        if text.lstrip().startswith("{"):
            yield from read_jsonl(path, decoded)
            return
        raise DataUsageError(
            f"{path.name} is not valid JSON: {err[1]}",
            fix="fix the JSON, or save one object per line as .jsonl so bad rows can be quarantined",
        )
    if isinstance(obj, dict):
        for key in ("data", "rows", "records", "examples"):
            if isinstance(obj.get(key), list):
                obj = obj[key]
                break
    if not isinstance(obj, list):
        raise DataUsageError(f"{path.name} holds a JSON {type(obj).__name__}, not an array of records",
                             fix="store a JSON array of objects, or one object per line (.jsonl)")
    surrogates = "\\ud" in text or "\\uD" in text
    for i, item in enumerate(obj):
        raw = json.dumps(item, ensure_ascii=False)[:100_000] if not isinstance(item, str) else item
        if not isinstance(item, dict):
            yield RawRow(
                i, raw, None, None, ("not_an_object", f"array item is a {type(item).__name__}, not an object")
            )
        elif _has_huge(item):
            yield RawRow(
                i,
                raw,
                None,
                None,
                ("number_too_long", "an integer in the row is longer than Python converts (4300 digits)"),
            )
        elif surrogates and _has_lone_surrogate(item):
            raw = json.dumps(item)[:100_000]
            yield RawRow(
                i,
                raw,
                None,
                None,
                (
                    "lone_surrogate",
                    "a string holds a lone UTF-16 surrogate escape "
                    "(e.g. \\ud800), which is not valid Unicode text",
                ),
            )
        else:
            yield RawRow(i, raw, item)


# Stands in for a bare CR inside a line while csv parses it (csv would take the CR for a line end).
_CR = "\ue000"


def _swap_cr(line: str) -> str:
    """`line` with each bare CR inside it (not its line end) swapped for the stand-in `_CR`."""
    body = line.rstrip("\r\n")
    if "\r" in body and _CR not in line:
        return body.replace("\r", _CR) + line[len(body):]
    return line


class _LineTap:
    """Feeds lines to csv.reader while remembering which physical lines the current row came from.

    A bare CR inside a line of an LF file is content (writers that end lines with LF leave it unquoted),
    so it is swapped for a stand-in character that `restore` swaps back after parsing.
    """

    def __init__(self, decoded: Decoded):
        self.decoded = decoded
        self.pos = 0
        self.taken: list[int] = []
        self.swapped = False

    def __iter__(self) -> _LineTap:
        return self

    def __next__(self) -> str:
        while self.pos < len(self.decoded.lines):
            i = self.pos
            self.pos += 1
            line = self.decoded.lines[i]
            self.taken.append(i)
            if line is None:
                return "\x00__undecodable__\n"
            swapped = _swap_cr(line)
            self.swapped = self.swapped or swapped is not line
            return swapped
        raise StopIteration

    def restore(self, fields: list[str]) -> list[str]:
        if not self.swapped:
            return fields
        self.swapped = False
        return [f.replace(_CR, "\r") for f in fields]


def _alone(line: str, delimiter: str, quoting: int = csv.QUOTE_MINIMAL) -> list[str] | None:
    """Parse one physical line on its own; None when it is not one complete CSV record."""
    try:
        got = list(csv.reader([_swap_cr(line).rstrip("\r\n")], delimiter=delimiter, quoting=quoting))
    except csv.Error:
        return None
    return [f.replace(_CR, "\r") for f in got[0]] if len(got) == 1 else None


def _swallowed_rows(lines: list[str], delimiter: str, width: int) -> bool:
    """True when a record that spans several physical lines is really several rows merged by a stray quote.

    A well-formed quoted field may hold line breaks (csv writers quote them, doubling inner quotes), and then
    the record parses strictly as one row of the header's width. A stray quote instead runs on until the end
    of the file or until another quote that is not followed by a delimiter: strict parsing rejects both.
    """
    try:
        got = list(csv.reader([_swap_cr(ln) for ln in lines], delimiter=delimiter, strict=True))
    except csv.Error:
        return True
    return len(got) != 1 or len(got[0]) != width


def read_csv(path: Path, decoded: Decoded, delimiter: str) -> tuple[list[str], Iterator[RawRow]]:
    """Read a CSV/TSV file. Rows come out one per physical record, with their first line number.

    A record that runs across lines because of an unclosed quote (or whose field count does not match the
    header) is split back into its physical lines: each line that is a whole row on its own is a row; the
    others are quarantined (`unclosed_quote`, `wrong_field_count`) with their line numbers.

    Raises:
        DataUsageError: the file is empty, its header cannot be parsed, or two columns share a name.
    """
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    tap = _LineTap(decoded)
    reader = csv.reader(tap, delimiter=delimiter)
    try:
        header = tap.restore(next(reader))
    except StopIteration:
        raise DataUsageError(
            f"{path.name} is empty", fix="pass a file with a header row and data rows"
        ) from None
    except csv.Error as e:
        raise DataUsageError(
            f"the header row of {path.name} cannot be parsed: {e}",
            fix="check the first line of the file, or pass the right --format",
        ) from None
    header = [h.strip() for h in header]
    dupes = sorted(n for n, c in Counter(header).items() if c > 1)
    if dupes:
        raise DataUsageError(f"{path.name} has duplicate column names: {', '.join(repr(d) for d in dupes)}",
                             fix="rename the columns so each name is used once (a later column would hide an "
                                 "earlier one)")
    tap.taken.clear()
    width = len(header)

    def physical(lines: list[int], row: int) -> Iterator[RawRow]:
        # A merged record, one physical line at a time.
        for j in lines:
            text = decoded.lines[j]
            if text is None or not text.strip():
                if text is None:
                    raw = decoded.raw_lines[j].decode("utf-8", errors="replace").rstrip("\r\n")
                    yield RawRow(
                        row,
                        raw,
                        None,
                        j + 1,
                        ("undecodable_line", "line is binary or not in the given encoding"),
                    )
                    row += 1
                continue
            raw = text.rstrip("\r\n")
            fields = _alone(text, delimiter)
            if fields is None or text.count('"') % 2:
                yield RawRow(row, raw, None, j + 1, ("unclosed_quote", "a quote opened on this line is not "
                                                    "closed on it: it would swallow the rows after it"))
            elif len(fields) != width:
                yield RawRow(
                    row,
                    raw,
                    None,
                    j + 1,
                    ("wrong_field_count", f"row has {len(fields)} fields, the header has {width}"),
                )
            else:
                yield RawRow(row, raw, dict(zip(header, fields, strict=True)), j + 1)
            row += 1

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
                tap.swapped = False
                raw = "".join(decoded.lines[j] or "" for j in lines).rstrip("\r\n")
                yield RawRow(row, raw, None, lines[0] + 1 if lines else None, ("malformed_csv", str(e)))
                row += 1
                continue
            lines = list(tap.taken)
            tap.taken.clear()
            fields = tap.restore(fields)
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            first = lines[0] + 1 if lines else None
            if any(decoded.lines[j] is None for j in lines):
                raw = "".join(decoded.raw_lines[j].decode("utf-8", errors="replace") for j in lines).rstrip(
                    "\r\n"
                )
                yield RawRow(
                    row, raw, None, first, ("undecodable_line", "line is binary or not in the given encoding")
                )
                row += 1
                continue
            texts: list[str] = [decoded.lines[j] for j in lines]  # type: ignore[misc]
            if len(lines) > 1 and (len(fields) != width or _swallowed_rows(texts, delimiter, width)):
                for r in physical(lines, row):
                    yield r
                    row += 1
                continue
            raw = "".join(texts).rstrip("\r\n")
            if len(fields) != width:
                yield RawRow(row, raw, None, first, (
                    "wrong_field_count", f"row has {len(fields)} fields, the header has {width}"))
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


def textdir_files(path: Path) -> tuple[list[Path], list[str]]:
    """The `<label>/<name>.txt` files of a label folder (any case of `.txt`), and every other entry
    skipped."""
    files: list[Path] = []
    skipped: list[str] = []
    for d in sorted(path.iterdir()):
        if not d.is_dir():
            skipped.append(d.name)
            continue
        for f in sorted(d.iterdir()):
            if f.suffix.lower() == ".txt" and f.is_file():
                files.append(f)
            else:
                skipped.append(f"{d.name}/{f.name}" + ("/" if f.is_dir() else ""))
    return files, skipped


def read_textdir(path: Path, src: Source | None = None) -> Iterator[RawRow]:
    """One row per `<label>/<name>.txt` file. A file that is not UTF-8 is decoded as cp1252 and counted in
    `src.encoding_note`; a binary file is quarantined (`undecodable_file`); anything else in the folder (other
    extensions, nested folders, loose files) is named in `src.notes`, never skipped silently."""
    files, skipped = textdir_files(path)
    if skipped and src is not None:
        shown = ", ".join(skipped[:5]) + (f" and {len(skipped) - 5} more" if len(skipped) > 5 else "")
        src.notes.append(f"skipped {len(skipped)} entr{'y' if len(skipped) == 1 else 'ies'} that are not "
                         f"<label>/*.txt files: {shown}")
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
        src = Source(str(path), fmt, decoded.encoding, decoded.note, note_for=decoded.note_for)
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
    raise DataUsageError(
        f"unknown format {fmt!r}", fix="use one of jsonl, json, csv, tsv, parquet, hf, textdir"
    )
