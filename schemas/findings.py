"""Findings are data: what a check found, on which row, how bad, and why (a snake_case reason code)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Severity(str, Enum):
    info = "info"
    warning = "warning"
    error = "error"


class CheckStatus(str, Enum):
    """A check's outcome. `not_run`: it could run on this data but did not (an option it needs is missing; it
    was called `skipped` before the shared vocabulary, and `skipped` is an alias). `not_applicable`: the
    data's
    record kind lacks what the check judges (labels on plain text); never a pass, never a failure, and no gate
    counts it."""

    passed = "pass"
    warn = "warn"
    fail = "fail"
    error = "error"
    not_run = "not_run"
    skipped = "not_run"  # the old name, same member
    not_applicable = "not_applicable"


# `--fail-on LEVEL` / `fail_on: LEVEL`: the statuses that fail the quality gate at each level.
GATE = {"fail": {CheckStatus.fail, CheckStatus.error},
        "warn": {CheckStatus.fail, CheckStatus.error, CheckStatus.warn},
        "never": set()}
# The gate's old level names (before the shared vocabulary) -> the new ones.
OLD_GATE_LEVELS = {"error": "fail", "warning": "warn"}


class Finding(BaseModel):
    """One problem on one row. Extra keys (`duplicate_of`, `cluster`, `jaccard`, ...) are allowed and kept."""

    model_config = ConfigDict(extra="allow")

    id: str
    reason: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    severity: Severity = Severity.warning
    message: str | None = None


class CheckResult(BaseModel):
    """The outcome of one check: status, finding count, findings, and check-specific summary numbers."""

    model_config = ConfigDict(extra="forbid")

    name: str
    status: CheckStatus
    count: int = 0
    description: str = ""
    message: str | None = None
    summary: dict[str, Any] = Field(default_factory=dict)
    findings: list[Finding] = Field(default_factory=list)
    # Set by the Ray engine, which keeps only the first findings (in the check's order) in `findings`: the
    # JSONL file, relative to the output folder, that holds every finding (in input order). None: all are
    # in `findings`.
    findings_file: str | None = None


class QuarantineEntry(BaseModel):
    """A row the loader could not turn into a valid record. Kept with its raw text so nothing is lost."""

    model_config = ConfigDict(extra="forbid")

    source: str
    line: int | None = Field(None, description="1-based physical line for line-oriented files")
    row: int = Field(description="0-based row number in the source; also the row's id when it has none")
    id: str
    reason: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    message: str
    raw: str
