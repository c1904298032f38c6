"""What a check is: a small class with a `name`, a one-line `description`, pydantic `Params`, and
`run(ctx) -> CheckResult`. The runner gives every check the same `CheckContext`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from curate.io.load import LoadedData
from schemas.findings import CheckResult, CheckStatus, Finding


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

    def result(
        self,
        findings: list[Finding],
        *,
        status: CheckStatus | None = None,
        summary: dict[str, Any] | None = None,
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
                           summary=summary or {}, message=message)
