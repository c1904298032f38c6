"""`class_balance`: how the labels are distributed, and whether the rarest class survives a k-fold split.

Computed: per-class counts and shares, the imbalance ratio (largest class / smallest class), the normalized
entropy of the label distribution (1.0 = uniform, 0.0 = one class), and sklearn's "balanced" class weights
`n_samples / (n_classes * count)` to pass to a weighted loss. Multilabel rows count once per label.

Thresholds (parameters, defaults justified):
- `max_ratio` = 2.0: a class is *under-represented* when the largest class has more than twice its rows.
  At 2:1 the balanced weights already differ by 2x, and an unweighted classifier's errors concentrate on
  that class — worth a warning, not a failure.
- `kfold` = 5 (or the CLI's planned k): a class with fewer rows than k cannot appear in every fold of a
  stratified k-fold (sklearn warns and the fold's per-class metrics are undefined) — an error.
- `min_count` = 10: fewer rows than this per class gives per-class metrics too noisy to read (one error is
  10 points of recall) — a warning.

Declared vs seen: labels declared (this check's `labels`, else `normalize.labels` of the config) that never
occur, and data with a single class, fail the check: a classifier cannot learn or be evaluated on a class it
never sees, and a one-class sample (a `--head` of a sorted file) is the usual cause.

Class-level problems have no row id, so they are reported in `message` and `summary`, not as findings.
Not applicable to completion, chat and text data, which have no labels.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import TypedDict, cast

from pydantic import BaseModel, ConfigDict, Field

from curate.checks.base import Check, CheckContext
from schemas.findings import CheckResult, CheckStatus
from schemas.report import Block, ChartBlock, TableBlock


class ClassBalanceParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_ratio: float = Field(
        2.0, gt=1, description="Largest/class count above which a class is under-represented"
    )
    kfold: int | None = Field(
        None, ge=2, description="Planned k of a k-fold split (default: CLI option, else 5)"
    )
    min_count: int = Field(10, ge=1, description="Fewer rows than this per class is flagged")
    labels: list[str] | None = Field(
        None, description="Declared labels (default: normalize.labels of the config)"
    )


class BalanceStats(TypedDict):
    """What `balance_stats` computes from a label count table."""

    n: int
    classes: int
    counts: dict[str, int]
    shares: dict[str, float]
    imbalance_ratio: float
    normalized_entropy: float
    class_weights: dict[str, float]


class ClassBalanceSummary(BalanceStats):
    """The summary of a `class_balance` result, from either engine (the Ray engine runs this check's `run` on
    its label counts)."""

    kfold: int
    rarest_class: str
    rarest_count: int
    rarest_per_fold: float
    under_represented: list[str]
    too_rare: list[str]
    unsplittable: list[str]
    max_ratio: float
    declared_labels: list[str] | None
    missing_labels: list[str]


def label_counts(records: list[dict]) -> Counter[str]:
    """Rows per label; a multilabel row counts once for each of its labels."""
    counts: Counter[str] = Counter()
    for r in records:
        lab = r.get("label")
        if isinstance(lab, list):
            counts.update(lab)
        elif lab is not None:
            counts[lab] += 1
    return counts


def balance_stats(counts: Counter[str]) -> BalanceStats:
    """Shares, imbalance ratio, normalized entropy and balanced class weights for a label count table."""
    n, k = sum(counts.values()), len(counts)
    shares = {lab: c / n for lab, c in counts.items()}
    entropy = -sum(p * math.log(p) for p in shares.values() if p > 0)
    return {
        "n": n, "classes": k,
        "counts": dict(counts.most_common()),
        "shares": {lab: round(p, 4) for lab, p in sorted(shares.items(), key=lambda kv: -kv[1])},
        "imbalance_ratio": round(max(counts.values()) / min(counts.values()), 3),
        "normalized_entropy": round(entropy / math.log(k), 4) if k > 1 else 0.0,
        # sklearn.utils.class_weight.compute_class_weight("balanced"): n_samples / (n_classes * bincount)
        "class_weights": {lab: round(n / (k * c), 4) for lab, c in counts.most_common()},
    }


def _declared(options: dict) -> list[str] | None:
    """Labels the run's normalize config declares (`normalize.labels`), if any."""
    cfg = options.get("normalize")
    labels = cfg.get("labels") if isinstance(cfg, dict) else getattr(cfg, "labels", None)
    return list(labels) if labels else None


class ClassBalanceCheck(Check):
    name = "class_balance"
    description = "label counts, imbalance ratio, entropy, rarest class vs the planned k-fold, class weights"
    kinds = ("classification",)
    Params = ClassBalanceParams

    def run(self, ctx: CheckContext) -> CheckResult:
        return self.from_counts(label_counts(ctx.data.records), ctx.options)

    def from_counts(self, counts: Counter[str], options: dict) -> CheckResult:
        """The result from the label counts (in first-appearance order, which breaks ties) and the run's
        options (`kfold`, `normalize`): all this check reads, so the Ray engine passes its merged counts."""
        p: ClassBalanceParams = self.params
        if not counts:
            return self.result([], status=CheckStatus.not_applicable,
                               message="no labels: only classification data has classes")
        k = p.kfold or int(options.get("kfold") or 5)
        stats = balance_stats(counts)
        largest = max(counts.values())
        problems: list[str] = []
        status = CheckStatus.passed
        declared = p.labels if p.labels is not None else _declared(options)
        missing = [lab for lab in (declared or []) if lab not in counts]
        under = [lab for lab, c in counts.items() if largest / c > p.max_ratio]
        rare = [lab for lab, c in counts.items() if c < p.min_count]
        unsplittable = [lab for lab, c in counts.items() if c < k]
        for lab in sorted(under, key=counts.__getitem__):
            c = counts[lab]
            problems.append(
                f"{lab} is under-represented: {c:,} rows ({c / stats['n']:.1%}), "
                f"{largest / c:.2f}x fewer than the largest class (weight {stats['class_weights'][lab]})"
            )
        for lab in rare:
            problems.append(
                f"{lab} has only {counts[lab]} rows (< {p.min_count}): per-class metrics will be noisy"
            )
        if under or rare:
            status = CheckStatus.warn
        for lab in unsplittable:
            problems.append(f"{lab} has {counts[lab]} rows, fewer than the {k} folds planned: "
                            f"it cannot appear in every fold")
            status = CheckStatus.fail
        if missing:
            problems.insert(0, f"{len(missing)} declared label(s) never occur: {', '.join(missing)} "
                               f"(declared: {', '.join(declared or [])}; seen: {', '.join(sorted(counts))})")
            status = CheckStatus.fail
        if len(counts) == 1:
            problems.insert(
                0,
                f"the data has a single class ({next(iter(counts))!r}, {stats['n']:,} rows): "
                "nothing to learn or evaluate; if this is a --head of a sorted file, use --sample",
            )
            status = CheckStatus.fail
        rarest = min(counts, key=counts.__getitem__)
        summary: ClassBalanceSummary = {
            **stats,
            "kfold": k,
            "rarest_class": rarest,
            "rarest_count": counts[rarest],
            "rarest_per_fold": round(counts[rarest] / k, 2),
            "under_represented": sorted(under),
            "too_rare": sorted(rare),
            "unsplittable": sorted(unsplittable),
            "max_ratio": p.max_ratio,
            "declared_labels": declared,
            "missing_labels": missing,
        }
        count = len(set(under) | set(rare) | set(unsplittable) | set(missing)) + (len(counts) == 1)
        return self.result([], status=status, summary=summary, count=count,
                           message="; ".join(problems) or None)

    @classmethod
    def report_blocks(cls, result: CheckResult) -> list[Block]:
        """The label distribution as a bar chart, then rows, share and balanced weight per class."""
        s = cast(ClassBalanceSummary, result.summary)
        if not s.get("counts"):
            return []
        counts = s["counts"]
        return [
            ChartBlock(title="Label distribution", chart="bar", x=list(counts),
                       series={"rows": [float(v) for v in counts.values()]}, x_label="label", y_label="rows"),
            TableBlock(title="Classes", columns=["label", "rows", "share", "balanced weight"],
                       rows=[[lab, c, s["shares"].get(lab), s["class_weights"].get(lab)]
                             for lab, c in counts.items()], page_size=None),
        ]
