"""Load a dataset into validated records and a quarantine. Nothing is lost: every row the source holds is
either a record or a quarantine entry with its reason and raw text, so rows_read == loaded + quarantined.
"""

from __future__ import annotations

import functools
import gc
import json
import math
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError, create_model

from curate.errors import DataUsageError
from curate.io.readers import RawRow, check_regular, depth_exceeds, detect_format, open_source
from schemas.configs.load import LoadConfig
from schemas.findings import QuarantineEntry
from schemas.records import (
    ALPACA,
    FIELD_ALIASES,
    MAX_NESTING_DEPTH,
    MISSING_LABEL_WORDS,
    RECORD_MODELS,
    REQUIRED_FIELDS,
    RecordKind,
)
from schemas.records import infer_kind as infer_record_kind
from schemas.results import InputSummary

# The record fields a `--FIELD-field` flag can name.
FIELD_FLAGS = ("text", "label", "prompt", "completion", "messages")
# Schemaless JSON: how many parsed rows are read before the record kind and field mapping are decided.
INFER_SAMPLE = 200


@dataclass
class LoadedData:
    """Validated records (plain dicts shaped like the record model) plus everything that was not loadable."""

    kind: RecordKind
    records: list[dict[str, Any]]
    quarantine: list[QuarantineEntry]
    summary: InputSummary
    config: LoadConfig
    field_map: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.records)


def infer_kind(columns: set[str], cfg: LoadConfig, sample: list[dict[str, Any]] | None = None) -> RecordKind:
    """`cfg.kind` when given, else `schemas.records.infer_kind` on the columns, the fields the user named and
    whether sampled rows hold TRL's conversational prompt/completion (message lists, which make them chat)."""
    if cfg.kind is not None:
        return cfg.kind
    named = [f for f in FIELD_FLAGS if getattr(cfg, f"{f}_field")]
    message_lists = bool(sample) and any(isinstance(o.get(cfg.prompt_field or "prompt"), list)
                                         and isinstance(o.get(cfg.completion_field or "completion"), list)
                                         for o in sample or [])
    return infer_record_kind(columns, named, message_lists=message_lists)


def resolve_fields(kind: RecordKind, columns: set[str], cfg: LoadConfig) -> dict[str, str]:
    """Map each required record field to an input column. Raises a usage error naming the columns found."""
    explicit = {
        "text": cfg.text_field, "label": cfg.label_field, "prompt": cfg.prompt_field,
        "completion": cfg.completion_field, "messages": cfg.messages_field,
    }
    mapping: dict[str, str] = {}
    missing: list[str] = []
    if (
        kind is RecordKind.completion
        and set(ALPACA) <= columns
        and not (cfg.prompt_field or cfg.completion_field)
    ):
        return {"instruction": "instruction", "input": "input", "output": "output"}
    prompt_col, completion_col = cfg.prompt_field or "prompt", cfg.completion_field or "completion"
    if (kind is RecordKind.chat and not cfg.messages_field and {prompt_col, completion_col} <= columns
            and not any(a in columns for a in FIELD_ALIASES["messages"])):
        # TRL's conversational prompt/completion: the record model joins the two message lists
        return {"prompt": prompt_col, "completion": completion_col}
    for f in required_fields(kind, cfg):
        col = explicit[f]
        if col is None:
            col = next((a for a in FIELD_ALIASES[f] if a in columns), None)
        if col is None or col not in columns:
            missing.append(f"{f}" + (f" (--{f}-field {col})" if explicit[f] else ""))
        else:
            mapping[f] = col
    if missing:
        flag = {f: f"--{f}-field" for f in FIELD_FLAGS}
        fields = [m.split(" ")[0] for m in missing]
        raise DataUsageError(
            f"{kind.value} records need the field(s) {', '.join(missing)}, which the input does not have",
            details=[f"columns found: {', '.join(sorted(columns)) or '(none)'}"],
            fix="name the input columns with " + ", ".join(f"{flag[f]} COLUMN" for f in fields)
            + ", or pass --kind to read the data as another record kind",
        )
    return mapping


def required_fields(kind: RecordKind, cfg: LoadConfig) -> tuple[str, ...]:
    """The record fields a load reads and validates: all of the kind's, or only `cfg.fields` when a command
    asked for fewer (`evalsuite score` needs the reference, not the text); the others are None in the record
    and their columns stay in metadata, unvalidated."""
    fields = REQUIRED_FIELDS[kind]
    return fields if cfg.fields is None else tuple(f for f in fields if f in cfg.fields)


@functools.cache
def record_model(kind: RecordKind, fields: tuple[str, ...] | None = None) -> type[BaseModel]:
    """The record model rows are validated with: the kind's own, or, when a command needs only some
    fields, a subclass in which the other required fields may be absent (None); every validator still runs
    on the fields that are present."""
    model = RECORD_MODELS[kind]
    if fields is None:
        return model
    optional: dict[str, Any] = {f: (model.model_fields[f].annotation | None, None)
                                for f in REQUIRED_FIELDS[kind] if f not in fields}
    return create_model(f"Partial{model.__name__}", __base__=model, **optional) if optional else model


def _shape(
    obj: dict[str, Any], kind: RecordKind, mapping: dict[str, str], cfg: LoadConfig, row: int
) -> dict[str, Any]:
    """Rename input columns to record fields; everything else goes to `metadata`, kept verbatim.

    A mapped column that is absent from this row is left out (not set to None), so validation reports it as
    `missing_field` rather than `wrong_type`. A `metadata` object in the input (as our own writers produce;
    Parquet and HF folders store it as a JSON string) is merged back, so write-then-load round-trips.
    """
    used = set(mapping.values())
    out: dict[str, Any] = {f: obj[col] for f, col in mapping.items() if col in obj}
    if kind is RecordKind.completion and "instruction" in mapping and out.get("input") is None:
        out.pop("input", None)
    rid = obj.get(cfg.id_field)
    out["id"] = rid if rid not in (None, "") else row
    used.add(cfg.id_field)
    if cfg.group_field:
        out["group"] = obj.get(cfg.group_field)
        used.add(cfg.group_field)
    elif "group" in obj:
        out["group"] = obj["group"]
        used.add("group")
    metadata = _metadata_object(obj.get("metadata")) if "metadata" not in used else None
    if metadata is not None:
        used.add("metadata")
    out["metadata"] = {**(metadata or {}), **{k: v for k, v in obj.items() if k not in used}}
    return out


def _metadata_object(value: Any) -> dict[str, Any] | None:
    """The input's own `metadata` field as a dict, or None when it is not one (then it stays a plain
    column)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.startswith("{"):
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


# pydantic error types that mean "this field holds the wrong kind of value".
_WRONG_TYPE = ("string_type", "list_type", "dict_type", "int_type", "float_type", "bool_type", "model_type",
               "model_attributes_type", "union_tag_invalid", "is_instance_of")
# Our own PydanticCustomError codes in schemas.records; they are reasons as they stand.
_RECORD_REASONS = (
    "empty_conversation",
    "misplaced_system_message",
    "bad_role_order",
    "empty_assistant_turn",
    "bad_content_part",
    "bad_tool_arguments",
    "bad_weight",
    "missing_field",
    "misplaced_tool_call",
    "orphan_tool_result",
    "unanswered_tool_call",
    "no_assistant_reply",
    "empty_completion",
    "missing_label",
)


def _reason(err: ValidationError) -> tuple[str, str]:
    """Turn the first pydantic error into (snake_case reason, message naming the field)."""
    errors = err.errors()
    # A union (a message's content is a string or a list of parts) reports every branch's error; our own
    # record rule, when one fired, says more than "should be a valid string".
    first = next((e for e in errors if e["type"] in _RECORD_REASONS), errors[0])
    # Union members appear in the location (`label.str`); the user only needs the field path.
    loc = ".".join(str(p) for p in first["loc"] if p not in ("str", "list[str]", "function-after[...]"))
    typ = first["type"]
    got = first.get("input")
    if typ == "missing":
        return "missing_field", f"required field {loc!r} is missing"
    if typ == "literal_error" and loc.endswith("role"):
        return "unknown_role", f"{loc}: role {got!r} is not one of system, user, assistant, tool"
    if typ == "extra_forbidden" and ".role" not in loc and loc.startswith("messages"):
        return (
            "wrong_type",
            f"{loc}: unexpected key in a chat message "
            "(a message has role, content, name, tool_calls, tool_call_id, weight)",
        )
    if typ in _RECORD_REASONS:
        return typ, f"{loc}: {first['msg']}"
    if typ in _WRONG_TYPE or typ.endswith("_type") or typ.startswith(("string_", "list_", "int_")):
        return "wrong_type", f"{loc}: {first['msg']} (got {type(got).__name__})"
    return "invalid_record", f"{loc}: {first['msg']}"


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


_SCALARS = (int, float, bool, type(None))
# Ints beyond this go to pydantic: the record validators call float() on them, which overflows near 1e308.
_INT_LIMIT = 1 << 63
# Set to False to send every row through pydantic (tests compare both paths row for row).
FAST_PATH = True


class _FastRecord:
    """Builds the record dict of a plain flat row directly, without pydantic; None means "ask pydantic".

    The usual classification, completion or text row (a flat JSON/CSV row whose mapped fields are plain
    strings)
    costs a third of the load in `_shape` + `model_validate` + `model_dump`. For such a row this returns
    exactly the dict `RECORD_MODELS[kind].model_validate(_shape(...)).model_dump(mode="json")` gives
    (same keys
    in the same order, same id/label/group-to-str rules, same metadata). Every other row (a wrong or unusual
    type, a missing field, a blank completion, a non-finite float, an input `metadata` column, Alpaca or chat
    data) returns None and takes the general path, so every quarantine reason still comes from pydantic.
    `tests/curate/test_io_fast_load.py` checks both paths agree on many random rows.
    """

    def __init__(self, kind: RecordKind, mapping: dict[str, str], cfg: LoadConfig) -> None:
        fields = REQUIRED_FIELDS[kind]
        self.enabled = FAST_PATH and kind is not RecordKind.chat and set(mapping) == set(fields)
        if not self.enabled:
            return
        self.classification = kind is RecordKind.classification
        # text records have one field; classification and text both stringify a scalar group
        self.text_only = kind is RecordKind.text
        self.group_to_str = self.classification or self.text_only
        self.a_field, self.b_field = (fields[0], "") if self.text_only else fields
        self.a_col = mapping[self.a_field]
        self.b_col = "" if self.text_only else mapping[self.b_field]
        self.id_col = cfg.id_field
        # _shape reads the group from --group-field, else from a `group` column when the row has one; an
        # absent group and a None group both validate to None, so one `get` covers both cases.
        self.group_col = cfg.group_field or "group"
        self.used = set(mapping.values()) | {cfg.id_field, self.group_col}

    def build(self, obj: dict[str, Any], row: int) -> dict[str, Any] | None:
        """The record dict of the parsed row `obj`, or None when pydantic must decide.

        Only a flat row qualifies: every value a str without NUL, an int, a bool, None or a finite float
        (so the nesting and NUL checks of `_accept` would pass); this one pass over the values replaces them.
        """
        if type(obj) is not dict or ("metadata" in obj and "metadata" not in self.used):
            return None   # an input metadata object is merged by _shape: leave it to the general path
        a = obj.get(self.a_col)
        b = "" if self.text_only else obj.get(self.b_col)
        if type(a) is not str:
            return None
        if self.text_only:
            pass
        elif type(b) is not str:
            # ClassificationRecord._label_to_str: an int label becomes its decimal string
            if not (self.classification and type(b) is int and -_INT_LIMIT < b < _INT_LIMIT):
                return None
            b = str(b)
        elif not b.strip() or (
            self.classification and len(b) <= 9 and b.strip().lower() in MISSING_LABEL_WORDS
        ):
            return None   # empty_completion / missing_label: pydantic words the reason
        rid = obj.get(self.id_col)
        if rid is None or rid == "":
            rid = row
        t = type(rid)
        if t is int:
            if not -_INT_LIMIT < rid < _INT_LIMIT:
                return None
            rid = str(rid)
        elif t is not str:
            return None
        group = obj.get(self.group_col)
        if group is not None and type(group) is not str:
            # ClassificationRecord._group_to_str stringifies any scalar; CompletionRecord takes str or None
            if not self.group_to_str:
                return None
            group = str(group)
        metadata: dict[str, Any] = {}
        used = self.used
        for k, v in obj.items():
            t = type(v)
            if t is str:
                if "\x00" in v:
                    return None   # quarantined as nul_character by the general path
            elif t is float:
                if not math.isfinite(v):
                    return None   # model_dump(mode="json") turns NaN/inf into None: let pydantic do it
            elif not (t is int or t is bool or v is None):
                return None       # nested or unusual values: depth and type checks of the general path
            if k not in used:
                if type(k) is not str:
                    return None
                metadata[k] = v
        if self.text_only:
            return {"id": rid, "metadata": metadata, "text": a, "group": group}
        return {"id": rid, "metadata": metadata, self.a_field: a, self.b_field: b, "group": group}


def _flat_nul(obj: dict[str, Any]) -> bool | None:
    """For a row of plain scalars (the usual JSONL/CSV row): whether a string holds NUL; None otherwise.

    One pass over the values replaces `depth_exceeds` (a flat row nests one level) plus the recursive
    `_has_nul` on the common row; nested or unusual values return None and take the general checks.
    """
    nul = False
    for v in obj.values():
        t = type(v)
        if t is str:
            nul = nul or "\x00" in v
        elif t not in _SCALARS:
            return None
    return nul


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector; restore its previous state on exit, errors included.

    Loading and curating allocate millions of dicts and no reference cycles; left on, the cyclic collector
    re-scans all of them at every full collection (a quarter of the load time at 1M rows: 8.1 s -> 6.0 s
    without, and ~3 s of normalization after it). Reference counting still frees everything.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load(cfg: LoadConfig | str | Path | Any, **overrides: Any) -> LoadedData:
    """Load a dataset: every row becomes a validated record or a quarantine entry with its reason.

    Args:
        cfg: A LoadConfig; a path or `bundled:NAME`; or in-memory data: a pandas DataFrame, a
            `datasets.Dataset` or a list of dicts (validated exactly as a file's rows are).
        **overrides: LoadConfig fields (kind, text_field, ...) when `cfg` is not a LoadConfig.
    """
    from curate.io.memory import is_in_memory, open_memory

    with gc_paused():
        if is_in_memory(cfg):
            opened = open_memory(cfg)
            return _load(
                LoadConfig(path=opened[0].path, **{k: v for k, v in overrides.items() if v is not None}),
                opened=opened,
            )
        return _load(cfg, **overrides)


RENAMED_NOTE = (
    " row(s) without an id got a new id because the input uses their row number as another row's id: "
)


def renamed_note(renamed: list[str], count: int | None = None) -> str:
    """The summary note listing rows whose made-up id was renamed: `count` renamings (default
    `len(renamed)`), the first three named (shared with the Ray engine, which settles ids the same way in
    `curate.engines.ray.ids` and passes its first notes and their count)."""
    count = len(renamed) if count is None else count
    return f"{count}{RENAMED_NOTE}" + "; ".join(renamed[:3]) + (" ..." if count > 3 else "")


def _load(cfg: LoadConfig | str | Path, opened: tuple | None = None, **overrides: Any) -> LoadedData:
    if not isinstance(cfg, LoadConfig):
        cfg = LoadConfig(path=str(cfg), **{k: v for k, v in overrides.items() if v is not None})
    if opened is not None:
        source, columns, rows = opened
    elif cfg.path.startswith("bundled:") or cfg.format == "bundled":
        from curate.io.bundled import open_bundled

        source, columns, rows, cfg = open_bundled(cfg)
    else:
        path = Path(cfg.path).expanduser()
        if not path.exists():
            raise DataUsageError(
                f"{path} does not exist",
                fix="check the path, or use a bundled dataset: bundled:tweets, bundled:bbc, bundled:chat",
            )
        check_regular(path)
        fmt = detect_format(path) if cfg.format == "auto" else cfg.format
        source, columns, rows = open_source(path, fmt, cfg.encoding, cfg.split)

    records: list[dict[str, Any]] = []
    quarantine: list[QuarantineEntry] = []
    seen_ids: set[str] = set()
    # ids the loader made up (the row number, for a row without an id) -> the record's index in `records`
    implicit: dict[str, int] = {}
    renamed: list[str] = []
    last_line = 0
    rows_read = 0
    kind: RecordKind | None = None
    mapping: dict[str, str] = {}
    fast: _FastRecord | None = None

    def quarantine_row(r: RawRow, reason: str, message: str) -> None:
        quarantine.append(quarantine_entry(r, reason, message, source.path, cfg.id_field))

    def decide(sample: list[RawRow]) -> None:
        nonlocal kind, mapping, fast
        cols: set[str] = set(columns or [])
        if columns is None:
            for r in sample:
                if r.obj is not None:
                    cols |= set(r.obj)
        kind = infer_kind(cols, cfg, [r.obj for r in sample if r.obj is not None])
        mapping = resolve_fields(kind, cols, cfg)
        fast = _FastRecord(kind, mapping, cfg)

    def unique_id(rid: str, r: RawRow, rec: dict[str, Any]) -> bool:
        """Settle an id clash (`rid` is already used): True when `rec` may be added (under a settled id).

        The input's own ids win over ids the loader made up: a row's explicit id that equals an earlier
        row's implicit id (its row number) renames the earlier row; an implicit id that equals an earlier
        explicit id renames this row. Only two explicit ids that are equal are a `duplicate_id`.
        """
        explicit = r.obj is not None and r.obj.get(cfg.id_field) not in (None, "")
        if explicit and rid not in implicit:
            quarantine_row(r, "duplicate_id", f"id {rid!r} already used by an earlier row")
            return False
        n = 1
        while f"{rid}~{n}" in seen_ids:
            n += 1
        fresh = f"{rid}~{n}"
        seen_ids.add(fresh)
        if explicit:  # the earlier row had a made-up id: it moves aside
            idx = implicit.pop(rid)
            records[idx]["id"] = fresh
            implicit[fresh] = idx
            renamed.append(f"the row without an id that was {rid!r} is now {fresh!r}")
        else:
            rec["id"] = fresh
            implicit[fresh] = len(records)
            renamed.append(f"the row without an id at row {r.row} is {fresh!r}")
        return True

    def add(r: RawRow, rec: dict[str, Any]) -> None:
        rid = rec["id"]
        if rid in seen_ids:
            if not unique_id(rid, r, rec):
                return
            if rec["id"] == rid:  # an explicit id that took its id back from an implicit one
                records.append(rec)
                return
        else:
            seen_ids.add(rid)
            if r.obj is None or r.obj.get(cfg.id_field) in (None, ""):
                implicit[rid] = len(records)
        records.append(rec)

    def accept(r: RawRow) -> None:
        nonlocal rows_read, last_line
        rows_read += 1
        if r.line is not None:
            last_line = r.line
        assert kind is not None and fast is not None
        if fast.enabled and r.error is None and r.obj is not None:
            # the usual row, built without pydantic (inlined here: this loop runs once per input row)
            built = fast.build(r.obj, r.row)
            if built is not None:
                add(r, built)
                return
        _accept(r, kind, mapping, cfg, quarantine_row, add)

    from curate.subset import describe, subset_rows

    limited, subset = subset_rows(rows, cfg.head, cfg.sample, cfg.seed)
    if columns is not None:
        # Tabular sources know their columns up front: decide the kind and field mapping before any row
        # (the first row is looked at too: its values tell TRL's conversational prompt/completion apart).
        first = next(iter(limited), None)
        decide([first] if first is not None else [])
        for r in chain([first], limited) if first is not None else limited:
            accept(r)
    else:
        # Schemaless JSON: the columns are the union of the keys of the first INFER_SAMPLE rows that parse.
        # Those rows (and any unparseable ones among them) are held back until the kind is decided, then
        # every row, held back or not, goes through the same `accept` in source order.
        buffered: list[RawRow] = []
        parsed = 0
        for r in limited:
            if kind is None:
                buffered.append(r)
                parsed += r.obj is not None
                if parsed >= INFER_SAMPLE:
                    decide(buffered)
                    for b in buffered:
                        accept(b)
                    buffered = []
                continue
            accept(r)
        if kind is None:  # fewer than INFER_SAMPLE parsed rows in the whole file
            if not buffered:
                raise DataUsageError(f"{cfg.path} holds no rows", fix="pass a file with at least one record")
            decide(buffered)
            for b in buffered:
                accept(b)
    assert kind is not None
    if rows_read == 0:
        raise DataUsageError(f"{cfg.path} holds no rows", fix="pass a file with at least one record")

    reasons = Counter(q.reason for q in quarantine)
    note = source.encoding_note
    if cfg.head is not None and source.note_for is not None:
        note = source.note_for(last_line or None)  # the counts describe the lines this load used
    notes = list(source.notes)
    if renamed:
        notes.append(renamed_note(renamed))
    summary = InputSummary(
        path=cfg.path,
        format=source.format,
        encoding=source.encoding,
        kind=kind.value,
        rows_read=rows_read,
        rows_loaded=len(records),
        rows_quarantined=len(quarantine),
        quarantine_reasons=dict(reasons.most_common()),
        encoding_note=note,
        notes=notes,
        split=source.split,
        subset=describe(subset),
    )
    assert summary.rows_read == summary.rows_loaded + summary.rows_quarantined
    return LoadedData(kind, records, quarantine, summary, cfg, mapping)


def quarantine_entry(r: RawRow, reason: str, message: str, source: str, id_field: str) -> QuarantineEntry:
    """The quarantine entry of raw row `r` (shared with the Ray engine's loader, `curate.engines.ray.load`).

    Its id is the row's own id when it is a non-empty string or int, else its row number; its raw text is kept
    up to 100,000 characters.

    Args:
        r: The raw row.
        reason: The snake_case reason code.
        message: What was wrong, for a person.
        source: The source's name, when the row does not carry its own (`r.source`).
        id_field: The field that holds row ids.
    """
    rid = r.obj.get(id_field) if r.obj is not None else None
    return QuarantineEntry(
        source=r.source or source,
        line=r.line,
        row=r.row,
        id=str(rid) if isinstance(rid, str | int) and not isinstance(rid, bool) and rid != "" else str(r.row),
        reason=reason,
        message=message,
        raw=r.raw if len(r.raw) <= 100_000 else r.raw[:100_000] + "…[truncated]",
    )


def _accept(
    r: RawRow,
    kind: RecordKind,
    mapping: dict[str, str],
    cfg: LoadConfig,
    quarantine_row: Callable[[RawRow, str, str], None],
    add: Callable[[RawRow, dict[str, Any]], None],
) -> None:
    """Validate one row: hand its record to `add` (which settles its id), or quarantine it with the first
    reason that applies.

    `load` first offers each row to `_FastRecord.build`; rows it declines come here, to pydantic.
    """
    if r.error is not None or r.obj is None:
        reason, message = r.error or ("unparseable_row", "row could not be parsed")
        quarantine_row(r, reason, message)
        return
    flat_nul = _flat_nul(r.obj)
    if flat_nul is None and depth_exceeds(r.obj, MAX_NESTING_DEPTH):
        quarantine_row(r, "too_deeply_nested", f"a value nests deeper than {MAX_NESTING_DEPTH} levels")
        return
    if flat_nul if flat_nul is not None else _has_nul(r.obj):
        quarantine_row(r, "nul_character", "the row contains a NUL (\\x00) character")
        return
    shaped = _shape(r.obj, kind, mapping, cfg, r.row)
    try:
        rec = record_model(kind, None if cfg.fields is None else tuple(cfg.fields)).model_validate(shaped)
        dumped = rec.model_dump(mode="json", exclude_none=False)
    except ValidationError as e:
        reason, message = _reason(e)
        quarantine_row(r, reason, message)
        return
    except (ValueError, OverflowError, UnicodeError) as e:  # one odd value must not stop the load
        quarantine_row(r, "invalid_value", f"a value cannot be read: {type(e).__name__}: {e}"[:500])
        return
    add(r, dumped)
