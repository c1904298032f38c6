"""The row-local stages as one batch map: normalize (`curate.normalize.normalize_record`, the local loop
body), then what each row-local check needs from a row: its judged text and length, PII findings, label and
group.

Nothing here depends on another row, so every batch is processed apart and the result equals the local
engine's row for row; what the checks sum over rows (change counts, label counts, length distribution)
is aggregated afterwards (`curate.engines.ray.results`).
"""

from __future__ import annotations

import json
from typing import Any

from schemas.configs.curate import NormalizeConfig


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
    from curate.normalize import LabelCanonicalizer, normalize_record
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
