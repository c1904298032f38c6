"""Paired bootstrap confidence intervals on metric deltas (tuned - base), and McNemar's test for accuracy.

Paired: each resample draws the same item indices for base and tuned, so the CI reflects the per-item
difference, not two independent spreads. Defaults (1,000 resamples, 95% percentile interval, seed 0) follow
Koehn (2004) and sacrebleu's paired bootstrap. Metrics with a per-example function are resampled as means of
per-example scores (fast); metrics with per-item sufficient statistics (BLEU, chrF, TER, WER, CER) resample
the statistics and recompute the score from their sums (as sacrebleu does); other corpus metrics (F1, MCC)
are recomputed on each resample.

`bootstrap_ci` is the single-system version used by `evalsuite score`: a seeded percentile interval of
every metric's own value over resampled items.
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
    elif metric.stats is not None and metric.from_stats is not None:
        sb, st = np.asarray(metric.stats(base_pred, refs)), np.asarray(metric.stats(tuned_pred, refs))
        deltas = np.array([metric.from_stats(st[ix].sum(0)) - metric.from_stats(sb[ix].sum(0)) for ix in idx])
    elif metric.codes_fn is not None:
        labels = sorted({str(x) for x in [*refs, *base_pred, *tuned_pred]})
        code = {lab: i for i, lab in enumerate(labels)}
        r_c, b_c, t_c = (np.array([code[str(x)] for x in xs]) for xs in (refs, base_pred, tuned_pred))
        fn = metric.codes_fn
        deltas = np.array(
            [fn(t_c[ix], r_c[ix], len(labels)) - fn(b_c[ix], r_c[ix], len(labels)) for ix in idx]
        )
    else:
        deltas = np.empty(n_resamples)
        for k, ix in enumerate(idx):
            rr = [refs[i] for i in ix]
            deltas[k] = metric.compute([tuned_pred[i] for i in ix], rr) - metric.compute(
                [base_pred[i] for i in ix], rr
            )
    a = (1 - confidence) / 2
    lo, hi = np.nanquantile(deltas, [a, 1 - a])
    return DeltaCI(metric.name, base, tuned, tuned - base, (float(lo), float(hi)), metric.higher_is_better)


def bootstrap_ci(metric: Metric, predictions: Sequence[Any], references: Sequence[Any],
                 aux: dict[str, Any] | None = None, *, n_resamples: int = 1000, confidence: float = 0.95,
                 seed: int = 0) -> tuple[float, float] | None:
    """Seeded percentile bootstrap interval of one system's `metric` value, resampling items.

    Every metric drawn with the same seed sees the same resampled items. Per-example metrics resample their
    (weighted) per-item scores, statistics metrics their per-item statistics; the rest are recomputed on each
    resample. Resamples where the metric is undefined (NaN) are left out of the quantiles.

    Args:
        metric: The metric.
        predictions: Predictions, aligned with `references`.
        references: References.
        aux: Aligned auxiliary inputs (`sample_weight`, `probabilities`), resampled with the items.
        n_resamples: Bootstrap resamples (0: no interval, returns None).
        confidence: Two-sided interval mass.
        seed: numpy seed; the same seed gives the same interval.

    Returns:
        (low, high), or None for n_resamples == 0, no items, or a metric undefined on every resample.
    """
    import numpy as np

    n = len(references)
    if n_resamples <= 0 or n == 0:
        return None
    idx = np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))
    aux = {k: v for k, v in (aux or {}).items() if k in metric.uses and v is not None}
    w = np.asarray(aux["sample_weight"], dtype=float) if "sample_weight" in aux else None
    if metric.per_example is not None and set(aux) <= {"sample_weight"}:
        s = np.asarray(metric.item_scores(predictions, references), dtype=float)
        vals = (
            s[idx].mean(axis=1) if w is None else (s[idx] * w[idx]).sum(1) / np.maximum(w[idx].sum(1), 1e-300)
        )
    elif metric.stats is not None and metric.from_stats is not None:
        st = np.asarray(metric.stats(predictions, references), dtype=float)
        vals = np.array([metric.from_stats(st[ix].sum(0)) for ix in idx])
    elif metric.codes_fn is not None and not aux:
        labels = sorted({str(x) for x in [*references, *predictions]})
        code = {lab: i for i, lab in enumerate(labels)}
        r_c, p_c = (np.array([code[str(x)] for x in xs]) for xs in (references, predictions))
        vals = np.array([metric.codes_fn(p_c[ix], r_c[ix], len(labels)) for ix in idx])
    else:
        import warnings

        vals = np.empty(n_resamples)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearn warns on resamples with a single class; NaN is kept out
            for k, ix in enumerate(idx):
                sub = {key: (np.asarray(v)[ix] if not isinstance(v, list) else [v[i] for i in ix])
                       for key, v in aux.items()}
                try:
                    vals[k] = metric.value([predictions[i] for i in ix], [references[i] for i in ix], sub)
                except ValueError:  # e.g. a resample without one of the classes a metric needs
                    vals[k] = np.nan
    vals = np.asarray(vals, dtype=float)
    if np.isnan(vals).all():
        return None
    a = (1 - confidence) / 2
    lo, hi = np.nanquantile(vals, [a, 1 - a])
    return float(lo), float(hi)


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


def paired_bootstrap_seeds(
    metric: Metric,
    base_runs: Sequence[Sequence[Any]],
    tuned_runs: Sequence[Sequence[Any]],
    refs: Sequence[Any],
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> DeltaCI:
    """Paired bootstrap CI of the seed-averaged `metric(tuned) - metric(base)`, over test items and seeds.

    Each side is one prediction list per training seed, the two sides paired by position (the same seed).
    A resample draws the test items once (every seed is scored on the same items, so (item, seed) pairs
    are never treated as independent) and draws the seeds with replacement, then averages the per-seed
    deltas it drew. The interval so carries test-set sampling and run-to-run training variation: a delta
    that one seed shows and another does not is not called significant. With one seed per side it equals
    `paired_bootstrap`'s interval; with two or three seeds the training part rests on that many runs.

    Args:
        metric: The metric.
        base_runs: Base predictions, one aligned list per seed.
        tuned_runs: Tuned predictions, one aligned list per seed, in the same seed order.
        refs: References.
        n_resamples: Bootstrap resamples.
        confidence: Two-sided interval mass.
        seed: numpy seed.
    """
    import numpy as np

    if len(base_runs) != len(tuned_runs) or not base_runs:
        raise ValueError("paired_bootstrap_seeds needs the same number (>= 1) of seeds on each side")
    n, n_seeds = len(refs), len(base_runs)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_resamples, n))
    base = float(np.mean([metric.compute(p, refs) for p in base_runs]))
    tuned = float(np.mean([metric.compute(p, refs) for p in tuned_runs]))
    # per_seed[s, j]: seed s's delta on resample j's items
    per_seed = np.empty((n_seeds, n_resamples))
    fn = metric.options.get("codes_fn")
    if fn is not None:
        labels = sorted({str(x) for xs in (refs, *base_runs, *tuned_runs) for x in xs})
        code = {lab: i for i, lab in enumerate(labels)}
        r_c = np.array([code[str(x)] for x in refs])
        k = len(labels)
        for s, (b_run, t_run) in enumerate(zip(base_runs, tuned_runs, strict=True)):
            b_c = np.array([code[str(x)] for x in b_run])
            t_c = np.array([code[str(x)] for x in t_run])
            per_seed[s] = [fn(t_c[ix], r_c[ix], k) - fn(b_c[ix], r_c[ix], k) for ix in idx]
    else:
        for s, (b_run, t_run) in enumerate(zip(base_runs, tuned_runs, strict=True)):
            for j, ix in enumerate(idx):
                rr = [refs[i] for i in ix]
                per_seed[s, j] = (metric.compute([t_run[i] for i in ix], rr)
                                  - metric.compute([b_run[i] for i in ix], rr))
    if n_seeds == 1:
        deltas = per_seed[0]
    else:
        drawn = rng.integers(0, n_seeds, size=(n_resamples, n_seeds))
        deltas = per_seed[drawn, np.arange(n_resamples)[:, None]].mean(axis=1)
    a = (1 - confidence) / 2
    lo, hi = np.quantile(deltas, [a, 1 - a])
    return DeltaCI(metric.name, base, tuned, tuned - base, (float(lo), float(hi)), metric.higher_is_better)
