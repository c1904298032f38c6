"""Run checks. One failing check never stops the others: it is recorded with status `error` and its message,
the rest still run, and the gate fails.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable
from typing import Any

from curate.checks import REGISTRY, Check, CheckContext
from curate.io.load import LoadedData
from schemas.findings import CheckResult, CheckStatus
from schemas.results import CheckReport

GATE_LEVELS = ("error", "warning", "never")


def run_checks(checks: Iterable[Check], ctx: CheckContext) -> list[CheckResult]:
    results = []
    for check in checks:
        try:
            results.append(check.run(ctx))
        except Exception as e:  # noqa: BLE001 - a broken check must not hide the others' findings
            import os

            msg = f"{type(e).__name__}: {e}"
            if os.environ.get("DATAVET_DEBUG") == "1":
                msg += "\n" + traceback.format_exc()
            results.append(CheckResult(name=check.name, description=check.description, status=CheckStatus.error,
                                       message=msg))
    return results


def build_checks(params: dict[str, dict[str, Any]] | None = None, only: list[str] | None = None) -> list[Check]:
    params = params or {}
    names = only or [n for n, c in REGISTRY.items() if c.default_enabled or n in params]
    return [REGISTRY[n](params.get(n)) for n in names]


def check_report(data: LoadedData, results: list[CheckResult]) -> CheckReport:
    return CheckReport(input=data.summary, checks=results)


def gate_fails(report: CheckReport, fail_on: str) -> bool:
    """`error`: fail on any check with status fail or error. `warning`: also on warn. `never`: never."""
    bad = {"error": {CheckStatus.fail, CheckStatus.error},
           "warning": {CheckStatus.fail, CheckStatus.error, CheckStatus.warn},
           "never": set()}[fail_on]
    return any(c.status in bad for c in report.checks)


def default_context(data: LoadedData, **options: Any) -> CheckContext:
    from schemas.records import RecordKind, record_text

    texts = [record_text(r, RecordKind(data.kind)) for r in data.records]
    return CheckContext(data=data, texts=texts, options=options)
