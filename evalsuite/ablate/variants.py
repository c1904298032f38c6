"""Build the ablation's data: a held-out val/test set and one training file per variant.

1. The raw data is loaded with curate's loader and shuffled with `cfg.seed`; the first `test_size + val_size`
   rows are held out, the next `train_size` (or all the rest) are the raw training pool.
2. Each curated variant is a `curate run` (`curate.pipeline.run_pipeline`) of the raw pool with the ablation's
   curate config, one step switched off for a leave-one-out variant. Label issues (ids from `evalsuite cv`'s
   label_issues.json) are removed after curation, as the last step.
3. A random twin removes from the leave-one-out variant as many seeded random rows as the step removed, so
   "removing rows helped" can be told apart from "removing these rows helped".
4. The held-out rows go through the full curation too (normalized, deduplicated, masked), then every row
   that is
   an exact or near duplicate (curate's MinHash dedup, the curate config's threshold) of any row of any
   variant's training file is dropped; the rest is split into val (first `val_size`) and test.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas.configs.ablate import STEPS, AblateConfig
from schemas.configs.base import apply_overrides, validate_config
from schemas.configs.curate import CurateConfig

# How each step is switched off in a `curate run` config (label_issues is applied by the ablation itself).
STEP_SWITCH: dict[str, dict[str, Any]] = {
    "exact_duplicate": {"remove.exact_duplicates": False},
    "near_duplicate": {"remove.near_duplicates": False},
    "conflicting_labels": {"remove.conflicting_labels": False},
    "mojibake": {"normalize.fix_mojibake": False},
    "pii": {"mask_pii": False},
}
# Steps that change text rather than remove rows: they have no random-removal twin.
MODIFYING = ("mojibake", "pii")


@dataclass
class Variant:
    """One training set: its name, file, row count and how it was made."""

    name: str
    path: Path
    rows: int
    description: str
    step: str | None = None
    role: str = "curated"  # raw | curated | minus | random
    train: bool = True
    removed_by_reason: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": str(self.path),
            "rows": self.rows,
            "description": self.description,
            "step": self.step,
            "role": self.role,
            "train": self.train,
            "removed_by_reason": self.removed_by_reason,
        }


@dataclass
class AblationData:
    """The held-out sets and the variants."""

    test: Path
    val: Path
    variants: list[Variant]
    heldout: dict[str, int]
    steps: dict[str, dict[str, Any]]


def active_steps(cfg: AblateConfig, ccfg: CurateConfig) -> list[str]:
    """Steps the full curation performs (or those named in `cfg.steps`)."""
    on = {"exact_duplicate": ccfg.remove.exact_duplicates, "near_duplicate": ccfg.remove.near_duplicates,
          "conflicting_labels": ccfg.remove.conflicting_labels, "label_issues": cfg.label_issues is not None,
          "mojibake": ccfg.normalize.fix_mojibake, "pii": ccfg.mask_pii}
    return [s for s in (STEPS if cfg.steps is None else cfg.steps) if on[s]]


def curate_config(cfg: AblateConfig, input_path: Path, out: Path, without: str | None = None) -> CurateConfig:
    """The ablation's curate config on `input_path`, writing to `out`, with step `without` switched off."""
    body = apply_overrides(cfg.curate, {"input": {"path": str(input_path), "kind": cfg.kind}, "out": str(out),
                                        "report": False, "fail_on": "never", "split": None,
                                        "out_format": "jsonl"})
    body = apply_overrides(body, STEP_SWITCH.get(without or "", {}))
    return validate_config(CurateConfig, body, "curate section of the ablation config")


def _read(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _train_rows(r: dict[str, Any]) -> dict[str, Any]:
    return {k: r[k] for k in ("id", "text", "label") if k in r}


def _label_issue_ids(path: str | None) -> set[str]:
    if not path:
        return set()
    from schemas.errors import UsageError

    p = Path(path)
    if not p.is_file():
        raise UsageError(f"label_issues file {p} does not exist",
                         fix="pass the label_issues.json written by `evalsuite cv`, or drop label_issues")
    return {str(f["id"]) for f in json.loads(p.read_text(encoding="utf-8")).get("findings", [])}


def _curated(cfg: AblateConfig, raw: Path, work: Path, name: str, without: str | None,
             issues: set[str]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    from curate.pipeline import run_pipeline

    ccfg = curate_config(cfg, raw, work / "curate" / name, without)
    res = run_pipeline(ccfg, command="evalsuite ablate (curate run)")
    rows = [_train_rows(r) for r in _read(Path(ccfg.out) / "curated.jsonl")]
    by_reason = dict(res.removed_by_reason)
    if res.pii_masked:
        by_reason["pii_masked"] = res.pii_masked
    if issues and without != "label_issues":
        kept = [r for r in rows if str(r["id"]) not in issues]
        if len(kept) != len(rows):
            by_reason["label_issues"] = len(rows) - len(kept)
        rows = kept
    return rows, by_reason


def _write(rows: list[dict[str, Any]], path: Path) -> Path:
    from curate.io import write_jsonl

    path.parent.mkdir(parents=True, exist_ok=True)
    write_jsonl(rows, path)
    return path


def _random_drop(rows: list[dict[str, Any]], k: int, seed: int) -> list[dict[str, Any]]:
    drop = set(random.Random(seed).sample(range(len(rows)), k))
    return [r for i, r in enumerate(rows) if i not in drop]


def build_data(cfg: AblateConfig, work: Path, log: Any = None) -> AblationData:
    """Write the held-out sets and every variant's training file under `work`; return what was built.

    Deterministic in `cfg`, so a resumed ablation rebuilds exactly the same files.
    """
    from curate import load
    from schemas.errors import UsageError

    say = log or (lambda msg: None)
    key = cfg.model_dump(
        mode="json",
        include={
            "data",
            "kind",
            "train_size",
            "test_size",
            "val_size",
            "curate",
            "label_issues",
            "steps",
            "random_twins",
            "seed",
        },
    )
    cached = _cached(work, key)
    if cached is not None:
        say("data variants and held-out sets built earlier with the same settings: reusing them")
        return cached
    data = load(cfg.data, kind=cfg.kind)
    records = [_train_rows(r) for r in data.records]
    need = cfg.test_size + cfg.val_size + 2
    if len(records) < need:
        raise UsageError(f"{cfg.data} has {len(records)} usable rows; the ablation needs at least {need} "
                         f"(test_size {cfg.test_size} + val_size {cfg.val_size} + 2 training rows)",
                         fix="lower test_size/val_size, or use a larger dataset")
    order = list(range(len(records)))
    random.Random(cfg.seed).shuffle(order)
    n_held = cfg.test_size + cfg.val_size
    held = [records[i] for i in order[:n_held]]
    pool = [records[i] for i in order[n_held:]]
    if cfg.train_size:
        pool = pool[: cfg.train_size]
    raw = _write(pool, work / "variants" / "raw" / "train.jsonl")
    variants = [Variant("raw", raw, len(pool), "the raw training pool, uncurated", role="raw")]
    issues = _label_issue_ids(cfg.label_issues)
    ccfg = curate_config(cfg, raw, work / "curate" / "curated")
    steps = active_steps(cfg, ccfg)
    say(f"curating the training pool ({len(pool)} rows; steps: {', '.join(steps) or 'none'})")
    curated_rows, by_reason = _curated(cfg, raw, work, "curated", None, issues)
    curated_ids = [str(r["id"]) for r in curated_rows]
    variants.append(Variant("curated", _write(curated_rows, work / "variants" / "curated" / "train.jsonl"),
                            len(curated_rows), "every curation step", removed_by_reason=by_reason))
    k_all = len(pool) - len(curated_rows)
    if cfg.random_twins and k_all > 0:
        rows = _random_drop(pool, k_all, cfg.seed + 1)
        variants.append(
            Variant(
                "random_curated",
                _write(rows, work / "variants" / "random_curated" / "train.jsonl"),
                len(rows),
                f"raw minus {k_all} random rows (as many as curation removed)",
                role="random",
            )
        )
    step_info: dict[str, dict[str, Any]] = {}
    for j, step in enumerate(steps):
        say(f"curating without {step}")
        rows, reasons = _curated(cfg, raw, work, f"minus_{step}", step, issues)
        removed = len(rows) - len(curated_rows)
        changed_text = sum(
            1 for a, b in zip(rows, curated_rows, strict=False) if a.get("text") != b.get("text")
        )
        same = removed == 0 and [str(r["id"]) for r in rows] == curated_ids and changed_text == 0
        info = {
            "rows_removed": removed,
            "rows_changed": changed_text if removed == 0 else None,
            "identical": same,
        }
        step_info[step] = info
        name = f"minus_{step}"
        variants.append(Variant(name, _write(rows, work / "variants" / name / "train.jsonl"), len(rows),
                                f"every step but {step}", step=step, role="minus", train=not same,
                                removed_by_reason=reasons))
        if cfg.random_twins and step not in MODIFYING and removed > 0:
            twin = _random_drop(rows, removed, cfg.seed + 100 + j)
            tname = f"random_{step}"
            variants.append(Variant(tname, _write(twin, work / "variants" / tname / "train.jsonl"), len(twin),
                                    f"every step but {step}, then {removed} random rows removed", step=step,
                                    role="random"))
    test, val, heldout = _heldout(cfg, held, [v for v in variants if v.train], work, say)
    built = AblationData(test=test, val=val, variants=variants, heldout=heldout, steps=step_info)
    from curate.io import write_json

    write_json({"key": key, "test": str(test), "val": str(val), "variants": [v.to_json() for v in variants],
                "heldout": heldout, "steps": step_info}, work / "data.json")
    return built


def _cached(work: Path, key: dict[str, Any]) -> AblationData | None:
    """The AblationData recorded in `work/data.json` when it was built with the same settings and its
    files exist."""
    f = work / "data.json"
    if not f.is_file():
        return None
    d = json.loads(f.read_text(encoding="utf-8"))
    if d.get("key") != key:
        return None
    variants = [Variant(**{**v, "path": Path(v["path"])}) for v in d["variants"]]
    paths = [Path(d["test"]), Path(d["val"]), *(v.path for v in variants)]
    if not all(p.is_file() for p in paths):
        return None
    return AblationData(test=Path(d["test"]), val=Path(d["val"]), variants=variants, heldout=d["heldout"],
                        steps=d["steps"])


def _heldout(cfg: AblateConfig, held: list[dict[str, Any]], variants: list[Variant], work: Path,
             say: Any) -> tuple[Path, Path, dict[str, int]]:
    """Curate the held-out rows, drop those duplicating any variant's training row, split val/test."""
    from curate.dedup import DEFAULT_THRESHOLD, near_duplicates
    from curate.normalize import normalize_many
    from curate.pipeline import run_pipeline
    from schemas.configs.curate import NormalizeConfig
    from schemas.errors import UsageError

    src = _write(held, work / "heldout" / "heldout_raw.jsonl")
    ccfg = curate_config(cfg, src, work / "heldout" / "curated")
    run_pipeline(ccfg, command="evalsuite ablate (curate run, held-out rows)")
    rows = [_train_rows(r) for r in _read(Path(ccfg.out) / "curated.jsonl")]
    train_texts: list[str] = []
    for v in variants:
        train_texts += [r["text"] for r in _read(v.path)]
    train_texts = list(dict.fromkeys(train_texts))
    # compare on one normalization (full curate normalization, lowercased) so a raw-text twin still matches
    norm = NormalizeConfig(**{**ccfg.normalize.model_dump(), "lowercase": True})
    t_train = [t for t, _ in normalize_many(train_texts, norm)]
    t_held = [t for t, _ in normalize_many([r["text"] for r in rows], norm)]
    exact = set(t_train)
    threshold = float(ccfg.checks.get("near_duplicate", {}).get("threshold", DEFAULT_THRESHOLD))
    nd = near_duplicates(t_train + t_held, threshold=threshold, seed=cfg.seed)
    cluster = nd.cluster.tolist()
    train_clusters = set(cluster[: len(t_train)])
    n = len(t_train)
    keep, n_exact, n_near = [], 0, 0
    for i, r in enumerate(rows):
        if t_held[i] in exact:
            n_exact += 1
        elif cluster[n + i] in train_clusters:
            n_near += 1
        else:
            keep.append(r)
    if len(keep) < cfg.val_size + 10:
        raise UsageError(f"only {len(keep)} held-out rows are left after curation and dedup against training",
                         fix="raise test_size, or lower val_size")
    val, test = keep[: cfg.val_size], keep[cfg.val_size:]
    say(
        f"held out {len(held)} rows: {len(rows)} after curation, "
        f"{n_exact} exact and {n_near} near duplicates of "
        f"training rows dropped; val {len(val)}, test {len(test)}"
    )
    return (_write(test, work / "test.jsonl"), _write(val, work / "val.jsonl"),
            {"held_out": len(held), "after_curation": len(rows), "exact_duplicates_of_training": n_exact,
             "near_duplicates_of_training": n_near, "val": len(val), "test": len(test)})
