"""Generation metrics: BLEU and chrF from sacrebleu (0-100, corpus-level, with sacrebleu's own signature:
tokenizer 13a, exp smoothing by default), ROUGE-1/2/L/Lsum F1 from rouge-score (0-1, as it reports them), and
exact match (after stripping surrounding whitespace).

rouge-score's default tokenizer lowercases and keeps only [a-z0-9], so non-Latin text scores 0: when a
reference has non-ASCII letters we warn, and `rouge_tokenizer="unicode"` switches to a tokenizer that keeps
every Unicode word character (the choice is in the signature).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from functools import partial

from evalsuite.metrics import Metric

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")


class UnicodeTokenizer:
    """rouge-score tokenizer that keeps non-ASCII words: lowercase, split on non-word characters."""

    _word = re.compile(r"\w+", re.UNICODE)

    def tokenize(self, text: str) -> list[str]:
        return self._word.findall(text.lower())


def _bleu(p: Sequence[str], r: Sequence[str]) -> float:
    from sacrebleu.metrics import BLEU

    return float(BLEU().corpus_score(list(p), [list(r)]).score)


def _chrf(p: Sequence[str], r: Sequence[str]) -> float:
    from sacrebleu.metrics import CHRF

    return float(CHRF().corpus_score(list(p), [list(r)]).score)


def _scorer(tokenizer: str, stemmer: bool):
    from rouge_score import rouge_scorer

    tok = UnicodeTokenizer() if tokenizer == "unicode" else None
    return rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=stemmer, tokenizer=tok)


def _rouge_one(kind: str, tokenizer: str, stemmer: bool, p: str, r: str) -> float:
    return float(_scorer(tokenizer, stemmer).score(r, p)[kind].fmeasure)


def _rouge(kind: str, tokenizer: str, stemmer: bool, p: Sequence[str], r: Sequence[str]) -> float:
    sc = _scorer(tokenizer, stemmer)
    if not p:
        return 0.0
    return float(sum(sc.score(ref, pred)[kind].fmeasure for pred, ref in zip(p, r, strict=True)) / len(p))


def _exact(p: str, r: str) -> float:
    return float(str(p).strip() == str(r).strip())


def _sacre_sig(metric) -> str:
    # sacrebleu knows nrefs only after scoring once; we always score against one reference
    metric.corpus_score(["a"], [["a"]])
    return str(metric.get_signature())


def warn_non_ascii(references: Sequence[str], tokenizer: str) -> bool:
    """Warn (and return True) when rouge-score's default tokenizer would drop non-ASCII letters."""
    if tokenizer != "default":
        return False
    n = sum(1 for r in references if any(ord(ch) > 127 and ch.isalpha() for ch in str(r)))
    if n:
        warnings.warn(f"{n} references contain non-ASCII letters, which rouge-score's default tokenizer drops "
                      "(they score 0); use rouge_tokenizer='unicode' (--rouge-tokenizer unicode)", stacklevel=2)
    return bool(n)


def generation_metrics(rouge_tokenizer: str = "default", rouge_stemmer: bool = False) -> list[Metric]:
    """bleu, chrf, rouge1, rouge2, rougeL, rougeLsum, exact_match.

    Args:
        rouge_tokenizer: "default" (rouge-score's [a-z0-9] tokenizer) or "unicode".
        rouge_stemmer: Porter stemming in ROUGE.
    """
    from importlib.metadata import version

    from sacrebleu.metrics import BLEU, CHRF

    from schemas.errors import UsageError

    if rouge_tokenizer not in ("default", "unicode"):
        raise UsageError(f"unknown ROUGE tokenizer {rouge_tokenizer!r}", fix="use default or unicode")
    rsig = (f"rouge-score:{version('rouge-score')}|tok:{rouge_tokenizer}|stemmer:{'yes' if rouge_stemmer else 'no'}"
            "|agg:mean_f1")
    out = [Metric("bleu", "generation", True, _bleu, "sacrebleu:" + _sacre_sig(BLEU())),
           Metric("chrf", "generation", True, _chrf, "sacrebleu:" + _sacre_sig(CHRF()))]
    for k in ROUGE_TYPES:
        out.append(Metric(k, "generation", True, partial(_rouge, k, rouge_tokenizer, rouge_stemmer), rsig,
                          per_example=partial(_rouge_one, k, rouge_tokenizer, rouge_stemmer)))
    out.append(Metric("exact_match", "generation", True, lambda p, r: sum(map(_exact, p, r)) / max(len(p), 1),
                      "exact:strip", per_example=_exact))
    return out
