"""The ablation's comparisons, a verdict per curation step, and its Report (rendered by `common.render`).

The primary metric is macro-F1 (`f1_macro`, the trainer's own). Every comparison is a paired bootstrap of the
seed-averaged delta that resamples the test items and the training seeds
(`evalsuite.bootstrap.paired_bootstrap_seeds`): 95% percentile interval; a delta whose interval includes 0 is
"no measurable effect".

Per step s: its effect is curated - minus_s (the full recipe against the recipe without s): helped when the
interval is above 0, hurt when below. Its random twin compares curated with minus_s minus as many random rows:
"these rows" beat "any rows" only when that interval is above 0 as well.
"""

from __future__ import annotations

import statistics
from typing import Any

from schemas.configs.ablate import AblateConfig
from schemas.report import ChartBlock, Report, Section, TableBlock, TextBlock

PRIMARY = "f1_macro"


def verdict(ci: tuple[float, float], better: str = "helped", worse: str = "hurt") -> str:
    """`better` when the interval is above 0, `worse` when below, else "no measurable effect"."""
    lo, hi = ci
    if lo > 0:
        return better
    if hi < 0:
        return worse
    return "no measurable effect"


def _delta(
    a: str, b: str, preds: dict[str, dict[int, list[str]]], refs: list[str], cfg: AblateConfig
) -> dict[str, Any]:
    """b - a on the primary metric, seeds paired by seed value."""
    from evalsuite.bootstrap import paired_bootstrap_seeds
    from evalsuite.metrics import metrics_for

    metric = next(m for m in metrics_for("classification") if m.name == PRIMARY)
    seeds = sorted(set(preds[a]) & set(preds[b]))
    d = paired_bootstrap_seeds(metric, [preds[a][s] for s in seeds], [preds[b][s] for s in seeds], refs,
                               n_resamples=cfg.n_resamples, seed=cfg.seed)
    return {
        "base": a,
        "variant": b,
        "base_score": d.base,
        "score": d.tuned,
        "delta": d.delta,
        "ci": list(d.ci),
        "seeds": seeds,
    }


def compare_variants(data: Any, preds: dict[str, dict[int, list[str]]], refs: list[str],
                     cfg: AblateConfig) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every trained variant against raw (and random_curated against curated), and one row per step."""
    comps = []
    for v in data.variants:
        if v.name != "raw" and v.name in preds and "raw" in preds:
            c = _delta("raw", v.name, preds, refs, cfg)
            c["verdict"] = verdict(tuple(c["ci"]), "better than raw", "worse than raw")
            comps.append(c)
    steps = []
    for step, info in data.steps.items():
        row: dict[str, Any] = {"step": step, **info}
        minus, twin = f"minus_{step}", f"random_{step}"
        if info["identical"] or minus not in preds:
            row.update(effect=None, verdict="not measured: leaving it out changed no row")
        else:
            e = _delta(minus, "curated", preds, refs, cfg)
            row.update(effect=e, verdict=verdict(tuple(e["ci"])))
        if twin in preds and "curated" in preds:
            t = _delta(twin, "curated", preds, refs, cfg)
            row.update(vs_random=t, random_verdict=verdict(tuple(t["ci"]), "these rows beat random rows",
                                                           "random rows beat these rows"))
        steps.append(row)
    return comps, steps


def _fmt_ci(c: dict[str, Any] | None) -> str:
    return "" if not c else f"{c['delta']:+.4f} [{c['ci'][0]:+.4f}, {c['ci'][1]:+.4f}]"


def _status(v: str | None) -> str:
    """Map a verdict onto the renderer's status colours."""
    if not v:
        return ""
    if v in ("helped", "better than raw", "these rows beat random rows"):
        return "pass"
    if v in ("hurt", "worse than raw", "random rows beat these rows"):
        return "fail"
    return "warn" if v == "no measurable effect" else v


def build_report(data: Any, res: Any, cfg: AblateConfig, manifest: dict[str, Any] | None = None) -> Report:
    """Summary of steps first, then every variant's score, the data each variant saw, the test set, the
    method."""
    from evalsuite.metrics import metrics_for

    metric = next(m for m in metrics_for("classification") if m.name == PRIMARY)
    preds, refs = res.predictions, res.refs
    vs_raw = {c["variant"]: c for c in res.comparisons}
    step_rows = []
    for s in res.steps:
        removed = (
            s["rows_removed"] if s["rows_changed"] is None else f"0 removed, {s['rows_changed']} changed"
        )
        step_rows.append(
            [
                s["step"],
                removed,
                _fmt_ci(s.get("effect")),
                s["verdict"],
                _fmt_ci(s.get("vs_random")),
                s.get("random_verdict", "n/a (no rows removed or no twin)"),
            ]
        )
    helped = [s["step"] for s in res.steps if s["verdict"] == "helped"]
    hurt = [s["step"] for s in res.steps if s["verdict"] == "hurt"]
    cur = vs_raw.get("curated")
    headline = (
        f"Curated vs raw: macro-F1 {cur['score']:.4f} vs {cur['base_score']:.4f}, delta {_fmt_ci(cur)}: "
        f"{cur['verdict']}. "
        if cur
        else ""
    )
    summary = TableBlock(
        title="Per curation step: does it pay?",
        columns=[
            "step",
            "rows removed by the step",
            "effect: curated - without step (95% CI)",
            "verdict",
            "curated - random removal of as many rows (95% CI)",
            "these rows vs random rows",
        ],
        rows=step_rows,
        status_column="verdict",
        caption=headline
        + f"Steps that helped (CI above 0): {', '.join(helped) or 'none'}; hurt (CI below 0): "
        f"{', '.join(hurt) or 'none'}; the others had no measurable effect at this budget "
        f"({cfg.max_steps} steps, seeds {cfg.seeds}, {len(refs)} test items).",
    )
    var_rows = []
    for v in data.variants:
        if v.name not in preds:
            var_rows.append(
                [v.name, v.rows, v.description, None, None, "", "not trained (identical to curated)"]
            )
            continue
        scores = [metric.compute(preds[v.name][s], refs) for s in sorted(preds[v.name])]
        c = vs_raw.get(v.name)
        var_rows.append([v.name, v.rows, v.description, statistics.fmean(scores),
                         statistics.stdev(scores) if len(scores) > 1 else 0.0, _fmt_ci(c),
                         c["verdict"] if c else "baseline"])
    variants = TableBlock(title="Every variant", columns=["variant", "training rows", "what it is",
                                                          "macro-F1 (mean over seeds)", "std over seeds",
                                                          "delta vs raw (95% CI)", "vs raw"],
                          rows=var_rows, status_column="vs raw", page_size=None)
    chart = ChartBlock(
        title="macro-F1 per variant and seed",
        chart="bar",
        x=[v.name for v in data.variants if v.name in preds],
        series={
            f"seed {s}": [
                metric.compute(preds[v.name][s], refs) if s in preds[v.name] else None
                for v in data.variants
                if v.name in preds
            ]
            for s in cfg.seeds
        },
    )
    removed = TableBlock(
        title="What curation removed or changed, per variant",
        columns=["variant", "rows", "removed / changed by reason"],
        rows=[
            [v.name, v.rows, ", ".join(f"{k}: {n}" for k, n in v.removed_by_reason.items()) or "-"]
            for v in data.variants
        ],
        page_size=None,
    )
    h = data.heldout
    test_text = (
        f"{h['held_out']} rows were set aside (seeded shuffle, seed {cfg.seed}) before any curation. They "
        f"went through the full curation ({h['after_curation']} left), "
        f"then {h['exact_duplicates_of_training']}"
        f" exact and {h['near_duplicates_of_training']} near duplicates (curate's MinHash dedup on "
        f"normalized, lowercased text) of any row in any variant's training file were dropped. Val "
        f"(best-checkpoint selection, the same for every run): {h['val']} rows; test: {h['test']} rows."
    )
    method = (
        "Every variant is trained with the same `finetune run` config, the same number of optimizer steps "
        f"({cfg.max_steps}) and the same seeds ({', '.join(map(str, cfg.seeds))}); only the training rows "
        "differ. The curated variants are `curate run` outputs of the same raw pool, one step switched off "
        "for each leave-one-out variant. Deltas are seed-averaged macro-F1 differences on the same test "
        f"items with 95% paired-bootstrap percentile intervals ({cfg.n_resamples} resamples, "
        "each drawing the "
        "test items and the training seeds with replacement, so an interval carries test-set sampling and "
        "run-to-run training variation). A verdict is helped/hurt only when the interval "
        "excludes 0; otherwise no measurable effect, which at this budget can also mean the effect is "
        "smaller than the test set and the seeds can resolve. "
        "Removing rows also shrinks the data and changes "
        "which rows fill each batch, so each removing step is compared with a random removal of as many rows."
    )
    if len(cfg.seeds) == 1:
        method += (
            " Only one training seed was run: the intervals then cover test-set sampling only, not the "
            "run-to-run variation of training, so a difference between variants can be training noise."
        )
    elif len(cfg.seeds) < 5:
        method += (
            f" The training-noise part of each interval rests on {len(cfg.seeds)} seeds; more seeds "
            "(`--set 'seeds=[0,1,2,3,4]'`) give firmer verdicts."
        )
    sections = [
        Section(id="variants", title="Variants", blocks=[variants, chart, removed]),
        Section(id="test-set", title="The held-out test set", blocks=[TextBlock(text=test_text)]),
        Section(id="method", title="Method", blocks=[TextBlock(text=method)]),
        Section(
            id="runs",
            title="Runs",
            blocks=[
                TextBlock(
                    text=(
                        f"Trained in this invocation: {len(res.trained)} "
                        f"({', '.join(res.trained) or 'none'}); reused from an "
                        f"earlier invocation: {len(res.reused)}. "
                        f"Wall time of this invocation: {res.wall_s:.0f} s."
                    )
                )
            ],
        ),
    ]
    return Report(title="Does curation pay? Data ablation", kind="eval", summary=summary, sections=sections,
                  signatures={PRIMARY: metric.signature}, manifest=manifest)
