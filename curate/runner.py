"""Run checks. One failing check never stops the others: it is recorded with status `error` and its message,
the rest still run, and the gate fails.

`build_checks` turns check names and parameters (from `CurateConfig.checks`, `enable`, `disable`) into check
objects, rejecting unknown names and bad parameters as one config error; `default_context` builds the
`CheckContext` every check sees, with normalized texts.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from curate.checks import REGISTRY, RESERVED, Check, CheckContext
from curate.io.load import LoadedData
from schemas.errors import ConfigError, DatavetError
from schemas.findings import GATE, OLD_GATE_LEVELS, CheckResult, CheckStatus
from schemas.results import CheckReport

GATE_LEVELS = tuple(GATE)  # fail, warn, never


def run_checks(checks: Iterable[Check], ctx: CheckContext, progress: Any = None) -> list[CheckResult]:
    """Run each check on `ctx`; a check that raises becomes a result with status `error` and its message.

    Args:
        checks: Built checks, in the order to run.
        ctx: The shared context.
        progress: Optional callable `progress(name)` called before each check (for a status line).

    Progress (which check runs, how many are done) goes to stderr through `common.progress`.
    """
    from common.progress import Progress

    checks, results = list(checks), []
    kind = str(getattr(ctx.data.kind, "value", ctx.data.kind))
    with Progress("checks", len(checks), unit="checks") as bar:
        for i, check in enumerate(checks):
            bar.update(i, running=check.name)
            if progress is not None:
                progress(check.name)
            na = check.not_applicable(kind)
            if na is not None:
                results.append(na)
                continue
            if not ctx.data.records and check.needs_rows:
                # nothing to judge is not a pass: a check over zero rows would report a clean result
                s = ctx.data.summary
                results.append(CheckResult(name=check.name, description=check.description,
                                           status=CheckStatus.not_run,
                                           message=f"not run: no rows loaded ({s.rows_quarantined:,} of "
                                                   f"{s.rows_read:,} rows quarantined)"))
                continue
            try:
                results.append(check.run(ctx))
            except Exception as e:
                msg = str(e) if isinstance(e, DatavetError) else f"{type(e).__name__}: {e}"
                if os.environ.get("DATAVET_DEBUG") == "1":
                    msg += "\n" + traceback.format_exc()
                results.append(
                    CheckResult(
                        name=check.name, description=check.description, status=CheckStatus.error, message=msg
                    )
                )
        bar.stats.pop("running", None)
        bar.update(len(checks))
    return results


def _known(name: str) -> bool:
    return name in REGISTRY or name in RESERVED


def build_checks(params: dict[str, dict[str, Any]] | None = None, only: list[str] | None = None,
                 enable: Iterable[str] = (), disable: Iterable[str] = ()) -> list[Check]:
    """Instantiate the checks to run, in registry order.

    Args:
        params: check name -> its parameters (validated by the check's `Params`).
        only: run exactly these checks (overrides defaults, `enable` and `disable`).
        enable: opt-in checks to add to the default-enabled ones.
        disable: checks not to run.

    Raises:
        ConfigError: an unknown check name or invalid parameters, all problems in one message.
    """
    params, enable, disable = dict(params or {}), list(enable), list(disable)
    problems = []
    for where, names in (
        ("checks", list(params)),
        ("enable", enable),
        ("disable", disable),
        ("only", only or []),
    ):
        problems += [f"{where}: unknown check {n!r}" for n in names if not _known(n)]
    problems += [f"{n!r} is both enabled and disabled" for n in set(enable) & set(disable)]
    if problems:
        raise ConfigError("the check selection has problems", details=problems,
                          fix=f"use check names from: {', '.join(REGISTRY)} (`curate checks` describes each)")
    if only:
        names = [n for n in REGISTRY if n in only]
    else:
        names = [n for n, c in REGISTRY.items()
                 if (c.default_enabled or n in enable or n in params) and n not in disable]
    checks: list[Check] = []
    for n in names:
        try:
            checks.append(REGISTRY[n](params.get(n)))
        except ValidationError as e:
            from schemas.configs.base import format_validation_error

            err = format_validation_error(e, f"checks.{n}")
            problems += [f"checks.{n}.{d}" for d in err.details]
    if problems:
        raise ConfigError(
            "check parameters do not validate",
            details=problems,
            fix="correct the parameters listed; each check module's Params lists the valid keys",
        )
    return checks


def reserved_results(disable: Iterable[str] = (), kind: str | None = None) -> list[CheckResult]:
    """Placeholders for checks other tools fill in (`label_issues`), shown as not run (or not applicable:
    label issues need labels, which only classification data has)."""
    needs = {"label_issues": "not run: needs evalsuite cv (out-of-fold predictions)"}
    if kind is not None and kind != "classification":
        return [
            CheckResult(
                name=n,
                status=CheckStatus.not_applicable,
                description=desc,
                message=f"not applicable: {kind} records have no labels",
            )
            for n, desc in RESERVED.items()
            if n not in set(disable)
        ]
    return [
        CheckResult(
            name=n, status=CheckStatus.skipped, description=desc, message=needs.get(n, f"not run: {desc}")
        )
        for n, desc in RESERVED.items()
        if n not in set(disable)
    ]


def load_label_issues(path: str | Path, data: LoadedData) -> CheckResult:
    """Read the `label_issues` result `evalsuite cv` wrote (label_issues.json) for this dataset.

    Findings whose id is not in `data` are dropped and counted in the message: they belong to rows this
    curation removed or to another dataset, and a report must not show rows it does not hold.
    """
    from schemas.errors import UsageError

    p = Path(path)
    if not p.is_file():
        raise UsageError(f"{p} does not exist", fix="pass the label_issues.json that `evalsuite cv` wrote")
    try:
        result = CheckResult.model_validate_json(p.read_text(encoding="utf-8"))
    except ValidationError as e:
        raise UsageError(f"{p} is not a check result: {e.errors()[0]['msg']}",
                         fix="pass the label_issues.json that `evalsuite cv` wrote") from None
    if result.name != "label_issues":
        raise UsageError(f"{p} holds the {result.name!r} check, not label_issues",
                         fix="pass the label_issues.json that `evalsuite cv` wrote")
    ids = {r["id"] for r in data.records}
    kept = [f for f in result.findings if f.id in ids]
    unknown = len(result.findings) - len(kept)
    note = f"from {p.name} (evalsuite cv out-of-fold predictions)"
    if unknown:
        note += f"; {unknown} finding(s) name rows not in this data and are not shown"
    return result.model_copy(update={"findings": kept, "count": len(kept), "message": note})


def check_report(data: LoadedData, results: list[CheckResult], reserved: bool = False,
                 label_issues: CheckResult | None = None) -> CheckReport:
    """The JSON contract object. `label_issues` (from `evalsuite cv`) fills its reserved slot; otherwise,
    with `reserved`, a placeholder says it was not run."""
    kind = str(getattr(data.kind, "value", data.kind))
    extra = [label_issues] if label_issues else reserved_results(kind=kind) if reserved else []
    return CheckReport(input=data.summary, checks=results + extra)


def gate_fails(report: CheckReport, fail_on: str) -> bool:
    """`fail`: fail on any check with status fail or error. `warn`: also on warn. `never`: never. No row
    loaded fails the gate too (unless `never`).
    The old level names `error` and `warning` mean `fail` and `warn`."""
    bad = GATE[OLD_GATE_LEVELS.get(fail_on, fail_on)]
    if bad and report.input.rows_loaded == 0:
        return True  # no row loaded: the checks did not run, which is never a pass
    return any(c.status in bad for c in report.checks)


def gate_reasons(report: CheckReport, fail_on: str) -> list[str]:
    """Why the gate fails (empty when it passes): one line per check that reached the gate level, with the
    check's first line of message or its finding counts."""
    from collections import Counter

    bad = GATE[OLD_GATE_LEVELS.get(fail_on, fail_on)]
    out = []
    if bad and report.input.rows_loaded == 0:
        out.append(
            f"no rows loaded: all {report.input.rows_read:,} rows were quarantined, so no check could run"
        )
    for c in report.checks:
        if c.status not in bad:
            continue
        if c.message:
            why = c.message.splitlines()[0]
        else:
            reasons = Counter(f.reason for f in c.findings if f.severity.value != "info")
            why = ", ".join(f"{n:,} {r}" for r, n in reasons.most_common(3)) or c.description
        out.append(f"{c.name} ({c.status.value}): {why[:200]}")
    return out


def default_context(data: LoadedData, against: LoadedData | None = None, **options: Any) -> CheckContext:
    """The context checks see: records, their normalized texts, the other split, and CLI-level options.

    Options used by the checks: `split_field`, `group_field`, `tokenizer`, `max_length`, `kfold`, `seed`,
    `normalize` (a NormalizeConfig or dict). The NormalizeResult is in `ctx.shared["normalize"]`.
    """
    from curate.normalize import normalized_context
    from schemas.configs.curate import NormalizeConfig

    cfg = options.get("normalize")
    if isinstance(cfg, dict):
        cfg = NormalizeConfig.model_validate(cfg)
    ctx = normalized_context(data, cfg, **options)
    ctx.against = against
    return ctx


@dataclass
class SuiteOutcome:
    """What one run of the check suite produced: the loaded data, the context checks saw, and the report."""

    data: LoadedData
    ctx: CheckContext
    report: CheckReport


def run_suite(
    cfg: Any,
    *,
    data: LoadedData | None = None,
    config_dir: Path | None = None,
    enable: Iterable[str] = (),
    disable: Iterable[str] = (),
    kfold: int | None = None,
    label_issues: str | Path | None = None,
    progress: Any = None,
    on_load: Any = None,
) -> SuiteOutcome:
    """Load -> normalize -> checks -> report, for a validated CurateConfig: what `curate check`, the Python
    API (`curate.check`) and `curate run` share.

    The checks are built (so their parameters validated) before the data loads: a config mistake should not
    cost a load.

    Args:
        cfg: The CurateConfig.
        data: Already loaded data (in-memory input); else `cfg.input` is loaded.
        config_dir: The config file's folder: a relative `expectations` path is looked up there too.
        enable, disable: Checks switched on or off on top of the config's lists.
        kfold: The planned k of a k-fold split (class_balance).
        label_issues: `label_issues.json` from `evalsuite cv`, shown in its reserved slot.
        progress: Optional callable `progress(check_name)`.
        on_load: Optional callable `on_load(data)`, called once the data is loaded (to print its summary).
    """
    from curate.io import load

    params = {k: dict(v) for k, v in cfg.checks.items()}
    if cfg.expectations:
        suite = Path(cfg.expectations)
        if (
            not suite.exists()
            and config_dir is not None
            and not suite.is_absolute()
            and (config_dir / suite).exists()
        ):
            suite = config_dir / suite
        params["expectations"] = {"suite": str(suite), **params.get("expectations", {})}
    disabled = [*cfg.disable, *disable]
    checks = build_checks(params, enable=[*cfg.enable, *enable], disable=disabled)
    if data is None:
        data = load(cfg.input)
    if on_load is not None:
        on_load(data)
    # the other split is read whole: a --head/--sample subsets the data checked, not what it may leak from
    whole = {"path": cfg.against, "head": None, "sample": None, "limit": None}
    other = load(cfg.input.model_copy(update=whole)) if cfg.against else None
    ctx = default_context(data, against=other, split_field=cfg.split_field, group_field=cfg.group_field,
                          tokenizer=cfg.tokenizer, max_length=cfg.max_length, kfold=kfold, seed=cfg.seed,
                          normalize=cfg.normalize, dedup_key=cfg.dedup_key)
    results = run_checks(checks, ctx, progress=progress)
    issues = load_label_issues(label_issues, data) if label_issues else None
    report = check_report(data, results, reserved="label_issues" not in set(disabled), label_issues=issues)
    return SuiteOutcome(data, ctx, report)
