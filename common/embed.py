"""Sentence embeddings: mean-pooled last hidden states of an encoder (what sentence-transformers does for
all-MiniLM-L6-v2). One implementation for the linear-probe baseline (finetune.probe) and semantic
deduplication (curate.dedup.semantic). torch is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def mean_pooled(model: Any, tokenizer: Any, texts: Sequence[str], batch_size: int = 32, max_length: int = 128,
                normalize: bool = False) -> Any:
    """Mean of the last hidden states over real tokens (float32 numpy, one row per text, in input order).

    Texts are batched by length (less padding); padding never enters the mean, so it cannot pull short texts
    together. With `normalize`, rows are L2-normalised (cosine similarity is then a dot product).
    """
    import numpy as np
    import torch

    from common.progress import track

    model.eval()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for s in track(range(0, len(order), batch_size), f"embed ({len(order):,} texts)", unit="batches"):
            idx = order[s:s + batch_size]
            enc = tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=max_length,
                            return_tensors="pt")
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            vec = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
            if normalize:
                vec = torch.nn.functional.normalize(vec, dim=-1)
            out[idx] = vec.float().numpy()
    return out


def load_encoder(name: str) -> tuple[Any, Any]:
    """An encoder (no head) and its tokenizer by short name, folder or hub id; safetensors weights only."""
    from transformers import AutoModel, AutoTokenizer

    from common.models import resolve_model
    from common.weights import safe_weights

    path = resolve_model(name).path
    return AutoModel.from_pretrained(path, **safe_weights(path)).eval(), AutoTokenizer.from_pretrained(path)
