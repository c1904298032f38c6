"""The row-local stages as one batch map: normalize (text fields and labels, as `curate.normalize`), then
what each row-local check needs from a row: its judged text and length, PII findings, label and group.

Nothing here depends on another row, so every batch is processed apart and the result equals the local
engine's row for row; what the checks sum over rows (change counts, label counts, length distribution)
is aggregated afterwards (`curate.engines.ray.results`).
"""

from __future__ import annotations

import json
from typing import Any

from schemas.configs.curate import NormalizeConfig

TEXT_FIELDS = {"classification": ("text",), "completion": ("prompt", "completion"), "chat": ()}


def normalize_record(r: dict[str, Any], kind: str, cfg: NormalizeConfig, canon: Any, relabel: bool):
    """One record through `curate.normalize.normalize_dataset`'s loop body.

    Returns:
        (normalized record, change kinds in order (deduplicated), examples [(kind, example)], unknown raw
        labels seen in this row).
    """
    from curate.normalize import normalize_text

    row_kinds: list[str] = []
    examples: list[tuple[str, dict]] = []
    new = None
    for f in TEXT_FIELDS[kind]:
        t, ks = normalize_text(r[f], cfg)
        if ks:
            if t != r[f]:
                new = new if new is not None else dict(r)
                new[f] = t
            row_kinds.extend(ks)
            for k in ks:
                examples.append((k, {"id": r["id"], "field": f, "before": r[f][:300], "after": t[:300]}))
    if kind == "chat":
        msgs = []
        for m in r["messages"]:
            t, ks = normalize_text(m["content"], cfg)
            row_kinds.extend(ks)
            msgs.append({**m, "content": t} if ks else m)
        if any(a is not b for a, b in zip(msgs, r["messages"], strict=True)):
            new = new if new is not None else dict(r)
            new["messages"] = msgs
    unknown: list[str] = []
    if relabel and "label" in r:
        before = sum(canon.unknown.values())
        lab: Any = [canon(x) for x in r["label"]] if isinstance(r["label"], list) else canon(r["label"])
        if sum(canon.unknown.values()) != before:
            unknown = [x for x in (r["label"] if isinstance(r["label"], list) else [r["label"]])
                       if canon.unknown.get(x)]
            canon.unknown.clear()
        if lab != r["label"]:
            new = new if new is not None else dict(r)
            new["label"] = lab
            row_kinds.append("label")
    return (r if new is None else new), list(dict.fromkeys(row_kinds)), examples, unknown


def pii_findings(text: str) -> list[dict]:
    """The `pii` check's findings for one text, in its order (curate.checks.pii.PiiCheck.run's loop body)."""
    from collections import Counter

    from curate.checks.pii import SEVERITY, find_pii, mask_pii, may_have_pii

    if not may_have_pii(text):
        return []
    spans = find_pii(text)
    if not spans:
        return []
    kinds = Counter(k for k, _, _ in spans)
    masked = mask_pii(text)[0]
    return [{"reason": f"pii_{k}", "severity": SEVERITY[k].value, "matches": n, "message": masked[:200]}
            for k, n in kinds.items()]


def row_columns(batch: Any, kind: str, norm: dict, group_field: str | None) -> dict[str, list]:
    """Batch map over loaded rows (pandas batch with pos, id, rec): the normalized rows and their per-row
    facts."""
    from curate.checks.bias import group_of
    from curate.checks.conflicting_labels import _label_key
    from curate.normalize import LabelCanonicalizer
    from schemas.records import RecordKind, record_text

    cfg = NormalizeConfig.model_validate(norm)
    canon = LabelCanonicalizer(cfg)
    relabel = bool(cfg.label_map) or cfg.labels is not None
    rk = RecordKind(kind)
    cols: dict[str, list] = {k: [] for k in (
        "pos", "id", "rec", "text", "label_key", "labels", "slabel", "group", "kinds", "examples", "unknown",
        "raw_label", "chars", "nstrip", "stripped", "words", "pii", "empty")}
    for pos, rid, rec_json in zip(
        batch["pos"].tolist(), batch["id"].tolist(), batch["rec"].tolist(), strict=True
    ):
        raw = json.loads(rec_json)
        rec, kinds, examples, unknown = normalize_record(raw, kind, cfg, canon, relabel)
        text = record_text(rec, rk)
        lab = rec.get("label")
        cols["pos"].append(pos)
        cols["id"].append(rid)
        cols["rec"].append(json.dumps(rec, ensure_ascii=False) if rec is not raw else rec_json)
        cols["text"].append(text)
        cols["label_key"].append(_label_key(lab) if kind == "classification" else "")
        cols["labels"].append(json.dumps(lab if isinstance(lab, list) else [] if lab is None else [lab]))
        cols["slabel"].append(lab if isinstance(lab, str) else "")
        g = group_of(rec, group_field)
        cols["group"].append(json.dumps(g))
        cols["kinds"].append(json.dumps(kinds) if kinds else "")
        cols["examples"].append(json.dumps(examples) if examples else "")
        cols["unknown"].append(json.dumps(unknown) if unknown else "")
        cols["raw_label"].append(json.dumps(raw.get("label")) if unknown else "")
        cols["chars"].append(len(text))
        cols["nstrip"].append(len(text.strip()))
        cols["stripped"].append(text.strip()[:50] if len(text.strip()) < 64 else "")
        cols["words"].append(len(text.split()))
        found = pii_findings(text)
        cols["pii"].append(json.dumps(found) if found else "")
        cols["empty"].append(not text.strip())
    return cols
