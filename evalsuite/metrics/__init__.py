"""Metrics are declared objects in one registry (the lighteval shape).

A `Metric` has a `name`, `higher_is_better`, a `family` (classification / generation), a corpus-level
`compute(predictions, references, **aux) -> float`, and a `signature` string that says how it was computed
(library and version, tokenizer, smoothing, stemmer, every option). Optional parts, each used when present:
`per_example` (the corpus score is the mean of it), `items` (per-item scores that are not averaged into the
corpus score, e.g. sentence BLEU), `stats`/`from_stats` (per-item sufficient statistics summed into the corpus
score: BLEU, chrF, TER, WER, CER; the bootstrap resamples these), `details` (extra JSON fields: precision and
recall for ROUGE, per-class arrays), `uses` (auxiliary inputs: `sample_weight`, `probabilities`).

Every report prints the signature; `compare` refuses to compare two scores whose signatures differ. Options
come from `--metric-args KEY.OPTION=VALUE` (see `evalsuite.metrics.args`); docs/metrics.md lists them all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from schemas.errors import UsageError

GENERATION_TASKS = ("generation", "completion", "chat", "text")


@dataclass(frozen=True)
class Metric:
    """One declared metric.

    Attributes:
        name: Registry key; also the report column.
        family: "classification" or "generation".
        higher_is_better: Direction used to call a delta an improvement.
        compute: Corpus-level score from (predictions, references, **aux).
        signature: How the score was computed; printed in every report.
        per_example: Optional per-example score; when given, the corpus score is its (weighted) mean.
        options: The resolved options the metric was built with (all of them are in the signature).
        items: Optional per-item scores that are reported but not averaged into the corpus score.
        stats: Optional per-item sufficient statistics (n_items x k); their column sums give the score.
        from_stats: Corpus score from summed statistics.
        details: Optional extra JSON fields for the score entry.
        uses: Auxiliary inputs the metric takes from `aux` (`sample_weight`, `probabilities`).
        codes_fn: Optional fast score on integer-coded labels (the bootstrap's hot path).
    """

    name: str
    family: str
    higher_is_better: bool
    compute: Callable[..., float]
    signature: str
    per_example: Callable[[Any, Any], float] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    items: Callable[[Sequence[Any], Sequence[Any]], list[float]] | None = None
    stats: Callable[[Sequence[Any], Sequence[Any]], Any] | None = None
    from_stats: Callable[[Any], float] | None = None
    details: Callable[..., dict[str, Any]] | None = None
    uses: tuple[str, ...] = ()
    codes_fn: Callable[..., float] | None = None

    def _aux(self, aux: Mapping[str, Any] | None) -> dict[str, Any]:
        return {k: v for k, v in (aux or {}).items() if k in self.uses and v is not None}

    def value(self, predictions: Sequence[Any], references: Sequence[Any],
              aux: Mapping[str, Any] | None = None) -> float:
        """The corpus score, given only the auxiliary inputs this metric uses."""
        return float(self.compute(predictions, references, **self._aux(aux)))

    def item_scores(self, predictions: Sequence[Any], references: Sequence[Any]) -> list[float] | None:
        """Per-item scores (per_example, else items), or None for metrics with no per-item form."""
        if self.per_example is not None:
            return [float(self.per_example(p, r)) for p, r in zip(predictions, references, strict=True)]
        if self.items is not None:
            return [float(x) for x in self.items(predictions, references)]
        return None

    def extra(self, predictions: Sequence[Any], references: Sequence[Any],
              aux: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The metric's extra JSON fields (empty when it has none)."""
        return dict(self.details(predictions, references, **self._aux(aux))) if self.details else {}


def score_all(metrics: Sequence[Metric], predictions: Sequence[Any], references: Sequence[Any],
              aux: Mapping[str, Any] | None = None) -> dict[str, dict]:
    """Score every metric; returns `{name: {"value", "ci", "signature", "higher_is_better", ...details}}`.

    `ci` is None here; `evalsuite.bootstrap.bootstrap_ci` fills it in `score`.
    """
    if len(predictions) != len(references):
        raise UsageError(f"{len(predictions)} predictions but {len(references)} references",
                         fix="give exactly one prediction per reference id")
    out = {}
    for m in metrics:
        entry = {"value": m.value(predictions, references, aux), "ci": None, "signature": m.signature,
                 "higher_is_better": m.higher_is_better}
        entry.update(m.extra(predictions, references, aux))
        out[m.name] = entry
    return out


def metrics_for(task: str, metric_args: Mapping[str, Mapping[str, Any]] | None = None, *,
                nrefs: int | str = 1, multilabel: bool = False, probabilities: bool = False,
                labels: Sequence[str] | None = None, **legacy: Any) -> list[Metric]:
    """The registered metrics of one task family, built with their options.

    Args:
        task: "classification", or "generation" (also "completion", "chat", "text").
        metric_args: `{KEY: {OPTION: VALUE}}`; see `evalsuite.metrics.args`.
        nrefs: Generation: references per item (an int, or "var"), for sacrebleu's signature.
        multilabel: Classification: references and predictions are lists of labels.
        probabilities: Classification: predictions carry class probabilities (adds top-k, ECE, Brier).
        labels: Classification: the label set, in order (for probability columns).
        **legacy: `rouge_tokenizer=` / `rouge_stemmer=` (older spelling of rouge.tokenizer /
            rouge.use_stemmer).

    Raises:
        UsageError: For an unknown task, or an unknown or ill-typed metric option.
    """
    from evalsuite.metrics.args import ArgResolver, merge_args

    extra = {}
    if "rouge_tokenizer" in legacy:
        extra["tokenizer"] = legacy.pop("rouge_tokenizer")
    if "rouge_stemmer" in legacy:
        extra["use_stemmer"] = legacy.pop("rouge_stemmer")
    if legacy:
        raise UsageError(f"unknown metric options {sorted(legacy)}", fix="pass options as metric_args")
    args = ArgResolver(merge_args({"rouge": extra} if extra else None, metric_args))
    if task == "classification":
        from evalsuite.metrics.classification import classification_metrics

        out = classification_metrics(args, multilabel=multilabel, probabilities=probabilities, labels=labels)
    elif task in GENERATION_TASKS:
        from evalsuite.metrics.generation import generation_metrics

        out = generation_metrics(args, nrefs=nrefs)
    else:
        raise UsageError(f"unknown task {task!r}", fix="use --task classification or --task generation")
    args.check_all_used()
    return out


def check_signatures(a: dict[str, str], b: dict[str, str]) -> None:
    """Raise when two score sets computed the same metric with different settings (they are not
    comparable)."""
    bad = [f"{k}: {a[k]!r} vs {b[k]!r}" for k in sorted(set(a) & set(b)) if a[k] != b[k]]
    if bad:
        raise UsageError(
            "refusing to compare scores whose signatures differ",
            details=bad,
            fix="recompute both sides with the same metric settings (tokenizer, smoothing, stemmer, "
            "window/stride)",
        )
