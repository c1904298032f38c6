"""k-fold cross-validation of a fine-tune: each fold is one `finetune.train.run` config (no second code
path), evaluated on its held-out fold; metrics are aggregated as mean +/- std with a per-fold table;
out-of-fold predictions are saved; for classification, likely label errors are found from the out-of-fold
probabilities with cleanlab's `find_label_issues` (its defaults: prune_by_noise_rate, ranked by
self-confidence) and written as a `label_issues` CheckResult in curate's findings format.

The split folder is what `curate split --kfold K` writes: fold-0/train.jsonl, fold-0/val.jsonl, ...
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas.errors import UsageError
from schemas.findings import CheckResult, CheckStatus, Finding, Severity
from schemas.report import ChartBlock, Report, Section, TableBlock, TextBlock


@dataclass
class CVResult:
    """Per-fold metrics, their mean/std, out-of-fold predictions, label issues and the report."""

    folds: list[dict[str, float]]
    aggregate: dict[str, dict[str, float]]
    signatures: dict[str, str]
    oof: list[dict[str, Any]] = field(default_factory=list)
    label_issues: CheckResult | None = None
    report: Report | None = None
    paths: dict[str, Path] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "metrics": {
                k: {"value": v["mean"], "ci": None, "std": v["std"], "signature": self.signatures.get(k, "")}
                for k, v in self.aggregate.items()
            },
            "folds": self.folds,
            "label_issues": self.label_issues.model_dump(mode="json") if self.label_issues else None,
        }


def aggregate_folds(folds: Sequence[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Mean and sample std (ddof=1; 0 for one fold) of every metric present in all folds."""
    if not folds:
        raise UsageError("no folds to aggregate", fix="pass a split folder with fold-0, fold-1, ...")
    names = [k for k in folds[0] if all(k in f for f in folds)]
    out = {}
    for k in names:
        vals = [float(f[k]) for f in folds]
        mean = sum(vals) / len(vals)
        std = math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else 0.0
        out[k] = {"mean": mean, "std": std, "min": min(vals), "max": max(vals)}
    return out


def label_issues_from_oof(
    ids: Sequence[str], labels: Sequence[str], probs: Any, classes: Sequence[str]
) -> CheckResult:
    """cleanlab `find_label_issues` on out-of-fold probabilities, as curate's `label_issues` CheckResult.

    Args:
        ids: Row ids.
        labels: Given labels.
        probs: (n, n_classes) out-of-fold probabilities, columns in `classes` order.
        classes: Class names.
    """
    import numpy as np
    from cleanlab.filter import find_label_issues

    code = {c: i for i, c in enumerate(classes)}
    y = np.array([code[str(lab)] for lab in labels])
    p = np.asarray(probs, dtype=float)
    ranked = find_label_issues(y, p, return_indices_ranked_by="self_confidence")
    findings = [
        Finding(
            id=str(ids[i]),
            reason="likely_label_error",
            severity=Severity.warning,
            message=f"labelled {labels[i]!r}, out-of-fold model says {classes[int(p[i].argmax())]!r} "
            f"(p={p[i].max():.2f})",
            given_label=str(labels[i]),
            suggested_label=classes[int(p[i].argmax())],
            self_confidence=float(p[i, y[i]]),
        )
        for i in ranked
    ]
    return CheckResult(
        name="label_issues",
        status=CheckStatus.warn if findings else CheckStatus.passed,
        count=len(findings),
        description="Likely label errors from k-fold out-of-fold probabilities (cleanlab find_label_issues)",
        summary={"rows": len(ids), "rate": len(findings) / max(len(ids), 1)},
        findings=findings,
    )


def training_curves(fold_outs: Sequence[str | Path]) -> list[ChartBlock]:
    """Line charts of train and val loss per fold, read from each fold run's `metrics.jsonl`."""
    from finetune.metrics_log import read_events

    charts = []
    for split in ("train", "val"):
        series, steps = {}, set()
        for i, d in enumerate(fold_outs):
            f = Path(d) / "metrics.jsonl"
            if not f.exists():
                continue
            rows = read_events(f)  # the trainer's one reader: a torn last line from a killed fold is dropped
            pts = {r["step"]: r["loss"] for r in rows if r.get("split") == split and "loss" in r}
            if pts:
                series[f"fold {i}"] = pts
                steps |= set(pts)
        if series:
            xs = sorted(steps)
            charts.append(
                ChartBlock(
                    title=f"{split} loss by step",
                    chart="line",
                    x=xs,
                    x_label="step",
                    y_label="loss",
                    series={k: [v.get(x) for x in xs] for k, v in series.items()},
                )
            )
    return charts


def build_report(res: CVResult, manifest: dict[str, Any] | None = None,
                 curves: Sequence[ChartBlock] = ()) -> Report:
    """Summary (mean +/- std), per-fold table, fold-spread chart, label issues, signatures, manifest."""
    names = list(res.aggregate)
    summary = TableBlock(
        title="Summary",
        columns=["metric", "mean", "std", "min", "max"],
        rows=[[k, v["mean"], v["std"], v["min"], v["max"]] for k, v in res.aggregate.items()],
        caption=f"{len(res.folds)} folds; std is the sample standard deviation across folds.",
    )
    sections = [
        Section(
            id="folds",
            title="Per-fold metrics",
            blocks=[
                TableBlock(
                    columns=["fold", *names],
                    rows=[[i, *(f.get(k) for k in names)] for i, f in enumerate(res.folds)],
                ),
                ChartBlock(
                    title="Fold spread",
                    chart="bar",
                    x=names,
                    series={f"fold {i}": [f.get(k) for k in names] for i, f in enumerate(res.folds)},
                ),
            ],
        )
    ]
    if curves:
        sections.append(Section(id="training", title="Training curves", blocks=list(curves)))
    if res.label_issues is not None:
        li = res.label_issues
        sections.append(
            Section(
                id="label-issues",
                title="Likely label errors",
                status=li.status.value,
                blocks=[
                    TextBlock(
                        text=f"{li.count} of {li.summary.get('rows')} rows look mislabelled according to the "
                        "out-of-fold probabilities (cleanlab find_label_issues)."
                    ),
                    TableBlock(
                        columns=["id", "given", "suggested", "self_confidence", "message"],
                        rows=[
                            [
                                f.id,
                                getattr(f, "given_label", None),
                                getattr(f, "suggested_label", None),
                                getattr(f, "self_confidence", None),
                                f.message,
                            ]
                            for f in li.findings
                        ],
                    ),
                ],
            )
        )
    return Report(title="k-fold cross-validation", kind="cv", summary=summary, sections=sections,
                  signatures=res.signatures, manifest=manifest)


def fold_dirs(split_dir: str | Path) -> list[Path]:
    """fold-0, fold-1, ... inside a `curate split --kfold` folder, in order."""
    d = Path(split_dir)
    folds = sorted((p for p in d.glob("fold-*") if p.is_dir()), key=lambda p: int(p.name.split("-")[1]))
    if len(folds) < 2:
        raise UsageError(f"{d} has {len(folds)} fold folders; k-fold CV needs at least 2",
                         fix="write folds with `curate split DATA --kfold 5 --out DIR`")
    return folds


def _run_val_probs(run_dir: Path, val: list[dict]) -> tuple[Any, list[str]]:
    """Class probabilities from the run's `val_predictions.jsonl` when it covers exactly these val rows, else
    (None, []) (a resumed run, or a val subsample: `data.limit_val`)."""
    import numpy as np

    f = run_dir / "val_predictions.jsonl"
    if not f.is_file():
        return None, []
    rows = [json.loads(line) for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    if [r["id"] for r in rows] != [str(r.get("id")) for r in val]:
        return None, []
    classes = list(rows[0]["probs"]) if rows else []
    return np.array([[r["probs"][c] for c in classes] for r in rows], dtype=float), classes


def _predict_probs(
    model_path: str, val: list[dict], max_length: int, batch_size: int
) -> tuple[Any, list[str]]:
    """Class probabilities of the saved model on every val row."""
    from evalsuite.predict import classifier_proba
    from finetune.models import load_for_inference

    model, tok = load_for_inference(model_path, "classification")
    return classifier_proba(model, tok, [r["text"] for r in val], batch_size, max_length)


def run_cv(
    split_dir: str | Path,
    train_cfg: Any,
    *,
    out: str | Path = "reports/cv",
    report_dir: str | Path | None = None,
    batch_size: int = 32,
) -> CVResult:
    """Train and evaluate every fold of a k-fold split with `finetune.train.run`, then aggregate.

    Args:
        split_dir: Folder with fold-*/train.jsonl and fold-*/val.jsonl.
        train_cfg: A `schemas.configs.train.TrainConfig`; `data.split_dir` and `out` are set per fold.
        out: Where fold runs and out-of-fold predictions go.
        report_dir: Write the CV report here (default: `out`/report).
        batch_size: Prediction batch size.
    """
    import numpy as np

    from common.precision import autocast, for_cpu_inference
    from curate import write_jsonl, write_text
    from evalsuite.metrics import metrics_for, score_all
    from finetune.data import load_records
    from finetune.models import load_for_inference
    from finetune.train import run

    out = Path(out)
    task = "classification" if train_cfg.task == "classification" else "generation"
    metrics = metrics_for(task)
    from common.progress import Progress

    folds, oof, probs_all, classes = [], [], [], None
    dirs = fold_dirs(split_dir)
    fold_bar = Progress("cv folds", len(dirs), unit="folds")
    fold_bar.start()
    for fd in dirs:
        cfg = train_cfg.model_copy(
            update={
                "out": str(out / fd.name),
                "data": train_cfg.data.model_copy(update={"split_dir": str(fd), "train": None, "val": None}),
            }
        )
        result = run(cfg)
        val, _ = load_records(
            next(p for p in fd.glob("val.*")),
            kind="classification" if task == "classification" else "completion",
        )
        if task == "classification":
            # the run already scored every val row with the weights it saved: reuse those probabilities
            p, fold_classes = _run_val_probs(Path(result.model_path), val)
            if p is None:
                with autocast(for_cpu_inference(result.precision)):
                    p, fold_classes = _predict_probs(result.model_path, val, cfg.max_length, batch_size)
            classes = classes or sorted(fold_classes)
            aligned = np.zeros((len(val), len(classes)))
            for j, c in enumerate(fold_classes):
                if c in classes:
                    aligned[:, classes.index(c)] = p[:, j]
            preds = [classes[i] for i in aligned.argmax(1)]
            refs = [str(r["label"]) for r in val]
            probs_all.append(aligned)
        else:
            from evalsuite.generate import generate

            model, tok = load_for_inference(result.model_path, "sft")
            with autocast(for_cpu_inference(result.precision)):  # as it trained, where the CPU can
                preds = generate(
                    model, tok, [r["prompt"] for r in val], batch_size=8, label=f"generate {fd.name}"
                )
            refs = [r["completion"] for r in val]
        scores = {k: v["value"] for k, v in score_all(metrics, preds, refs).items()}
        folds.append(scores)
        oof += [{"id": str(r["id"]), "fold": fd.name, "reference": ref, "prediction": pr}
                for r, ref, pr in zip(val, refs, preds, strict=True)]
        fold_bar.advance(
            **{k: round(v, 4) for k, v in scores.items() if k in ("accuracy", "f1_macro", "rougeL")}
        )
    fold_bar.stop()
    res = CVResult(folds, aggregate_folds(folds), {m.name: m.signature for m in metrics}, oof)
    write_jsonl(oof, out / "oof_predictions.jsonl")
    if task == "classification" and classes:
        res.label_issues = label_issues_from_oof([o["id"] for o in oof], [o["reference"] for o in oof],
                                                 np.concatenate(probs_all), classes)
        write_text(res.label_issues.model_dump_json(indent=2), out / "label_issues.json")
    from schemas.manifest import RunManifest, invocation

    settings = {
        "split_dir": str(split_dir),
        "out": str(out),
        "report_dir": str(report_dir) if report_dir else None,
        "batch_size": batch_size,
        "train_config": train_cfg.model_dump(mode="json"),
    }
    res.report = build_report(res, manifest={**settings, **invocation()},
                              curves=training_curves([out / fd.name for fd in fold_dirs(split_dir)]))
    manifest = RunManifest.create("evalsuite cv", inputs=[split_dir], config=settings, seed=train_cfg.seed)
    (out / "manifest.json").write_text(manifest.model_dump_json(indent=1), encoding="utf-8")
    from common.render import write_report

    res.paths = write_report(res.report, report_dir or out / "report")
    return res
