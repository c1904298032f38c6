"""`curate run --engine ray`: the local pipeline's stages as Ray Data work (see the package docstring)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from curate.errors import ConfigError, CurateError
from curate.subset import describe
from schemas.configs.curate import CurateConfig


def _unsupported(cfg: CurateConfig, names: list[str], kind: str, checks: dict, mapping: dict) -> list[str]:
    """Checks that would do work this engine does not distribute yet (they need the local engine)."""
    from curate.engines.ray.expect import not_row_wise

    bad = []
    if "expectations" in names and getattr(checks["expectations"], "specs", None):
        whole = not_row_wise(checks["expectations"].specs, kind, mapping)
        if whole:
            bad.append(f"expectations (not row-wise: {', '.join(whole)})")
    if "conflicting_responses" in names and kind in ("completion", "chat"):
        bad.append("conflicting_responses (completion/chat data)")
    if "semantic_duplicate" in names:
        bad.append("semantic_duplicate")
    if "schema" in names and kind == "chat":
        bad.append("schema (its chat summary counts content parts and tool calls over all rows)")
    return bad


def run_ray_pipeline(cfg: CurateConfig, command: str = "curate run --engine ray", address: str | None = None):
    """Run the curation `cfg` on Ray and write the local engine's outputs (curated rows as shards).

    Raises:
        ConfigError: a check or option this engine does not run (named, with the fix).
        UsageError: Ray is not installed or the cluster cannot be reached.
    """
    from curate.engines.ray.heap import returning_freed_heap
    from curate.engines.ray.session import ray_session

    if cfg.split:
        raise ConfigError("the split stage is not available on the ray engine",
                          fix="drop `split` (run `curate split` on the curated shards) or use --engine local")
    if cfg.out_format == "hf":
        raise ConfigError("out_format hf is not available on the ray engine", fix="use jsonl or parquet")
    with ray_session(address), returning_freed_heap():
        return _run(cfg, command)


def _run(cfg: CurateConfig, command: str):
    """The stages in order. Materialized intermediates are deleted (`del`) once the last stage that reads
    them has materialized its own output: a Dataset's blocks, in the object store or spilled to disk, are
    freed only when no Python name refers to it (or to a lazy Dataset built on it). Without that, a 5M-row
    run's spill outgrew the disk (docs/scaling.md)."""
    import yaml

    from curate.engines.ray import (
        clusters,
        components,
        dedup,
        duplicates,
        expect,
        findings,
        ids,
        leakage,
        load,
        results,
        shuffle,
        tokens,
        write,
    )
    from curate.engines.ray import rows as rowmod
    from curate.io import atomic_text, write_json
    from curate.pipeline import PipelineResult, select_checks, write_run_manifest
    from curate.runner import build_checks, gate_fails
    from schemas.results import CheckReport, InputSummary

    names = select_checks(cfg)
    params = dict(cfg.checks)
    if cfg.expectations and "expectations" in names:
        params.setdefault("expectations", {}).setdefault("suite", cfg.expectations)
    checks = {c.name: c for c in build_checks(params, only=names)}
    n = shuffle.partitions()

    # -- load and validate (a task per unit, or per run of small units), then duplicate ids (shuffled)
    plan = load.plan(cfg.input, n)   # small shards read together, in at least min(n, shards) tasks
    kind = plan.kind
    bad = _unsupported(cfg, names, kind, checks, plan.mapping)
    if bad:
        raise ConfigError("the ray engine does not run these checks with this config: " + "; ".join(bad),
                          fix="disable them (disable: [...]) or run with --engine local")
    shuffled_by = shuffle.strategy(len(plan.tasks()))
    shuffle.use(shuffled_by)   # before the first Dataset: each one keeps the settings it was made with
    raw = load.read(plan).materialize()
    # duplicate ids quarantined (no longer `ok`), made-up ids that clash renamed: the local loader's rule
    # (`ids`); the changes are joined with the rows on the workers, the driver holds their counts
    settled = ids.settle(raw, n)
    raw = ids.apply(raw, settled, n).materialize() if settled.changed else raw
    unit_rows = Counter()
    for part in raw.map_batches(_unit_rows, batch_format="pandas").iter_rows():
        unit_rows[int(part["unit"])] = max(unit_rows[int(part["unit"])], int(part["rows"]))
    rows_read = sum(unit_rows.values())
    if rows_read == 0:
        raise CurateError(f"{cfg.input.path} holds no rows", fix="pass a file with at least one record")
    offsets, acc = [], 0
    for u in range(len(plan.units)):
        offsets.append(acc)
        acc += unit_rows.get(u, 0)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    # findings, quarantined and removed rows are written by the workers; the driver keeps counts and the
    # first `cap` findings of each check (curate.engines.ray.findings)
    sink = findings.Sink(out, offsets, rows_read, n, findings.CAP)
    loaded = _where(raw, lambda b: b["ok"])
    q_rows, schema_rows = results.quarantine_findings(_quarantine(raw))
    q_sunk = sink.write(q_rows, "quarantine.jsonl")
    quarantined = q_sunk.lines
    head = plan.cfg.head if plan.cfg.head is not None else plan.cfg.limit  # --head on one file
    summary = InputSummary(path=cfg.input.path, format=plan.fmt, encoding=plan.encoding, kind=kind,
                           rows_read=rows_read, rows_loaded=rows_read - quarantined,
                           rows_quarantined=quarantined,
                           quarantine_reasons=dict(Counter(q_sunk.reasons).most_common()),
                           encoding_note=plan.encoding_note, notes=ids.summary_notes(plan.notes, settled),
                           split=plan.split, subset=describe({"mode": "head", "n": head}) if head else None)

    # -- normalize and the row-local facts (one batch map)
    rows = loaded.map_batches(
        rowmod.row_columns,
        batch_format="pandas",
        fn_kwargs={
            "kind": kind,
            "norm": cfg.normalize.model_dump(mode="json"),
            "group_field": cfg.group_field,
        },
    ).materialize()
    # every later stage reads `rows`: the raw rows (and what was derived from them lazily) are let go
    # here, so Ray frees their blocks, spilled copies included (see `_run`'s docstring)
    del raw, loaded, settled
    # the other split of `leakage`, read whole like the input (a load error stops the run, as locally)
    against = leakage.load_against(cfg, n) if cfg.against and "leakage" in names else None

    # -- exact groups, near-duplicate clusters, conflicting labels
    nd = checks.get("near_duplicate")
    cl = checks.get("conflicting_labels") if kind == "classification" else None
    configs, sig_params = _lsh_configs(nd, cl)
    exact = dedup.exact_groups(rows, n, cfg.dedup_key.model_dump()).materialize()
    heads = _where(exact, lambda b: b["pos"] == b["head_pos"]).select_columns(["pos", "id", "text"])
    verified = None
    if configs:
        num_perm, shingle, seed = sig_params
        cand = dedup.candidates(heads, configs, num_perm, shingle, seed, n).materialize()
        cand_counts = duplicates.tag_counts(cand)
        verified = dedup.verify(cand, heads, configs, num_perm, shingle, seed, n).materialize()
        del cand
        state = components.components(verified, n) if verified.count() else None
    else:
        cand_counts, state = Counter(), None
    if state is None:
        state = _empty_bag()
    annotated = clusters.annotate(exact, state, n).materialize()
    del heads, state

    # -- check results (driver: aggregates, counts and the first findings of each check)
    length_params = checks["length"].params if "length" in checks else _default_length()
    st = results.row_stats(rows)
    hi, bounds = results.length_outlier_bound(length_params, st)
    row_found = results.row_findings(rows, length_params, bounds, hi)
    # the options `curate.runner.run_suite` gives the local checks (class_balance reads normalize.labels)
    options = {"split_field": cfg.split_field, "group_field": cfg.group_field, "seed": cfg.seed,
               "tokenizer": cfg.tokenizer, "max_length": cfg.max_length, "kfold": None,
               "normalize": cfg.normalize, "dedup_key": cfg.dedup_key}
    out_results = []
    removal: dict[str, Any] = {}   # check -> its findings dataset, for the removals
    for name, check in checks.items():
        na = check.not_applicable(kind)   # as curate.runner.run_checks: a check that does not judge this kind
        if na is not None:
            out_results.append(na)
            continue
        try:
            if name == "schema":
                res = results.schema_result(check, sink, sink.write(schema_rows, _file(name)), summary)
            elif name == "normalization":
                res = results.normalization_result(check, st, sink, sink.write(row_found[name], _file(name)))
            elif name == "exact_duplicate":
                res, removal[name] = duplicates.exact_result(check, exact, cfg.dedup_key, sink)
            elif name == "near_duplicate":
                nd_cfg = next(c for c in configs if c.tag == "nd")
                res, removal[name] = duplicates.near_result(
                    check, annotated, verified, cand_counts.get("nd", 0), nd_cfg, rows, cfg.dedup_key, sink)
            elif name == "conflicting_labels":
                if kind != "classification":
                    res = check.result([], status=_skipped(), message="only for classification data")
                else:
                    res, removal[name] = duplicates.conflict_result(check, annotated, rows, n, sink)
            elif name == "class_balance":
                if not st["labels"]:
                    res = check.result([], status=_skipped(),
                                       message="no labels: only classification data has classes")
                else:
                    res = results.class_balance_result(check, st, options)
            elif name == "length":
                res = results.length_result(check, st, sink, sink.write(row_found[name], _file(name)), bounds)
            elif name == "pii":
                res = results.pii_result(check, st, sink, sink.write(row_found[name], _file(name)))
            elif name == "bias":
                res = results.bias_result(check, st, rows, options)
            elif name == "token_audit" and cfg.tokenizer and cfg.max_length:
                res = tokens.token_audit_result(check, rows, kind, options, sink)
            elif name == "leakage" and (against is not None or cfg.split_field):
                res = leakage.leakage_result(check, rows, kind, against, options, n, sink)
            elif name == "expectations" and check.specs:
                res = expect.expectations_result(check, rows, kind, plan.mapping)
            else:
                res = _passive(check, kind, options)
        except Exception as e:  # one failing check never stops the others (curate.runner.run_checks)
            from schemas.errors import DatavetError
            from schemas.findings import CheckResult, CheckStatus

            msg = str(e) if isinstance(e, DatavetError) else f"{type(e).__name__}: {e}"
            res = CheckResult(name=name, description=check.description, status=CheckStatus.error, message=msg)
            removal.pop(name, None)
            sink.discard(_file(name))   # the local engine gives an errored check no findings
        out_results.append(res)
    from curate.runner import reserved_results

    # as run_suite: the `label_issues` slot `evalsuite cv` fills, shown as not run unless disabled
    extra = reserved_results(kind=kind) if "label_issues" not in set(cfg.disable) else []
    report = CheckReport(input=summary, checks=out_results + extra)

    # -- removal decisions (REMOVAL_ORDER), then the write shuffle
    rm = _removals(cfg, report, removal, rows)
    fmt = cfg.out_format
    stats = write.write_shards(rows, rm, str(out), fmt, kind, cfg.mask_pii, offsets, rows_read, n)
    kept = sum(s["kept"] for s in stats)
    removed = sum(s["removed"] for s in stats)
    masked = sum(s["masked"] for s in stats)
    by_reason: dict[str, int] = {}
    for s in sorted(stats, key=lambda s: s["shard"]):
        for k, v in s["by_reason"].items():
            by_reason[k] = by_reason.get(k, 0) + v
    if rows_read != kept + quarantined + removed:
        raise CurateError(f"row accounting failed: read {rows_read} != kept {kept} + quarantined "
                          f"{quarantined} + removed {removed}", fix="report this as a bug with the input")
    removed_parts = sorted((out / "removed").glob("part-*.jsonl"))
    findings.concat(removed_parts, out / "removed.jsonl")
    if removed_parts:
        removed_parts[0].parent.rmdir()
    write_json(report, out / "checks.json")
    with atomic_text(out / "config.yaml") as fh:
        yaml.safe_dump(cfg.model_dump(mode="json"), fh, sort_keys=False, allow_unicode=True)
    files = ["curated/", "removed.jsonl", "quarantine.jsonl", "checks.json", "config.yaml"]
    if cfg.report:
        from curate.report import write_qa_report

        write_qa_report(report, None, out, write_contract=False)
        files.append("report")
    found_files = sorted(c.findings_file for c in report.checks if c.findings_file)
    files += [f"findings/ ({len(found_files)} files)"] if found_files else []
    write_run_manifest(out, cfg, command, rows_read=rows_read, kept=kept, quarantined=quarantined,
                       removed=removed, removed_by_reason=by_reason, pii_masked=masked, checks=names,
                       notes=[], engine="ray", shards=len(stats), units=len(plan.units),
                       read_tasks=len(plan.tasks()), shuffle=shuffled_by,
                       findings_cap=sink.cap, findings_files=found_files)
    files.append("manifest.json")
    _write_card(out, cfg, summary, kept, by_reason, names, fmt)
    files.append("README.md")
    return PipelineResult(out=out, report=report, rows_read=rows_read, kept=kept, quarantined=quarantined,
                          removed=removed, removed_by_reason=by_reason, pii_masked=masked,
                          gate_failed=gate_fails(report, cfg.fail_on), files=files, notes=[])


def _write_card(out: Path, cfg: CurateConfig, summary: Any, kept: int, by_reason: dict, checks: list[str],
                fmt: str) -> None:
    """README.md: the local engine's dataset card (curate.card), naming the shards as the data files."""
    from curate.card import curated_card_text, write_card

    shards = sorted((out / "curated").glob(f"part-*.{fmt}"))
    first = _first_record(shards[0], fmt, summary.kind) if shards else []
    write_card(out / "README.md", curated_card_text(
        source=cfg.input.path, kind=summary.kind, rows_read=summary.rows_read, kept=kept,
        quarantined=summary.rows_quarantined, quarantine_reasons=summary.quarantine_reasons,
        removed_by_reason=by_reason, data_file=f"curated/part-*.{fmt}", records=first, checks=checks))


def _first_record(shard: Path, fmt: str, kind: str) -> list[dict]:
    """The first record of a curated shard, validated as the loader validates a file's rows, reading one
    row (the loader would read the whole shard: a share of all kept rows, on the driver)."""
    import json

    from curate.io.load import load

    if fmt == "parquet":
        import pyarrow.parquet as pq

        batch = next(pq.ParquetFile(shard).iter_batches(batch_size=1), None)
        rows = batch.to_pylist()[:1] if batch is not None else []
    else:
        with open(shard, encoding="utf-8") as fh:
            line = fh.readline()
        rows = [json.loads(line)] if line.strip() else []
    return load(rows, kind=kind).records[:1] if rows else []


def _where(ds: Any, pred: Any) -> Any:
    """Rows of `ds` where `pred(pandas batch)` holds (a batch map: no per-row Python call)."""
    def keep(b: Any) -> Any:
        return b[pred(b).astype(bool)]

    return ds.map_batches(keep, batch_format="pandas")


def _empty_bag() -> Any:
    import ray

    return ray.data.from_items([{"_b": 0, "_v": b""}]).map_batches(
        lambda b: b.iloc[0:0], batch_format="pandas"
    )


def _skipped():
    from schemas.findings import CheckStatus

    return CheckStatus.skipped


def _default_length():
    from curate.checks.length import LengthParams

    return LengthParams()


def _unit_rows(df: Any) -> Any:
    import numpy as np
    import pandas as pd

    from curate.engines.ray.load import ROW_BITS

    pos = np.asarray(df["pos"].tolist(), dtype=np.int64)
    units = pos >> ROW_BITS
    rows = (pos & ((1 << ROW_BITS) - 1)) + 1
    g = pd.DataFrame({"unit": units, "rows": rows}).groupby("unit", as_index=False)["rows"].max()
    return g


def _quarantine(raw: Any) -> Any:
    """The (pos, q) rows to quarantine: rows that did not validate, and rows whose id repeats (`ids.apply`
    turned their `ok` off)."""
    def pick(b: Any) -> Any:
        return b[~b["ok"].astype(bool)][["pos", "q"]]

    return raw.map_batches(pick, batch_format="pandas").materialize()


def _lsh_configs(nd: Any, cl: Any):
    from curate.dedup.lsh import choose_bands
    from curate.engines.ray.dedup import LshConfig

    configs, sig = [], set()
    if nd is not None:
        p = nd.params
        if p.num_perm & (p.num_perm - 1):
            raise ConfigError(f"near_duplicate.num_perm must be a power of two, got {p.num_perm}",
                              fix="use 64, 128 or 256")
        bands, rows = (
            choose_bands(p.threshold, p.num_perm) if p.bands is None else (p.bands, p.num_perm // p.bands)
        )
        configs.append(LshConfig("nd", p.threshold, bands, rows))
        sig.add((p.num_perm, p.shingle, p.seed))
    if cl is not None and cl.params.near:
        p = cl.params
        bands, rows = choose_bands(p.threshold, p.num_perm)
        configs.append(LshConfig("cl", p.threshold, bands, rows))
        sig.add((p.num_perm, p.shingle, 0))
    if len(sig) > 1:
        raise ConfigError("near_duplicate and conflicting_labels use different num_perm/shingle/seed",
                          fix="give both checks the same num_perm and shingle (and near_duplicate seed 0)")
    return configs, (next(iter(sig)) if sig else None)


def _passive(check: Any, kind: str, options: dict):
    """A check with nothing to do under this config (checked by `_unsupported`): its own skipped result."""
    from curate.checks.base import CheckContext
    from curate.io.load import LoadedData

    data = LoadedData(kind=kind, records=[], quarantine=[], summary=None, config=None)  # type: ignore[arg-type]
    return check.run(CheckContext(data=data, texts=[], options=options))


def _file(name: str) -> str:
    return f"findings/{name}.jsonl"


def _removals(cfg: CurateConfig, report: Any, removal: dict, rows: Any) -> Any:
    """The removal rows (pos, priority, entry) of every check that removes (`curate.pipeline._removals`'
    rules: the checks `cfg.remove` names that ran and found something), None when there are none; the write
    shuffle takes the first reason in REMOVAL_ORDER per row."""
    from curate.engines.ray.findings import removals

    wanted = {"exact_duplicate": cfg.remove.exact_duplicates, "near_duplicate": cfg.remove.near_duplicates,
              "semantic_duplicate": cfg.remove.semantic_duplicates,
              "conflicting_labels": cfg.remove.conflicting_labels}
    ran = {c.name for c in report.checks if c.findings}
    parts = []
    if cfg.remove.empty:
        def empty(b: Any) -> Any:
            import pandas as pd

            pos = b[b["empty"].astype(bool)]["pos"].astype("int64")
            return pd.DataFrame({"pos": pos.values, "p": pd.Series([0] * len(pos), dtype="int64").values,
                                 "e": pd.Series(['{"reason": "empty"}'] * len(pos), dtype=object).values})

        parts.append(rows.map_batches(empty, batch_format="pandas"))
    for name, found in removal.items():
        if wanted.get(name) and name in ran:
            parts.append(removals(found, name))
    if not parts:
        return None
    return parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
