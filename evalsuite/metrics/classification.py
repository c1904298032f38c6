"""Classification metrics via scikit-learn: accuracy; precision, recall and F1 (macro, micro, weighted);
a per-class table and the confusion matrix. `zero_division=0` (sklearn's documented choice for classes never
predicted) is part of every signature.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from evalsuite.metrics import Metric


def _sig(avg: str | None = None) -> str:
    import sklearn

    return f"sklearn:{sklearn.__version__}" + (f"|average:{avg}|zero_division:0" if avg else "")


def _accuracy(p: Sequence[Any], r: Sequence[Any]) -> float:
    from sklearn.metrics import accuracy_score

    return float(accuracy_score([str(x) for x in r], [str(x) for x in p]))


def _prf(kind: str, avg: str, p: Sequence[Any], r: Sequence[Any]) -> float:
    from sklearn.metrics import precision_recall_fscore_support

    pr, rc, f1, _ = precision_recall_fscore_support([str(x) for x in r], [str(x) for x in p], average=avg,
                                                   zero_division=0)
    return float({"precision": pr, "recall": rc, "f1": f1}[kind])


def prf_from_codes(kind: str, avg: str, p, r, n_labels: int) -> float:
    """precision/recall/F1 from integer-coded labels with numpy (same definitions as sklearn, zero_division=0).

    The paired bootstrap calls this thousands of times; sklearn's input validation would dominate the cost.
    """
    import numpy as np

    tp = np.bincount(r[p == r], minlength=n_labels).astype(float)
    pred_n = np.bincount(p, minlength=n_labels).astype(float)
    true_n = np.bincount(r, minlength=n_labels).astype(float)
    if avg == "micro":
        tp, pred_n, true_n = tp.sum(keepdims=True), pred_n.sum(keepdims=True), true_n.sum(keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = np.where(pred_n > 0, tp / pred_n, 0.0)
        rec = np.where(true_n > 0, tp / true_n, 0.0)
        f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
    val = {"precision": prec, "recall": rec, "f1": f1}[kind]
    present = (true_n + pred_n) > 0  # sklearn averages over labels present in y_true or y_pred
    if avg == "weighted":
        return float((val * true_n).sum() / true_n.sum()) if true_n.sum() else 0.0
    return float(val[present].mean()) if present.any() else 0.0


def _f1_macro(p: Sequence[Any], r: Sequence[Any]) -> float:
    from finetune.scoring import macro_f1

    return macro_f1([str(x) for x in r], [str(x) for x in p])


def classification_metrics() -> list[Metric]:
    """accuracy, then precision/recall/f1 for each of macro, micro, weighted.

    f1_macro is `finetune.scoring.macro_f1`, the function the trainer stops early on (same values as sklearn's).
    """
    out = [Metric("accuracy", "classification", True, _accuracy, _sig(),
                  per_example=lambda p, r: float(str(p) == str(r)))]
    for avg in ("macro", "micro", "weighted"):
        for kind in ("precision", "recall", "f1"):
            fn = _f1_macro if (kind, avg) == ("f1", "macro") else partial(_prf, kind, avg)
            out.append(Metric(f"{kind}_{avg}", "classification", True, fn, _sig(avg),
                              options={"codes_fn": partial(prf_from_codes, kind, avg)}))
    return out


def per_class_table(predictions: Sequence[Any], references: Sequence[Any]) -> tuple[list[str], list[list[Any]]]:
    """Columns and rows of a per-class table: label, precision, recall, f1, support."""
    from sklearn.metrics import precision_recall_fscore_support

    r = [str(x) for x in references]
    p = [str(x) for x in predictions]
    labels = sorted(set(r) | set(p))
    pr, rc, f1, sup = precision_recall_fscore_support(r, p, labels=labels, average=None, zero_division=0)
    rows = [[lab, float(a), float(b), float(c), int(d)] for lab, a, b, c, d in zip(labels, pr, rc, f1, sup, strict=True)]
    return ["label", "precision", "recall", "f1", "support"], rows


def confusion(predictions: Sequence[Any], references: Sequence[Any],
              labels: list[str] | None = None) -> tuple[list[str], list[list[int]]]:
    """Labels and the confusion matrix (rows = true label, columns = predicted)."""
    from sklearn.metrics import confusion_matrix

    r = [str(x) for x in references]
    p = [str(x) for x in predictions]
    labels = labels or sorted(set(r) | set(p))
    return labels, confusion_matrix(r, p, labels=labels).tolist()
