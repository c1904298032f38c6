"""`make demo`: the whole product on the bundled data, end to end, on a 2-core CPU in a few minutes.

Classification leg: curate check bundled:tweets (QA report) -> curate run (normalize, deduplicate) ->
stratified subsample -> curate split (grouped by near-duplicate clusters) -> finetune minilm -> evalsuite
compare against the linear-probe base. Generation leg: bundled:bbc lead -> headline, LoRA on smollm2,
compared with the untuned model on BLEU/ROUGE/perplexity. `reports/demo/index.html` links every report.

Each stage runs its real command line (the same one a user types), so the demo proves the CLIs compose.
`--quick` shrinks every stage for CI smoke tests.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from rich.console import Console

console = Console()


@dataclass
class DemoSizes:
    tweets: int           # curated tweets kept for the classification leg (stratified sample)
    cls_steps: int
    cls_batch: int
    # validation passes cost forward passes over all val rows: only where the curve needs one
    cls_eval_every: int
    bbc: int              # BBC articles for the generation leg
    sft_steps: int
    sft_batch: int
    sft_eval_every: int
    gen_items: int        # test items generated on, for BLEU/ROUGE
    gen_max_new_tokens: int
    predict_batch: int    # compare's prediction batch (larger batches: less per-call overhead on CPU)


# Why these sizes (see BENCHMARKS.md "demo"): almost all of the time is model compute (py-spy: 89% of the
# MiniLM stage is training steps), so the cuts are in work that buys nothing. Generation stops at 20 new
# tokens: the longest headline in all of bundled:bbc is 18 SmolLM2 tokens, so tokens past 20 can only be
# rambling that no reference matches. The SFT run validates twice, not three times; compare predicts in larger
# batches and applies the LoRA adapter to the base model it already holds (one load, not two); MiniLM
# validates twice, not four times. MiniLM keeps 200 steps x 32: at 200 x 16 the fine-tune beat the probe on
# seed 0 only (seeds 1 and 2: delta CI [-0.016, +0.058] and [-0.011, +0.067]), at 200 x 32 on seeds 1 and 2
# too ([+0.022, +0.092], [+0.017, +0.098]). Halving every stage (`--set tweets=3000 cls_steps=100
# sft_steps=12 gen_items=32`) lost both verdicts on seed 0. `--set NAME=N` changes any size.
# What halved the time without touching a size: the models compute in bf16 where the CPU has bf16
# instructions (`--precision`; common.precision), 1.5-2.5x faster per step here, and every verdict held on
# seeds 0-2 (BENCHMARKS.md "demo").
FULL = DemoSizes(
    tweets=4000,
    cls_steps=200,
    cls_batch=32,
    cls_eval_every=100,
    bbc=600,
    sft_steps=24,
    sft_batch=8,
    sft_eval_every=12,
    gen_items=48,
    gen_max_new_tokens=20,
    predict_batch=32,
)
QUICK = DemoSizes(tweets=600, cls_steps=8, cls_batch=16, cls_eval_every=4, bbc=120, sft_steps=2, sft_batch=4,
                  sft_eval_every=1, gen_items=8, gen_max_new_tokens=20, predict_batch=16)


@dataclass
class Stage:
    name: str
    seconds: float
    ok: bool
    outputs: dict[str, str] = field(default_factory=dict)
    # user + system CPU of the stage's process: steadier than wall time on a busy machine
    cpu_seconds: float = 0.0


def _run(name: str, args: list[str], stages: list[Stage], outputs: dict[str, str] | None = None,
         ok_codes: tuple[int, ...] = (0,)) -> bool:
    console.rule(f"[bold]{name}")
    console.print(f"[dim]$ {' '.join(shlex.quote(a) for a in args)}")
    t0, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    rc = subprocess.call(args, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    dt, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    ok = rc in ok_codes
    cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
    stages.append(Stage(name, dt, ok, outputs or {}, round(cpu, 1)))
    console.print(
        f"[{'green' if ok else 'red'}]{name}: {'done' if ok else f'failed (exit {rc})'} in {dt:.1f}s"
    )
    return ok


def _bin(tool: str) -> list[str]:
    return [sys.executable, "-m", tool]


def _stratified_sample(src: Path, dst: Path, n: int, key: str, seed: int) -> int:
    """Keep the label mix while shrinking the data to what a CPU trains on in a couple of minutes."""
    from curate import load, write_jsonl

    rows = load(src).records
    rng = random.Random(seed)
    by: dict[str, list[dict]] = {}
    for r in rows:
        by.setdefault(str(r.get(key) or r.get("metadata", {}).get(key)), []).append(r)
    total = len(rows)
    picked: list[dict] = []
    for _label, items in sorted(by.items()):
        rng.shuffle(items)
        picked.extend(items[: max(1, round(n * len(items) / total))])
    picked.sort(key=lambda r: str(r["id"]))
    return write_jsonl(picked, dst)


def demo_sizes(quick: bool = False, overrides: dict[str, str] | None = None) -> DemoSizes:
    """FULL or QUICK sizes with `--set name=value` overrides (integers), every problem in one error."""
    from schemas.errors import UsageError

    base = QUICK if quick else FULL
    names = set(base.__dict__)
    problems, values = [], {}
    for k, v in (overrides or {}).items():
        if k not in names:
            problems.append(f"unknown demo size {k!r}")
        elif not str(v).isdigit() or int(v) < 1:
            problems.append(f"{k}={v!r} is not a positive integer")
        else:
            values[k] = int(v)
    if problems:
        raise UsageError(
            "; ".join(problems), fix=f"use --set NAME=N with NAME one of {', '.join(sorted(names))}"
        )
    return replace(base, **values)


def run_demo(out: Path = Path("reports/demo"), quick: bool = False, seed: int = 0,
             overrides: dict[str, str] | None = None, precision: str | None = None) -> int:
    """Run every stage into `out`; the exit code is 0 when every stage's command succeeded.

    `precision` (default: bf16 where the CPU computes it natively, else fp32; `common.precision`) is what
    both fine-tunes and both comparisons compute in; run.json records it.
    """
    # Budgets measured on the 2-core CPU: 200 MiniLM steps (lr 1e-4, balanced class weights, 48 tokens: tweets
    # are short) is what it takes to beat the frozen-encoder probe with a CI that excludes zero; fewer steps
    # or lr 5e-5 lose to it, and the report says so.
    from curate.io.outputs import MARKER, output_dir, write_marker, written_by

    # The demo folder is the demo's own: an earlier demo output there is replaced (anything else is refused).
    # A demo folder from before output folders were marked is recognised by its stages.json and marked first,
    # with what it holds listed as the demo's.
    if out.is_dir() and not (out / MARKER).exists() and (out / "stages.json").is_file():
        write_marker(out, "evalsuite demo")
    from common.precision import fastest_cpu, resolve

    sizes = demo_sizes(quick, overrides)  # checked before the folder is claimed
    precision = resolve(precision or fastest_cpu(), cuda=False)
    with output_dir(out, overwrite=written_by(out) == "evalsuite demo", command="evalsuite demo"):
        return _run_demo(out, quick, seed, sizes, precision)


def _run_demo(out: Path, quick: bool, seed: int, sizes: DemoSizes, precision: str) -> int:
    from curate import write_text

    # what the machine was like, for the README's reference (evalsuite.demo_summary)
    write_text(json.dumps({"seed": seed, "quick": quick, "sizes": sizes.__dict__, "precision": precision,
                           "cpu_count": os.cpu_count(), "load_avg": [os.getloadavg()[0]]}, indent=2),
               out / "run.json")
    stages: list[Stage] = []
    t_start = time.perf_counter()
    curate, finetune, evalsuite = _bin("curate"), _bin("finetune"), _bin("evalsuite")

    # --- classification leg -------------------------------------------------------------------------------
    qa = out / "tweets-qa"
    _run("curate check bundled:tweets", [*curate, "check", "bundled:tweets", "--out", str(qa),
                                         "--json", str(qa / "check.json"), "--fail-on", "never"],
         stages, {"QA report: bundled:tweets": str(qa / "index.html")})
    curated = out / "tweets-curated"
    cfg = out / "curate-tweets.yaml"
    cfg.write_text(f"input:\n  path: bundled:tweets\nout: {curated}\nfail_on: never\n", encoding="utf-8")
    if not _run("curate run (normalize, deduplicate)", [*curate, "run", "--config", str(cfg)], stages,
                {"curation report": str(curated / "index.html")}):
        return _finish(out, stages, t_start)
    curated_file = next((p for p in (curated / "curated.jsonl", curated / "data.jsonl") if p.exists()), None)
    if curated_file is None:
        candidates = sorted(curated.glob("*.jsonl"))
        curated_file = next(
            (p for p in candidates if p.name not in ("quarantine.jsonl", "removed.jsonl")), None
        )
    if curated_file is None:
        console.print("[red]curate run wrote no curated dataset")
        return _finish(out, stages, t_start)
    sample = out / "tweets-sample.jsonl"
    n = _stratified_sample(curated_file, sample, sizes.tweets, "label", seed)
    console.print(f"sampled {n:,} curated tweets (stratified) for a CPU-sized run")
    splits = out / "tweets-splits"
    if not _run("curate split (grouped by near-duplicates)",
                [*curate, "split", str(sample), "--out", str(splits), "--val", "0.1", "--test", "0.15",
                 "--group-by", "near_duplicate", "--seed", str(seed)], stages, {"tweet splits": str(splits)}):
        return _finish(out, stages, t_start)
    tuned = out / "minilm-tweets"
    if _run("finetune minilm (full fine-tune)",
            [*finetune, "run", "--model", "minilm", "--kind", "classification", "--method", "full",
             "--data", str(splits), "--out", str(tuned), "--max-steps", str(sizes.cls_steps),
             "--batch-size", str(sizes.cls_batch), "--max-length", "48", "--lr", "1e-4", "--seed", str(seed),
             "--set", "class_weights=balanced", "--set", f"eval_every={sizes.cls_eval_every}",
             "--precision", precision],
            stages):
        cmp_dir = out / "tweets-compare"
        _run("evalsuite compare (linear probe vs fine-tuned)",
             [*evalsuite, "compare", "--base", "minilm", "--tuned", str(tuned),
              "--data", str(splits / "test.jsonl"), "--train-data", str(splits / "train.jsonl"),
              "--kind", "classification", "--batch-size", str(sizes.predict_batch), "--precision", precision,
              "--out", str(cmp_dir), "--json", str(cmp_dir / "compare.json")],
             stages, {"comparison: MiniLM on tweets": str(cmp_dir / "index.html")})

    # --- generation leg -----------------------------------------------------------------------------------
    bbc = out / "bbc.jsonl"
    _run("curate export bundled:bbc", [*curate, "export", "bundled:bbc", str(bbc)], stages)
    bbc_sample = out / "bbc-sample.jsonl"
    _stratified_sample(bbc, bbc_sample, sizes.bbc, "group", seed)
    bbc_splits = out / "bbc-splits"
    if _run("curate split bundled:bbc",
            [*curate, "split", str(bbc_sample), "--out", str(bbc_splits), "--val", "0.1", "--test", "0.15",
             "--stratify", "group", "--seed", str(seed)],
            stages, {"bbc splits": str(bbc_splits)}):
        lora = out / "smollm2-bbc-lora"
        if _run("finetune smollm2 (LoRA SFT: lead -> headline)",
                [*finetune, "run", "--model", "smollm2", "--kind", "completion", "--method", "lora",
                 "--data", str(bbc_splits), "--out", str(lora), "--max-steps", str(sizes.sft_steps),
                 "--batch-size", str(sizes.sft_batch), "--max-length", "128", "--lr", "2e-4",
                 "--seed", str(seed), "--set", f"eval_every={sizes.sft_eval_every}",
                 "--precision", precision], stages):
            gen_dir = out / "bbc-compare"
            _run("evalsuite compare (untuned vs LoRA)",
                 [*evalsuite, "compare", "--base", "smollm2", "--tuned", str(lora),
                  "--data", str(bbc_splits / "test.jsonl"), "--kind", "completion",
                  "--sample", str(sizes.gen_items), "--max-new-tokens", str(sizes.gen_max_new_tokens),
                  "--batch-size", str(sizes.predict_batch // 2), "--precision", precision,
                  "--out", str(gen_dir),
                  "--json", str(gen_dir / "compare.json")],
                 stages, {"comparison: SmolLM2 headlines": str(gen_dir / "index.html")})
    return _finish(out, stages, t_start)


HEADLINE_METRICS = ("f1_macro", "accuracy", "rougeL", "bleu", "perplexity")


def _headline(report_html: Path) -> str:
    """The key metrics of a comparison (from the compare.json beside its report), or the QA report's note."""
    result = report_html.parent / "compare.json"
    if not result.exists():
        return "data-QA findings per check (see the report)"
    metrics = json.loads(result.read_text(encoding="utf-8")).get("metrics", {})
    parts = []
    for name in HEADLINE_METRICS:
        m = metrics.get(name)
        if m and m.get("base") is not None and m.get("delta_ci"):
            lo, hi = m["delta_ci"]
            parts.append(
                f"{name} {m['base']:.3g} -> {m['value']:.3g} [{lo:+.3g}, {hi:+.3g}] {m.get('status', '')}"
            )
    return "; ".join(parts) or "see the report"


STATUS_ORDER = ("pass", "not_applicable", "warn", "not_run", "fail", "error")


def stage_outcome(stage: Stage) -> tuple[str, str]:
    """(status, what it concluded) of one stage: the verdict of the report it wrote (report.json beside its
    index.html), else the warnings of a split manifest, else whether the command succeeded.

    A comparison that regressed is `fail` and one that is inconclusive `warn`, though both commands exit 0:
    the index must not show a green pass for a model that got worse.
    """
    if not stage.ok:
        return "error", "the command failed (see the terminal output)"
    for p in stage.outputs.values():
        rj = Path(p).parent / "report.json"
        if rj.is_file():
            try:
                v = json.loads(rj.read_text(encoding="utf-8")).get("verdict")
            except (OSError, json.JSONDecodeError):
                v = None
            if v:
                return v["status"], f"{v['outcome']}: {v['headline']}"
    for p in stage.outputs.values():
        mf = Path(p) / "manifest.json"
        if mf.is_file():
            try:
                warnings = json.loads(mf.read_text(encoding="utf-8")).get("warnings") or []
            except (OSError, json.JSONDecodeError):
                warnings = []
            if warnings:
                return "warn", "; ".join(warnings)
    return "pass", "done"


def _finish(out: Path, stages: list[Stage], t_start: float) -> int:
    from common.render import write_report
    from curate import write_text
    from schemas.report import Report, Section, TableBlock, Verdict

    total = time.perf_counter() - t_start
    links = {label: os.path.relpath(p, out) for s in stages for label, p in s.outputs.items()
             if Path(p).exists() and Path(p).suffix == ".html"}
    outcomes = [stage_outcome(s) for s in stages]
    rows = [[s.name, st, what, f"{s.seconds:.1f}"] for s, (st, what) in zip(stages, outcomes, strict=True)]
    worst = max((st for st, _ in outcomes), key=STATUS_ORDER.index, default="not_run")
    flagged = [
        f"{s.name}: {st}: {what}" for s, (st, what) in zip(stages, outcomes, strict=True) if st != "pass"
    ]
    n_ok = sum(s.ok for s in stages)
    verdict = Verdict(
        status=worst, outcome={"pass": "all pass", "warn": "warnings", "fail": "failures",
                               "error": "stage failed"}.get(worst, worst),
        headline=(f"{n_ok}/{len(stages)} stages ran; " + (f"{len(flagged)} concluded other than pass"
                                                          if flagged else "every stage passed")),
        reasons=flagged or [f"{s.name}: {what}" for s, (_, what) in zip(stages, outcomes, strict=True)])
    report = Report(
        title="datavet demo",
        kind="index",
        verdict=verdict,
        subtitle=f"{n_ok}/{len(stages)} stages succeeded in {total:.0f}s",
        summary=TableBlock(
            columns=["stage", "outcome", "what it concluded", "seconds"],
            rows=rows,
            status_column="outcome",
            page_size=None,
        ),
        sections=[
            Section(
                id="reports",
                title="Reports",
                blocks=[
                    TableBlock(
                        columns=[
                            "report",
                            "headline result (tuned vs base, 95% paired-bootstrap CI of the delta)",
                        ],
                        rows=[[k, _headline(out / v)] for k, v in links.items()],
                        page_size=None,
                    )
                ],
            )
        ],
        links=links,
    )
    for p in sorted(Path("reports/ablate").glob("**/report/index.html"), key=os.path.getmtime)[-1:]:
        report.links["last ablation (evalsuite ablate)"] = os.path.relpath(p, out)
    paths = write_report(report, out)
    write_text(json.dumps([s.__dict__ for s in stages], indent=2), out / "stages.json")
    run_info = (
        json.loads((out / "run.json").read_text(encoding="utf-8")) if (out / "run.json").exists() else {}
    )
    run_info.update(load_avg=[*run_info.get("load_avg", [])[:1], os.getloadavg()[0]], total_s=round(total, 1))
    write_text(json.dumps(run_info, indent=2), out / "run.json")
    console.rule("[bold]demo finished")
    console.print(f"{sum(s.ok for s in stages)}/{len(stages)} stages succeeded in {total:.0f}s")
    console.print(f"[bold]Open {paths['html'] if 'html' in paths else out / 'index.html'}")
    return 0 if all(s.ok for s in stages) else 1
