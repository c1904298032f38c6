"""ROUGE-1/2/L/Lsum from rouge-score: F-measure as the value, precision and recall alongside.

Each item is scored by rouge-score's `RougeScorer.score` (one reference) or `score_multi` (several: the
reference with the highest F-measure gives the item's precision, recall and F, as rouge-score does). The
corpus value is the mean over items (rouge-score's aggregator mean); an empty reference or prediction
scores 0 and is counted, never dropped.

Options (`rouge.*` for all four, or per type): `use_stemmer` (Porter), `tokenizer` (`default`: rouge-score's
lowercase [a-z0-9] tokenizer, which drops non-Latin letters; `unicode`: every Unicode word character),
and for rougeLsum `split_summaries`: rouge-score splits summaries into sentences on newlines; with
`split_summaries=true` rouge-score would call nltk's punkt model, which is downloaded at run time (no model
downloads here), so datavet splits sentences itself after . ! ? and newlines (the signature says
`split:regex`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache, partial
from typing import Any

from evalsuite.metrics import Metric
from evalsuite.metrics.args import ArgResolver
from evalsuite.metrics.sacre import ref_list
from schemas.errors import UsageError

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
_SENT_END = re.compile(r"(?<=[.!?])\s+|\n+")


class UnicodeTokenizer:
    """rouge-score tokenizer that keeps non-ASCII words: lowercase, split on non-word characters.

    rouge-score ignores `use_stemmer` when a tokenizer is passed, so stemming is applied here, with
    rouge-score's own rule (Porter stemmer on tokens longer than 3 characters).
    """

    _word = re.compile(r"\w+", re.UNICODE)

    def __init__(self, use_stemmer: bool = False):
        from nltk.stem import porter

        self.stemmer = porter.PorterStemmer() if use_stemmer else None

    def tokenize(self, text: str) -> list[str]:
        toks = self._word.findall(text.lower())
        if self.stemmer is None:
            return toks
        return [self.stemmer.stem(t) if len(t) > 3 else t for t in toks]


def split_sentences(text: str) -> str:
    """Sentences one per line, split after . ! ? followed by whitespace, and at newlines."""
    return "\n".join(s.strip() for s in _SENT_END.split(text) if s.strip())


@lru_cache(maxsize=8)
def _scorer(tokenizer: str, stemmer: bool) -> Any:
    from rouge_score import rouge_scorer

    tok = UnicodeTokenizer(stemmer) if tokenizer == "unicode" else None
    return rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=stemmer, tokenizer=tok)


@lru_cache(maxsize=200_000)
def _pair(tokenizer: str, stemmer: bool, split: bool, pred: str, refs: tuple[str, ...]) -> dict[str, tuple]:
    sc = _scorer(tokenizer, stemmer)
    if split:
        pred, refs = split_sentences(pred), tuple(split_sentences(r) for r in refs)
    s = sc.score(refs[0], pred) if len(refs) == 1 else sc.score_multi(list(refs), pred)
    return {k: (v.precision, v.recall, v.fmeasure) for k, v in s.items()}


def rouge_item(kind: str, tokenizer: str, stemmer: bool, split: bool, pred: Any, ref: Any) -> tuple:
    """(precision, recall, F) of one item for one ROUGE type."""
    return _pair(tokenizer, stemmer, split and kind == "rougeLsum", str(pred), tuple(ref_list(ref)))[kind]


def _one(kind: str, tok: str, stem: bool, split: bool, p: Any, r: Any) -> float:
    return float(rouge_item(kind, tok, stem, split, p, r)[2])


def _mean(kind: str, tok: str, stem: bool, split: bool, p: Sequence[Any], r: Sequence[Any]) -> float:
    if not p:
        return 0.0
    return sum(_one(kind, tok, stem, split, a, b) for a, b in zip(p, r, strict=True)) / len(p)


def _details(kind: str, tok: str, stem: bool, split: bool, p: Sequence[Any], r: Sequence[Any]) -> dict:
    if not p:
        return {}
    s = [rouge_item(kind, tok, stem, split, a, b) for a, b in zip(p, r, strict=True)]
    return {"precision": sum(x[0] for x in s) / len(s), "recall": sum(x[1] for x in s) / len(s),
            "fmeasure": sum(x[2] for x in s) / len(s)}


def rouge_metrics(args: ArgResolver, nrefs: int | str = 1) -> list[Metric]:
    """rouge1, rouge2, rougeL, rougeLsum (F as value; precision/recall in the details)."""
    from importlib.metadata import version

    out = []
    for kind in ROUGE_TYPES:
        defaults: dict[str, Any] = {"use_stemmer": False, "tokenizer": "default"}
        if kind == "rougeLsum":
            defaults["split_summaries"] = False
        o = args.resolve(["rouge", kind], defaults)
        if o["tokenizer"] not in ("default", "unicode"):
            raise UsageError(f"unknown ROUGE tokenizer {o['tokenizer']!r}", fix="use default or unicode")
        split = bool(o.get("split_summaries"))
        sig = (
            f"rouge-score:{version('rouge-score')}|tok:{o['tokenizer']}"
            f"|stemmer:{'yes' if o['use_stemmer'] else 'no'}"
            f"{'|split:regex' if split else ''}|refs:{nrefs}"
            f"{'|multi:max_f' if nrefs != 1 else ''}|agg:mean_f1"
        )
        a = (kind, o["tokenizer"], bool(o["use_stemmer"]), split)
        out.append(Metric(kind, "generation", True, partial(_mean, *a), sig, per_example=partial(_one, *a),
                          options=o, details=partial(_details, *a)))
    return out
