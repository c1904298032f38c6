"""BLEU, chrF/chrF++ and TER from sacrebleu, with every sacrebleu option and its own signature.

Scores are on sacrebleu's 0-100 scale. Multiple references per item are given as a list in the reference
row; items may have different numbers of references (sacrebleu's `nrefs:var`). The corpus score is
sacrebleu's `corpus_score`; per-item scores are sacrebleu's `sentence_score` with the same settings (BLEU's
sentence scores use effective order, as sacrebleu recommends for single sentences; the signature says so).
The bootstrap resamples each item's sufficient statistics (`_extract_corpus_statistics`, as sacrebleu's own
paired bootstrap does), so a CI costs one statistics pass, not one corpus pass per resample.

`tokenize` is one of 13a, intl, char, zh, none, flores101, flores200, and ja-mecab when its dependency
(`mecab-python3` + `ipadic`, the `datavet[ja]` extra) is installed; ko-mecab likewise with `mecab-ko`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from evalsuite.metrics import Metric
from evalsuite.metrics.args import ArgResolver
from schemas.errors import UsageError

BLEU_DEFAULTS: dict[str, Any] = {"tokenize": "13a", "smooth_method": "exp", "smooth_value": None,
                                 "lowercase": False, "max_ngram_order": 4, "effective_order": False}
CHRF_DEFAULTS: dict[str, Any] = {"char_order": 6, "word_order": 0, "beta": 2, "lowercase": False,
                                 "whitespace": False, "eps_smoothing": False}
TER_DEFAULTS: dict[str, Any] = {"normalized": False, "no_punct": False, "asian_support": False,
                                "case_sensitive": False}


def ref_list(ref: Any) -> list[str]:
    """One item's references as a list of strings (a single string is one reference)."""
    if isinstance(ref, (list, tuple)):
        return [str(x) for x in ref]
    return [str(ref)]


def ref_streams(refs: Sequence[Any]) -> list[list[str | None]]:
    """Per-item reference lists -> sacrebleu's reference streams, padded with None (a missing reference)."""
    lists = [ref_list(r) for r in refs]
    k = max((len(x) for x in lists), default=1)
    return [[x[j] if j < len(x) else None for x in lists] for j in range(k)]


def nrefs_of(refs: Sequence[Any]) -> int | str:
    """References per item: the count when all items agree, else "var" (sacrebleu's word)."""
    counts = {len(ref_list(r)) for r in refs}
    return counts.pop() if len(counts) == 1 else "var" if counts else 1


@lru_cache(maxsize=32)
def _build(kind: str, frozen: tuple[tuple[str, Any], ...]) -> Any:
    from sacrebleu.metrics import BLEU, CHRF, TER

    opts = dict(frozen)
    try:
        if kind == "bleu":
            return BLEU(**opts)
        if kind == "chrf":
            return CHRF(**opts)
        return TER(**opts)
    except (RuntimeError, ValueError, AssertionError, TypeError, KeyError) as e:
        tok = str(opts.get("tokenize", ""))
        fix = (
            "install the Japanese extra: pip install 'datavet[ja]' (mecab-python3 + ipadic)"
            if tok == "ja-mecab"
            else "install Korean support: pip install 'sacrebleu[ko]'"
            if tok == "ko-mecab"
            else f"check the {kind} options (docs/metrics.md)"
        )
        raise UsageError(f"sacrebleu rejected {kind} options {opts}: {str(e).strip()}", fix=fix) from None


def _obj(kind: str, opts: dict[str, Any]) -> Any:
    return _build(kind, tuple(sorted(opts.items())))


def _corpus(kind: str, opts: dict[str, Any], p: Sequence[str], r: Sequence[Any]) -> float:
    if not p:
        return 0.0
    return float(_obj(kind, opts).corpus_score([str(x) for x in p], ref_streams(r)).score)


def _sentences(kind: str, opts: dict[str, Any], p: Sequence[str], r: Sequence[Any]) -> list[float]:
    m = _obj(kind, opts)
    return [float(m.sentence_score(str(h), ref_list(x)).score) for h, x in zip(p, r, strict=True)]


def _stats(kind: str, opts: dict[str, Any], p: Sequence[str], r: Sequence[Any]) -> Any:
    import numpy as np

    return np.asarray(
        _obj(kind, opts)._extract_corpus_statistics([str(x) for x in p], ref_streams(r)), dtype=float
    )


def _from_stats(kind: str, opts: dict[str, Any], summed: Any) -> float:
    vals = [float(x) for x in summed]
    if kind in ("bleu", "chrf"):
        vals = [round(x) for x in vals]
    return float(_obj(kind, opts)._compute_score_from_stats(vals).score)


def _bleu_details(opts: dict[str, Any], p: Sequence[str], r: Sequence[Any]) -> dict[str, Any]:
    if not p:
        return {}
    s = _obj("bleu", opts).corpus_score([str(x) for x in p], ref_streams(r))
    return {"precisions": [float(x) for x in s.precisions], "bp": float(s.bp), "sys_len": int(s.sys_len),
            "ref_len": int(s.ref_len)}


def _signature(kind: str, opts: dict[str, Any], nrefs: int | str) -> str:
    m = _obj(kind, opts)
    k = 2 if nrefs == "var" else int(nrefs)
    streams = [["a", "a"] for _ in range(k)]
    if nrefs == "var":
        streams[1][0] = None  # first item one reference, second two: sacrebleu says nrefs:var
    m.corpus_score(["a", "a"], streams)
    return "sacrebleu:" + str(m.get_signature())


def sacrebleu_metrics(args: ArgResolver, nrefs: int | str = 1) -> list[Metric]:
    """bleu, chrf (chrF++ with chrf.word_order=2), ter, each with its options resolved from `args`."""
    from functools import partial

    out = []
    for name, defaults, higher in (("bleu", BLEU_DEFAULTS, True), ("chrf", CHRF_DEFAULTS, True),
                                   ("ter", TER_DEFAULTS, False)):
        opts = args.resolve([name], defaults)
        if name == "bleu" and opts["smooth_value"] is not None:
            opts["smooth_value"] = float(opts["smooth_value"])
        sig = _signature(name, opts, nrefs)
        item_opts = dict(opts, effective_order=True) if name == "bleu" else opts
        if name == "bleu":
            sig += "|sentence:eff:yes"
        out.append(Metric(
            name, "generation", higher, partial(_corpus, name, opts), sig, options=opts,
            items=partial(_sentences, name, item_opts), stats=partial(_stats, name, opts),
            from_stats=partial(_from_stats, name, opts),
            details=partial(_bleu_details, opts) if name == "bleu" else None))
    return out
