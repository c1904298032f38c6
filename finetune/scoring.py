"""Macro-F1, defined once: the trainer's early-stopping metric and evalsuite's `f1_macro` are this function.

The definition is scikit-learn's `f1_score(average="macro", zero_division=0)` with its default labels: the
unweighted mean of per-label F1 over the labels that occur in the references or the predictions. A class
that is in neither scores nothing and is left out, rather than counted as an F1 of 0 (which would make a
validation set that happens to lack a rare class look worse than the same predictions scored by evalsuite).
Pure Python, no imports: the trainer calls it after every validation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence


def macro_f1(references: Sequence[Hashable], predictions: Sequence[Hashable]) -> float:
    """Unweighted mean per-label F1 over the labels present in `references` or `predictions`.

    Args:
        references: Gold labels (any hashable: class ids or names).
        predictions: Predicted labels, aligned with `references`.

    Returns:
        The macro-F1 in [0, 1]; 0.0 for empty input.

    Raises:
        ValueError: When the two sequences differ in length.
    """
    if len(references) != len(predictions):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
    gold, pred = Counter(references), Counter(predictions)
    hits = Counter(r for r, p in zip(references, predictions, strict=True) if r == p)
    labels = set(gold) | set(pred)
    # F1 = 2 tp / (2 tp + fp + fn) = 2 tp / (|gold| + |pred|) per label; a present label has a positive
    # denominator
    f1s = [2 * hits[c] / (gold[c] + pred[c]) for c in labels]
    return sum(f1s) / len(f1s) if f1s else 0.0
