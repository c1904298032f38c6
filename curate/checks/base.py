"""What a check is: a small class with a `name`, a one-line `description`, pydantic `Params`, and
`run(ctx) -> CheckResult`. The runner gives every check the same `CheckContext`.

A check also owns how its result is shown: `report_blocks(result)` draws its charts and tables from its own
summary, and `shown_text(text)` is how a row appears next to its findings (the pii check masks it). The report
asks each check for both and knows no check by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from curate.io.load import LoadedData
from schemas.findings import CheckResult, CheckStatus, Finding
from schemas.report import Block


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass
class CheckContext:
    """Everything a check may look at. `texts` are the normalized texts, aligned with `data.records`."""

    data: LoadedData
    texts: list[str]
    against: LoadedData | None = None
    options: dict[str, Any] = field(default_factory=dict)   # CLI-level options: split_field, group_field, ...
    # results one check computes for others (dup clusters)
    shared: dict[str, Any] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        return [r["id"] for r in self.data.records]


class Check:
    name: ClassVar[str]
    description: ClassVar[str]
    Params: ClassVar[type[BaseModel]] = NoParams
    default_enabled: ClassVar[bool] = True
    # False for checks that judge the load itself (schema): they still run when no row loaded.
    needs_rows: ClassVar[bool] = True
    # The record kinds this check judges (None: every kind). On other data the runner reports it
    # `not_applicable` without running it: a label check on plain text neither passes nor fails.
    kinds: ClassVar[tuple[str, ...] | None] = None

    def __init__(self, params: BaseModel | dict[str, Any] | None = None):
        self.params = params if isinstance(params, BaseModel) else self.Params.model_validate(params or {})

    def not_applicable(self, kind: str) -> CheckResult | None:
        """The `not_applicable` result when this check does not judge `kind` records, else None."""
        if self.kinds is None or kind in self.kinds:
            return None
        return self.result(
            [],
            status=CheckStatus.not_applicable,
            message=f"not applicable: {kind} records; this check judges {' or '.join(self.kinds)} data",
        )

    def run(self, ctx: CheckContext) -> CheckResult:  # pragma: no cover - interface
        raise NotImplementedError

    @classmethod
    def report_blocks(cls, result: CheckResult) -> list[Block]:
        """The charts and tables this check draws from its own `result`, shown after its message.

        A classmethod: the report holds only results (from either engine, or read back from checks.json),
        not the check objects that made them. The default, for checks with nothing to draw, is none; the
        report adds the summary numbers and the findings table to every check itself.
        """
        return []

    @classmethod
    def shown_text(cls, text: str) -> str:
        """A row's text as the report shows it next to this check's findings; unchanged by default."""
        return text

    def result(
        self,
        findings: list[Finding],
        *,
        status: CheckStatus | None = None,
        summary: Mapping[str, Any] | None = None,
        message: str | None = None,
        count: int | None = None,
    ) -> CheckResult:
        """Build this check's result; the status defaults to the worst finding severity."""
        if status is None:
            sev = {f.severity.value for f in findings}
            status = (
                CheckStatus.fail
                if "error" in sev
                else CheckStatus.warn
                if "warning" in sev
                else CheckStatus.passed
            )
        return CheckResult(name=self.name, description=self.description, status=status,
                           count=len(findings) if count is None else count, findings=findings,
                           summary=dict(summary or {}), message=message)
