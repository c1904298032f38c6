"""The linear-probe baseline: logistic regression on frozen, mean-pooled encoder features.

A fine-tune that does not beat this probe on validation macro-F1 has not earned its cost. Mean pooling over
non-padding tokens is what sentence-transformers uses for all-MiniLM-L6-v2; C=1.0 and lbfgs are sklearn's
defaults, with class_weight="balanced" so the probe is not a majority-class baseline on skewed labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from common.embed import mean_pooled
from finetune.errors import FinetuneError


@dataclass
class ProbeResult:
    """A trained probe. `val_pred`/`val_proba` are aligned with the val records; columns follow `labels`."""

    labels: list[str]
    val_pred: list[str]
    val_proba: Any  # numpy array (n_val, n_labels)
    metrics: dict[str, float]
    classifier: Any = field(repr=False)
    model: Any = field(repr=False)
    tokenizer: Any = field(repr=False)
    batch_size: int = 32
    max_length: int = 128

    def predict_proba(self, texts: list[str]) -> Any:
        return self.classifier.predict_proba(mean_pooled(self.model, self.tokenizer, texts, self.batch_size,
                                                         self.max_length))

    def predict(self, texts: list[str]) -> list[str]:
        return [self.labels[i] for i in self.predict_proba(texts).argmax(1)]


def train_linear_probe(
    model_name: str,
    train_records: list[dict],
    val_records: list[dict],
    *,
    batch_size: int = 32,
    max_length: int = 128,
    C: float = 1.0,
    seed: int = 0,
) -> ProbeResult:
    """Fit logistic regression on frozen features of `model_name` and score it on `val_records`.

    Args:
        model_name: minilm, a folder, or a hub id (an encoder; AutoModel loads it without a head).
        train_records, val_records: classification records with "text" and "label".

    Returns:
        ProbeResult with val predictions, probabilities and {"accuracy", "macro_f1"}.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score
    from transformers import AutoModel

    from common.weights import safe_weights
    from finetune.models import load_tokenizer, quiet_transformers, resolve_model
    from finetune.scoring import macro_f1

    if not train_records or not val_records:
        raise FinetuneError("the linear probe needs non-empty train and val records", fix="pass both splits")
    quiet_transformers()
    ref = resolve_model(model_name)
    tok = load_tokenizer(ref.path)
    model = AutoModel.from_pretrained(ref.path, **safe_weights(ref.path))
    labels = sorted({str(r["label"]) for r in train_records})
    index = {name: i for i, name in enumerate(labels)}
    unseen = {str(r["label"]) for r in val_records} - set(labels)
    if unseen:
        raise FinetuneError(
            f"labels in val absent from train: {sorted(unseen)}", fix="re-split so train covers every label"
        )
    x_train = mean_pooled(model, tok, [r["text"] for r in train_records], batch_size, max_length)
    x_val = mean_pooled(model, tok, [r["text"] for r in val_records], batch_size, max_length)
    y_train = [index[str(r["label"])] for r in train_records]
    y_val = [index[str(r["label"])] for r in val_records]
    clf = LogisticRegression(C=C, max_iter=2000, class_weight="balanced", random_state=seed).fit(
        x_train, y_train
    )
    proba = clf.predict_proba(x_val)
    pred = proba.argmax(1)
    metrics = {"accuracy": float(accuracy_score(y_val, pred)),
               "macro_f1": macro_f1(y_val, pred.tolist())}
    return ProbeResult(
        labels=labels,
        val_pred=[labels[i] for i in pred],
        val_proba=proba,
        metrics=metrics,
        classifier=clf,
        model=model,
        tokenizer=tok,
        batch_size=batch_size,
        max_length=max_length,
    )
