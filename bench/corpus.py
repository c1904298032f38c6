"""Build a large corpus of short texts with planted near-duplicates for the dedup and `curate run` benchmarks.

Base texts: bundled tweets, BBC article sentences and chat questions/answers. Rows are base texts, or two
base texts joined (so 1M rows are mostly distinct); `planted` rows copy an earlier row with one small edit
(word swap, deletion, insertion or typo). Returns the texts and the (original, copy) index pairs.
"""

from __future__ import annotations

import random
import re


def base_texts() -> list[str]:
    from curate import load

    out = [r["text"] for r in load("bundled:tweets").records]
    for r in load("bundled:bbc", kind="classification").records:
        out += [s.strip() for s in re.split(r"(?<=[.!?])\s+", r["text"]) if len(s.strip()) > 30]
    for r in load("bundled:chat").records:
        out += [r["prompt"], r["completion"]]
    return [t for t in dict.fromkeys(out) if t.strip()]


def _edit(t: str, rng: random.Random) -> str:
    w = t.split()
    if len(w) < 4:
        return t + " again"
    k = rng.randrange(len(w))
    op = rng.randrange(4)
    if op == 0:
        w[k] = rng.choice(["really", "very", "today", "now", "the", "so"])
    elif op == 1:
        del w[k]
    elif op == 2:
        w.insert(k, rng.choice(["really", "just", "also", "still"]))
    else:
        s = w[k]
        w[k] = s[:-1] if len(s) > 2 else s + "s"
    return " ".join(w)


def build(n: int, planted_frac: float = 0.05, seed: int = 0) -> tuple[list[str], list[tuple[int, int]]]:
    rng = random.Random(seed)
    base = base_texts()
    texts: list[str] = []
    pairs: list[tuple[int, int]] = []
    n_planted = int(n * planted_frac)
    n_plain = n - n_planted
    for i in range(n_plain):
        if i < len(base):
            texts.append(base[i])
        else:
            texts.append(f"{rng.choice(base)[:160]} {rng.choice(base)[:160]}")
    for _ in range(n_planted):
        src = rng.randrange(n_plain)
        pairs.append((src, len(texts)))
        texts.append(_edit(texts[src], rng))
    return texts, pairs


def write_jsonl(texts: list[str], path: str) -> None:
    import json

    labels = ("negative", "neutral", "positive")
    with open(path, "w", encoding="utf-8") as fh:
        for i, t in enumerate(texts):
            fh.write(json.dumps({"id": i, "text": t, "label": labels[i % 3]}, ensure_ascii=False) + "\n")
