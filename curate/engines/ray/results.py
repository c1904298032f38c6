"""Each check's CheckResult from distributed aggregates, built with the local check's own rules.

The driver receives per-batch summaries (counters, distributions) and never a row: the findings are built
on the workers (`row_findings`, `quarantine_findings`) and written as shards (`curate.engines.ray.findings`),
so the driver's memory is O(distinct lengths and labels + the findings cap), not O(rows) nor O(findings).

Exact at any size: schema, normalization, exact_duplicate, near_duplicate, conflicting_labels,
class_balance, length (quantiles and MAD from the exact length distribution), pii, and bias's group and term
statistics. Approximate above `bias.length_sample` single-label rows (50,000 by default): bias's
length-leakage tree is fitted on a seeded hash sample of about that many rows instead of the local engine's
stratified `train_test_split` sample (same size, different rows; its accuracy moves within the sampling
error the check's docstring bounds at 0.0022, far below the 0.05 margin that flags).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any

from curate.checks.base import Check
from curate.engines.ray.batches import columns
from curate.engines.ray.shuffle import counter_batches
from schemas.findings import CheckResult, CheckStatus, Finding, Severity


def row_stats(rows: Any) -> dict:
    """One pass over the normalized rows: every count and distribution the row-local checks need (never a
    list that grows with the rows; their findings are written by `row_findings`)."""
    def fn(b: Any) -> dict:
        out: dict[str, Any] = {"n": len(b), "rows_changed": 0, "single": 0, "pii_rows": 0, "examples": {},
                               "first": {}, **{k: Counter() for k in _COUNTERS}}
        for pos, kinds, ex, unk, labels, slabel, group, chars, pii in columns(
                b, "pos", "kinds", "examples", "unknown", "labels", "slabel", "group", "chars", "pii"):
            if kinds:
                k = json.loads(kinds)
                out["counts"].update(k)
                out["rows_changed"] += bool(set(k) - {"mojibake_unrepaired"})
            if ex:
                for kind, e in json.loads(ex):
                    lst = out["examples"].setdefault(kind, [])
                    if len(lst) < 5:
                        lst.append((pos, e))
            if unk:
                out["unknown_labels"].update(json.loads(unk))
            for lab in json.loads(labels):
                out["labels"][lab] += 1
                out["first"].setdefault(lab, pos)
            out["chars"][chars] += 1
            out["hist"][json.dumps([slabel or "all", chars])] += 1
            if pii:
                out["pii_rows"] += 1
                for f in json.loads(pii):
                    out["pii_matches"][f["reason"][4:]] += f["matches"]
                    out["pii_kind_rows"][f["reason"][4:]] += 1
            if slabel:
                out["single"] += 1
                g = json.loads(group)
                if g is not None:
                    out["pairs"][json.dumps([slabel, g])] += 1
        for k in _COUNTERS:
            out[k] = dict(out[k])
        return out

    total: dict[str, Any] = {"n": 0, "rows_changed": 0, "single": 0, "pii_rows": 0, "examples": {},
                             "first": {}, **{k: Counter() for k in _COUNTERS}}
    for part in counter_batches(rows, fn):
        for k in ("n", "rows_changed", "single", "pii_rows"):
            total[k] += part[k]
        for k in _COUNTERS:
            total[k].update(part[k])
        for lab, pos in part["first"].items():
            total["first"][lab] = min(pos, total["first"].get(lab, pos))
        for kind, lst in part["examples"].items():
            # the first 5 by position are all `normalization_result` shows: O(kinds), not O(batches)
            got = total["examples"].setdefault(kind, [])
            got[:] = sorted(got + [tuple(x) for x in lst], key=lambda x: x[0])[:5]
    total["chars"] = {int(k): v for k, v in total["chars"].items()}
    return total


_COUNTERS = ("counts", "unknown_labels", "labels", "chars", "hist", "pairs", "pii_matches", "pii_kind_rows")
# the length check's order of reasons (`length_result` sorts by it, then by length, longest first)
_LENGTH_ORDER = {"empty_text": 0, "too_long": 1, "too_short": 2, "length_outlier": 3}


def row_findings(rows: Any, length: Any, bounds: dict, hi: float | None) -> dict[str, Any]:
    """The findings of normalization, length and pii on every row, in one batch map: {check: findings
    dataset} (`curate.engines.ray.findings`), each finding built as the local check builds it.

    Args:
        rows: The normalized rows (`rows.row_columns`).
        length: The length check's parameters.
        bounds: `length_bounds`' dict (for the outlier message); hi: its log bound, None for no outliers.
    """
    from curate.engines.ray.findings import finding_row, frame

    p = length

    def fn(b: Any) -> Any:
        got: list[tuple[str, tuple]] = []
        for pos, rid, kinds, unk, raw_label, chars, nstrip, stripped, pii in columns(
                b, "pos", "id", "kinds", "unknown", "raw_label", "chars", "nstrip", "stripped", "pii"):
            if kinds:
                k = json.loads(kinds)
                bad = "mojibake_unrepaired" in k
                f = Finding(id=rid, reason="mojibake_unrepaired" if bad else "normalized",
                            severity=Severity.warning if bad else Severity.info, message=", ".join(k),
                            kinds=k)
                got.append(("normalization", finding_row(pos, 0, [0, pos], f)))
            if unk:
                label = json.loads(raw_label)
                f = Finding(id=rid, reason="unknown_label", severity=Severity.warning,
                            message=f"label {label!r} is not an allowed label", label=label)
                got.append(("normalization", finding_row(pos, 1, [1, pos], f)))
            if nstrip == 0:
                f = Finding(id=rid, reason="empty_text", severity=Severity.error, chars=0)
            elif nstrip < p.min_chars:
                f = Finding(id=rid, reason="too_short", chars=nstrip, message=stripped)
            elif p.max_chars is not None and chars > p.max_chars:
                f = Finding(id=rid, reason="too_long", chars=chars, message=f"{chars:,} chars > max_chars "
                                                                                f"{p.max_chars:,}")
            elif hi is not None and math.log1p(chars) > hi:
                f = Finding(id=rid, reason="length_outlier", chars=chars,
                            message=f"{chars:,} chars > {bounds['outlier_above_chars']:,} "
                                    f"(median {bounds['median_chars']:,})")
            else:
                f = None
            if f is not None:
                got.append(("length", finding_row(pos, 0, [_LENGTH_ORDER[f.reason], -f.chars, pos], f)))
            for i, x in enumerate(json.loads(pii) if pii else []):
                f = Finding(id=rid, reason=x["reason"], severity=Severity(x["severity"]),
                            matches=x["matches"], message=x["message"])
                got.append(("pii", finding_row(pos, i, [pos, i], f)))
        df = frame([r for _, r in got])
        df["ck"] = [ck for ck, _ in got]
        df["ck"] = df["ck"].astype(object)
        return df

    both = rows.map_batches(fn, batch_format="pandas").materialize()
    def only(b: Any, ck: str) -> Any:
        return b[b["ck"] == ck].drop(columns=["ck"])

    return {ck: both.map_batches(only, fn_kwargs={"ck": ck}, batch_format="pandas")
            for ck in ("normalization", "length", "pii")}


def quarantine_findings(picked: Any) -> tuple[Any, Any]:
    """(quarantine rows, schema findings) as findings datasets, from the picked (pos, q) rows."""
    from curate.engines.ray.findings import finding_row, frame
    from curate.io.writers import encode_line
    from schemas.findings import QuarantineEntry

    def entries(b: Any) -> Any:
        rows = []
        for pos, q in zip(b["pos"].tolist(), b["q"].tolist(), strict=True):
            e = QuarantineEntry.model_validate_json(q)
            line = encode_line(e.model_dump(mode="json"))
            rows.append((pos, 0, json.dumps([pos]), e.reason, "", 1, 0, line))
        return frame(rows)

    def schema(b: Any) -> Any:
        rows = []
        for pos, q in zip(b["pos"].tolist(), b["q"].tolist(), strict=True):
            e = QuarantineEntry.model_validate_json(q)
            f = Finding(id=e.id, reason=e.reason, severity=Severity.error, message=e.message, line=e.line,
                        row=e.row, source=e.source, raw=e.raw[:2000])
            rows.append(finding_row(pos, 0, [pos], f))
        return frame(rows)

    return (picked.map_batches(entries, batch_format="pandas"),
            picked.map_batches(schema, batch_format="pandas"))


def schema_result(check: Check, sink: Any, sunk: Any, summary: Any) -> CheckResult:
    return sink.result(check, sunk, {
        "kind": summary.kind, "rows_read": summary.rows_read, "rows_loaded": summary.rows_loaded,
        "rows_quarantined": summary.rows_quarantined, "reasons": dict(sunk.reasons)})


def normalization_result(check: Check, st: dict, sink: Any, sunk: Any) -> CheckResult:
    examples = {k: [e for _, e in sorted(v, key=lambda x: x[0])[:5]] for k, v in st["examples"].items()}
    return sink.result(check, sunk, {"rows_changed": st["rows_changed"], "by_kind": dict(st["counts"]),
                                     "unknown_labels": dict(st["unknown_labels"]), "examples": examples})


def ordered_labels(st: dict) -> Counter:
    """Label counts in first-appearance order (the local Counter's order, which breaks its ties)."""
    return Counter({lab: st["labels"][lab] for lab in sorted(st["labels"], key=lambda x: st["first"][x])})


def class_balance_result(check: Check, st: dict, options: dict) -> CheckResult:
    """`ClassBalanceCheck.run` on the label counts (it reads nothing else): O(labels), never a row."""
    return check.from_counts(ordered_labels(st), options)


def _wquantile(values: list, weights: list, q: float) -> float:
    """`curate.checks.length._quantile` over the sorted multiset {values[i] x weights[i]} (values sorted)."""
    n = sum(weights)
    if not n:
        return 0.0
    i = q * (n - 1)
    lo, hi = math.floor(i), math.ceil(i)

    def at(k: int) -> float:
        acc = 0
        for v, w in zip(values, weights, strict=True):
            acc += w
            if k < acc:
                return v
        return values[-1]

    a, b = at(lo), at(hi)
    return a + (b - a) * (i - lo)


def length_bounds(chars: dict[int, int], z: float) -> tuple[float | None, dict]:
    """`robust_outliers` on the length distribution: (log bound or None, the bounds dict)."""
    lens = sorted(chars)
    logs = [math.log1p(n) for n in lens]
    w = [chars[n] for n in lens]
    med = _wquantile(logs, w, 0.5)
    devs = sorted(((abs(x - med), c) for x, c in zip(logs, w, strict=True)), key=lambda t: t[0])
    mad = _wquantile([d for d, _ in devs], [c for _, c in devs], 0.5)
    total = sum(w)
    scale = mad / 0.6745 if mad > 0 else 1.253314 * sum(d * c for d, c in devs) / total
    if scale == 0:
        return None, {"median_chars": round(math.expm1(med)), "mad_log": 0.0}
    hi = med + z * scale
    return hi, {"median_chars": round(math.expm1(med)), "mad_log": round(mad, 4),
                "outlier_above_chars": math.floor(math.expm1(hi))}


def length_result(check: Check, st: dict, sink: Any, sunk: Any, bounds: dict) -> CheckResult:
    p = check.params
    chars = st["chars"]
    lens = sorted(chars)
    w = [chars[n] for n in lens]
    summary = {
        "chars": {q: round(_wquantile(lens, w, v)) for q, v in
                  (("min", 0), ("p05", 0.05), ("median", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1))},
        "reasons": {r: sunk.reasons[r] for r in _LENGTH_ORDER if r in sunk.reasons},
        "min_chars": p.min_chars, "max_chars": p.max_chars, "outlier_z": p.outlier_z, **bounds,
        "histogram": _histogram(st, lens, w, p.bins) if lens else None,
    }
    return sink.result(check, sunk, summary)


def length_outlier_bound(check_params: Any, st: dict) -> tuple[float | None, dict]:
    """(the log bound above which a length is an outlier, or None; the bounds dict of the summary)."""
    if check_params.outlier_z is None or not st["chars"]:
        return None, {}
    return length_bounds(st["chars"], check_params.outlier_z)


def _histogram(st: dict, lens: list, w: list, bins: int) -> dict:
    top = max(1, int(_wquantile(lens, w, 0.99)))
    width = max(1, math.ceil(top / bins))
    series: dict[str, list[int]] = {}
    for key, c in st["hist"].items():
        lab, n = json.loads(key)
        row = series.setdefault(lab, [0] * bins)
        row[min(n // width, bins - 1)] += c
    return {"edges": [i * width for i in range(bins + 1)], "series": dict(sorted(series.items()))}


def pii_result(check: Check, st: dict, sink: Any, sunk: Any) -> CheckResult:
    return sink.result(check, sunk, {"rows_with_pii": st["pii_rows"], "matches": dict(st["pii_matches"]),
                                     "rows": dict(st["pii_kind_rows"])})


def bias_result(check: Check, st: dict, rows: Any, options: dict) -> CheckResult:
    """`BiasCheck.run` with its three parts from aggregates: group x label counts, term hits, and the
    length features of at most `length_sample` rows (all of them when there are no more)."""
    from curate.checks import bias as B

    p = check.params
    if not st["single"]:
        return check.result([], status=CheckStatus.skipped,
                            message="no single-label rows: bias needs classification data")
    problems: list[str] = []
    summary: dict = {}
    group_field = options.get("group_field")
    pairs = Counter({tuple(json.loads(k)): v for k, v in st["pairs"].items()})
    if pairs:
        by_group: dict = {}
        for (lab, g), c in pairs.items():   # a group x label count table, never a row per label
            by_group.setdefault(g, Counter())[lab] += c
        par = B.group_parity(by_group, p.min_group_size)
        par["rows_without_group"] = st["single"] - sum(pairs.values())
        summary["group"] = par
        problems += B.parity_problems(par, p)
    elif group_field:
        problems.append(f"no row has a value in group field {group_field!r}")
    if p.terms:
        summary["terms"] = _term_pmi(rows, p.terms, st)
        problems += B.term_problems(summary["terms"], p)
    leak = _length_leakage(rows, st, p, int(options.get("seed") or 0))
    summary["length_leakage"] = leak
    if leak and leak["lift"] > p.length_margin:
        problems.append(f"length_predicts_label: length alone reaches {leak['cv_accuracy']:.1%} accuracy vs "
                        f"{leak['majority_baseline']:.1%} majority baseline")
    summary["problems"] = [s.split(":", 1)[0] for s in problems]
    return check.result([], status=CheckStatus.warn if problems else CheckStatus.passed, summary=summary,
                        count=len(problems), message="; ".join(problems) or None)


def _term_pmi(rows: Any, terms: list[str], st: dict) -> dict:
    import re

    def fn(b: Any) -> dict:
        out: dict[str, Counter] = {t: Counter() for t in terms}
        rxs = {t: re.compile(rf"(?<!\w){re.escape(t)}(?!\w)", re.IGNORECASE) for t in terms}
        for text, lab in zip(b["text"].tolist(), b["slabel"].tolist(), strict=True):
            if not lab:
                continue
            for t, rx in rxs.items():
                if rx.search(text):
                    out[t][lab] += 1
        return {t: dict(c) for t, c in out.items()}

    hits = {t: Counter() for t in terms}
    for part in counter_batches(rows, fn):
        for t, c in part.items():
            hits[t].update(c)
    single = Counter()
    for key, c in st["hist"].items():
        lab, _ = json.loads(key)
        if lab != "all":
            single[lab] += c
    n = sum(single.values())
    prior = {c: k / n for c, k in single.items()}
    out = {}
    for term in terms:
        hit = hits[term]
        m = sum(hit.values())
        out[term] = {"rows": m, "labels": dict(hit.most_common()),
                     "pmi": {c: round(math.log2((k / m) / prior[c]), 3) for c, k in hit.items()} if m else {}}
    return out


def _length_leakage(rows: Any, st: dict, p: Any, seed: int) -> dict | None:
    """Fitted on at most `length_sample` rows' (label, chars, words): never a text on the driver."""
    from curate.checks.bias import leakage_from_lengths

    n = st["single"]
    frac = 1.0 if n <= p.length_sample else p.length_sample / n

    def keep(b: Any) -> Any:
        import hashlib

        import pandas as pd

        sel = b[b["slabel"] != ""]
        if frac < 1.0:
            h = [
                int.from_bytes(hashlib.blake2b(f"{seed}:{x}".encode(), digest_size=8).digest(), "little")
                / 2**64
                for x in sel["pos"].tolist()
            ]
            sel = sel[pd.Series(h, index=sel.index) < frac]
        return sel[["pos", "slabel", "chars", "words"]]

    got = sorted(((r["pos"], r["slabel"], r["chars"], r["words"]) for r in rows.map_batches(
        keep, batch_format="pandas").iter_rows()), key=lambda r: r[0])
    labels = [r[1] for r in got]
    lengths = [(int(r[2]), int(r[3])) for r in got]
    del got

    def lengths_of(idx: Any) -> list:
        return [lengths[i] for i in idx]

    if frac < 1.0:
        # baseline on every row (as the local check), the tree on the sample
        res = leakage_from_lengths(lengths_of, labels, p.length_folds, seed=seed)
        if res is None:
            return None
        single = Counter()
        for key, c in st["hist"].items():
            lab, _ = json.loads(key)
            if lab != "all":
                single[lab] += c
        base = max(single.values()) / n
        res.update({"majority_baseline": round(base, 4), "lift": round(res["cv_accuracy"] - base, 4),
                    "rows_used": len(labels), "sample": "hash (approximate: ray engine)"})
        return res
    return leakage_from_lengths(lengths_of, labels, p.length_folds, seed=seed, sample=p.length_sample)
