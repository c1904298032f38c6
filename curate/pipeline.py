"""`curate run` as a function: load, normalize, check, remove, mask, write, (split), gate.

Outputs under `cfg.out`: the curated dataset (`curated.jsonl`, `.parquet` or an `hf` folder `curated/`),
`quarantine.jsonl`, `removed.jsonl` (each removed row with its `reason` and the id it duplicates),
`checks.json` (the CheckReport), `manifest.json`, `config.yaml` (resolved), the QA report, `README.md` (a
dataset card) and `splits/` when `split` is set. Each file is written through curate.io's atomic writers.
Invariant (checked, printed): rows read = kept + quarantined + removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curate.errors import CurateError
from schemas.configs.curate import CurateConfig
from schemas.records import map_message_text
from schemas.results import CheckReport

# Removal reasons in priority order: a row is removed for the first that applies.
REMOVAL_ORDER = ("empty", "exact_duplicate", "near_duplicate", "semantic_duplicate", "conflicting_labels")


@dataclass
class PipelineResult:
    """What `run_pipeline` did. `rows_read == kept + quarantined + removed` always holds."""

    out: Path
    report: CheckReport
    rows_read: int
    kept: int
    quarantined: int
    removed: int
    removed_by_reason: dict[str, int]
    pii_masked: int
    gate_failed: bool
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    verdict: Any = None  # schemas.report.Verdict: what the report's banner says


def select_checks(cfg: CurateConfig) -> list[str]:
    """The checks `cfg` runs (the suite runner's selection: defaults, plus `enable` and those given
    parameters, minus `disable`); raises the same ConfigError as `curate check` on a bad selection."""
    from curate.runner import build_checks

    return [c.name for c in build_checks(dict(cfg.checks), enable=cfg.enable, disable=cfg.disable)]


def _removals(
    report: CheckReport, cfg: CurateConfig, ids: list[str], texts: list[str]
) -> dict[str, dict[str, Any]]:
    """row id -> {reason, duplicate_of?} for every row to remove, by REMOVAL_ORDER."""
    wanted = {"exact_duplicate": cfg.remove.exact_duplicates, "near_duplicate": cfg.remove.near_duplicates,
              "semantic_duplicate": cfg.remove.semantic_duplicates,
              "conflicting_labels": cfg.remove.conflicting_labels}
    by_check = {c.name: c for c in report.checks}
    out: dict[str, dict[str, Any]] = {}
    if cfg.remove.empty:
        for rid, t in zip(ids, texts, strict=False):
            if not t.strip():
                out[rid] = {"reason": "empty"}
    for name in REMOVAL_ORDER[1:]:
        if not wanted[name] or name not in by_check:
            continue
        for f in by_check[name].findings:
            if f.id in out:
                continue
            entry = removal_entry(name, f)
            if entry is not None:
                out[f.id] = entry
    return out


def removal_entry(name: str, f: Any) -> dict[str, Any] | None:
    """The removed.jsonl entry that finding `f` of check `name` asks for, or None when it removes nothing
    (another check's reason, or a conflicting label that carries its group's majority). Shared with the Ray
    engine."""
    extra = f.model_extra or {}
    if f.reason != name or (name == "conflicting_labels" and extra.get("likely_error") is False):
        return None
    entry: dict[str, Any] = {"reason": name}
    for k in ("duplicate_of", "cluster", "jaccard", "cosine", "conflicts_with", "majority_label"):
        if k in extra:
            entry[k] = extra[k]
    return entry


def _mask(records: list[dict[str, Any]], kind: str) -> int:
    """Mask PII in the kept records in place (curate.checks.pii); returns the number of masks applied."""
    from curate.checks.pii import mask_pii

    def mask_one(text: str) -> tuple[str, list[int]]:
        masked, count = mask_pii(text)
        return masked, [count]

    n = 0
    for r in records:
        if kind == "chat":
            msgs = []
            for m in r["messages"]:
                masked_msg, counts = map_message_text(m, mask_one)
                n += sum(counts)
                msgs.append(masked_msg if sum(counts) else m)
            r["messages"] = msgs
            continue
        for f in ("text",) if kind in ("classification", "text") else ("prompt", "completion"):
            t, k = mask_pii(r[f])
            if k:
                r[f] = t
                n += k
    return n


def run_pipeline(cfg: CurateConfig, command: str = "curate run", config_dir: Path | None = None, *,
                 overwrite: bool = False) -> PipelineResult:
    """Run the whole curation described by `cfg` and write its outputs under `cfg.out`.

    `config_dir` is the config file's folder: a relative `expectations:` path is looked up there too.
    `cfg.out` is claimed first (`curate.io.output_dir`): it must be new, empty, or (with `overwrite`) an
    earlier datavet output, and it stays locked for the run, so a second run into it fails at once.

    Raises:
        ConfigError: unknown check names or an invalid split section.
        OutputError: `cfg.out` may not be written, or another run is writing it.
        CurateError: the row-count invariant fails (a bug, reported rather than hidden).
    """
    from curate.io import output_dir
    from curate.io.load import gc_paused

    select_checks(cfg)  # a config mistake is reported before the output folder is touched
    # gc_paused: millions of cycle-free records; the collector would only re-scan them
    with output_dir(cfg.out, overwrite=overwrite, command="curate run"), gc_paused():
        return _run_pipeline(cfg, command, config_dir)


def _run_pipeline(cfg: CurateConfig, command: str, config_dir: Path | None) -> PipelineResult:
    import yaml

    from curate.io import atomic_text, write_json, write_jsonl, write_records
    from curate.runner import gate_fails, run_suite

    # the same suite runner as `curate check` (load -> normalize -> checks -> report); `run` adds removal,
    # masking, the split and the outputs on top
    outcome = run_suite(cfg, config_dir=config_dir)
    data, ctx, report = outcome.data, outcome.ctx, outcome.report
    names = [c.name for c in report.checks if c.name != "label_issues"]
    kind = str(getattr(data.kind, "value", data.kind))

    removed_map = _removals(report, cfg, ctx.ids, ctx.texts)
    # copies only when masking mutates them: at 1M rows a copy of every record costs ~300 MB
    kept = [dict(r) if cfg.mask_pii else r for r in ctx.data.records if r["id"] not in removed_map]
    removed_rows = [{"id": r["id"], **removed_map[r["id"]], "record": r} for r in ctx.data.records
                    if r["id"] in removed_map]
    notes: list[str] = []
    masked = 0
    if cfg.mask_pii:
        masked = _mask(kept, kind)

    rows_read = data.summary.rows_read
    quarantined = len(data.quarantine)
    if rows_read != len(kept) + quarantined + len(removed_rows):
        raise CurateError(f"row accounting failed: read {rows_read} != kept {len(kept)} + quarantined "
                          f"{quarantined} + removed {len(removed_rows)}",
                          fix="report this as a bug with the input file; duplicate row ids can cause it")

    out = Path(cfg.out)
    files = []
    target = out / ("curated" if cfg.out_format == "hf" else f"curated.{cfg.out_format}")
    write_records(kept, target, cfg.out_format)
    files.append(target.name)
    write_jsonl(data.quarantine, out / "quarantine.jsonl")
    write_jsonl(removed_rows, out / "removed.jsonl")
    write_json(report, out / "checks.json")
    files += ["quarantine.jsonl", "removed.jsonl", "checks.json"]
    with atomic_text(out / "config.yaml") as fh:
        yaml.safe_dump(cfg.model_dump(mode="json"), fh, sort_keys=False, allow_unicode=True)
    files.append("config.yaml")

    if cfg.split:
        from curate.split import split_records, write_splits

        # the duplicate key of the run groups the split too, unless the split section names its own
        scfg = cfg.split if "dedup_key" in cfg.split.model_fields_set else cfg.split.model_copy(
            update={"dedup_key": cfg.dedup_key})
        write_splits(split_records(kept, scfg, kind=data.kind), out / "splits")
        files.append("splits/")
    from curate.report import qa_verdict, write_qa_report

    by_reason_now: dict[str, int] = {}
    for r in removed_rows:
        by_reason_now[r["reason"]] = by_reason_now.get(r["reason"], 0) + 1
    run = {
        "rows_read": rows_read,
        "kept": len(kept),
        "removed": len(removed_rows),
        "quarantined": quarantined,
        "removed_by_reason": by_reason_now,
        "files": {
            "kept": str(target.name) + (" (and splits/)" if cfg.split else ""),
            "removed": "removed.jsonl",
            "quarantined": "quarantine.jsonl",
        },
    }
    if cfg.report:
        # checks.json is already written above
        write_qa_report(report, ctx, out, write_contract=False, removed=removed_rows,
                        fail_on=cfg.fail_on, run=run)
        files.append("report")

    by_reason: dict[str, int] = {}
    for r in removed_rows:
        by_reason[r["reason"]] = by_reason.get(r["reason"], 0) + 1
    write_run_manifest(out, cfg, command, rows_read=rows_read, kept=len(kept), quarantined=quarantined,
                       removed=len(removed_rows), removed_by_reason=by_reason, pii_masked=masked,
                       checks=names, notes=notes)
    files.append("manifest.json")
    _write_card(out, cfg, data, kept, by_reason, names, target.name)
    files.append("README.md")
    return PipelineResult(
        out=out,
        report=report,
        rows_read=rows_read,
        kept=len(kept),
        quarantined=quarantined,
        removed=len(removed_rows),
        removed_by_reason=by_reason,
        pii_masked=masked,
        gate_failed=gate_fails(report, cfg.fail_on),
        files=files,
        notes=notes,
        verdict=qa_verdict(report, cfg.fail_on, run),
    )


def write_run_manifest(out: Path, cfg: CurateConfig, command: str, **extra: Any) -> None:
    """manifest.json of a `curate run` output folder: the command, the inputs' hashes, the resolved config,
    the seed and `extra` (the row accounting). Shared with the Ray engine, which adds its own keys."""
    from curate.io import write_json
    from schemas.manifest import RunManifest

    inputs = {p: _hashable_path(p) for p in [cfg.input.path] + ([cfg.against] if cfg.against else [])}
    manifest = RunManifest.create(command, inputs=inputs, config=cfg.model_dump(mode="json"), seed=cfg.seed,
                                  extra=extra)
    write_json(manifest, out / "manifest.json")


def _write_card(
    out: Path,
    cfg: CurateConfig,
    data: Any,
    kept: list[dict[str, Any]],
    by_reason: dict[str, int],
    checks: list[str],
    data_file: str,
) -> None:
    """README.md: the Hugging Face dataset card of the output folder (curate.card)."""
    import json

    from curate.card import curated_card_text, write_card

    split_files = None
    split_manifest = out / "splits" / "manifest.json"
    if cfg.split and split_manifest.is_file():
        split_files = {k: v["rows"] for k, v in json.loads(split_manifest.read_text())["splits"].items()}
    s = data.summary
    write_card(
        out / "README.md",
        curated_card_text(
            source=cfg.input.path,
            kind=s.kind,
            rows_read=s.rows_read,
            kept=len(kept),
            quarantined=s.rows_quarantined,
            quarantine_reasons=s.quarantine_reasons,
            removed_by_reason=by_reason,
            data_file=data_file,
            records=kept[:1],
            checks=checks,
            split_files=split_files,
        ),
    )


def _hashable_path(path: str) -> str:
    """The file behind an input: `bundled:NAME` hashes the file or folder inside its package."""
    if path.startswith("bundled:"):
        from curate.io.bundled import bundled_path

        return str(bundled_path(path.split(":", 1)[1]))
    return path
