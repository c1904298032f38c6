"""`evalsuite score` without the CLI: read both files, account for every row, match ids, score, bootstrap.

Every row of both files ends in exactly one bucket, and the JSON and the terminal say how many:

    predictions rows = scored + unmatched + duplicate + invalid
    references rows  = scored + without_prediction + duplicate + invalid

- invalid: the row cannot be scored (unparseable, no id, a null / NaN / missing prediction or reference, an
  empty classification label, bad probabilities or weight); it is listed with its reason, never scored as
  the string "None" or "nan".
- duplicate: every row of an id that occurs more than once among a file's valid rows. Duplicates are never
  resolved first- or last-wins: the id is not scored, and each row is listed.
- unmatched: a valid, unique prediction whose id has no valid, unique reference (the reason says which).
- without_prediction: a valid, unique reference with no valid, unique prediction.

An empty generation reference is valid and scored (ROUGE gives it 0; it does not vanish). The references
file needs only an id and the reference field (classification: `label`; generation: `completion`, else
`reference`, `references`, `text`, or a chat record's last assistant message; a list there is several
references for that item, or several labels for multilabel classification). Anything but a clean one-to-one
match is a warning; `strict` makes the
command exit 1 (a failed gate: the scores and the accounting are still written, so the user sees what did
not match). Input that cannot be scored at all (no file, no matching id) is a usage error, exit 2.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas.errors import UsageError

GEN_FIELDS = ("completion", "reference", "references", "text", "messages")
CLS_FIELDS = ("label", "labels")
MISSING_SLICE = "(missing)"


@dataclass
class Row:
    """One input row after validation."""

    file: str
    line: int
    id: str | None
    value: Any = None
    raw: dict[str, Any] | None = None
    reason: str | None = None  # set: the row is invalid
    status: str = ""


@dataclass
class Matched:
    """The scored items, aligned, and the accounting of every input row."""

    ids: list[str] = field(default_factory=list)
    predictions: list[Any] = field(default_factory=list)
    references: list[Any] = field(default_factory=list)
    pred_rows: list[dict] = field(default_factory=list)
    ref_rows: list[dict] = field(default_factory=list)
    accounting: dict[str, Any] = field(default_factory=dict)
    problems: list[dict[str, Any]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems


def _raw_rows(path: str, what: str, task: str = "generation") -> list[tuple[int, dict | None, str | None]]:
    """(line or row number, parsed object or None, parse-error reason) for every row of a data file.

    A bundled dataset goes through curate's loader (its own column names map onto label/completion and
    rows without an id get their row number); its quarantined rows come back as invalid rows.
    """
    from curate.io.readers import detect_format, open_source

    if path.startswith("bundled:"):
        from curate import load

        loaded = load(path, kind="classification" if task == "classification" else "completion")
        out: list[tuple[int, dict | None, str | None]] = [
            (q.row + 1, None, q.reason) for q in loaded.quarantine
        ]
        return out + [(i + 1, rec, None) for i, rec in enumerate(loaded.records)]
    p = Path(path).expanduser()
    if not p.exists():
        raise UsageError(
            f"{what} file {p} does not exist", fix="pass a JSONL file (or CSV/Parquet) with one row per item"
        )
    _, _, rows = open_source(p, detect_format(p), None)
    return [
        (r.line if r.line is not None else r.row + 1, r.obj, r.error[0] if r.error else None) for r in rows
    ]


def _bad_number(v: Any) -> bool:
    return isinstance(v, float) and not math.isfinite(v)


def _label(v: Any) -> tuple[str | None, str | None]:
    """A classification label as a string, or (None, reason)."""
    if v is None:
        return None, "null"
    if _bad_number(v):
        return None, "nan"
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, (dict, list, tuple)):
        return None, "not_a_label"
    s = str(v)
    return (s, None) if s.strip() else (None, "empty")


def _value(v: Any, task: str) -> tuple[Any, str | None]:
    """Validate one prediction or reference value; returns (value, None) or (None, reason suffix)."""
    if task == "classification":
        if isinstance(v, (list, tuple)):
            labs = [_label(x) for x in v]
            bad = next((r for _, r in labs if r), None)
            return (None, bad) if bad else ([x for x, _ in labs], None)
        return _label(v)
    if v is None:
        return None, "null"
    if _bad_number(v):
        return None, "nan"
    if isinstance(v, (list, tuple)):
        if not v:
            return None, "empty_list"
        if any(not isinstance(x, str) for x in v):
            return None, "not_text"
        return list(v), None
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        return None, "not_text"
    return str(v), None


def _last_assistant(messages: Any) -> Any:
    """A chat record's reference: the content of its last assistant message (None when it has none)."""
    if not isinstance(messages, list):
        return None
    turns = [m for m in messages if isinstance(m, dict) and m.get("role") == "assistant"]
    return turns[-1].get("content") if turns else None


def _pick_field(rows: list[tuple[int, dict | None, str | None]], candidates: tuple[str, ...]) -> str:
    for name in candidates:
        if any(obj is not None and name in obj for _, obj, _ in rows):
            return name
    return candidates[0]


def _validate(rows: list[tuple[int, dict | None, str | None]], file: str, fld: str, task: str,
              weight_field: str | None) -> list[Row]:
    out = []
    what = "prediction" if file == "predictions" else "reference"
    for line, obj, err in rows:
        if obj is None:
            out.append(Row(file, line, None, reason=err or "unparseable"))
            continue
        rid = obj.get("id")
        if rid is None or isinstance(rid, (bool, dict, list, float)) or str(rid).strip() == "":
            out.append(Row(file, line, None if rid is None else str(rid), raw=obj,
                           reason="missing_id" if rid is None else "bad_id"))
            continue
        rid = str(rid)
        if fld not in obj:
            out.append(Row(file, line, rid, raw=obj, reason=f"missing_{what}"))
            continue
        raw_val = _last_assistant(obj[fld]) if fld == "messages" and task != "classification" else obj[fld]
        if fld == "messages" and raw_val is None:
            out.append(Row(file, line, rid, raw=obj, reason="no_assistant_reply"))
            continue
        val, bad = _value(raw_val, task)
        if bad:
            out.append(Row(file, line, rid, raw=obj, reason=f"{bad}_{what}"))
            continue
        if file == "predictions" and "probabilities" in obj:
            pr = obj["probabilities"]
            if not isinstance(pr, dict) or not pr or any(
                    isinstance(x, bool) or not isinstance(x, (int, float)) or _bad_number(x) or x < 0
                    for x in pr.values()):
                out.append(Row(file, line, rid, raw=obj, reason="bad_probabilities"))
                continue
        if file == "references" and weight_field:
            w = obj.get(weight_field)
            if isinstance(w, bool) or not isinstance(w, (int, float)) or _bad_number(w) or w < 0:
                out.append(Row(file, line, rid, raw=obj, reason="bad_sample_weight"))
                continue
        out.append(Row(file, line, rid, val, raw=obj))
    return out


def match(predictions: str | Path, references: str, task: str, *, reference_field: str | None = None,
          weight_field: str | None = None) -> Matched:
    """Read, validate and match both files; every row ends in one accounting bucket.

    Raises:
        UsageError: A missing file, or no prediction id matching a reference id.
    """
    p_raw = _raw_rows(str(predictions), "predictions")
    r_raw = _raw_rows(references, "references", task)
    cls = task == "classification"
    r_field = reference_field or _pick_field(r_raw, CLS_FIELDS if cls else GEN_FIELDS)
    preds = _validate(p_raw, "predictions", "prediction", task, None)
    refs = _validate(r_raw, "references", r_field, task, weight_field)

    def unique(rows: list[Row]) -> tuple[dict[str, Row], set[str]]:
        n = Counter(r.id for r in rows if r.reason is None)
        return {r.id: r for r in rows if r.reason is None and n[r.id] == 1}, {
            k for k, c in n.items() if c > 1
        }

    p_ok, p_dup = unique(preds)
    r_ok, r_dup = unique(refs)
    p_bad_ids = {r.id for r in preds if r.reason and r.id is not None}
    r_bad_ids = {r.id for r in refs if r.reason and r.id is not None}
    m = Matched()
    for r in refs:  # reference order is the item order
        if r.reason is None and r.id in r_ok and r.id in p_ok:
            m.ids.append(r.id)
            m.references.append(r.value)
            m.predictions.append(p_ok[r.id].value)
            m.ref_rows.append(r.raw or {})
            m.pred_rows.append(p_ok[r.id].raw or {})
    scored = set(m.ids)
    for rows, dups, other_dup, other_bad, miss in ((preds, p_dup, r_dup, r_bad_ids, "unmatched"),
                                                   (refs, r_dup, p_dup, p_bad_ids, "without_prediction")):
        other = "reference" if rows is preds else "prediction"
        for r in rows:
            if r.reason:
                r.status = "invalid"
            elif r.id in dups:
                r.status, r.reason = "duplicate", "duplicate_id"
            elif r.id in scored:
                r.status = "scored"
                continue
            else:
                r.status = miss
                r.reason = (f"{other}_duplicate_id" if r.id in other_dup else f"{other}_invalid"
                            if r.id in other_bad else f"no_{other}")
            m.problems.append(
                {"file": r.file, "line": r.line, "id": r.id, "status": r.status, "reason": r.reason}
            )
    m.accounting = {
        "reference_field": r_field,
        "predictions": {
            "rows": len(preds),
            **_counts(preds, ("scored", "unmatched", "duplicate", "invalid")),
        },
        "references": {
            "rows": len(refs),
            **_counts(refs, ("scored", "without_prediction", "duplicate", "invalid")),
        },
    }
    m.accounting["clean"] = m.clean
    if not m.ids:
        raise UsageError(
            f"no prediction id matches a valid reference id in {references} "
            f"({len(preds)} prediction rows, {len(refs)} reference rows, reference field {r_field!r})",
            details=[f"{p['file']} line {p['line']}: {p['reason']}" for p in m.problems[:10]],
            fix="use the reference file's `id` values in the predictions file, and check the "
            "reference field (--reference-field)",
        )
    return m


def _counts(rows: list[Row], buckets: tuple[str, ...]) -> dict[str, int]:
    c = Counter(r.status for r in rows)
    return {b: c.get(b, 0) for b in buckets}


def _slice_value(ref_row: dict, pred_row: dict, name: str) -> str:
    v = ref_row.get(name, pred_row.get(name))
    return MISSING_SLICE if v is None else str(v)


def _probabilities(matched: Matched) -> tuple[list[str], Any] | None:
    import numpy as np

    rows = [r.get("probabilities") for r in matched.pred_rows]
    if not all(isinstance(x, dict) for x in rows):
        return None
    labels = sorted({str(k) for x in rows for k in x} | {str(r) for r in matched.references})
    col = {lab: i for i, lab in enumerate(labels)}
    mat = np.zeros((len(rows), len(labels)))
    for i, x in enumerate(rows):
        for k, v in x.items():
            mat[i, col[str(k)]] = float(v)
    return labels, mat


def score_matched(matched: Matched, task: str, metric_args: dict[str, dict[str, Any]] | None = None, *,
                  n_resamples: int = 1000, confidence: float = 0.95, seed: int = 0,
                  slice_by: list[str] | None = None) -> dict[str, Any]:
    """Metrics (with bootstrap CIs), per-item scores, per-slice scores and the accounting, as one JSON
    dict."""
    import warnings

    from evalsuite.bootstrap import bootstrap_ci
    from evalsuite.metrics import metrics_for
    from evalsuite.metrics.sacre import nrefs_of

    preds, refs = matched.predictions, matched.references
    notes: list[str] = []
    aux: dict[str, Any] = {}
    kw: dict[str, Any] = {}
    weight_field = ((metric_args or {}).get("classification") or {}).get("sample_weight") or None
    if task == "classification":
        multilabel = any(isinstance(x, list) for x in [*preds, *refs])
        if multilabel:
            preds = [x if isinstance(x, list) else [x] for x in preds]
            refs = [x if isinstance(x, list) else [x] for x in refs]
        kw["multilabel"] = multilabel
        probs = None if multilabel else _probabilities(matched)
        if multilabel and any("probabilities" in r for r in matched.pred_rows):
            notes.append(
                "probabilities are ignored for multilabel rows (top-k, Brier and ECE are single-label)"
            )
        if probs:
            kw.update(probabilities=True, labels=probs[0])
            aux["probabilities"] = probs[1]
        elif not multilabel and any("probabilities" in r for r in matched.pred_rows):
            notes.append("probability metrics (top-k accuracy, Brier, ECE) skipped: only "
                         f"{sum('probabilities' in r for r in matched.pred_rows)} of {len(preds)} scored "
                         "predictions carry probabilities")
        if weight_field:
            aux["sample_weight"] = [float(r[weight_field]) for r in matched.ref_rows]
    else:
        kw["nrefs"] = nrefs_of(refs)
    metrics = metrics_for(task, metric_args, **kw)
    if task != "classification":
        from evalsuite.metrics.generation import warn_non_ascii

        rouge_tok = next((m.options.get("tokenizer") for m in metrics if m.name == "rouge1"), "default")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warn_non_ascii(refs, rouge_tok)
        notes += [str(w.message) for w in caught]
    out_metrics: dict[str, dict[str, Any]] = {}
    items: list[dict[str, Any]] = [{"id": i, "scores": {}} for i in matched.ids]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        for m in metrics:
            entry: dict[str, Any] = {"value": None, "ci": None, "signature": m.signature,
                                     "higher_is_better": m.higher_is_better}
            try:
                entry["value"] = m.value(preds, refs, aux)
                entry.update(m.extra(preds, refs, aux))
                entry["ci"] = bootstrap_ci(
                    m, preds, refs, aux, n_resamples=n_resamples, confidence=confidence, seed=seed
                )
            # one metric undefined on this input (e.g. all weights 0) never stops the rest
            except ValueError as e:
                entry["error"] = str(e).strip().splitlines()[0][:300]
                notes.append(f"{m.name} not computed: {entry['error']}")
                out_metrics[m.name] = entry
                continue
            out_metrics[m.name] = entry
            per = m.item_scores(preds, refs) if set(m.uses) <= {"sample_weight"} else None
            if per is not None:
                for it, v in zip(items, per, strict=True):
                    it["scores"][m.name] = v
    res: dict[str, Any] = {
        "task": task,
        "n": len(preds),
        "missing": matched.accounting["references"]["without_prediction"],
        "metrics": out_metrics,
        "bootstrap": {
            "n_resamples": n_resamples,
            "confidence": confidence,
            "seed": seed,
            "method": "percentile",
        },
        "accounting": matched.accounting,
        "problems": matched.problems,
        "notes": notes,
        "items": items,
    }
    if task == "classification" and not kw.get("multilabel"):
        from evalsuite.metrics.classification import _zd, per_class_arrays

        zd = _zd(((metric_args or {}).get("classification") or {}).get("zero_division", 0))
        try:
            res["per_class"] = per_class_arrays(preds, refs, zd, aux.get("sample_weight"))
        except ValueError as e:
            notes.append(f"per-class arrays not computed: {str(e).strip().splitlines()[0][:300]}")
    if slice_by:
        res["slices"] = slice_scores(metrics, preds, refs, aux, matched, slice_by, n_resamples=n_resamples,
                                     confidence=confidence, seed=seed)
    return json_safe(res)


def slice_scores(metrics: list, preds: list, refs: list, aux: dict[str, Any], matched: Matched,
                 slice_by: list[str], *, n_resamples: int = 1000, confidence: float = 0.95,
                 seed: int = 0) -> dict[str, list[dict[str, Any]]]:
    """{field: [{"value", "n", "metrics": {name: value}, "ci": {name: [lo, hi]}}]} per value of each field.

    Each slice's CI is the same seeded bootstrap as the corpus CI, over that slice's items only.
    """
    import warnings

    import numpy as np

    from evalsuite.bootstrap import bootstrap_ci

    out: dict[str, list[dict[str, Any]]] = {}
    for name in slice_by:
        groups: dict[str, list[int]] = defaultdict(list)
        for i, (rr, pr) in enumerate(zip(matched.ref_rows, matched.pred_rows, strict=True)):
            groups[_slice_value(rr, pr, name)].append(i)
        rows = []
        for value, ix in sorted(groups.items()):
            sub_aux = {
                k: (np.asarray(v)[ix] if not isinstance(v, list) else [v[i] for i in ix])
                for k, v in aux.items()
            }
            vals: dict[str, Any] = {}
            cis: dict[str, Any] = {}
            sp, sr = [preds[i] for i in ix], [refs[i] for i in ix]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for m in metrics:
                    try:
                        vals[m.name] = m.value(sp, sr, sub_aux)
                        cis[m.name] = bootstrap_ci(m, sp, sr, sub_aux, n_resamples=n_resamples,
                                                   confidence=confidence, seed=seed)
                    except ValueError:  # a metric undefined on this slice (e.g. one class only)
                        vals[m.name], cis[m.name] = None, None
            rows.append({"value": value, "n": len(ix), "metrics": vals, "ci": cis})
        out[name] = rows
    return out


def json_safe(obj: Any) -> Any:
    """NaN and infinities become None (strict JSON has no NaN)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj
