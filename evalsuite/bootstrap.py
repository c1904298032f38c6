"""Paired bootstrap confidence intervals on metric deltas (tuned - base), and McNemar's test for accuracy.

Paired: each resample draws the same item indices for base and tuned, so the CI reflects the per-item
difference, not two independent spreads. Defaults (1,000 resamples, 95% percentile interval, seed 0) follow
Koehn (2004) and sacrebleu's paired bootstrap. Metrics with a per-example function are resampled as means of
per-example scores (fast); corpus metrics (BLEU, chrF, F1) are recomputed on each resample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from evalsuite.metrics import Metric


@dataclass
class DeltaCI:
    """A metric's base and tuned scores, their delta, and the paired bootstrap interval of the delta."""

    metric: str
    base: float
    tuned: float
    delta: float
    ci: tuple[float, float]
    higher_is_better: bool
    withheld: str | None = None  # why no improved/regressed call is made (e.g. classes without test items)

    @property
    def status(self) -> str:
        """improved / regressed when the CI excludes zero in that direction, else unchanged; not_comparable
        when the test items cannot support a call (`withheld` says why)."""
        if self.withheld:
            return "not_comparable"
        lo, hi = self.ci
        if lo > 0 or hi < 0:
            better = (lo > 0) == self.higher_is_better
            return "improved" if better else "regressed"
        return "unchanged"


def paired_bootstrap(metric: Metric, base_pred: Sequence[Any], tuned_pred: Sequence[Any], refs: Sequence[Any],
                     *, n_resamples: int = 1000, confidence: float = 0.95, seed: int = 0) -> DeltaCI:
    """Paired bootstrap CI of `metric(tuned) - metric(base)`.

    Args:
        metric: The metric.
        base_pred: Base predictions, aligned with `refs`.
        tuned_pred: Tuned predictions, aligned with `refs`.
        refs: References.
        n_resamples: Bootstrap resamples.
        confidence: Two-sided interval mass.
        seed: numpy seed; the same seed gives the same interval.
    """
    import numpy as np

    n = len(refs)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_resamples, n))
    base = float(metric.compute(base_pred, refs))
    tuned = float(metric.compute(tuned_pred, refs))
    if metric.per_example is not None:
        diff = np.array([metric.per_example(t, r) - metric.per_example(b, r)
                         for b, t, r in zip(base_pred, tuned_pred, refs, strict=True)], dtype=float)
        deltas = diff[idx].mean(axis=1)
    elif metric.options.get("codes_fn") is not None:
        labels = sorted({str(x) for x in [*refs, *base_pred, *tuned_pred]})
        code = {lab: i for i, lab in enumerate(labels)}
        r_c, b_c, t_c = (np.array([code[str(x)] for x in xs]) for xs in (refs, base_pred, tuned_pred))
        fn = metric.options["codes_fn"]
        deltas = np.array([fn(t_c[ix], r_c[ix], len(labels)) - fn(b_c[ix], r_c[ix], len(labels)) for ix in idx])
    else:
        deltas = np.empty(n_resamples)
        for k, ix in enumerate(idx):
            rr = [refs[i] for i in ix]
            deltas[k] = metric.compute([tuned_pred[i] for i in ix], rr) - metric.compute([base_pred[i] for i in ix], rr)
    a = (1 - confidence) / 2
    lo, hi = np.quantile(deltas, [a, 1 - a])
    return DeltaCI(metric.name, base, tuned, tuned - base, (float(lo), float(hi)), metric.higher_is_better)


def mcnemar(base_correct: Sequence[bool], tuned_correct: Sequence[bool]) -> dict[str, float]:
    """Exact McNemar test on paired correctness (binomial test on the discordant pairs).

    Returns:
        {"b": base right & tuned wrong, "c": base wrong & tuned right, "p_value": two-sided exact p}.
    """
    from scipy.stats import binomtest

    b = sum(1 for x, y in zip(base_correct, tuned_correct, strict=True) if x and not y)
    c = sum(1 for x, y in zip(base_correct, tuned_correct, strict=True) if y and not x)
    p = 1.0 if b + c == 0 else float(binomtest(c, b + c, 0.5).pvalue)
    return {"b": b, "c": c, "p_value": p}
