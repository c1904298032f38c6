"""Each check's CheckResult from distributed aggregates, built with the local check's own rules.

The driver receives per-batch summaries (counters, and the findings of flagged rows with their pos) and
never a row it does not report: memory on the driver is O(findings + distinct lengths and labels), not
O(rows). Findings are put in the local check's order by sorting on pos.

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
from curate.engines.ray.shuffle import counter_batches
from schemas.findings import CheckResult, CheckStatus, Finding, Severity


def row_stats(rows: Any, length_params: Any) -> dict:
    """One pass over the normalized rows: everything the row-local checks sum or list."""
    p = length_params

    def fn(b: Any) -> dict:
        out: dict[str, Any] = {"n": len(b), "changes": [], "counts": Counter(), "unknown_rows": [],
                               "unknown_labels": Counter(), "examples": {}, "labels": Counter(), "first": {},
                               "chars": Counter(), "hist": Counter(), "flagged": [], "pii": [], "single": 0,
                               "pairs": Counter()}
        for pos, rid, kinds, ex, unk, raw_label, labels, slabel, group, chars, nstrip, stripped, pii in zip(
                b["pos"].tolist(), b["id"].tolist(), b["kinds"].tolist(), b["examples"].tolist(),
                b["unknown"].tolist(), b["raw_label"].tolist(), b["labels"].tolist(), b["slabel"].tolist(),
                b["group"].tolist(), b["chars"].tolist(), b["nstrip"].tolist(), b["stripped"].tolist(),
                b["pii"].tolist(), strict=True):
            if kinds:
                k = json.loads(kinds)
                out["changes"].append((pos, rid, k))
                out["counts"].update(k)
            if ex:
                for kind, e in json.loads(ex):
                    lst = out["examples"].setdefault(kind, [])
                    if len(lst) < 5:
                        lst.append((pos, e))
            if unk:
                out["unknown_rows"].append((pos, rid, json.loads(raw_label)))
                out["unknown_labels"].update(json.loads(unk))
            for lab in json.loads(labels):
                out["labels"][lab] += 1
                out["first"].setdefault(lab, pos)
            out["chars"][chars] += 1
            out["hist"][json.dumps([slabel or "all", chars])] += 1
            if nstrip == 0:
                out["flagged"].append((pos, rid, "empty_text", 0, None))
            elif nstrip < p.min_chars:
                out["flagged"].append((pos, rid, "too_short", nstrip, stripped))
            elif p.max_chars is not None and chars > p.max_chars:
                out["flagged"].append((pos, rid, "too_long", chars, None))
            if pii:
                out["pii"].append((pos, rid, json.loads(pii)))
            if slabel:
                out["single"] += 1
                g = json.loads(group)
                if g is not None:
                    out["pairs"][json.dumps([slabel, g])] += 1
        for k in ("counts", "unknown_labels", "labels", "chars", "hist", "pairs"):
            out[k] = dict(out[k])
        return out

    parts = counter_batches(rows, fn)
    total: dict[str, Any] = {"n": 0, "changes": [], "counts": Counter(), "unknown_rows": [],
                             "unknown_labels": Counter(), "examples": {}, "labels": Counter(), "first": {},
                             "chars": Counter(), "hist": Counter(), "flagged": [], "pii": [], "single": 0,
                             "pairs": Counter()}
    for part in parts:
        total["n"] += part["n"]
        total["single"] += part["single"]
        for k in ("changes", "unknown_rows", "flagged", "pii"):
            total[k] += [tuple(x) for x in part[k]]
        for k in ("counts", "unknown_labels", "labels", "chars", "hist", "pairs"):
            total[k].update({kk: vv for kk, vv in part[k].items()})
        for lab, pos in part["first"].items():
            total["first"][lab] = min(pos, total["first"].get(lab, pos))
        for kind, lst in part["examples"].items():
            total["examples"].setdefault(kind, []).extend(tuple(x) for x in lst)
    for k in ("changes", "unknown_rows", "flagged", "pii"):
        total[k].sort(key=lambda x: x[0])
    total["chars"] = {int(k): v for k, v in total["chars"].items()}
    return total


def schema_result(check: Check, quarantine: list, summary: Any) -> CheckResult:
    findings = [Finding(id=q.id, reason=q.reason, severity=Severity.error, message=q.message, line=q.line,
                        row=q.row, source=q.source, raw=q.raw[:2000]) for q in quarantine]
    return check.result(findings, summary={
        "kind": summary.kind, "rows_read": summary.rows_read, "rows_loaded": summary.rows_loaded,
        "rows_quarantined": summary.rows_quarantined, "reasons": dict(Counter(f.reason for f in findings))})


def normalization_result(check: Check, st: dict) -> CheckResult:
    findings = []
    for _, rid, kinds in st["changes"]:
        bad = "mojibake_unrepaired" in kinds
        findings.append(Finding(id=rid, reason="mojibake_unrepaired" if bad else "normalized",
                                severity=Severity.warning if bad else Severity.info, message=", ".join(kinds),
                                kinds=kinds))
    for _, rid, label in st["unknown_rows"]:
        findings.append(Finding(id=rid, reason="unknown_label", severity=Severity.warning,
                                message=f"label {label!r} is not an allowed label", label=label))
    examples = {k: [e for _, e in sorted(v, key=lambda x: x[0])[:5]] for k, v in st["examples"].items()}
    counts = dict(st["counts"])
    return check.result(findings, summary={
        "rows_changed": sum(1 for _, _, k in st["changes"] if set(k) - {"mojibake_unrepaired"}),
        "by_kind": counts, "unknown_labels": dict(st["unknown_labels"]), "examples": examples})


def ordered_labels(st: dict) -> Counter:
    """Label counts in first-appearance order (the local Counter's order, which breaks its ties)."""
    return Counter({lab: st["labels"][lab] for lab in sorted(st["labels"], key=lambda x: st["first"][x])})


def class_balance_result(check: Check, st: dict, options: dict) -> CheckResult:
    """`ClassBalanceCheck.run` on the label counts (it reads nothing else)."""
    from curate.checks.base import CheckContext
    from curate.io.load import LoadedData

    counts = ordered_labels(st)
    # the check only counts labels (`label_counts`): one multilabel record per label, repeated `count`
    # times, gives it the same counts in the same first-appearance order without a row per label
    records = [{"label": [lab] * c} for lab, c in counts.items()]
    data = LoadedData(kind="classification", records=records, quarantine=[], summary=None, config=None)  # type: ignore[arg-type]
    return check.run(CheckContext(data=data, texts=[], options=options))


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


def length_result(check: Check, st: dict, rows: Any) -> CheckResult:
    p = check.params
    findings: list[Finding] = []
    flagged = set()
    for pos, rid, reason, n, msg in st["flagged"]:
        flagged.add(pos)
        if reason == "empty_text":
            findings.append(Finding(id=rid, reason="empty_text", severity=Severity.error, chars=0))
        elif reason == "too_short":
            findings.append(Finding(id=rid, reason="too_short", chars=n, message=msg))
        else:
            findings.append(Finding(id=rid, reason="too_long", chars=n,
                                    message=f"{n:,} chars > max_chars {p.max_chars:,}"))
    bounds: dict = {}
    chars = st["chars"]
    if p.outlier_z is not None and chars:
        hi, bounds = length_bounds(chars, p.outlier_z)
        if hi is not None:
            cut = min((n for n in chars if math.log1p(n) > hi), default=None)
            if cut is not None:
                big = rows.map_batches(lambda b, cut=cut: b[b["chars"] >= cut][["pos", "id", "chars"]],
                                       batch_format="pandas").take_all()
                for r in sorted(big, key=lambda r: r["pos"]):
                    if r["pos"] in flagged or not math.log1p(r["chars"]) > hi:
                        continue
                    c = int(r["chars"])
                    findings.append(Finding(id=r["id"], reason="length_outlier", chars=c,
                                            message=f"{c:,} chars > {bounds['outlier_above_chars']:,} "
                                                    f"(median {bounds['median_chars']:,})"))
    order = {"empty_text": 0, "too_long": 1, "too_short": 2, "length_outlier": 3}
    findings.sort(key=lambda f: (order[f.reason], -getattr(f, "chars", 0)))
    lens = sorted(chars)
    w = [chars[n] for n in lens]
    summary = {
        "chars": {q: round(_wquantile(lens, w, v)) for q, v in
                  (("min", 0), ("p05", 0.05), ("median", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1))},
        "reasons": dict(Counter(f.reason for f in findings)),
        "min_chars": p.min_chars, "max_chars": p.max_chars, "outlier_z": p.outlier_z, **bounds,
        "histogram": _histogram(st, lens, w, p.bins) if lens else None,
    }
    return check.result(findings, summary=summary)


def _histogram(st: dict, lens: list, w: list, bins: int) -> dict:
    top = max(1, int(_wquantile(lens, w, 0.99)))
    width = max(1, math.ceil(top / bins))
    series: dict[str, list[int]] = {}
    for key, c in st["hist"].items():
        lab, n = json.loads(key)
        row = series.setdefault(lab, [0] * bins)
        row[min(n // width, bins - 1)] += c
    return {"edges": [i * width for i in range(bins + 1)], "series": dict(sorted(series.items()))}


def pii_result(check: Check, st: dict) -> CheckResult:
    findings = []
    per_kind: Counter[str] = Counter()
    rows_per_kind: Counter[str] = Counter()
    for _, rid, found in st["pii"]:
        for f in found:
            kind = f["reason"][4:]
            per_kind[kind] += f["matches"]
            rows_per_kind[kind] += 1
            findings.append(Finding(id=rid, reason=f["reason"], severity=Severity(f["severity"]),
                                    matches=f["matches"], message=f["message"]))
    return check.result(findings, summary={"rows_with_pii": len({f.id for f in findings}),
                                           "matches": dict(per_kind), "rows": dict(rows_per_kind)})


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
        labels = [lab for (lab, _), c in pairs.items() for _ in range(c)]
        groups = [g for (_, g), c in pairs.items() for _ in range(c)]
        par = B.parity_gaps(labels, groups, p.min_group_size)
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
    from curate.checks.bias import length_leakage

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
        return sel[["pos", "slabel", "text"]]

    got = sorted(rows.map_batches(keep, batch_format="pandas").take_all(), key=lambda r: r["pos"])
    if frac < 1.0:
        # baseline on every row (as the local check), the tree on the sample
        res = length_leakage([r["text"] for r in got], [r["slabel"] for r in got], p.length_folds, seed=seed)
        if res is None:
            return None
        single = Counter()
        for key, c in st["hist"].items():
            lab, _ = json.loads(key)
            if lab != "all":
                single[lab] += c
        base = max(single.values()) / n
        res.update({"majority_baseline": round(base, 4), "lift": round(res["cv_accuracy"] - base, 4),
                    "rows_used": len(got), "sample": "hash (approximate: ray engine)"})
        return res
    return length_leakage([r["text"] for r in got], [r["slabel"] for r in got], p.length_folds, seed=seed,
                          sample=p.length_sample)
