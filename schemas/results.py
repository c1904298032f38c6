"""The machine-readable result of `curate check --json`: a documented contract (docs/json-contract.md)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from schemas.findings import CheckResult, CheckStatus


class InputSummary(BaseModel):
    """What the loader read. Invariant: rows_read == rows_loaded + rows_quarantined."""

    model_config = ConfigDict(extra="forbid")

    path: str
    format: str
    encoding: str
    kind: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    quarantine_reasons: dict[str, int] = Field(default_factory=dict)
    encoding_note: str | None = None
    notes: list[str] = Field(default_factory=list, description="What else the loader wants the user to know "
                             "(files skipped in a label folder, ids renamed to stay unique).")
    subset: str | None = Field(None, description="What part of the source was used (--head / --sample); "
                                                 "None: every row")
    split: str | None = Field(None, description="The split read from a Hugging Face DatasetDict folder")


class CheckReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    input: InputSummary
    checks: list[CheckResult] = Field(default_factory=list)

    def worst_status(self) -> CheckStatus:
        order = [
            CheckStatus.not_applicable,
            CheckStatus.skipped,
            CheckStatus.passed,
            CheckStatus.warn,
            CheckStatus.fail,
            CheckStatus.error,
        ]
        return max((c.status for c in self.checks), key=order.index, default=CheckStatus.passed)
