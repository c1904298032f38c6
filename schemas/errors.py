"""The exception every datavet package raises for problems the user can fix.

A `DatavetError` carries what went wrong, what was expected, and how to fix it; the CLIs print it as one
panel and exit with `exit_code` (2 for usage and config errors, 1 for a failed quality gate).
"""

from __future__ import annotations


class DatavetError(Exception):
    """A problem the user can fix. `fix` says how; `exit_code` is what the CLI exits with."""

    exit_code = 2
    title = "datavet error"

    def __init__(self, message: str, *, fix: str | None = None, details: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.details = details or []

    def __str__(self) -> str:
        parts = [self.message, *(f"  - {d}" for d in self.details)]
        if self.fix:
            parts.append(f"Fix: {self.fix}")
        return "\n".join(parts)


class UsageError(DatavetError):
    """Bad command-line input: a missing file, an unknown name, a missing column."""

    title = "usage error"


class ConfigError(DatavetError):
    """A config that does not validate. All problems are collected into `details`."""

    title = "config error"
