"""`length`: empty, too-short, too-long and outlier-length texts (characters; `token_audit` counts tokens).

The text judged is the record's text (classification), prompt + completion (completion) or all turns (chat).
Reasons and thresholds (parameters, defaults justified):
- `empty_text` (error): nothing but whitespace — never useful for training.
- `too_short` (warning): fewer than `min_chars` = 3 non-space characters; "ok", "?" or a lone emoji carry
  almost no signal for a label or an answer.
- `too_long` (warning): more than `max_chars` characters; off by default because the real limit is in
  tokens (use `--tokenizer --max-length`).
- `length_outlier` (warning): unusually long texts, a modified z-score of log length
  `0.6745 * (x - median) / MAD` above `outlier_z` = 3.5 (Iglewicz & Hoaglin's recommended cut-off). Log
  length because text lengths are right-skewed; MAD because a few huge rows would inflate a standard
  deviation.
  Long side only: on length-capped sources log length is left-skewed, and a two-sided test flagged 1,518
  ordinary 35-character tweets in bundled:tweets; short texts are `min_chars`'s job.

The summary holds length quantiles and a histogram of lengths per class (for the report's chart).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import NotRequired, TypedDict, cast

from pydantic import BaseModel, ConfigDict, Field

from curate.checks.base import Check, CheckContext
from schemas.findings import CheckResult, Finding, Severity
from schemas.report import Block, ChartBlock


class LengthParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_chars: int = Field(3, ge=0, description="Texts with fewer non-space characters are too short")
    max_chars: int | None = Field(
        None, ge=1, description="Texts with more characters are too long (off by default)"
    )
    outlier_z: float | None = Field(
        3.5,
        gt=0,
        description="Modified z-score of log length beyond which a text is an outlier; null disables",
    )
    bins: int = Field(20, ge=2, le=200, description="Histogram bins in the summary")


def _quantile(sorted_vals: list[float], q: float) -> float:
    if not sorted_vals:
        return 0.0
    i = q * (len(sorted_vals) - 1)
    lo, hi = math.floor(i), math.ceil(i)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (i - lo)


def robust_outliers(lengths: list[int], z: float) -> tuple[list[int], dict]:
    """Indices whose log length has a modified z-score above `z` (long side), and the bound in characters."""
    logs = [math.log1p(n) for n in lengths]
    s = sorted(logs)
    med = _quantile(s, 0.5)
    dev = [abs(x - med) for x in logs]
    mad = _quantile(sorted(dev), 0.5)
    # More than half the texts the same length makes MAD 0; Iglewicz & Hoaglin then scale the mean absolute
    # deviation instead (1.253314 * MeanAD estimates the standard deviation as 1.4826 * MAD does).
    scale = mad / 0.6745 if mad > 0 else 1.253314 * sum(dev) / len(dev)
    if scale == 0:
        return [], {"median_chars": round(math.expm1(med)), "mad_log": 0.0}
    hi = med + z * scale
    idx = [i for i, x in enumerate(logs) if x > hi]
    return idx, {"median_chars": round(math.expm1(med)), "mad_log": round(mad, 4),
                 "outlier_above_chars": math.floor(math.expm1(hi))}


class LengthHistogram(TypedDict):
    """Rows per label in equal-width bins of characters: `edges` has one more entry than each series."""

    edges: list[int]
    series: dict[str, list[int]]


class LengthSummary(TypedDict):
    """The summary of a `length` result, from either engine. The outlier bounds are there when `outlier_z` is
    set (`outlier_above_chars` only when the lengths spread at all)."""

    chars: dict[str, int]
    reasons: dict[str, int]
    min_chars: int
    max_chars: int | None
    outlier_z: float | None
    median_chars: NotRequired[int]
    mad_log: NotRequired[float]
    outlier_above_chars: NotRequired[int]
    histogram: LengthHistogram | None


def length_histogram(lengths: list[int], labels: list[str], bins: int) -> LengthHistogram:
    """Counts of lengths per label in equal-width bins up to the 99th percentile (the last bin takes the
    rest)."""
    top = max(1, int(_quantile(sorted(lengths), 0.99)))
    width = max(1, math.ceil(top / bins))
    edges = [i * width for i in range(bins + 1)]
    series: dict[str, list[int]] = {}
    for n, lab in zip(lengths, labels, strict=True):
        row = series.setdefault(lab, [0] * bins)
        row[min(n // width, bins - 1)] += 1
    return {"edges": edges, "series": dict(sorted(series.items()))}


class LengthCheck(Check):
    name = "length"
    description = "empty, too-short, too-long and outlier-length texts (characters)"
    Params = LengthParams

    def run(self, ctx: CheckContext) -> CheckResult:
        p: LengthParams = self.params
        lengths = [len(t) for t in ctx.texts]
        findings: list[Finding] = []
        ids = ctx.ids
        flagged: set[int] = set()
        for i, t in enumerate(ctx.texts):
            n = len(t.strip())
            if n == 0:
                findings.append(Finding(id=ids[i], reason="empty_text", severity=Severity.error, chars=0))
            elif n < p.min_chars:
                findings.append(Finding(id=ids[i], reason="too_short", chars=n, message=t.strip()[:50]))
            elif p.max_chars is not None and len(t) > p.max_chars:
                findings.append(Finding(id=ids[i], reason="too_long", chars=len(t),
                                        message=f"{len(t):,} chars > max_chars {p.max_chars:,}"))
            else:
                continue
            flagged.add(i)
        bounds: dict = {}
        n_outliers = 0
        if p.outlier_z is not None and lengths:
            idx, bounds = robust_outliers(lengths, p.outlier_z)
            for i in idx:
                if i in flagged:
                    continue
                n_outliers += 1
                findings.append(Finding(id=ids[i], reason="length_outlier", chars=lengths[i],
                                        message=f"{lengths[i]:,} chars > {bounds['outlier_above_chars']:,} "
                                                f"(median {bounds['median_chars']:,})"))
        # Worst first: empty, then the longest, so the examples shown are the most extreme.
        order = {"empty_text": 0, "too_long": 1, "too_short": 2, "length_outlier": 3}
        findings.sort(key=lambda f: (order[f.reason], -getattr(f, "chars", 0)))
        labels = [r["label"] if isinstance(r.get("label"), str) else "all" for r in ctx.data.records]
        s = sorted(lengths)
        summary: LengthSummary = {
            "chars": {q: round(_quantile(s, v)) for q, v in
                      (("min", 0), ("p05", 0.05), ("median", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1))},
            "reasons": dict(Counter(f.reason for f in findings)),
            "min_chars": p.min_chars, "max_chars": p.max_chars, "outlier_z": p.outlier_z, **bounds,
            "histogram": length_histogram(lengths, labels, p.bins) if lengths else None,
        }
        return self.result(findings, summary=summary)

    @classmethod
    def report_blocks(cls, result: CheckResult) -> list[Block]:
        """A histogram of text lengths with one series per class."""
        h = cast(LengthSummary, result.summary).get("histogram")
        if not h:
            return []
        return [ChartBlock(title="Length per class (characters)", chart="histogram", x=h["edges"],
                           series={k: [float(v) for v in vals] for k, vals in h["series"].items()},
                           x_label="characters", y_label="rows",
                           caption="the last bin holds everything above the 99th percentile")]
