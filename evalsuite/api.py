"""The Python API of evalsuite: compare a base and a tuned model, or score predictions, from a notebook.

    from evalsuite.api import compare, score
    res = compare("minilm", "runs/minilm", "splits/test.jsonl", kind="classification",
                  train_data="splits/train.jsonl")
    res.deltas["macro_f1"].ci
    score(["pos", "neg"], ["pos", "pos"], kind="classification")["accuracy"]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

KIND_TO_TASK = {"classification": "classification", "completion": "generation", "chat": "generation",
                "generation": "generation"}


def compare(base: str, tuned: str, data: str, *, kind: str = "completion", **options: Any) -> Any:
    """Base vs tuned on the same test items with paired bootstrap CIs (what `evalsuite compare` runs).

    Args:
        base: Base model: minilm, smollm2 or a folder.
        tuned: The tuned model or LoRA adapter folder.
        data: Test data (path or bundled:NAME).
        kind: classification (base = a linear probe; pass `train_data`) or completion/chat (generation).
        **options: run_compare's options: train_data, limit, report_dir, max_new_tokens, batch_size, seed ...

    Returns:
        The CompareResult: `.deltas` (metric -> base, tuned, delta, CI, status), `.to_json()`, `.paths`.
    """
    from evalsuite.compare import run_compare
    from schemas.errors import UsageError

    if kind not in KIND_TO_TASK:
        raise UsageError(f"unknown kind {kind!r}", fix="use classification, completion or chat")
    return run_compare(base, tuned, data, task=KIND_TO_TASK[kind], **options)


def score(predictions: Sequence[Any], references: Sequence[Any], *, kind: str = "classification",
          **metric_options: Any) -> dict[str, float]:
    """Score predictions against references, item by item in order, with the registry's metrics.

    Args:
        predictions, references: Equal-length sequences (labels, or generated and reference texts).
        kind: classification, or completion/chat (BLEU, chrF, ROUGE, exact match).
        **metric_options: `metric_args={"bleu": {"tokenize": "intl"}}` (any option in docs/metrics.md), or
            the older rouge_tokenizer="unicode". A list as a generation reference is several references.

    Returns:
        Metric name -> value.
    """
    from evalsuite.metrics import metrics_for, score_all
    from schemas.errors import UsageError

    if len(predictions) != len(references):
        raise UsageError(f"{len(predictions)} predictions but {len(references)} references",
                         fix="pass one prediction per reference, in the same order")
    if kind not in KIND_TO_TASK:
        raise UsageError(f"unknown kind {kind!r}", fix="use classification, completion or chat")
    task = KIND_TO_TASK[kind]
    refs = [[str(x) for x in r] if isinstance(r, (list, tuple)) else str(r) for r in references]
    if task == "generation":
        from evalsuite.metrics.sacre import nrefs_of

        metric_options.setdefault("nrefs", nrefs_of(refs))
    metrics = score_all(metrics_for(task, **metric_options), [str(p) for p in predictions], refs)
    return {k: (v["value"] if isinstance(v, dict) else v) for k, v in metrics.items()}
