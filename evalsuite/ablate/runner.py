"""Train and predict every variant x seed with `finetune run`, resumably, then hand the predictions to the
report.

Every run gets the same `train` section, `max_steps` and val file; only the training file and seed change.
A run folder holding `summary.json` (written by the trainer last) is finished and never retrained; one holding
`predictions.jsonl` too is not re-predicted. An interrupted run with a checkpoint resumes from it.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas.configs.ablate import AblateConfig


@dataclass
class AblationResult:
    """What an ablation produced: predictions per variant and seed, the runs trained now, the report paths."""

    out: Path
    refs: list[str]
    predictions: dict[str, dict[int, list[str]]]
    trained: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    comparisons: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    paths: dict[str, Path] = field(default_factory=dict)
    wall_s: float = 0.0


def _say(msg: str) -> None:
    print(f"ablate: {msg}", file=sys.stderr, flush=True)


def train_config(cfg: AblateConfig, train: Path, val: Path, out: Path, seed: int) -> Any:
    """The `finetune run` config of one variant x seed: the shared budget, this run's data, out and seed."""
    from schemas.configs.base import apply_overrides, validate_config
    from schemas.configs.train import TrainConfig

    body = apply_overrides(
        cfg.train,
        {
            "kind": "classification",
            "data.train": str(train),
            "data.val": str(val),
            "out": str(out),
            "seed": seed,
            "max_steps": cfg.max_steps,
            "progress": False,
            "early_stopping.patience": None,
        },
    )
    resume = (out / "checkpoint").is_dir()
    return validate_config(TrainConfig, {**body, "resume": resume}, "train section of the ablation config")


def train_and_predict(cfg: AblateConfig, train: Path, val: Path, test_texts: list[str], out: Path,
                      seed: int) -> tuple[list[str], bool]:
    """Predictions of one variant x seed on the test texts; trains only when `out/summary.json` is missing.

    Returns:
        (predictions, whether it trained now).
    """
    from common.precision import autocast, for_cpu_inference
    from evalsuite.predict import predict_classifier
    from finetune.models import load_for_inference
    from finetune.train import run
    from schemas.configs.train import TrainResult

    preds_file = out / "predictions.jsonl"
    summary = out / "summary.json"
    trained = False
    tcfg = train_config(cfg, train, val, out, seed)
    _check_fingerprint(out, tcfg, train, val)
    if summary.is_file():
        result = TrainResult.model_validate_json(summary.read_text(encoding="utf-8"))
    else:
        result = run(tcfg)
        trained = True
    if preds_file.is_file() and not trained:
        preds = [
            json.loads(line)["prediction"]
            for line in preds_file.read_text(encoding="utf-8").splitlines()
            if line
        ]
        if len(preds) == len(test_texts):
            return preds, False
    model, tok = load_for_inference(result.model_path, "classification")
    with autocast(for_cpu_inference(result.precision)):  # the test set as it trained, where the CPU can
        preds = predict_classifier(model, tok, test_texts, batch_size=64, max_length=tcfg.max_length)
    from curate.io import write_jsonl

    write_jsonl([{"i": i, "prediction": p} for i, p in enumerate(preds)], preds_file)
    return preds, trained


def _check_fingerprint(out: Path, tcfg: Any, train: Path, val: Path) -> None:
    """Refuse to reuse a run folder made from other data or another training config; record it otherwise."""
    from curate.io import write_json
    from schemas.errors import UsageError
    from schemas.manifest import sha256_path

    fp = {"train_sha256": sha256_path(train), "val_sha256": sha256_path(val),
          "config": tcfg.model_dump(mode="json", exclude={"resume", "progress"})}
    f = out / "ablate_run.json"
    if f.is_file():
        old = json.loads(f.read_text(encoding="utf-8"))
        if old != json.loads(json.dumps(fp)):
            changed = sorted(k for k in fp if old.get(k) != json.loads(json.dumps(fp[k])))
            raise UsageError(f"{out} holds a run made with other {', '.join(changed)}; it cannot be resumed",
                             fix="use another --out for a changed ablation config, or delete that run folder")
        return
    out.mkdir(parents=True, exist_ok=True)
    write_json(fp, f)


def run_ablation(cfg: AblateConfig) -> AblationResult:
    """Build the variants, train and predict each variant x seed (resuming finished runs), write the report.

    Raises:
        UsageError: bad data or sizes (from `variants.build_data`).
        ConfigError: an invalid curate or train section.
    """
    import yaml

    from common.render import write_report
    from curate.io import atomic_text, write_json
    from evalsuite.ablate.report import build_report, compare_variants
    from evalsuite.ablate.variants import _read, build_data
    from schemas.manifest import RunManifest

    t0 = time.perf_counter()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_text(out / "config.yaml") as fh:
        yaml.safe_dump(cfg.model_dump(mode="json"), fh, sort_keys=False, allow_unicode=True)
    data = build_data(cfg, out / "data", log=_say)
    test = _read(data.test)
    texts, refs = [r["text"] for r in test], [str(r["label"]) for r in test]
    # seed-major: an interrupted ablation has compared every variant on the first seeds before the later ones
    runs = [(v, s) for s in cfg.seeds for v in data.variants if v.train]
    res = AblationResult(out=out, refs=refs, predictions={})
    for k, (v, seed) in enumerate(runs, 1):
        run_dir = out / "runs" / v.name / f"seed-{seed}"
        done = (run_dir / "summary.json").is_file()
        _say(f"[{k}/{len(runs)}] {v.name} seed {seed}: " + ("finished earlier, reusing" if done else
             f"training on {v.rows} rows, {cfg.max_steps} steps"))
        t1 = time.perf_counter()
        preds, trained = train_and_predict(cfg, v.path, data.val, texts, run_dir, seed)
        res.predictions.setdefault(v.name, {})[seed] = preds
        (res.trained if trained else res.reused).append(f"{v.name}/seed-{seed}")
        acc = sum(p == r for p, r in zip(preds, refs, strict=True)) / len(refs)
        _say(
            f"[{k}/{len(runs)}] {v.name} seed {seed}: done in {time.perf_counter() - t1:.0f}s, "
            f"test accuracy {acc:.3f}"
        )
    res.comparisons, res.steps = compare_variants(data, res.predictions, refs, cfg)
    res.wall_s = round(time.perf_counter() - t0, 1)
    manifest = RunManifest.create(
        "evalsuite ablate",
        inputs={cfg.data: _input_file(cfg.data)},
        config=cfg.model_dump(mode="json"),
        seed=cfg.seed,
        extra={
            "variants": [v.to_json() for v in data.variants],
            "heldout": data.heldout,
            "steps": data.steps,
            "trained_now": res.trained,
            "reused": res.reused,
            "wall_s": res.wall_s,
        },
    )
    write_json(manifest, out / "manifest.json")
    report = build_report(data, res, cfg, manifest=manifest.model_dump(mode="json"))
    res.paths = write_report(report, out / "report")
    (out / "result.json").write_text(
        json.dumps(
            {
                "comparisons": res.comparisons,
                "steps": res.steps,
                "variants": [v.to_json() for v in data.variants],
                "heldout": data.heldout,
                "wall_s": res.wall_s,
            },
            indent=1,
            default=str,
        )
    )
    return res


def _input_file(path: str) -> str:
    if path.startswith("bundled:"):
        from curate.io.bundled import bundled_path

        return str(bundled_path(path.split(":", 1)[1]))
    return path
