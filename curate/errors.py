"""curate's exceptions: all derive from `CurateError`, a `DatavetError` the CLI prints as one panel."""

from schemas.errors import ConfigError, DatavetError, UsageError


class CurateError(DatavetError):
    title = "curate error"


class DataUsageError(CurateError, UsageError):
    """The input as a whole cannot be read as asked (missing file, missing column, unknown format)."""

    title = "cannot read the data"


__all__ = ["ConfigError", "CurateError", "DataUsageError", "UsageError"]
