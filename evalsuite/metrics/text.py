"""Exact match (HF evaluate's options) and word/character error rates (jiwer).

Exact match follows evaluate's `exact_match`: `regexes_to_ignore` are removed first (so they are
case-sensitive), then `ignore_case`, `ignore_punctuation` (Python's string.punctuation) and
`ignore_numbers` (string.digits) apply; datavet adds `strip` (surrounding whitespace, on by default, as
before). With several references an item matches when any reference matches. Values are 0-1.

WER and CER come from jiwer (`process_words` / `process_characters`, jiwer's default transforms: collapse
and strip spaces). The corpus rate is jiwer's: all substitutions + deletions + insertions over all
reference words (characters), so an empty reference counts its insertions and is not dropped. With several
references the one with the lowest error rate for that item is used (the signature says `multi:min`).
Lower is better.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from functools import lru_cache, partial
from typing import Any

from evalsuite.metrics import Metric
from evalsuite.metrics.args import ArgResolver, sig_opts
from evalsuite.metrics.sacre import ref_list
from schemas.errors import UsageError

EXACT_DEFAULTS: dict[str, Any] = {"ignore_case": False, "ignore_punctuation": False, "ignore_numbers": False,
                                  "regexes_to_ignore": [], "strip": True}
_PUNCT = str.maketrans("", "", string.punctuation)
_DIGITS = str.maketrans("", "", string.digits)


def normalize_exact(text: str, o: dict[str, Any]) -> str:
    """Apply exact-match normalisation in evaluate's order (regexes, case, punctuation, numbers), then
    strip."""
    for rx in o["regexes_to_ignore"]:
        text = re.sub(rx, "", text)
    if o["ignore_case"]:
        text = text.lower()
    if o["ignore_punctuation"]:
        text = text.translate(_PUNCT)
    if o["ignore_numbers"]:
        text = text.translate(_DIGITS)
    return text.strip() if o["strip"] else text


def _exact_one(o: dict[str, Any], p: Any, r: Any) -> float:
    pred = normalize_exact(str(p), o)
    return float(any(pred == normalize_exact(x, o) for x in ref_list(r)))


def _exact(o: dict[str, Any], p: Sequence[Any], r: Sequence[Any]) -> float:
    return sum(_exact_one(o, a, b) for a, b in zip(p, r, strict=True)) / len(p) if p else 0.0


@lru_cache(maxsize=200_000)
def _errors(unit: str, pred: str, ref: str) -> tuple[int, int]:
    import jiwer

    out = (jiwer.process_words if unit == "word" else jiwer.process_characters)(ref, pred)
    return out.substitutions + out.deletions + out.insertions, out.hits + out.substitutions + out.deletions


def _best(unit: str, p: Any, r: Any) -> tuple[int, int]:
    cands = [_errors(unit, str(p), x) for x in ref_list(r)]
    return min(cands, key=lambda c: (c[0] / c[1]) if c[1] else (0.0 if c[0] == 0 else float("inf")))


def _rate_stats(unit: str, p: Sequence[Any], r: Sequence[Any]) -> Any:
    import numpy as np

    return np.asarray([_best(unit, a, b) for a, b in zip(p, r, strict=True)], dtype=float).reshape(-1, 2)


def _rate_from(summed: Any) -> float:
    errs, n = float(summed[0]), float(summed[1])
    return errs / n if n else (0.0 if errs == 0 else float("nan"))


def _rate(unit: str, p: Sequence[Any], r: Sequence[Any]) -> float:
    return _rate_from(_rate_stats(unit, p, r).sum(0)) if p else 0.0


def _rate_items(unit: str, p: Sequence[Any], r: Sequence[Any]) -> list[float]:
    return [_rate_from(s) for s in _rate_stats(unit, p, r)]


def text_metrics(args: ArgResolver, nrefs: int | str = 1) -> list[Metric]:
    """exact_match, wer, cer."""
    from importlib.metadata import PackageNotFoundError, version

    o = args.resolve(["exact_match"], EXACT_DEFAULTS)
    for rx in o["regexes_to_ignore"]:
        try:
            re.compile(rx)
        except re.error as e:
            raise UsageError(
                f"exact_match.regexes_to_ignore: bad regex {rx!r}: {e}", fix="give Python regexes"
            ) from None
    out = [Metric("exact_match", "generation", True, partial(_exact, o), f"exact|{sig_opts(o)}|multi:any",
                  per_example=partial(_exact_one, o), options=o)]
    try:
        jv = version("jiwer")
    except PackageNotFoundError:  # optional: WER/CER appear once jiwer is installed
        return out
    for name, unit in (("wer", "word"), ("cer", "char")):
        args.resolve([name], {})
        out.append(
            Metric(
                name,
                "generation",
                False,
                partial(_rate, unit),
                f"jiwer:{jv}|unit:{unit}|transform:default|agg:corpus{'|multi:min' if nrefs != 1 else ''}",
                items=partial(_rate_items, unit),
                stats=partial(_rate_stats, unit),
                from_stats=_rate_from,
            )
        )
    return out
