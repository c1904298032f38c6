"""The generation family: BLEU, chrF, TER (sacrebleu), ROUGE-1/2/L/Lsum (rouge-score), exact match, and
WER/CER (jiwer). Each lives in its own module with its options; this one assembles them in report order.

rouge-score's default tokenizer lowercases and keeps only [a-z0-9], so non-Latin text scores 0: when a
reference has non-ASCII letters we warn, and `rouge.tokenizer=unicode` switches to a tokenizer that keeps
every Unicode word character (the choice is in the signature).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from evalsuite.metrics import Metric
from evalsuite.metrics.args import ArgResolver
from evalsuite.metrics.rouge import ROUGE_TYPES, UnicodeTokenizer, rouge_item, rouge_metrics
from evalsuite.metrics.sacre import ref_list, sacrebleu_metrics
from evalsuite.metrics.text import text_metrics

__all__ = ["ROUGE_TYPES", "UnicodeTokenizer", "generation_metrics", "warn_non_ascii"]


def _rouge_one(kind: str, tokenizer: str, stemmer: bool, p: Any, r: Any) -> float:
    """F-measure of one item (compare's per-item score)."""
    return float(rouge_item(kind, tokenizer, stemmer, False, p, r)[2])


def warn_non_ascii(references: Sequence[Any], tokenizer: str) -> bool:
    """Warn (and return True) when rouge-score's default tokenizer would drop non-ASCII letters."""
    if tokenizer != "default":
        return False
    n = sum(1 for r in references if any(ord(ch) > 127 and ch.isalpha() for x in ref_list(r) for ch in x))
    if n:
        warnings.warn(
            f"{n} references contain non-ASCII letters, which rouge-score's default tokenizer drops "
            "(they score 0); use --metric-args rouge.tokenizer=unicode",
            stacklevel=2,
        )
    return bool(n)


def generation_metrics(args: ArgResolver | None = None, nrefs: int | str = 1) -> list[Metric]:
    """bleu, chrf, ter, rouge1, rouge2, rougeL, rougeLsum, exact_match, wer, cer."""
    args = args or ArgResolver(None)
    return [*sacrebleu_metrics(args, nrefs), *rouge_metrics(args, nrefs), *text_metrics(args, nrefs)]
