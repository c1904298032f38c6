"""Sentence embeddings (MiniLM, mean pooling) and cosine-similar pairs. torch is imported inside functions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def embed(texts: Sequence[str], model: str = "minilm", batch_size: int = 64, max_length: int = 128) -> np.ndarray:
    """L2-normalised mean-pooled embeddings of `texts` from `finetune.models.resolve_model(model)`."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from finetune.models import resolve_model
    from finetune.models.weights import safe_weights

    path = resolve_model(model).path
    tok = AutoTokenizer.from_pretrained(path)
    net = AutoModel.from_pretrained(path, **safe_weights(path)).eval()
    out = []
    with torch.inference_mode():
        for lo in range(0, len(texts), batch_size):
            enc = tok(list(texts[lo:lo + batch_size]), padding=True, truncation=True, max_length=max_length,
                      return_tensors="pt")
            hidden = net(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            # mean over real tokens only: padding must not pull short texts together
            vec = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
            out.append(torch.nn.functional.normalize(vec, dim=-1).numpy())
    return np.concatenate(out) if out else np.zeros((0, 384), dtype=np.float32)


def similar_pairs(emb: np.ndarray, threshold: float, block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i < j) with cosine >= threshold, by blocked exact matrix products; and their cosines."""
    pairs, sims = [], []
    for lo in range(0, len(emb), block):
        s = emb[lo:lo + block] @ emb.T
        r, c = np.nonzero(s >= threshold)
        keep = c > r + lo
        pairs.append(np.stack([r[keep] + lo, c[keep]], axis=1))
        sims.append(s[r[keep], c[keep]])
    if not pairs:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0)
    return np.concatenate(pairs), np.concatenate(sims)
