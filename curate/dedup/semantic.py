"""Sentence embeddings (MiniLM, mean pooling) and cosine-similar pairs. torch is imported inside functions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def embed(
    texts: Sequence[str], model: str = "minilm", batch_size: int = 64, max_length: int = 128
) -> np.ndarray:
    """L2-normalised mean-pooled embeddings of `texts` (common.embed) from the encoder `model`."""
    from common.embed import load_encoder, mean_pooled

    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    net, tok = load_encoder(model)
    return mean_pooled(net, tok, texts, batch_size, max_length, normalize=True)


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
