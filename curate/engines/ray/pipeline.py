"""`curate run --engine ray`: the local pipeline's stages as Ray Data work (see the package docstring)."""

from __future__ import annotations

import pickle
from collections import Counter
from pathlib import Path
from typing import Any

from curate.errors import ConfigError, CurateError
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
    from curate.engines.ray.session import ray_session

    if cfg.split:
        raise ConfigError("the split stage is not available on the ray engine",
                          fix="drop `split` (run `curate split` on the curated shards) or use --engine local")
    if cfg.out_format == "hf":
        raise ConfigError("out_format hf is not available on the ray engine", fix="use jsonl or parquet")
    with ray_session(address):
        return _run(cfg, command)


def _run(cfg: CurateConfig, command: str):
    import yaml

    from curate.engines.ray import (
        clusters,
        components,
        dedup,
        expect,
        ids,
        leakage,
        load,
        results,
        tokens,
        write,
    )
    from curate.engines.ray import rows as rowmod
    from curate.engines.ray.shuffle import partitions
    from curate.io import atomic_text, write_json, write_jsonl
    from curate.pipeline import PipelineResult, _hashable_path, select_checks
    from curate.runner import build_checks, gate_fails
    from schemas.results import CheckReport, InputSummary

    names = select_checks(cfg)
    params = dict(cfg.checks)
    if cfg.expectations and "expectations" in names:
        params.setdefault("expectations", {}).setdefault("suite", cfg.expectations)
    checks = {c.name: c for c in build_checks(params, only=names)}
    n = partitions()

    # -- load and validate (one task per unit), then duplicate ids (a shuffle of id, pos)
    plan = load.plan(cfg.input)
    kind = plan.kind
    bad = _unsupported(cfg, names, kind, checks, plan.mapping)
    if bad:
        raise ConfigError("the ray engine does not run these checks with this config: " + "; ".join(bad),
                          fix="disable them (disable: [...]) or run with --engine local")
    raw = load.read(plan).materialize()
    # duplicate ids quarantined, made-up ids that clash renamed: the local loader's rule (`ids`)
    settled = ids.settle(raw, n)
    raw = ids.apply(raw, settled).materialize() if settled.renamed else raw
    dup_ids = settled.duplicates
    quarantine = _quarantine(raw, dup_ids)
    unit_rows = Counter()
    for part in raw.map_batches(_unit_rows, batch_format="pandas").take_all():
        unit_rows[int(part["unit"])] = max(unit_rows[int(part["unit"])], int(part["rows"]))
    rows_read = sum(unit_rows.values())
    if rows_read == 0:
        raise CurateError(f"{cfg.input.path} holds no rows", fix="pass a file with at least one record")
    offsets, acc = [], 0
    for u in range(len(plan.units)):
        offsets.append(acc)
        acc += unit_rows.get(u, 0)
    dup_set = {p for p, _ in dup_ids}
    loaded = _where(raw, lambda b: b["ok"] & ~b["pos"].isin(sorted(dup_set)))
    summary = InputSummary(path=cfg.input.path, format=plan.fmt, encoding=plan.encoding, kind=kind,
                           rows_read=rows_read, rows_loaded=rows_read - len(quarantine),
                           rows_quarantined=len(quarantine),
                           quarantine_reasons=dict(Counter(q.reason for q in quarantine).most_common()),
                           encoding_note=plan.encoding_note, notes=ids.summary_notes(plan.notes, settled),
                           split=plan.split)

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
        cand_counts = Counter(k[0] for k, _ in _iter(cand))
        verified = dedup.verify(cand, heads, configs, num_perm, shingle, seed, n).materialize()
        state = components.components(verified, n) if verified.count() else None
    else:
        cand_counts, state = Counter(), None
    if state is None:
        import ray

        state = _empty_bag()
    annotated = clusters.annotate(exact, state, n).materialize()

    # -- check results (driver: aggregates and findings only)
    st = results.row_stats(rows, checks["length"].params if "length" in checks else _default_length())
    # the options `curate.runner.run_suite` gives the local checks (class_balance reads normalize.labels)
    options = {"split_field": cfg.split_field, "group_field": cfg.group_field, "seed": cfg.seed,
               "tokenizer": cfg.tokenizer, "max_length": cfg.max_length, "kfold": None,
               "normalize": cfg.normalize, "dedup_key": cfg.dedup_key}
    out_results = []
    removal: dict[str, dict[int, dict]] = {}
    for name, check in checks.items():
        na = check.not_applicable(kind)   # as curate.runner.run_checks: a check that does not judge this kind
        if na is not None:
            out_results.append(na)
            continue
        try:
            if name == "schema":
                res = results.schema_result(check, quarantine, summary)
            elif name == "normalization":
                res = results.normalization_result(check, st)
            elif name == "exact_duplicate":
                res, removal[name] = _exact_result(check, exact, cfg.dedup_key)
            elif name == "near_duplicate":
                res, removal[name] = _near_result(check, annotated, verified, cand_counts, configs, rows,
                                                  cfg.dedup_key)
            elif name == "conflicting_labels":
                if kind != "classification":
                    res = check.result([], status=_skipped(), message="only for classification data")
                else:
                    tag = "cl" if check.params.near else None
                    groups = sorted(v for _, v in _iter(clusters.conflicting_labels(annotated, tag, n)))
                    res, removal[name] = _conflict_result(check, groups, rows)
            elif name == "class_balance":
                if not st["labels"]:
                    res = check.result([], status=_skipped(),
                                       message="no labels: only classification data has classes")
                else:
                    res = results.class_balance_result(check, st, options)
            elif name == "length":
                res = results.length_result(check, st, rows)
            elif name == "pii":
                res = results.pii_result(check, st)
            elif name == "bias":
                res = results.bias_result(check, st, rows, options)
            elif name == "token_audit" and cfg.tokenizer and cfg.max_length:
                res = tokens.token_audit_result(check, rows, kind, options)
            elif name == "leakage" and (against is not None or cfg.split_field):
                res = leakage.leakage_result(check, rows, kind, against, options, n)
            elif name == "expectations" and check.specs:
                res = expect.expectations_result(check, rows, kind, plan.mapping)
            else:
                res = _passive(check, kind, options)
        except Exception as e:  # one failing check never stops the others (curate.runner.run_checks)
            from schemas.errors import DatavetError
            from schemas.findings import CheckResult, CheckStatus

            msg = str(e) if isinstance(e, DatavetError) else f"{type(e).__name__}: {e}"
            res = CheckResult(name=name, description=check.description, status=CheckStatus.error, message=msg)
        out_results.append(res)
    from curate.runner import reserved_results

    # as run_suite: the `label_issues` slot `evalsuite cv` fills, shown as not run unless disabled
    extra = reserved_results(kind=kind) if "label_issues" not in set(cfg.disable) else []
    report = CheckReport(input=summary, checks=out_results + extra)

    # -- removal decisions (REMOVAL_ORDER), then the write shuffle
    decisions = _decide(cfg, report, removal, rows)
    import ray

    rm_bag = ray.data.from_items([{"_b": 0, "_v": pickle.dumps((k, v))} for k, v in decisions.items()]) \
        if decisions else _empty_bag()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    fmt = cfg.out_format
    stats = write.write_shards(rows, rm_bag, str(out), fmt, kind, cfg.mask_pii, offsets, rows_read, n)
    kept = sum(s["kept"] for s in stats)
    removed = sum(s["removed"] for s in stats)
    masked = sum(s["masked"] for s in stats)
    by_reason: dict[str, int] = {}
    for s in sorted(stats, key=lambda s: s["shard"]):
        for k, v in s["by_reason"].items():
            by_reason[k] = by_reason.get(k, 0) + v
    if rows_read != kept + len(quarantine) + removed:
        raise CurateError(f"row accounting failed: read {rows_read} != kept {kept} + quarantined "
                          f"{len(quarantine)} + removed {removed}", fix="report this as a bug with the input")
    _concat(sorted((out / "removed").glob("part-*.jsonl")), out / "removed.jsonl")
    write_jsonl(quarantine, out / "quarantine.jsonl")
    write_json(report, out / "checks.json")
    with atomic_text(out / "config.yaml") as fh:
        yaml.safe_dump(cfg.model_dump(mode="json"), fh, sort_keys=False, allow_unicode=True)
    files = ["curated/", "removed.jsonl", "quarantine.jsonl", "checks.json", "config.yaml"]
    if cfg.report:
        from curate.report import write_qa_report

        write_qa_report(report, None, out, write_contract=False)
        files.append("report")
    from schemas.manifest import RunManifest

    inputs = {p: _hashable_path(p) for p in [cfg.input.path] + ([cfg.against] if cfg.against else [])}
    manifest = RunManifest.create(
        command,
        inputs=inputs,
        config=cfg.model_dump(mode="json"),
        seed=cfg.seed,
        extra={
            "rows_read": rows_read,
            "kept": kept,
            "quarantined": len(quarantine),
            "removed": removed,
            "removed_by_reason": by_reason,
            "pii_masked": masked,
            "checks": names,
            "notes": [],
            "engine": "ray",
            "shards": len(stats),
            "units": len(plan.units),
        },
    )
    write_json(manifest, out / "manifest.json")
    files.append("manifest.json")
    _write_card(out, cfg, summary, kept, by_reason, names, fmt)
    files.append("README.md")
    return PipelineResult(out=out, report=report, rows_read=rows_read, kept=kept, quarantined=len(quarantine),
                          removed=removed, removed_by_reason=by_reason, pii_masked=masked,
                          gate_failed=gate_fails(report, cfg.fail_on), files=files, notes=[])


def _write_card(out: Path, cfg: CurateConfig, summary: Any, kept: int, by_reason: dict, checks: list[str],
                fmt: str) -> None:
    """README.md: the local engine's dataset card (curate.card), naming the shards as the data files."""
    from curate.card import curated_card_text, write_card
    from curate.io.load import load

    shards = sorted((out / "curated").glob(f"part-*.{fmt}"))
    first = load(str(shards[0])).records[:1] if shards else []
    write_card(out / "README.md", curated_card_text(
        source=cfg.input.path, kind=summary.kind, rows_read=summary.rows_read, kept=kept,
        quarantined=summary.rows_quarantined, quarantine_reasons=summary.quarantine_reasons,
        removed_by_reason=by_reason, data_file=f"curated/part-*.{fmt}", records=first, checks=checks))


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


def _iter(ds: Any):
    from curate.engines.ray.bag import unpack

    return unpack(ds)


def _unit_rows(df: Any) -> Any:
    import numpy as np
    import pandas as pd

    from curate.engines.ray.load import ROW_BITS

    pos = np.asarray(df["pos"].tolist(), dtype=np.int64)
    units = pos >> ROW_BITS
    rows = (pos & ((1 << ROW_BITS) - 1)) + 1
    g = pd.DataFrame({"unit": units, "rows": rows}).groupby("unit", as_index=False)["rows"].max()
    return g


def _quarantine(raw: Any, dup_ids: list) -> list:
    """Quarantine entries in source order: rows that did not validate, and rows whose id repeats."""
    from schemas.findings import QuarantineEntry

    dup = {p for p, _ in dup_ids}
    dup_list = sorted(dup)

    def pick(b: Any) -> Any:
        mask = ~b["ok"]
        if dup_list:
            mask = mask | b["pos"].isin(dup_list)
        return b[mask][["pos", "q"]]

    got = sorted(raw.map_batches(pick, batch_format="pandas").take_all(), key=lambda r: r["pos"])
    return [QuarantineEntry.model_validate_json(r["q"]) for r in got]


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


def _exact_result(check: Any, exact: Any, key: Any):
    from curate.checks.exact_duplicate import exact_summary
    from schemas.findings import Finding, Severity

    def dups(b: Any) -> Any:
        return b[b["pos"] != b["head_pos"]][["pos", "id", "head_id"]]

    def stats(b: Any) -> Any:
        import pandas as pd

        heads = b[(b["pos"] == b["head_pos"])]
        return pd.DataFrame({"rows": [len(b)], "groups": [int((heads["gsize"] > 1).sum())],
                             "largest": [int(b["gsize"].max()) if len(b) else 1]})

    got = sorted(exact.map_batches(dups, batch_format="pandas").take_all(), key=lambda r: r["pos"])
    agg = exact.map_batches(stats, batch_format="pandas").take_all()
    findings = [Finding(id=r["id"], reason="exact_duplicate", severity=Severity.warning,
                        duplicate_of=r["head_id"], cluster=r["head_id"]) for r in got]
    largest = max((a["largest"] for a in agg), default=1)
    res = check.result(
        findings,
        summary=exact_summary(
            len(findings),
            sum(a["groups"] for a in agg),
            largest if largest > 1 else 1,
            sum(a["rows"] for a in agg),
            key,
        ),
    )
    return res, {r["pos"]: f for r, f in zip(got, findings, strict=True)}


def _near_result(check: Any, annotated: Any, verified: Any, cand_counts: Counter, configs: list, rows: Any,
                 key: Any):
    import random

    from curate.checks.near_duplicate import near_summary
    from schemas.findings import Finding, Severity

    p = check.params
    cfg = next(c for c in configs if c.tag == "nd")
    hits = []
    for _, v in _iter(annotated):
        pos, rid, hp, _hid, _gs, _lk, cl = v
        c = cl.get("nd")
        if pos == hp and c is not None and c[0] != pos:
            hits.append((pos, rid, c[1], c[2]))
    hits.sort()
    findings = [Finding(id=rid, reason="near_duplicate", severity=Severity.warning, duplicate_of=cid,
                        cluster=cid, jaccard=round(j, 4)) for _, rid, cid, j in hits]
    pairs = sorted((a, b, j, aid, bid) for (tag, a), (b, j, aid, bid) in _iter(verified) if tag == "nd") \
        if verified is not None else []
    rng = random.Random(p.seed)
    idx = rng.sample(range(len(pairs)), min(p.sample_pairs, len(pairs)))
    want = sorted(idx)
    need = {pairs[k][0] for k in want} | {pairs[k][1] for k in want}
    texts = {r["pos"]: r["text"] for r in _where(rows, lambda b: b["pos"].isin(sorted(need))).select_columns(
        ["pos", "text"]).take_all()} if need else {}
    sample = [{"a": pairs[k][3], "b": pairs[k][4], "jaccard": round(float(pairs[k][2]), 4),
               "text_a": texts[pairs[k][0]][:300], "text_b": texts[pairs[k][1]][:300]} for k in want]
    res = check.result(
        findings,
        summary=near_summary(
            p, findings, cfg.bands, cfg.rows, cand_counts.get("nd", 0), len(pairs), key, sample
        ),
    )
    return res, {h[0]: f for h, f in zip(hits, findings, strict=True)}


def _conflict_result(check: Any, groups: list, rows: Any):
    """The check's result from the conflicting groups (`clusters.conflicting_labels`), by its own
    `group_findings` and `conflicts_result`; the texts of the groups' rows (for the messages) are fetched."""
    from curate.checks.conflicting_labels import conflicts_result, group_findings

    need = sorted({pos for _, _, members in groups for pos, _, _ in members})
    texts = {r["pos"]: r["text"] for r in _where(rows, lambda b: b["pos"].isin(need)).select_columns(
        ["pos", "text"]).take_all()} if need else {}
    keyed = []
    pos_of = {}
    for root, root_id, members in groups:
        keyed += group_findings(root, root_id, [(pos, rid, lk, texts[pos]) for pos, rid, lk in members])
        pos_of.update({rid: pos for pos, rid, _ in members})
    res = conflicts_result(check, keyed, len(groups))
    return res, {pos_of[f.id]: f for f in res.findings}


def _passive(check: Any, kind: str, options: dict):
    """A check with nothing to do under this config (checked by `_unsupported`): its own skipped result."""
    from curate.checks.base import CheckContext
    from curate.io.load import LoadedData

    data = LoadedData(kind=kind, records=[], quarantine=[], summary=None, config=None)  # type: ignore[arg-type]
    return check.run(CheckContext(data=data, texts=[], options=options))


def _decide(cfg: CurateConfig, report: Any, removal: dict, rows: Any) -> dict[int, dict]:
    """pos -> removal entry, by `curate.pipeline.REMOVAL_ORDER` (the first reason that applies); `removal`
    maps each duplicate check to {pos: finding}, turned into entries by the local `removal_entry`."""
    from curate.pipeline import REMOVAL_ORDER, removal_entry

    wanted = {"exact_duplicate": cfg.remove.exact_duplicates, "near_duplicate": cfg.remove.near_duplicates,
              "semantic_duplicate": cfg.remove.semantic_duplicates,
              "conflicting_labels": cfg.remove.conflicting_labels}
    ran = {c.name for c in report.checks if c.findings}
    out: dict[int, dict] = {}
    if cfg.remove.empty:
        for r in _where(rows, lambda b: b["empty"]).select_columns(["pos"]).take_all():
            out[int(r["pos"])] = {"reason": "empty"}
    for name in REMOVAL_ORDER[1:]:
        if not wanted[name] or name not in ran:
            continue
        for pos, f in removal.get(name, {}).items():
            if pos in out:
                continue
            entry = removal_entry(name, f)
            if entry is not None:
                out[pos] = entry
    return out


def _concat(parts: list[Path], target: Path) -> None:
    from curate.io import atomic_path

    with atomic_path(target) as tmp, open(tmp, "wb") as fh:
        for p in parts:
            with open(p, "rb") as src:
                while chunk := src.read(1 << 20):
                    fh.write(chunk)
    for p in parts:
        p.unlink()
    if parts:
        parts[0].parent.rmdir()
