"""Metrics are declared objects in one registry (the lighteval shape).

A `Metric` has a `name`, `higher_is_better`, a `family` (classification / generation), a corpus-level
`compute(predictions, references) -> float`, an optional per-example function (used by the paired bootstrap
when the metric is a mean of per-example scores), and a `signature` string that says how it was computed
(tokenizer, smoothing, stemmer, library version). Every report prints the signature; `compare` refuses to
compare two scores whose signatures differ.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from schemas.errors import UsageError


@dataclass(frozen=True)
class Metric:
    """One declared metric.

    Attributes:
        name: Registry key, snake_case; also the report column.
        family: "classification" or "generation".
        higher_is_better: Direction used to call a delta an improvement.
        compute: Corpus-level score from (predictions, references).
        signature: How the score was computed; printed in every report.
        per_example: Optional per-example score; when given, the corpus score is its mean.
    """

    name: str
    family: str
    higher_is_better: bool
    compute: Callable[[Sequence[Any], Sequence[Any]], float]
    signature: str
    per_example: Callable[[Any, Any], float] | None = None
    options: dict[str, Any] = field(default_factory=dict)


def score_all(metrics: Sequence[Metric], predictions: Sequence[Any], references: Sequence[Any]) -> dict[str, dict]:
    """Score every metric; returns the JSON contract `{name: {"value", "ci", "signature"}}` (ci is None)."""
    if len(predictions) != len(references):
        raise UsageError(f"{len(predictions)} predictions but {len(references)} references",
                         fix="give exactly one prediction per reference id")
    return {m.name: {"value": float(m.compute(predictions, references)), "ci": None, "signature": m.signature}
            for m in metrics}


def metrics_for(task: str, **options: Any) -> list[Metric]:
    """The registered metrics of one task family.

    Args:
        task: "classification" or "generation".
        **options: Family options (generation: `rouge_tokenizer="default"|"unicode"`, `rouge_stemmer=bool`).

    Raises:
        UsageError: For an unknown task.
    """
    if task == "classification":
        from evalsuite.metrics.classification import classification_metrics

        return classification_metrics(**options)
    if task == "generation":
        from evalsuite.metrics.generation import generation_metrics

        return generation_metrics(**options)
    raise UsageError(f"unknown task {task!r}", fix="use --task classification or --task generation")


def check_signatures(a: dict[str, str], b: dict[str, str]) -> None:
    """Raise when two score sets computed the same metric with different settings (they are not comparable)."""
    bad = [f"{k}: {a[k]!r} vs {b[k]!r}" for k in sorted(set(a) & set(b)) if a[k] != b[k]]
    if bad:
        raise UsageError("refusing to compare scores whose signatures differ", details=bad,
                         fix="recompute both sides with the same metric settings (tokenizer, smoothing, stemmer, "
                             "window/stride)")
