"""Classification metrics via scikit-learn, each a declared `Metric` with its sklearn settings in the
signature.

Single-label (labels compared as strings): accuracy, balanced accuracy, precision/recall/F1 (macro, micro,
weighted), F-beta, Matthews correlation, Cohen's kappa; with `classification.pos_label=L`, also binary
precision/recall/F1 for that label. Multilabel (a list of labels per row): subset accuracy, Hamming loss,
precision/recall/F1 (micro, macro, weighted, samples). With class probabilities: top-k accuracy, Brier score
and expected calibration error (ECE; not in sklearn: equal-width confidence bins of the top label, Guo et
al. 2017, "On Calibration of Modern Neural Networks", eq. 3).

Options (`classification.*` for all, or per metric): `zero_division` (0, 1, nan; sklearn's documented
choice for an undefined ratio), `pos_label`, `sample_weight` (the name of a numeric field in the reference
rows; `evalsuite score` reads it), `fbeta.beta`, `fbeta.average`, `cohen_kappa.weights` (none, linear,
quadratic), `balanced_accuracy.adjusted`, `top_k_accuracy.k`, `ece.n_bins`, `brier.scale_by_half`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from evalsuite.metrics import Metric
from evalsuite.metrics.args import ArgResolver, sig_opts
from schemas.errors import UsageError

AVERAGES = ("macro", "micro", "weighted")
ML_AVERAGES = ("micro", "macro", "weighted", "samples")
COMMON: dict[str, Any] = {"zero_division": "0", "pos_label": "", "sample_weight": ""}


def _zd(value: Any) -> Any:
    s = str(value).lower()
    if s in ("0", "0.0"):
        return 0.0
    if s in ("1", "1.0"):
        return 1.0
    if s == "nan":
        return float("nan")
    raise UsageError(f"zero_division={value!r}", fix="use classification.zero_division=0, 1 or nan")


def _s(xs: Sequence[Any]) -> list[str]:
    return [str(x) for x in xs]


def _version() -> str:
    import sklearn

    return f"sklearn:{sklearn.__version__}"


def _sig(opts: dict[str, Any]) -> str:
    shown = {k: v for k, v in opts.items() if not (k in ("pos_label", "sample_weight") and v == "")}
    if opts.get("average") not in (None, "binary"):
        shown.pop("pos_label", None)  # pos_label only matters to binary averaging
    return _version() + ("|" + sig_opts(shown) if shown else "")


# --- single label -------------------------------------------------------------------------------------------

def _accuracy(p: Sequence[Any], r: Sequence[Any], sample_weight: Any = None) -> float:
    from sklearn.metrics import accuracy_score

    return float(accuracy_score(_s(r), _s(p), sample_weight=sample_weight))


def _balanced(adjusted: bool, p: Sequence[Any], r: Sequence[Any], sample_weight: Any = None) -> float:
    import warnings

    from sklearn.metrics import balanced_accuracy_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "y_pred contains classes not in y_true": the score stays defined
        return float(balanced_accuracy_score(_s(r), _s(p), adjusted=adjusted, sample_weight=sample_weight))


def _prf(kind: str, avg: str, zd: Any, p: Sequence[Any], r: Sequence[Any], sample_weight: Any = None,
         pos_label: str | None = None, beta: float = 1.0) -> float:
    from sklearn.metrics import fbeta_score, precision_score, recall_score

    kw: dict[str, Any] = {"average": avg, "zero_division": zd, "sample_weight": sample_weight}
    if avg == "binary":
        kw["pos_label"] = pos_label
        labels = sorted(set(_s(r)) | set(_s(p)))
        if len(labels) > 2 or pos_label not in labels:
            # sklearn refuses binary averaging on >2 classes; one-vs-rest for pos_label is what users mean
            kw.update(average=None, labels=[pos_label])
            del kw["pos_label"]
    fn = {"precision": precision_score, "recall": recall_score, "f1": partial(fbeta_score, beta=1.0),
          "fbeta": partial(fbeta_score, beta=beta)}[kind]
    val = fn(_s(r), _s(p), **kw)
    return float(val[0] if hasattr(val, "__len__") else val)


def prf_from_codes(kind: str, avg: str, p: Any, r: Any, n_labels: int, beta: float = 1.0) -> float:
    """precision/recall/F1 from integer-coded labels with numpy (same definitions as sklearn,
    zero_division=0).

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
        b2 = beta * beta
        f1 = np.where(b2 * prec + rec > 0, (1 + b2) * prec * rec / (b2 * prec + rec), 0.0)
    val = {"precision": prec, "recall": rec, "f1": f1, "fbeta": f1}[kind]
    present = (true_n + pred_n) > 0  # sklearn averages over labels present in y_true or y_pred
    if avg == "weighted":
        return float((val * true_n).sum() / true_n.sum()) if true_n.sum() else 0.0
    return float(val[present].mean()) if present.any() else 0.0


def _cm(p: Any, r: Any, n: int) -> Any:
    import numpy as np

    return np.bincount(r * n + p, minlength=n * n).reshape(n, n).astype(float)


def balanced_from_codes(adjusted: bool, p: Any, r: Any, n_labels: int) -> float:
    """sklearn's balanced_accuracy_score on integer codes: mean recall over classes present in y_true."""
    import numpy as np

    c = _cm(p, r, n_labels)
    support = c.sum(1)
    per = np.diag(c)[support > 0] / support[support > 0]
    if per.size == 0:
        return float("nan")
    score = float(per.mean())
    if adjusted:
        chance = 1 / per.size
        score = (score - chance) / (1 - chance) if per.size > 1 else float("nan")
    return score


def mcc_from_codes(p: Any, r: Any, n_labels: int) -> float:
    """sklearn's matthews_corrcoef (multiclass R_K, Gorodkin 2004) on integer codes; 0 when undefined."""
    import numpy as np

    c = _cm(p, r, n_labels)
    t, q, n = c.sum(1), c.sum(0), c.sum()
    cov_tp = np.trace(c) * n - t @ q
    cov_pp, cov_tt = n * n - q @ q, n * n - t @ t
    return 0.0 if cov_pp * cov_tt == 0 else float(cov_tp / np.sqrt(cov_tt * cov_pp))


def kappa_from_codes(p: Any, r: Any, n_labels: int) -> float:
    """sklearn's unweighted cohen_kappa_score on integer codes (NaN when chance agreement is total)."""
    import numpy as np

    c = _cm(p, r, n_labels)
    expected = np.outer(c.sum(1), c.sum(0)) / c.sum()
    w = 1 - np.eye(n_labels)
    den = (w * expected).sum()
    return float(1 - (w * c).sum() / den) if den else float("nan")


def _f1_macro(p: Sequence[Any], r: Sequence[Any], sample_weight: Any = None) -> float:
    """f1_macro with default options is `finetune.scoring.macro_f1`, the function the trainer stops early
    on."""
    if sample_weight is not None:
        return _prf("f1", "macro", 0.0, p, r, sample_weight=sample_weight)
    from finetune.scoring import macro_f1

    return macro_f1(_s(r), _s(p))


def _mcc(p: Sequence[Any], r: Sequence[Any], sample_weight: Any = None) -> float:
    from sklearn.metrics import matthews_corrcoef

    return float(matthews_corrcoef(_s(r), _s(p), sample_weight=sample_weight))


def _kappa(weights: str, p: Sequence[Any], r: Sequence[Any], sample_weight: Any = None) -> float:
    from sklearn.metrics import cohen_kappa_score

    w = None if weights in ("", "none", None) else weights
    return float(cohen_kappa_score(_s(r), _s(p), weights=w, sample_weight=sample_weight))


# --- multilabel ---------------------------------------------------------------------------------------------

def _binarize(p: Sequence[Any], r: Sequence[Any]) -> tuple[Any, Any]:
    from sklearn.preprocessing import MultiLabelBinarizer

    classes = sorted({str(x) for row in [*p, *r] for x in row})
    mlb = MultiLabelBinarizer(classes=classes)
    return mlb.fit_transform([_s(x) for x in r]), mlb.transform([_s(x) for x in p])


def _ml(
    name: str, avg: str | None, zd: Any, p: Sequence[Any], r: Sequence[Any], sample_weight: Any = None
) -> float:
    from sklearn.metrics import accuracy_score, fbeta_score, hamming_loss, precision_score, recall_score

    yt, yp = _binarize(p, r)
    if name == "accuracy":
        return float(accuracy_score(yt, yp, sample_weight=sample_weight))
    if name == "hamming_loss":
        return float(hamming_loss(yt, yp, sample_weight=sample_weight))
    fn = {"precision": precision_score, "recall": recall_score, "f1": partial(fbeta_score, beta=1.0)}[name]
    return float(fn(yt, yp, average=avg, zero_division=zd, sample_weight=sample_weight))


def _ml_subset(p: Any, r: Any) -> float:
    return float(set(_s(p)) == set(_s(r)))


# --- probabilities ------------------------------------------------------------------------------------------

def _top_k(k: int, labels: list[str], p: Sequence[Any], r: Sequence[Any], probabilities: Any = None,
           sample_weight: Any = None) -> float:
    import numpy as np

    prob = np.asarray(probabilities, dtype=float)
    order = np.argsort(-prob, axis=1, kind="stable")[:, :k]
    code = {lab: i for i, lab in enumerate(labels)}
    hit = np.array([code.get(str(t), -1) in row for t, row in zip(r, order, strict=True)], dtype=float)
    return float(np.average(hit, weights=sample_weight))


def _brier(scale: Any, labels: list[str], p: Sequence[Any], r: Sequence[Any], probabilities: Any = None,
           sample_weight: Any = None) -> float:
    from sklearn.metrics import brier_score_loss

    return float(brier_score_loss(_s(r), probabilities, labels=labels, sample_weight=sample_weight,
                                  scale_by_half=scale))


def ece(confidence: Any, correct: Any, n_bins: int = 15, sample_weight: Any = None) -> float:
    """Expected calibration error: sum over equal-width bins (lo, hi] of |accuracy - mean confidence| x
    share."""
    import numpy as np

    conf = np.asarray(confidence, dtype=float)
    ok = np.asarray(correct, dtype=float)
    w = np.ones_like(conf) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    bins = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)
    total, out = w.sum(), 0.0
    for b in range(n_bins):
        m = bins == b
        if w[m].sum() > 0:
            out += (
                w[m].sum() / total * abs(np.average(ok[m], weights=w[m]) - np.average(conf[m], weights=w[m]))
            )
    return float(out)


def _ece(n_bins: int, labels: list[str], p: Sequence[Any], r: Sequence[Any], probabilities: Any = None,
         sample_weight: Any = None) -> float:
    import numpy as np

    prob = np.asarray(probabilities, dtype=float)
    top = prob.argmax(axis=1)
    correct = [labels[i] == str(t) for i, t in zip(top, r, strict=True)]
    return ece(prob.max(axis=1), correct, n_bins, sample_weight)


# --- the family ---------------------------------------------------------------------------------------------

def classification_metrics(args: ArgResolver | None = None, *, multilabel: bool = False,
                           probabilities: bool = False, labels: Sequence[str] | None = None) -> list[Metric]:
    """The classification family, options resolved from `args` (see the module docstring).

    Single-label order: accuracy, precision/recall/f1 for each of macro, micro, weighted, then
    balanced_accuracy, fbeta, mcc, cohen_kappa, and the binary metrics when pos_label is set. f1_macro with
    zero_division=0 is `finetune.scoring.macro_f1`, the function the trainer stops early on (same values as
    sklearn's).
    """
    args = args or ArgResolver(None)
    W = ("sample_weight",)
    base = args.resolve(["classification"], COMMON)
    zd = _zd(base["zero_division"])
    if multilabel:
        out = []
        for name, higher in (("accuracy", True), ("hamming_loss", False)):
            o = args.resolve(["classification", name], {"sample_weight": ""})
            out.append(
                Metric(
                    name,
                    "classification",
                    higher,
                    partial(_ml, name, None, zd),
                    _sig(o) + "|multilabel",
                    per_example=_ml_subset if name == "accuracy" else None,
                    options=o,
                    uses=W,
                )
            )
        for avg in ML_AVERAGES:
            for kind in ("precision", "recall", "f1"):
                o = args.resolve(["classification", f"{kind}_{avg}"], COMMON)
                out.append(Metric(f"{kind}_{avg}", "classification", True, partial(_ml, kind, avg, zd),
                                  _sig({"average": avg, **o}) + "|multilabel", options=o, uses=W))
        return out

    def opts(name: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return args.resolve(["classification", name], {**COMMON, **(extra or {})})

    o = opts("accuracy")
    out = [Metric("accuracy", "classification", True, _accuracy, _sig({"sample_weight": o["sample_weight"]}),
                  per_example=lambda p, r: float(str(p) == str(r)), options=o, uses=W)]
    for avg in AVERAGES:
        for kind in ("precision", "recall", "f1"):
            o = opts(f"{kind}_{avg}")
            z = _zd(o["zero_division"])
            fn = _f1_macro if (kind, avg, z) == ("f1", "macro", 0.0) else partial(_prf, kind, avg, z)
            out.append(Metric(f"{kind}_{avg}", "classification", True, fn,
                              _sig({"average": avg, **o}), options=o, uses=W,
                              codes_fn=partial(prf_from_codes, kind, avg) if z == 0.0 else None))
    o = opts("balanced_accuracy", {"adjusted": False})
    out.append(
        Metric(
            "balanced_accuracy",
            "classification",
            True,
            partial(_balanced, o["adjusted"]),
            _sig({"adjusted": o["adjusted"], "sample_weight": o["sample_weight"]}),
            options=o,
            uses=W,
            codes_fn=partial(balanced_from_codes, bool(o["adjusted"])),
        )
    )
    o = opts("fbeta", {"beta": 0.5, "average": "macro"})
    if o["average"] not in (*AVERAGES, "binary"):
        raise UsageError(f"fbeta.average={o['average']!r}", fix="use macro, micro, weighted or binary")
    out.append(
        Metric(
            "fbeta",
            "classification",
            True,
            partial(
                _prf,
                "fbeta",
                o["average"],
                _zd(o["zero_division"]),
                pos_label=str(o["pos_label"]),
                beta=float(o["beta"]),
            ),
            _sig(o),
            options=o,
            uses=W,
            codes_fn=partial(prf_from_codes, "fbeta", o["average"], beta=float(o["beta"]))
            if o["average"] != "binary" and _zd(o["zero_division"]) == 0.0
            else None,
        )
    )
    o = opts("mcc")
    out.append(
        Metric(
            "mcc",
            "classification",
            True,
            _mcc,
            _sig({"sample_weight": o["sample_weight"]}),
            options=o,
            uses=W,
            codes_fn=mcc_from_codes,
        )
    )
    o = opts("cohen_kappa", {"weights": "none"})
    if o["weights"] not in ("none", "linear", "quadratic"):
        raise UsageError(f"cohen_kappa.weights={o['weights']!r}", fix="use none, linear or quadratic")
    out.append(Metric("cohen_kappa", "classification", True, partial(_kappa, o["weights"]),
                      _sig({"weights": o["weights"], "sample_weight": o["sample_weight"]}), options=o, uses=W,
                      codes_fn=kappa_from_codes if o["weights"] == "none" else None))
    for kind in ("precision", "recall", "f1"):
        o = opts(f"{kind}_binary")
        if o["pos_label"] != "":
            out.append(
                Metric(
                    f"{kind}_binary",
                    "classification",
                    True,
                    partial(_prf, kind, "binary", _zd(o["zero_division"]), pos_label=str(o["pos_label"])),
                    _sig({"average": "binary", **o}),
                    options=o,
                    uses=W,
                )
            )
    if probabilities:
        labs = [str(x) for x in (labels or [])]
        P = ("probabilities", "sample_weight")
        o = opts("top_k_accuracy", {"k": 2})
        out.append(Metric("top_k_accuracy", "classification", True, partial(_top_k, int(o["k"]), labs),
                          _sig({"k": o["k"], "sample_weight": o["sample_weight"]}), options=o, uses=P))
        o = opts("brier", {"scale_by_half": "auto"})
        out.append(Metric("brier", "classification", False, partial(_brier, o["scale_by_half"], labs),
                          _sig({"scale_by_half": o["scale_by_half"], "sample_weight": o["sample_weight"]}),
                          options=o, uses=P))
        o = opts("ece", {"n_bins": 15})
        out.append(
            Metric(
                "ece",
                "classification",
                False,
                partial(_ece, int(o["n_bins"]), labs),
                f"datavet:ece|top_label|equal_width|n_bins:{o['n_bins']}"
                + (f"|sample_weight:{o['sample_weight']}" if o["sample_weight"] else ""),
                options=o,
                uses=P,
            )
        )
    return out


def per_class_arrays(predictions: Sequence[Any], references: Sequence[Any], zero_division: Any = 0.0,
                     sample_weight: Any = None) -> dict[str, list]:
    """Per-class precision, recall, F1 and support as parallel arrays, plus the confusion matrix."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    r, p = _s(references), _s(predictions)
    labels = sorted(set(r) | set(p))
    pr, rc, f1, sup = precision_recall_fscore_support(
        r, p, labels=labels, average=None, zero_division=zero_division, sample_weight=sample_weight
    )
    if len(labels) == 1:  # sklearn's confusion_matrix warns about one label; the 1x1 matrix is still right
        return {
            "labels": labels,
            "precision": [float(pr[0])],
            "recall": [float(rc[0])],
            "f1": [float(f1[0])],
            "support": [int(sup[0])],
            "confusion_matrix": [[float(sum(sample_weight)) if sample_weight is not None else len(r)]],
        }
    return {"labels": labels, "precision": [float(x) for x in pr], "recall": [float(x) for x in rc],
            "f1": [float(x) for x in f1], "support": [int(x) for x in sup],
            "confusion_matrix": confusion_matrix(r, p, labels=labels, sample_weight=sample_weight).tolist()}


def per_class_table(
    predictions: Sequence[Any], references: Sequence[Any]
) -> tuple[list[str], list[list[Any]]]:
    """Columns and rows of a per-class table: label, precision, recall, f1, support."""
    a = per_class_arrays(predictions, references)
    rows = [
        list(x) for x in zip(a["labels"], a["precision"], a["recall"], a["f1"], a["support"], strict=True)
    ]
    return ["label", "precision", "recall", "f1", "support"], rows


def confusion(predictions: Sequence[Any], references: Sequence[Any],
              labels: list[str] | None = None) -> tuple[list[str], list[list[int]]]:
    """Labels and the confusion matrix (rows = true label, columns = predicted)."""
    from sklearn.metrics import confusion_matrix

    r = [str(x) for x in references]
    p = [str(x) for x in predictions]
    labels = labels or sorted(set(r) | set(p))
    return labels, confusion_matrix(r, p, labels=labels).tolist()
