"""Normalization: make texts and labels canonical before checks and dedup, counting every change.

Each step is one kind of change; a row's change list names the kinds that altered it (the check
`normalization` reports counts by kind and the rows per kind). Steps run in this order:

1. `html` (opt-in): unescape entities (`&amp;` -> `&`) or also strip tags.
2. `mojibake`: ftfy's `fix_encoding`. The repair is applied only when ftfy's badness score of the result is
   0 (no mojibake left); a partial "repair" of unrecoverable garbage (as in the tweets corpus, text that was
   encoded twice and lost bytes) often swaps one garbage for another, so such rows are left alone and
   reported as `mojibake_unrepaired` instead (a finding, not a change).
3. `nfkc`: Unicode NFKC (full-width letters, ligatures, compatibility forms).
4. `control` / `zero_width`: C0/C1 control characters other than tab and newline; zero-width and
   invisible formatting characters (U+200B-U+200F, U+2060-U+2064, U+FEFF, soft hyphen).
5. `whitespace`: runs of spaces and tabs -> one space, spaces around newlines removed, three or more
   newlines -> two, ends stripped. Newlines are kept because completions (code, lists) depend on them.
6. `lowercase` (opt-in).

Labels: `label_map` maps raw labels (exact key first, then the stripped, case-folded key) to canonical
labels; with `labels` given, a label equal to an allowed label up to case and surrounding space becomes that
label, and any other label is reported as unknown. A relabelled row has change kind `label`.

ASCII texts skip the Unicode steps (they cannot change them), which keeps 1M short rows to a few seconds.
The rows that need real work (mostly ftfy on non-ASCII text) are spread over the CPU's cores when there are
at least `PARALLEL_MIN_ROWS` of them: on the 2-core machine that halves the stage at 1M rows
(BENCHMARKS.md, curate-run). The result is the same as the serial path, in the same order (tested).
"""

from __future__ import annotations

import html as _html
import os
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from curate.io.load import LoadedData
from schemas.configs.curate import NormalizeConfig
from schemas.records import RecordKind, map_message_text, record_text

CHANGE_KINDS = ("html", "mojibake", "nfkc", "control", "zero_width", "whitespace", "lowercase", "label")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ZERO_WIDTH = re.compile("[\u00ad\u200b-\u200f\u2060-\u2064\ufeff]")
_HSPACE = re.compile(r"[^\S\n]+")
_SPACE_NL = re.compile(r" ?\n ?")
_MANY_NL = re.compile(r"\n{3,}")
_TAG = re.compile(r"<[^>]{0,500}>")
_ASCII_CTRL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def _ascii_clean(t: str) -> bool:
    """True when the default steps cannot change this ASCII text: no control character, no whitespace but
    single spaces and lone or double newlines, no space next to a newline, no whitespace at either end.

    One character-class search and four substring tests (C speed) replace five regex substitutions on
    the common clean row; an alternation regex doing the same was 3x slower.
    """
    return not (_ASCII_CTRL.search(t) or "  " in t or " \n" in t or "\n " in t or "\n\n\n" in t
                or t[:1].isspace() or t[-1:].isspace())


def _whitespace(t: str) -> str:
    t = t.replace("\r\n", "\n").replace("\r", "\n")
    t = _HSPACE.sub(" ", t)
    t = _SPACE_NL.sub("\n", t)
    return _MANY_NL.sub("\n\n", t).strip()


def normalize_text(text: str, cfg: NormalizeConfig | None = None) -> tuple[str, list[str]]:
    """Normalize one text.

    Returns:
        (normalized text, change kinds applied in order; plus `mojibake_unrepaired` when the text shows
        mojibake that could not be repaired cleanly).
    """
    cfg = cfg or NormalizeConfig()
    if _is_trivial(text, cfg):
        return text, []
    kinds: list[str] = []
    t = text
    if cfg.html != "keep" and ("&" in t or "<" in t):
        new = _html.unescape(_TAG.sub(" ", t) if cfg.html == "strip" else t)
        if new != t:
            kinds.append("html")
            t = new
    if not t.isascii():
        if cfg.fix_mojibake:
            from ftfy.badness import badness, is_bad

            if is_bad(t):
                from ftfy import fix_encoding

                new = fix_encoding(t)
                if new != t and badness(new) == 0:
                    kinds.append("mojibake")
                    t = new
                else:
                    kinds.append("mojibake_unrepaired")
        if cfg.nfkc:
            new = unicodedata.normalize("NFKC", t)
            if new != t:
                kinds.append("nfkc")
                t = new
        if cfg.strip_control:
            new = _ZERO_WIDTH.sub("", t)
            if new != t:
                kinds.append("zero_width")
                t = new
    if cfg.strip_control:
        new = _CONTROL.sub("", t)
        if new != t:
            kinds.append("control")
            t = new
    if cfg.whitespace:
        new = _whitespace(t)
        if new != t:
            kinds.append("whitespace")
            t = new
    if cfg.lowercase:
        new = t.lower()
        if new != t:
            kinds.append("lowercase")
            t = new
    return t, kinds


# Below this many rows needing work, forking workers costs more than it saves.
PARALLEL_MIN_ROWS = 20_000
_CHUNK = 4_096


def _is_trivial(text: str, cfg: NormalizeConfig) -> bool:
    """The fast path of `normalize_text`: a clean ASCII text that the default steps leave unchanged."""
    return (
        text.isascii()
        and cfg.html == "keep"
        and not cfg.lowercase
        and cfg.strip_control
        and cfg.whitespace
        and _ascii_clean(text)
    )


def _normalize_chunk(args: tuple[list[str], NormalizeConfig]) -> list[tuple[str, list[str]]]:
    texts, cfg = args
    return [normalize_text(t, cfg) for t in texts]


def _workers() -> int:
    # fork shares the parent's loaded modules for free; elsewhere (macOS, Windows) stay serial.
    if sys.platform != "linux":
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def normalize_many(texts: list[str], cfg: NormalizeConfig | None = None,
                   workers: int | None = None) -> list[tuple[str, list[str]]]:
    """`normalize_text` over many texts; rows needing work run on all cores when there are enough of them.

    Returns one (text, kinds) per input, in input order, equal to the serial result.
    """
    cfg = cfg or NormalizeConfig()
    out: list[tuple[str, list[str]] | None] = [None] * len(texts)
    todo = []
    for i, t in enumerate(texts):
        if _is_trivial(t, cfg):
            out[i] = (t, [])
        else:
            todo.append(i)
    n_workers = _workers() if workers is None else workers
    pending = [texts[i] for i in todo]
    if n_workers > 1 and len(pending) >= PARALLEL_MIN_ROWS:
        import multiprocessing

        chunks = [(pending[k:k + _CHUNK], cfg) for k in range(0, len(pending), _CHUNK)]
        with multiprocessing.get_context("fork").Pool(n_workers) as pool:
            done = [r for part in pool.imap(_normalize_chunk, chunks) for r in part]
    else:
        done = _normalize_chunk((pending, cfg))
    for i, r in zip(todo, done, strict=True):
        out[i] = r
    return out  # type: ignore[return-value]


class LabelCanonicalizer:
    """Maps raw labels to canonical ones (see the module docstring); remembers unknown labels."""

    def __init__(self, cfg: NormalizeConfig):
        self.map = dict(cfg.label_map)
        self.folded = {k.strip().casefold(): v for k, v in cfg.label_map.items()}
        self.allowed = None if cfg.labels is None else {a.strip().casefold(): a for a in cfg.labels}
        self.unknown: Counter[str] = Counter()

    def __call__(self, label: str) -> str:
        out = self.map.get(label)
        if out is None:
            out = self.folded.get(label.strip().casefold(), label)
        if self.allowed is not None:
            canon = self.allowed.get(out.strip().casefold())
            if canon is None:
                self.unknown[label] += 1
            else:
                out = canon
        return out


# The record fields that hold text, per kind (chat texts are in the messages).
TEXT_FIELDS = {RecordKind.classification: ("text",), RecordKind.completion: ("prompt", "completion"),
               RecordKind.chat: (), RecordKind.text: ("text",)}


def normalize_record(r: dict[str, Any], kind: RecordKind | str, cfg: NormalizeConfig,
                     canon: LabelCanonicalizer, relabel: bool,
                     texts: list[tuple[str, list[str]]] | None = None):
    """One record's normalization: its text fields, its messages (chat) and its label.

    The loop body of `normalize_dataset`, shared with the Ray engine's batch map
    (`curate.engines.ray.rows`). An unchanged record is returned as the same dict (never mutated).

    Args:
        r: The record.
        kind: Its record kind.
        cfg: What to normalize.
        canon: The label canonicalizer (it counts unknown labels in `canon.unknown`).
        relabel: Whether labels are mapped at all (`label_map` or `labels` is set).
        texts: `normalize_text` of each of `TEXT_FIELDS[kind]`, when already computed in a batch.

    Returns:
        (record, its change kinds in first-seen order without repeats, examples [(kind, {id, field, before,
        after})] one per field and kind, the raw labels of this row that are not allowed labels).
    """
    kind = RecordKind(kind)
    row_kinds: list[str] = []
    examples: list[tuple[str, dict[str, str]]] = []
    # unchanged rows keep their dict (shared with the input, never mutated here): 1M copies would cost
    # ~300 MB and a second per million rows
    new = None
    for i, f in enumerate(TEXT_FIELDS[kind]):
        t, ks = texts[i] if texts is not None else normalize_text(r[f], cfg)
        if ks:
            if t != r[f]:
                new = new if new is not None else dict(r)
                new[f] = t
            row_kinds.extend(ks)
            for k in ks:
                examples.append((k, {"id": r["id"], "field": f, "before": r[f][:300], "after": t[:300]}))
    if kind is RecordKind.chat:
        msgs = []
        for m in r["messages"]:
            m2, ks = map_message_text(m, lambda text: normalize_text(text, cfg))
            row_kinds.extend(ks)
            msgs.append(m2 if ks else m)
        if any(a is not b for a, b in zip(msgs, r["messages"], strict=True)):
            new = new if new is not None else dict(r)
            new["messages"] = msgs
    unknown: list[Any] = []
    if relabel and "label" in r:
        raw = r["label"]
        before = sum(canon.unknown.values())
        lab: Any = [canon(x) for x in raw] if isinstance(raw, list) else canon(raw)
        if sum(canon.unknown.values()) != before:
            # the canonicalizer is a function of the label: a label it counted as unknown is unknown here
            unknown = [x for x in (raw if isinstance(raw, list) else [raw]) if canon.unknown.get(x)]
        if lab != raw:
            new = new if new is not None else dict(r)
            new["label"] = lab
            row_kinds.append("label")
    uniq = list(dict.fromkeys(row_kinds)) if row_kinds else row_kinds
    return (r if new is None else new), uniq, examples, unknown


@dataclass
class NormalizeResult:
    """Normalized data and what changed.

    Attributes:
        data: the input with normalized records (same ids, order, quarantine and summary).
        texts: the normalized text each record is judged by (`schemas.records.record_text`).
        changes: row id -> change kinds, only for rows that changed or have unrepaired mojibake.
        counts: change kind -> number of rows it changed.
        unknown_labels: raw label -> rows, for labels outside `NormalizeConfig.labels`.
        unknown_rows: ids of rows whose label is unknown.
        examples: change kind -> up to 5 (id, before, after) samples for the report.
    """

    data: LoadedData
    texts: list[str]
    changes: dict[str, list[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    unknown_labels: dict[str, int] = field(default_factory=dict)
    unknown_rows: list[str] = field(default_factory=list)
    examples: dict[str, list[dict[str, str]]] = field(default_factory=dict)


def normalize_dataset(data: LoadedData, cfg: NormalizeConfig | None = None) -> NormalizeResult:
    """Normalize every text field and label of `data` (a new LoadedData; the input is not modified).

    Unchanged records are the same dict objects as in `data` (copy before mutating them).

    Text fields: `text` (classification, text), `prompt` and `completion`, every message's `content` (chat).
    """
    cfg = cfg or NormalizeConfig()
    kind = RecordKind(data.kind)
    fields = TEXT_FIELDS[kind]
    canon = LabelCanonicalizer(cfg)
    relabel = bool(cfg.label_map) or cfg.labels is not None
    changes: dict[str, list[str]] = {}
    counts: Counter[str] = Counter()
    examples: dict[str, list[dict[str, str]]] = {}
    unknown_rows: list[str] = []
    records: list[dict[str, Any]] = []
    # Text fields are normalized in one batch (parallel when large), then applied row by row.
    normalized = [iter(normalize_many([r[f] for r in data.records], cfg)) for f in fields]
    for r in data.records:
        new, uniq, found, unknown = normalize_record(r, kind, cfg, canon, relabel,
                                                     [next(it) for it in normalized])
        for k, ex in found:
            lst = examples.setdefault(k, [])
            if len(lst) < 5:
                lst.append(ex)
        if unknown:
            unknown_rows.append(r["id"])
        if uniq:
            changes[r["id"]] = uniq
            counts.update(uniq)
        records.append(new)
    out = replace(data, records=records)
    texts = [record_text(r, kind) for r in records]
    return NormalizeResult(data=out, texts=texts, changes=changes, counts=dict(counts),
                           unknown_labels=dict(canon.unknown), unknown_rows=unknown_rows, examples=examples)


def normalized_context(data: LoadedData, cfg: NormalizeConfig | None = None, **options: Any):
    """A CheckContext over the normalized data; the NormalizeResult is in `ctx.shared["normalize"]`.

    `curate.runner.default_context` builds it, so every check sees normalized text.
    """
    from curate.checks.base import CheckContext

    res = normalize_dataset(data, cfg)
    ctx = CheckContext(data=res.data, texts=res.texts, options=options)
    ctx.shared["normalize"] = res
    ctx.shared["raw_data"] = data
    return ctx
