"""Base vs tuned on the same items: metric deltas with paired bootstrap CIs, McNemar for accuracy, per-slice
deltas (per label, per group), the top regressions and improvements with their texts, and a report.

"Base" means: for classification, the base encoder with a logistic-regression head trained on its frozen
features (a linear probe, `finetune.probe.train_linear_probe`), because an untrained head is random; for
generation, the untuned model with the same prompt template. The report says which. Scores are compared only
when their signatures match (`evalsuite.metrics.check_signatures`).

For generation, `run_compare` also scores the reference completions' perplexity under base and tuned
(`evalsuite.perplexity.sft_perplexity`: the trainer's formatting via `finetune.data.build_sft_example`,
completion tokens only, token-weighted, truncated at the trainer's `max_length` read from the run's
config.yaml). Its CI comes from `perplexity_delta`: a paired bootstrap over documents that recomputes the
token-weighted perplexity from per-document NLL sums and token counts (a mean of per-document perplexities
would weight short completions like long ones). Lower is better.

When the tuned folder (or its parent, for a merged model in OUT/merged) holds the trainer's `metrics.jsonl`,
the report adds its training curves (`training_curve_charts`).

`compare_predictions` is the model-free core (tested on planted predictions); `run_compare` loads models,
predicts and calls it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalsuite.bootstrap import DeltaCI, mcnemar, paired_bootstrap
from evalsuite.metrics import check_signatures, metrics_for
from evalsuite.predict import predict_classifier
from schemas.errors import DatavetError, UsageError
from schemas.report import ChartBlock, Report, Section, TableBlock, TextBlock, Verdict

# The metric the verdict is stated on, per task (the others are in the summary table).
PRIMARY = {"classification": ("f1_macro", "accuracy"), "generation": ("rougeL", "perplexity", "bleu")}
# Per-slice deltas by `group` only when there are at most this many groups: duplicate-cluster ids written by
# `curate split --group-by` are groups of a few rows each, not slices worth a delta.
MAX_GROUP_SLICES = 30

BASE_NOTE = {
    "classification": "Base = the base encoder with a linear probe (logistic regression on frozen features), "
                      "trained on the same training data; an untrained classification head would be random.",
    "generation": "Base = the untuned model, prompted with the same chat template and greedy decoding.",
    "text": "Base = the model before continued pre-training; both score the same held-out documents with the "
            "same sliding windows (evalsuite.compare_text).",
}
TOP_K = 10
PPL_NOTE = (
    "\n\nPerplexity is of the reference completions (completion tokens only), each record formatted "
    "exactly as the trainer formatted it (finetune.data.build_sft_example: the chat template when the "
    "tokenizer has one) and truncated at the trainer's max_length; token-weighted over all records. "
    "Lower is better; its CI resamples records and recomputes the token-weighted perplexity."
)
TEXT_PPL_NOTE = (
    "\n\nPerplexity is of every document token after the first (sliding windows, no template); "
    "token-weighted over all documents. Bits per byte divide the same NLL (in bits) by the documents' "
    "UTF-8 bytes, so they do not depend on the tokenizer. Lower is better for both; their CIs "
    "resample documents and recompute the corpus numbers."
)


@dataclass
class CompareResult:
    """Everything a comparison produced; `to_json()` is the `--json` contract."""

    task: str
    deltas: dict[str, DeltaCI]
    signatures: dict[str, str]
    n_items: int
    mcnemar: dict[str, float] | None = None
    slices: list[dict[str, Any]] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)
    report: Report | None = None
    paths: dict[str, Path] = field(default_factory=dict)
    perplexity: dict[str, Any] | None = None  # token counts, template, max_length of the perplexity scores
    curves: list[ChartBlock] = field(default_factory=list)
    curves_source: str | None = None
    support: dict[str, int] = field(default_factory=dict)  # classification: test items per class (0 included)
    warnings: list[str] = field(default_factory=list)     # why the comparison cannot support a call

    def verdict(self) -> Verdict:
        """The banner: tuned vs base on the primary metric with its CI, or inconclusive / not comparable."""
        name = next(
            (m for m in PRIMARY.get(self.task, ()) if m in self.deltas), next(iter(self.deltas), None)
        )
        if name is None:
            return Verdict(status="not_run", outcome="not comparable", headline="no metric was computed")
        d = self.deltas[name]
        lo, hi = d.ci
        numbers = (f"{name} {d.base:.4g} → {d.tuned:.4g}, delta {d.delta:+.4g}, 95% paired-bootstrap CI "
                   f"[{lo:+.4g}, {hi:+.4g}], n = {self.n_items} items")
        reasons = [numbers, *self.warnings]
        others = [f"{k}: {v.status}" for k, v in self.deltas.items() if k != name and v.status in
                  ("improved", "regressed")]
        if others:
            reasons.append("other metrics: " + ", ".join(others))
        if self.warnings:
            return Verdict(status="warn", outcome="not comparable", reasons=reasons,
                           headline=f"Not comparable: {self.warnings[0]}")
        if d.status == "improved":
            return Verdict(status="pass", outcome="improved", reasons=reasons,
                           headline=f"Tuned beats base on {name}: {d.base:.4g} → {d.tuned:.4g} "
                                    f"(delta {d.delta:+.4g}, CI [{lo:+.4g}, {hi:+.4g}])")
        if d.status == "regressed":
            return Verdict(status="fail", outcome="regressed", reasons=reasons,
                           headline=f"Tuned is worse than base on {name}: {d.base:.4g} → {d.tuned:.4g} "
                                    f"(delta {d.delta:+.4g}, CI [{lo:+.4g}, {hi:+.4g}])")
        return Verdict(
            status="warn",
            outcome="inconclusive",
            reasons=reasons,
            headline=f"Inconclusive on {name}: delta {d.delta:+.4g}, its 95% CI [{lo:+.4g}, {hi:+.4g}] "
            f"includes zero (n = {self.n_items})",
        )

    def to_json(self) -> dict[str, Any]:
        def entry(k: str, d: DeltaCI) -> dict[str, Any]:
            # "ci" is the interval of the tuned score itself, which is not computed; the paired CI is on the
            # delta
            e = {
                "value": d.tuned,
                "ci": None,
                "signature": self.signatures[k],
                "base": d.base,
                "delta": d.delta,
                "delta_ci": list(d.ci),
                "status": d.status,
                "higher_is_better": d.higher_is_better,
            }
            if k == "perplexity" and self.perplexity:
                e.update(self.perplexity)
            return e

        return {
            "task": self.task,
            "kind": self.task,
            "n_items": self.n_items,
            "metrics": {k: entry(k, d) for k, d in self.deltas.items()},
            "base_metrics": {
                k: {"value": d.base, "ci": None, "signature": self.signatures[k]}
                for k, d in self.deltas.items()
            },
            "deltas": {
                k: {"value": d.delta, "ci": list(d.ci), "status": d.status, "signature": self.signatures[k]}
                for k, d in self.deltas.items()
            },
            "mcnemar": self.mcnemar,
            "slices": self.slices,
            "examples": self.examples,
            "training_curves": self.curves_source,
            "support": self.support,
            "warnings": self.warnings,
            "verdict": self.verdict().model_dump(mode="json"),
        }


def perplexity_delta(base_nll: Sequence[float], base_tokens: Sequence[int], tuned_nll: Sequence[float],
                     tuned_tokens: Sequence[int], *, n_resamples: int = 1000, confidence: float = 0.95,
                     seed: int = 0) -> DeltaCI:
    """Paired bootstrap CI of token-weighted perplexity(tuned) - perplexity(base) over documents.

    Each resample draws the same documents for both sides and recomputes exp(sum NLL / sum tokens) on each.

    Args:
        base_nll: Per-document summed NLL (nats) under base.
        base_tokens: Per-document scored tokens under base.
        tuned_nll: Per-document summed NLL under tuned (same documents, same order).
        tuned_tokens: Per-document scored tokens under tuned.
        n_resamples: Bootstrap resamples.
        confidence: Two-sided interval mass.
        seed: numpy seed.

    Raises:
        UsageError: On misaligned or empty inputs.
    """
    import numpy as np

    n = len(base_nll)
    if n == 0 or not (len(base_tokens) == len(tuned_nll) == len(tuned_tokens) == n):
        raise UsageError("perplexity delta needs the same non-empty documents on both sides",
                         fix="score base and tuned on the same records")
    bn, bt, tn, tt = (np.asarray(x, dtype=float) for x in (base_nll, base_tokens, tuned_nll, tuned_tokens))
    if bt.sum() == 0 or tt.sum() == 0:
        raise UsageError("no scored tokens on one side", fix="raise the max length so completions are scored")

    def ppl(nll: Any, tok: Any) -> Any:
        return np.exp(nll / np.maximum(tok, 1))

    base, tuned = float(ppl(bn.sum(), bt.sum())), float(ppl(tn.sum(), tt.sum()))
    idx = np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))
    deltas = ppl(tn[idx].sum(1), tt[idx].sum(1)) - ppl(bn[idx].sum(1), bt[idx].sum(1))
    a = (1 - confidence) / 2
    lo, hi = np.quantile(deltas, [a, 1 - a])
    return DeltaCI("perplexity", base, tuned, tuned - base, (float(lo), float(hi)), higher_is_better=False)


def find_metrics_log(tuned: str | Path) -> Path | None:
    """The trainer's metrics.jsonl in the tuned folder, or in its parent (OUT/merged lives inside OUT)."""
    p = Path(tuned)
    if not p.is_dir():
        return None
    for d in (p, p.parent):
        if (d / "metrics.jsonl").is_file():
            return d / "metrics.jsonl"
    return None


def training_curve_charts(metrics_log: str | Path) -> list[ChartBlock]:
    """Line charts from a `finetune run` metrics.jsonl: train/val loss by step, then each val metric by step.

    Perplexity gets its own chart because its scale dwarfs accuracy/F1.
    """
    from finetune.metrics_log import read_events

    rows = read_events(metrics_log)  # the trainer's one reader: a torn last line from a killed run is dropped
    series: dict[str, dict[int, float]] = defaultdict(dict)
    for r in rows:
        if "step" not in r or r.get("split") not in ("train", "val"):
            continue
        for k, v in r.items():
            if k in ("step", "epoch", "split", "lr", "tokens_per_s") or not isinstance(v, (int, float)):
                continue
            series[f"{r['split']} {k}"][int(r["step"])] = float(v)
    charts = []
    groups = [
        ("Loss by step", "loss", [k for k in ("train loss", "val loss") if k in series]),
        (
            "Validation metrics by step",
            "score",
            [k for k in sorted(series) if k.startswith("val ") and k not in ("val loss", "val perplexity")],
        ),
        ("Validation perplexity by step", "perplexity", [k for k in ("val perplexity",) if k in series]),
    ]
    for title, y_label, names in groups:
        if not names:
            continue
        xs = sorted({x for k in names for x in series[k]})
        charts.append(ChartBlock(title=title, chart="line", x=xs, x_label="step", y_label=y_label,
                                 series={k: [series[k].get(x) for x in xs] for k in names}))
    return charts


def _example_score(task: str, pred: Any, ref: Any) -> float:
    if task == "classification":
        return float(str(pred) == str(ref))
    from evalsuite.metrics.generation import _rouge_one

    return _rouge_one("rougeL", "unicode", False, str(pred), ref)


def compare_predictions(task: str, ids: Sequence[str], references: Sequence[Any], base_pred: Sequence[Any],
                        tuned_pred: Sequence[Any], *, inputs: Sequence[str] | None = None,
                        groups: Sequence[Any] | None = None, n_resamples: int = 1000, seed: int = 0,
                        metric_options: dict[str, Any] | None = None,
                        base_signatures: dict[str, str] | None = None,
                        labels: Sequence[Any] | None = None) -> CompareResult:
    """Paired comparison of two prediction lists over the same items.

    Args:
        task: "classification" or "generation".
        ids: Item ids, aligned with the other lists.
        references: Gold labels or completions.
        base_pred: Base model predictions.
        tuned_pred: Tuned model predictions.
        inputs: Input texts (shown with the top regressions/improvements).
        groups: A group value per item for per-slice deltas.
        n_resamples: Bootstrap resamples.
        seed: Bootstrap seed.
        metric_options: Metric options as `{KEY: {OPTION: VALUE}}` (the `metric_args` of a config, or
            `--metric-args KEY.OPTION=VALUE`); the older flat `rouge_tokenizer=` is still accepted.
        base_signatures: Signatures the base scores were computed with, when scored elsewhere; must match.
        labels: Classification: the classes the models know (e.g. the training labels). A class with no test
            item, or a test set of one class, withholds every improved/regressed call (a warning in the
            verdict): accuracy on 300 rows of one class says nothing about telling classes apart.

    Raises:
        UsageError: On misaligned inputs or differing signatures.
    """
    n = len(ids)
    if not (len(references) == len(base_pred) == len(tuned_pred) == n) or n == 0:
        raise UsageError(
            f"compare needs the same non-empty items on both sides (ids {n}, refs {len(references)}, "
            f"base {len(base_pred)}, tuned {len(tuned_pred)})",
            fix="predict base and tuned on the same test file",
        )
    legacy = {k: v for k, v in (metric_options or {}).items() if k in ("rouge_tokenizer", "rouge_stemmer")}
    margs = {k: v for k, v in (metric_options or {}).items() if k not in legacy}
    if task == "classification":
        metrics = metrics_for(task, margs, **legacy)
    else:
        from evalsuite.metrics.sacre import nrefs_of

        metrics = metrics_for(task, margs, nrefs=nrefs_of(references), **legacy)
    sigs = {m.name: m.signature for m in metrics}
    if base_signatures:
        check_signatures(base_signatures, sigs)
    deltas = {
        m.name: paired_bootstrap(m, base_pred, tuned_pred, references, n_resamples=n_resamples, seed=seed)
        for m in metrics
    }
    res = CompareResult(task, deltas, sigs, n)
    if task == "classification":
        _support_warnings(res, references, base_pred, tuned_pred, labels)
        res.mcnemar = mcnemar([str(b) == str(r) for b, r in zip(base_pred, references, strict=True)],
                              [str(t) == str(r) for t, r in zip(tuned_pred, references, strict=True)])
    # per-slice deltas of the headline per-example score (accuracy / ROUGE-L)
    slicers = {"label": references} if task == "classification" else {}
    if groups is not None and any(g is not None for g in groups) and len(set(groups)) <= MAX_GROUP_SLICES:
        slicers["group"] = groups
    scores = [
        (_example_score(task, b, r), _example_score(task, t, r))
        for b, t, r in zip(base_pred, tuned_pred, references, strict=True)
    ]
    for field_name, values in slicers.items():
        buckets: dict[str, list[int]] = defaultdict(list)
        for i, v in enumerate(values):
            buckets[str(v)].append(i)
        for v, ix in sorted(buckets.items()):
            b = sum(scores[i][0] for i in ix) / len(ix)
            t = sum(scores[i][1] for i in ix) / len(ix)
            res.slices.append(
                {"slice": field_name, "value": v, "n": len(ix), "base": b, "tuned": t, "delta": t - b}
            )
    order = sorted(range(n), key=lambda i: scores[i][1] - scores[i][0])
    for kind, ix in (("regression", order[:TOP_K]), ("improvement", order[::-1][:TOP_K])):
        for i in ix:
            d = scores[i][1] - scores[i][0]
            if (kind == "regression" and d < 0) or (kind == "improvement" and d > 0):
                res.examples.append(
                    {
                        "kind": kind,
                        "id": str(ids[i]),
                        "input": (inputs[i] if inputs else None),
                        "reference": references[i],
                        "base": base_pred[i],
                        "tuned": tuned_pred[i],
                        "delta": d,
                    }
                )
    res.report = build_report(res, base_pred, tuned_pred, references)
    return res


def _support_warnings(res: CompareResult, references: Sequence[Any], base_pred: Sequence[Any],
                      tuned_pred: Sequence[Any], labels: Sequence[Any] | None) -> None:
    """Fill `res.support` (test items per class, zero-support classes included) and `res.warnings`, and
    withhold the improved/regressed calls when the test items cannot support them."""
    from collections import Counter

    support = Counter(str(r) for r in references)
    classes = sorted({*support, *(str(x) for x in labels or ()), *map(str, base_pred), *map(str, tuned_pred)})
    res.support = {c: support.get(c, 0) for c in classes}
    zero = [c for c in classes if support.get(c, 0) == 0]
    if len(support) == 1:
        only = next(iter(support))
        res.warnings.append(f"the test set holds a single class ({only!r}, all {res.n_items} items), so no "
                            "metric can show whether either model tells classes apart (a --head of a file "
                            "sorted by label? use --sample)")
    if zero:
        res.warnings.append(f"{len(zero)} class(es) have no test items: {', '.join(zero)}; their per-class "
                            "scores are undefined and the averages cover the other classes only")
    for d in res.deltas.values():
        if res.warnings:
            d.withheld = "; ".join(res.warnings)


def build_report(res: CompareResult, base_pred: Sequence[Any], tuned_pred: Sequence[Any],
                 references: Sequence[Any], manifest: dict[str, Any] | None = None) -> Report:
    """The comparison as a Report: summary first, then metrics, charts, slices, examples, signatures."""
    rows = [
        [k, d.base, d.tuned, d.delta, f"[{d.ci[0]:.4g}, {d.ci[1]:.4g}]", d.status]
        for k, d in res.deltas.items()
    ]
    improved = [k for k, d in res.deltas.items() if d.status == "improved"]
    regressed = [k for k, d in res.deltas.items() if d.status == "regressed"]
    withheld = [k for k, d in res.deltas.items() if d.status == "not_comparable"]
    caption = (
        f"{len(improved)} metric(s) improved with a CI excluding zero ({', '.join(improved) or 'none'}); "
        f"{len(regressed)} regressed ({', '.join(regressed) or 'none'}). n = {res.n_items} items."
    )
    if withheld:
        caption = (f"No metric is called improved or regressed: {'; '.join(res.warnings)}. "
                   f"n = {res.n_items} items.")
    summary = TableBlock(
        title="Summary",
        columns=["metric", "base", "tuned", "delta", "95% CI (paired bootstrap)", "status"],
        rows=rows,
        status_column="status",
        caption=caption,
    )
    sections = [
        Section(
            id="method",
            title="Method",
            blocks=[
                TextBlock(
                    text=BASE_NOTE[res.task] + "\n\n"
                    "Deltas are tuned minus base on the same items; intervals are 95% paired-bootstrap "
                    "percentile intervals (1,000 resamples, seeded). Status is improved/regressed only when "
                    "the interval excludes zero."
                    + (TEXT_PPL_NOTE if res.task == "text" else PPL_NOTE)
                    * (res.perplexity is not None)
                )
            ],
        )
    ]
    if res.task == "classification":
        from evalsuite.metrics.classification import confusion, per_class_table

        labels = sorted({str(x) for x in [*references, *base_pred, *tuned_pred]})
        cols, base_rows = per_class_table(base_pred, references)
        _, tuned_rows = per_class_table(tuned_pred, references)
        f1b = {r[0]: r[3] for r in base_rows}
        f1t = {r[0]: r[3] for r in tuned_rows}
        blocks: list[Any] = [
            TableBlock(
                title="Test items per class (support)",
                columns=["class", "test items"],
                rows=[[c, n] for c, n in res.support.items()],
                page_size=None,
                caption="A class with 0 items has no per-class score; the verdict withholds any call then.",
            ),
            ChartBlock(
                title="Per-class F1",
                chart="bar",
                x=labels,
                series={"base": [f1b.get(lab) for lab in labels], "tuned": [f1t.get(lab) for lab in labels]},
            ),
            *(
                ChartBlock(
                    title=f"Confusion matrix: {who}",
                    chart="heatmap",
                    x=labels,
                    y=labels,
                    matrix=confusion(pred, references, labels)[1],
                    x_label="predicted",
                    y_label="true",
                )
                for who, pred in (("base", base_pred), ("tuned", tuned_pred))
            ),
            TableBlock(title="Per class: tuned", columns=cols, rows=tuned_rows),
            TableBlock(title="Per class: base", columns=cols, rows=base_rows),
        ]
        if res.mcnemar:
            blocks.append(
                TextBlock(
                    title="McNemar (accuracy)",
                    text=(
                        f"Base right / tuned wrong: {res.mcnemar['b']}; "
                        f"base wrong / tuned right: {res.mcnemar['c']}; "
                        f"exact two-sided p = {res.mcnemar['p_value']:.4g}."
                    ),
                )
            )
        sections.append(Section(id="classes", title="Per-class results", blocks=blocks))
    if res.slices:
        metric = {"classification": "accuracy", "text": "token perplexity (lower is better)"}.get(
            res.task, "ROUGE-L F1 (unicode tokenizer)")
        sections.append(Section(id="slices", title="Per-slice deltas", blocks=[TableBlock(
            columns=["slice", "value", "n", "base", "tuned", "delta"], caption=f"Per-item score: {metric}.",
            rows=[[s["slice"], s["value"], s["n"], s["base"], s["tuned"], s["delta"]] for s in res.slices])]))
    if res.curves:
        sections.append(Section(id="training", title="Training curves", blocks=[
            TextBlock(text=f"From {res.curves_source} (written by `finetune run`)."), *res.curves]))
    for kind in ("regression", "improvement"):
        ex = [e for e in res.examples if e["kind"] == kind]
        # No status badge: single items that got worse are examples to read, not a verdict on the metrics.
        sections.append(
            Section(
                id=f"{kind}s",
                title=f"Top {kind}s (per item)",
                blocks=[
                    TableBlock(
                        columns=["id", "input", "reference", "base", "tuned", "delta"],
                        rows=[
                            [e["id"], e["input"], e["reference"], e["base"], e["tuned"], e["delta"]]
                            for e in ex
                        ],
                    )
                ],
            )
        )
    return Report(title=f"Base vs fine-tuned ({res.task})", kind="eval", summary=summary, sections=sections,
                  signatures=res.signatures, manifest=manifest, verdict=res.verdict())


def _trainer_max_length(tuned: str | Path) -> int | None:
    """max_length from the `finetune run` config.yaml next to the tuned model (or in its parent)."""
    import yaml

    p = Path(tuned)
    for d in ((p, p.parent) if p.is_dir() else ()):
        f = d / "config.yaml"
        if f.is_file():
            cfg = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
            if isinstance(cfg, dict) and isinstance(cfg.get("max_length"), int):
                return cfg["max_length"]
    return None


def kind_to_task(kind: str | None) -> str | None:
    """compare's record kind -> what it measures: classification, or generation (completion and chat)."""
    if kind is None:
        return None
    return (
        "classification"
        if kind == "classification"
        else "generation"
        if kind in ("completion", "chat", "generation")
        else kind
    )


def _records(data: str, task: str | None, head: int | None = None, sample: int | None = None,
             seed: int = 0) -> tuple[list[dict], str]:
    """The usable records of `data` and the task; with `task=None` the kind is inferred from the fields."""
    from curate import load

    if task is None:
        import sys

        loaded = load(data, head=head, sample=sample, seed=seed)
        kind = str(getattr(loaded.kind, "value", loaded.kind))
        task = kind_to_task(kind)
        sys.stderr.write(f"kind: {kind} (inferred from the fields of {data}; --kind sets it)\n")
    else:
        want = "classification" if task == "classification" else "completion"
        try:
            loaded = load(data, kind=want, head=head, sample=sample, seed=seed)
        except DatavetError as e:
            # the loader's fix names its field options (--prompt-field, ...), which compare does not have
            try:
                found = load(data, limit=50).kind
            except DatavetError:
                raise e from None
            found = str(getattr(found, "value", found))
            if found == want:
                raise
            raise UsageError(
                f"{data} holds {found} records, not {want} records",
                details=e.details,
                fix=f"use --kind {found}, or leave --kind out: compare reads the kind from the fields",
            ) from None
    if not loaded.records:
        raise UsageError(f"no usable records in {data}", fix="check the file with `curate check`")
    return loaded.records, str(task)


def seeded_sample(records: list[dict], n: int | None, seed: int) -> list[dict]:
    """A seeded random sample of `n` records, kept in file order (all of them when n is None or >= len)."""
    import random

    if n is None or n >= len(records):
        return records
    return [records[i] for i in sorted(random.Random(seed).sample(range(len(records)), n))]


def _adapter_on_base(model: Any, base: str, tuned: str) -> tuple[Any, Any]:
    """When `tuned` is a LoRA adapter folder trained on `base`, the tuned model is the base already in memory
    with the adapter applied: one load of the base weights instead of two. Else (None, None)."""
    import json

    from finetune.models import load_tokenizer, resolve_model

    folder = Path(resolve_model(tuned).path)
    cfg = folder / "adapter_config.json"
    if not cfg.is_file():
        return None, None
    on = json.loads(cfg.read_text(encoding="utf-8")).get("base_model_name_or_path") or ""
    # the adapter names its base by hub id (finetune.card) or by folder; both resolve to a local folder here
    try:
        on_path = resolve_model(on).path
    except DatavetError:
        return None, None
    if Path(on_path).resolve() != Path(resolve_model(base).path).resolve():
        return None, None
    on = on_path
    from peft import PeftModel

    tok = load_tokenizer(str(folder) if (folder / "tokenizer_config.json").is_file() else on)
    return PeftModel.from_pretrained(model, str(folder)).eval(), tok


def run_compare(
    base: str,
    tuned: str,
    data: str,
    *,
    task: str | None = "generation",
    train_data: str | None = None,
    adapter: str | None = None,
    max_new_tokens: int = 32,
    batch_size: int = 8,
    head: int | None = None,
    sample: int | None = None,
    limit: int | None = None,
    probe_sample: int | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    report_dir: str | Path | None = None,
    metric_options: dict[str, Any] | None = None,
    perplexity: bool = True,
    ppl_max_length: int | None = None,
    precision: str = "auto",
) -> CompareResult:
    """Load base and tuned models, predict on `data`, compare, and optionally write the report.

    Args:
        base: Base model (minilm, smollm2, or a folder).
        tuned: Tuned model folder, or an adapter folder (then `base` is the model under it).
        data: Test data file (or bundled:NAME).
        task: "classification", "generation" or "text" (held-out documents: `evalsuite.compare_text`); a
            record
            kind works too (completion and chat mean generation); None infers it from the data's fields.
        train_data: Classification only: training data for the base linear probe (required there).
        adapter: An adapter to apply on `tuned` (rarely needed: an adapter folder as `tuned` works).
        max_new_tokens: Generation cap.
        batch_size: Prediction batch size.
        head: Use only the first N test records (a sorted file gives a biased subset).
        sample: Use a random sample of N test records (seeded with `seed`).
        limit: Deprecated alias of `head`.
        probe_sample: Classification: fit the base probe on a seeded sample of N training records.
        n_resamples: Bootstrap resamples.
        seed: Bootstrap seed.
        report_dir: Write index.html/report.md/report.json here.
        metric_options: Metric family options.
        perplexity: Generation only: also compare completion-only perplexity of the references.
        ppl_max_length: Truncation for perplexity; default: the trainer's max_length from the run's
            config.yaml
            (tuned folder or its parent), else the model's max positions capped at 1024.
        precision: What both models compute in (`common.precision`): auto (fp32 here: evalsuite runs on
            the CPU), fp32, or bf16 on a CPU with bf16 instructions. Both models always use the same.

    Raises:
        UsageError: On an unknown task, missing --train-data, or data without usable records.
        PrecisionError: bf16 on a CPU without bf16 instructions, or fp16.
    """
    args = dict(locals())  # every argument, passed on
    from common.precision import autocast, resolve

    resolved = args["precision"] = resolve(precision, cuda=False)
    with autocast(resolved):
        return _run_compare(**args)


def _run_compare(base: str, tuned: str, data: str, *, task: str | None, train_data: str | None,
                 adapter: str | None, max_new_tokens: int, batch_size: int, head: int | None,
                 sample: int | None, limit: int | None, probe_sample: int | None, n_resamples: int, seed: int,
                 report_dir: str | Path | None, metric_options: dict[str, Any] | None, perplexity: bool,
                 ppl_max_length: int | None, precision: str) -> CompareResult:
    """`run_compare`'s work, inside the precision it resolved."""
    import time

    t0 = time.perf_counter()
    task = kind_to_task(task)
    if task is not None and task not in (*BASE_NOTE, "text"):
        raise UsageError(f"unknown kind {task!r}", fix="use --kind classification, completion, chat or text")
    if task != "text":
        recs, task = _records(data, task, head=head if head is not None else limit, sample=sample, seed=seed)
    if task == "text":  # held-out documents: perplexity and bits per byte, no predictions
        from evalsuite.compare_text import run_text_compare

        return run_text_compare(
            base,
            tuned,
            data,
            adapter=adapter,
            batch_size=batch_size,
            limit=head if head is not None else limit,
            n_resamples=n_resamples,
            seed=seed,
            report_dir=report_dir,
            max_length=ppl_max_length,
            precision=precision,
        )
    if task not in BASE_NOTE:
        raise UsageError(
            f"compare cannot score {task} records",
            fix="compare classification, completion, chat or text data",
        )
    if task == "classification" and metric_options:  # generation options given before the kind was known
        metric_options = {k: v for k, v in metric_options.items() if k != "rouge_tokenizer"}
    ids = [str(r["id"]) for r in recs]
    groups = [r.get("group") for r in recs]
    base_ppl = tuned_ppl = None
    known: list[str] | None = None
    if task == "classification":
        if not train_data:
            raise UsageError(
                f"{data} holds classification records (text, label): the base is a linear probe on "
                "the frozen encoder, which needs --train-data",
                fix="pass the training split the tuned model was trained on, "
                "e.g. --train-data splits/train.jsonl",
            )
        from finetune.models import load_for_inference
        from finetune.probe import train_linear_probe

        texts, refs = [r["text"] for r in recs], [str(r["label"]) for r in recs]
        train_recs = _records(train_data, task)[0]
        known = sorted({str(r["label"]) for r in train_recs})
        probe = train_linear_probe(
            base, seeded_sample(train_recs, probe_sample, seed), recs, batch_size=batch_size, seed=seed
        )
        base_pred = list(probe.val_pred)
        model, tok = load_for_inference(tuned, "classification", adapter=adapter)
        tuned_pred = predict_classifier(model, tok, texts, batch_size=batch_size)
    elif task == "generation":
        from evalsuite.generate import generate
        from evalsuite.perplexity import load_causal_lm, sft_perplexity

        texts, refs = [r["prompt"] for r in recs], [r["completion"] for r in recs]
        bm, btok = load_causal_lm(base)
        if perplexity and ppl_max_length is None:
            ppl_max_length = _trainer_max_length(tuned) or min(
                getattr(bm.config, "max_position_embeddings", 1024) or 1024, 1024
            )

        def run_model(lm: Any, tok: Any, who: str) -> tuple[Any, list[str]]:
            """(perplexity of the references or None, the generated predictions) of one model."""
            ppl = None
            if perplexity:
                ppl = sft_perplexity(lm, tok, recs, max_length=ppl_max_length, batch_size=batch_size,
                                     precision=precision)
            return ppl, generate(lm, tok, texts, max_new_tokens=max_new_tokens, batch_size=batch_size,
                                 label=f"generate ({who})")

        base_ppl, base_pred = run_model(bm, btok, "base")
        tm, ttok = (None, None) if adapter else _adapter_on_base(bm, base, tuned)
        del bm
        if tm is None:
            from finetune.models import load_for_inference

            tm, ttok = load_for_inference(tuned, "sft", adapter=adapter)
        tuned_ppl, tuned_pred = run_model(tm, ttok, "tuned")
    res = compare_predictions(task, ids, refs, base_pred, tuned_pred, inputs=texts, groups=groups,
                              n_resamples=n_resamples, seed=seed, metric_options=metric_options, labels=known)
    if task == "generation" and base_ppl is not None and tuned_ppl is not None:
        # different templates or max lengths would make the two perplexities incomparable
        check_signatures({"perplexity": base_ppl.signature}, {"perplexity": tuned_ppl.signature})
        res.deltas["perplexity"] = perplexity_delta(
            base_ppl.doc_nll_sum,
            base_ppl.doc_tokens,
            tuned_ppl.doc_nll_sum,
            tuned_ppl.doc_tokens,
            n_resamples=n_resamples,
            seed=seed,
        )
        res.signatures["perplexity"] = tuned_ppl.signature
        res.perplexity = {
            "n_tokens": tuned_ppl.n_tokens,
            "n_tokens_base": base_ppl.n_tokens,
            "max_length": ppl_max_length,
            "template": tuned_ppl.signature.split("|")[1].split(":")[1],
            "truncated": tuned_ppl.truncated,
            "records_without_scored_tokens": sum(1 for t in tuned_ppl.doc_tokens if t == 0),
        }
    log = find_metrics_log(tuned)
    if log is not None:
        res.curves, res.curves_source = training_curve_charts(log), str(log)
    from schemas.manifest import RunManifest, invocation

    # every argument, so that the report says exactly what ran (and `rerun` repeats it)
    settings = {"base": base, "tuned": tuned, "adapter": adapter, "data": data, "kind": task, "task": task,
                "train_data": train_data, "head": head, "limit": limit, "sample": sample,
                "probe_sample": probe_sample, "max_new_tokens": max_new_tokens, "batch_size": batch_size,
                "n_resamples": n_resamples, "seed": seed, "metric_options": metric_options or {},
                "perplexity": perplexity, "ppl_max_length": ppl_max_length, "precision": precision}
    manifest = {
        **settings,
        "n_items": len(ids),
        "seconds": round(time.perf_counter() - t0, 2),
        **invocation(),
    }
    res.report = build_report(res, base_pred, tuned_pred, refs, manifest=manifest)
    if report_dir:
        from common.render import write_report

        res.paths = write_report(res.report, report_dir)
        inputs = {p: p for p in (data, train_data) if p and not p.startswith("bundled:")}
        manifest_file = RunManifest.create("evalsuite compare", inputs=inputs, config=settings, seed=seed,
                                           extra={"n_items": len(ids)})
        (Path(report_dir) / "manifest.json").write_text(
            manifest_file.model_dump_json(indent=1), encoding="utf-8"
        )
    _record_on_card(res, adapter or tuned, task, data)
    return res


def _record_on_card(res: CompareResult, folder: str, task: str, data: str) -> None:
    """Add the tuned model's test results to its datavet model card (a card datavet did not write is left)."""
    from finetune.card import record_evaluation

    if Path(folder).is_dir() and record_evaluation(
        folder, res.to_json(), task=task, dataset_name=Path(data).name
    ):
        res.paths["model_card"] = Path(folder) / "README.md"
