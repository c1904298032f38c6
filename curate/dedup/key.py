"""The duplicate key of a text (`schemas.configs.dedup_key.DedupKeyConfig`): the text with the differences
the key ignores removed. Exact duplicates share a key; near duplicates are judged on keys; `curate split
--group-by` clusters keys.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Sequence

from schemas.configs.dedup_key import DedupKeyConfig

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@\w+")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
# ASCII text (most social text) drops punctuation through str.translate's ASCII fast path; other text goes
# character by character through the Unicode categories (P*).
_ASCII_PUNCT = str.maketrans({c: " " for c in string.punctuation})


def _is_punct(ch: str) -> bool:
    """Unicode punctuation (P*), and ASCII's punctuation symbols ($ + < = > ^ ` | ~) as on the ASCII path."""
    return ch in string.punctuation or unicodedata.category(ch).startswith("P")


def dedup_key(text: str, cfg: DedupKeyConfig | None = None) -> str:
    """The duplicate key of one text.

    Args:
        text: A (normalized) text.
        cfg: What the key ignores; default: whitespace only.

    Returns:
        The key: equal keys mean duplicates.
    """
    cfg = cfg or DedupKeyConfig()
    t = text
    if cfg.urls:
        t = _URL.sub("<url>", t)
    if cfg.mentions:
        t = _MENTION.sub("@user", t)
    if cfg.numbers:
        t = _NUMBER.sub("0", t)
    if cfg.punctuation:
        # the masks' own markers survive: "<url>" and "@user" stay distinct from plain words
        t = t.replace("<url>", "\x00url\x00").replace("@user", "\x00user\x00")
        t = t.translate(_ASCII_PUNCT) if t.isascii() else "".join(" " if _is_punct(ch) else ch for ch in t)
        t = t.replace("\x00url\x00", "<url>").replace("\x00user\x00", "@user")
    if cfg.case:
        t = t.casefold()
    if cfg.whitespace:
        t = " ".join(t.split())
    return t


def dedup_keys(texts: Sequence[str], cfg: DedupKeyConfig | None = None) -> list[str]:
    """Keys of many texts; the texts themselves (no copy) when the key ignores nothing."""
    cfg = cfg or DedupKeyConfig()
    if cfg.identity:
        return list(texts) if not isinstance(texts, list) else texts
    if cfg.whitespace and not (cfg.urls or cfg.mentions or cfg.numbers or cfg.punctuation or cfg.case):
        # the common default: most texts hold no run of whitespace to fold, and str.split/join is C speed
        # (an unchanged text keeps its own object: at 1M rows a copy of every text would cost ~100 MB)
        out = []
        for t in texts:
            k = " ".join(t.split())
            out.append(t if k == t else k)
        return out
    return [dedup_key(t, cfg) for t in texts]
