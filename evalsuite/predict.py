"""Predictions of a fine-tuned sequence classifier: class probabilities in batches (compare and cv)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def classifier_proba(model: Any, tokenizer: Any, texts: Sequence[str], batch_size: int = 32,
                     max_length: int = 128) -> tuple[Any, list[str]]:
    """Softmax probabilities (numpy, one row per text) and the class names of their columns (id2label)."""
    import numpy as np
    import torch

    from common.progress import track

    rows = []
    with torch.inference_mode():
        for s in track(range(0, len(texts), batch_size), f"predict ({len(texts):,} texts)", unit="batches"):
            enc = tokenizer(list(texts[s:s + batch_size]), return_tensors="pt", padding=True, truncation=True,
                            max_length=max_length)
            rows.append(torch.softmax(model(**enc).logits.float(), -1).numpy())
    classes = [str(model.config.id2label[i]) for i in range(model.config.num_labels)]
    return (np.concatenate(rows) if rows else np.zeros((0, len(classes)))), classes


def predict_classifier(model: Any, tokenizer: Any, texts: Sequence[str], batch_size: int = 32,
                       max_length: int = 128) -> list[str]:
    """The most probable label of each text."""
    proba, classes = classifier_proba(model, tokenizer, texts, batch_size, max_length)
    return [classes[i] for i in proba.argmax(1)] if len(proba) else []
