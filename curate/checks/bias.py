"""`bias`: label skew across groups, terms tied to one label, and labels predictable from length alone.

Computed (single-label classification data; multilabel rows are left out):
- Per group (with `--group-field`): the label distribution per group; the demographic-parity gap per label,
  one-vs-rest, `max_g P(label | g) - min_g P(label | g)` over groups of at least `min_group_size` rows
  (multiclass, unlike fairlearn's binary-only gaps); a chi-square test of independence of group and label
  (scipy). Flagged (`parity_gap`) when the largest gap exceeds `max_parity_gap` = 0.10 (ten points, the
  usual tolerance in parity audits) *and* the test rejects independence at `alpha` = 0.01.
- Terms (param `terms`): pointwise mutual information `log2 P(label | term) / P(label)` for every label, over
  rows containing the term (whole word, case-insensitive). Flagged (`term_label_association`) when
  PMI >= `pmi_threshold` = 1.0 (the term makes the label at least twice as likely) on at least
  `pmi_min_count` = 5 rows.
- Length leakage: 5-fold cross-validated accuracy of a depth-3 decision tree on log character and word
  counts versus the majority-class baseline. Flagged (`length_predicts_label`) when the tree beats the
  baseline by more than `length_margin` = 0.05: a model can then score by reading lengths, an annotation
  artefact (Gururangan et al. 2018 found such cues in NLI data). Above `length_sample` = 50,000 rows the
  tree is fitted on a seeded, label-stratified subsample of that size: the standard error of a 5-fold
  accuracy over 50k rows is at most sqrt(0.25 / 50,000) = 0.0022, far below the 0.05 margin, so a larger
  sample changes no verdict (at 1M rows the full fit cost ~8 s for the same answer within noise). The
  majority baseline is still counted on every row.

These are dataset-level findings with no row id: they are reported in `message` and `summary`.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from typing import Any, NotRequired, TypedDict, cast

from pydantic import BaseModel, ConfigDict, Field

from curate.checks.base import Check, CheckContext
from schemas.findings import CheckResult, CheckStatus
from schemas.report import Block, KeyValueBlock, TableBlock


class BiasParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    terms: list[str] = Field(default_factory=list, description="Terms to test for association with a label")
    max_parity_gap: float = Field(0.10, gt=0, le=1)
    alpha: float = Field(0.01, gt=0, lt=1, description="Chi-square significance level")
    min_group_size: int = Field(30, ge=1, description="Smaller groups are listed but left out of the gap")
    pmi_threshold: float = Field(1.0, gt=0)
    pmi_min_count: int = Field(5, ge=1)
    length_margin: float = Field(0.05, ge=0, le=1)
    length_folds: int = Field(5, ge=2)
    length_sample: int = Field(
        50_000, ge=100, description="Rows the length tree is fitted on (stratified sample)"
    )


class GroupParity(TypedDict):
    """What `parity_gaps` computes; the check adds `rows_without_group`, `parity_problems` `largest_gap`."""

    groups: dict[str, int]
    distribution: dict[str, dict[str, float]]
    gaps: dict[str, dict[str, Any]]
    chi_square: dict[str, Any] | None
    groups_in_gap: list[str]
    rows_without_group: NotRequired[int]
    largest_gap: NotRequired[dict[str, Any]]


class TermPmi(TypedDict):
    """One term's rows, its rows per label, and its PMI (log2) with each of those labels."""

    rows: int
    labels: dict[str, int]
    pmi: dict[str, float]


class BiasSummary(TypedDict):
    """The summary of a `bias` result, from either engine: `group` with a group field, `terms` with terms."""

    group: NotRequired[GroupParity]
    terms: NotRequired[dict[str, TermPmi]]
    length_leakage: dict[str, Any] | None
    problems: list[str]


def group_of(record: dict, group_field: str | None) -> str | None:
    """The record's group: the loader's `group`, else `metadata[group_field]`."""
    g = record.get("group")
    if g is None and group_field:
        g = (record.get("metadata") or {}).get(group_field)
    return None if g is None else str(g)


def parity_gaps(labels: list[str], groups: list[str], min_group_size: int) -> GroupParity:
    """Label distribution per group, the one-vs-rest parity gap per label, and a chi-square test."""
    by_group: dict[str, Counter[str]] = defaultdict(Counter)
    for lab, g in zip(labels, groups, strict=True):
        by_group[g][lab] += 1
    return group_parity(by_group, min_group_size)


def group_parity(by_group: dict[str, Counter[str]], min_group_size: int) -> GroupParity:
    """`parity_gaps` from its group x label count table (groups in first-appearance order; the Ray engine
    passes its merged counts)."""
    from scipy.stats import chi2_contingency

    classes = sorted({c for cnt in by_group.values() for c, k in cnt.items() if k})
    dist = {
        g: {c: round(cnt[c] / sum(cnt.values()), 4) for c in classes} for g, cnt in sorted(by_group.items())
    }
    big = [g for g, cnt in by_group.items() if sum(cnt.values()) >= min_group_size]
    gaps: dict[str, dict] = {}
    for c in classes:
        rates = {g: dist[g][c] for g in big}
        if len(rates) >= 2:
            hi, lo = max(rates, key=rates.get), min(rates, key=rates.get)
            gaps[c] = {"gap": round(rates[hi] - rates[lo], 4), "highest": hi, "lowest": lo}
    chi = None
    if len(big) >= 2 and len(classes) >= 2:
        table = [[by_group[g][c] for c in classes] for g in sorted(big)]
        # Drop all-zero label columns (a label absent from every big group makes the test undefined).
        keep = [j for j in range(len(classes)) if any(row[j] for row in table)]
        if len(keep) >= 2:
            res = chi2_contingency([[row[j] for j in keep] for row in table])
            chi = {"chi2": round(float(res.statistic), 3), "dof": int(res.dof), "p_value": float(res.pvalue)}
    return {"groups": {g: sum(cnt.values()) for g, cnt in sorted(by_group.items())}, "distribution": dist,
            "gaps": gaps, "chi_square": chi, "groups_in_gap": sorted(big)}


def term_pmi(texts: list[str], labels: list[str], terms: list[str]) -> dict[str, TermPmi]:
    """For each term: rows containing it and PMI (log2) with each label it co-occurs with."""
    n = len(labels)
    prior = {c: k / n for c, k in Counter(labels).items()}
    out: dict[str, TermPmi] = {}
    for term in terms:
        rx = re.compile(rf"(?<!\w){re.escape(term)}(?!\w)", re.IGNORECASE)
        hit = Counter(lab for t, lab in zip(texts, labels, strict=True) if rx.search(t))
        m = sum(hit.values())
        out[term] = {"rows": m, "labels": dict(hit.most_common()),
                     "pmi": {c: round(math.log2((k / m) / prior[c]), 3) for c, k in hit.items()} if m else {}}
    return out


def length_leakage(texts: list[str], labels: list[str], folds: int, seed: int = 0,
                   sample: int | None = None) -> dict | None:
    """Cross-validated accuracy of a depth-3 tree on length features versus the majority baseline.

    Args:
        texts: The row texts.
        labels: One label per text.
        folds: Cross-validation folds.
        seed: Seed of the folds, the tree and the subsample.
        sample: When set and smaller than the data, fit on a label-stratified subsample of this many rows.
    """
    return leakage_from_lengths(lambda idx: [(len(texts[i]), len(texts[i].split())) for i in idx], labels,
                                folds, seed=seed, sample=sample)


def leakage_from_lengths(lengths_of: Any, labels: list[str], folds: int, seed: int = 0,
                         sample: int | None = None) -> dict | None:
    """`length_leakage` from the rows' (chars, words): `lengths_of(indices)` gives them for those rows (the
    local check counts only the rows it fits on; the Ray engine passes the counts it already has)."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.tree import DecisionTreeClassifier

    counts = Counter(labels)
    if len(counts) < 2 or min(counts.values()) < folds:
        return None
    baseline = max(counts.values()) / len(labels)
    used = len(labels)
    idx = range(len(labels))
    if sample is not None and len(labels) > sample:
        from sklearn.model_selection import train_test_split

        idx, _ = train_test_split(
            np.arange(len(labels)), train_size=sample, stratify=labels, random_state=seed
        )
        picked = np.sort(idx).tolist()
        sub = [labels[i] for i in picked]
        # a label too rare to keep `folds` rows in the sample: fit on everything rather than drop it
        if min(Counter(sub).values()) >= folds:
            idx, labels, used = picked, sub, sample
    x = np.array([[math.log1p(c), math.log1p(w)] for c, w in lengths_of(idx)])
    y = np.array(labels)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    acc = cross_val_score(
        DecisionTreeClassifier(max_depth=3, random_state=seed), x, y, cv=cv, scoring="accuracy"
    )
    return {
        "cv_accuracy": round(float(acc.mean()), 4),
        "majority_baseline": round(baseline, 4),
        "lift": round(float(acc.mean()) - baseline, 4),
        "folds": folds,
        "model": "DecisionTree(max_depth=3)",
        "features": ["log1p(chars)", "log1p(words)"],
        "rows_used": used,
    }


def parity_problems(par: dict, p: Any) -> list[str]:
    """Mark the largest label-share gap between groups in `par` (from `parity_gaps`) and report it when it is
    both larger than `max_parity_gap` and significant (chi-square p < alpha). Shared by both engines."""
    if not par["gaps"]:
        return []
    worst = max(par["gaps"], key=lambda c: par["gaps"][c]["gap"])
    w = par["gaps"][worst]
    par["largest_gap"] = {"label": worst, **w}
    chi = par["chi_square"]
    if w["gap"] > p.max_parity_gap and chi is not None and chi["p_value"] < p.alpha:
        return [f"parity_gap: P({worst}) differs by {w['gap']:.1%} between groups "
                f"{w['highest']} and {w['lowest']} (chi-square p={chi['p_value']:.2g})"]
    return []


def term_problems(terms: dict, p: Any) -> list[str]:
    """Terms whose PMI with a label passes `pmi_threshold` over at least `pmi_min_count` rows."""
    return [f"term_label_association: {term!r} -> {c} (PMI {v:.2f} over {t['rows']} rows)"
            for term, t in terms.items() for c, v in t["pmi"].items()
            if v >= p.pmi_threshold and t["labels"][c] >= p.pmi_min_count]


class BiasCheck(Check):
    name = "bias"
    description = "label skew across groups (parity gap, chi-square), term-label PMI, length-label leakage"
    kinds = ("classification",)
    Params = BiasParams

    def run(self, ctx: CheckContext) -> CheckResult:
        p: BiasParams = self.params
        rows = [(i, r) for i, r in enumerate(ctx.data.records) if isinstance(r.get("label"), str)]
        if not rows:
            return self.result([], status=CheckStatus.not_applicable,
                               message="no single-label rows: bias needs classification data")
        labels = [r["label"] for _, r in rows]
        texts = [ctx.texts[i] for i, _ in rows]
        problems: list[str] = []
        summary: dict = {}
        group_field = ctx.options.get("group_field")
        groups = [group_of(r, group_field) for _, r in rows]
        if any(g is not None for g in groups):
            pairs = [(lab, g) for lab, g in zip(labels, groups, strict=True) if g is not None]
            par = parity_gaps([a for a, _ in pairs], [g for _, g in pairs], p.min_group_size)
            par["rows_without_group"] = len(labels) - len(pairs)
            summary["group"] = par
            problems += parity_problems(par, p)
        elif group_field:
            problems.append(f"no row has a value in group field {group_field!r}")
        if p.terms:
            summary["terms"] = term_pmi(texts, labels, p.terms)
            problems += term_problems(summary["terms"], p)
        leak = length_leakage(texts, labels, p.length_folds, seed=int(ctx.options.get("seed") or 0),
                              sample=p.length_sample)
        summary["length_leakage"] = leak
        if leak and leak["lift"] > p.length_margin:
            problems.append(
                f"length_predicts_label: length alone reaches {leak['cv_accuracy']:.1%} accuracy vs "
                f"{leak['majority_baseline']:.1%} majority baseline"
            )
        summary["problems"] = [s.split(":", 1)[0] for s in problems]
        return self.result([], status=CheckStatus.warn if problems else CheckStatus.passed, summary=summary,
                           count=len(problems), message="; ".join(problems) or None)

    @classmethod
    def report_blocks(cls, result: CheckResult) -> list[Block]:
        """Label shares per group, the terms' PMI with each label, and the length-only classifier's scores."""
        s = cast(BiasSummary, result.summary)
        blocks: list[Block] = []
        g = s.get("group")
        if g and g.get("distribution"):
            labels = sorted({lab for d in g["distribution"].values() for lab in d})
            blocks.append(TableBlock(title="Label share per group", columns=["group", "rows", *labels],
                                     rows=[[grp, g["groups"][grp], *(d.get(lab) for lab in labels)]
                                           for grp, d in g["distribution"].items()], page_size=25))
        if s.get("terms"):
            blocks.append(TableBlock(title="Term-label PMI (log2)", columns=["term", "rows", "labels", "pmi"],
                                     rows=[[t, v["rows"], json.dumps(v["labels"]), json.dumps(v["pmi"])]
                                           for t, v in s["terms"].items()], page_size=25))
        leak = s.get("length_leakage")
        if leak:
            blocks.append(KeyValueBlock(title="Length-label leakage", items=leak))
        return blocks
