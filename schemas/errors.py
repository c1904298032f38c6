"""The exception every datavet package raises for problems the user can fix.

A `DatavetError` carries what went wrong, what was expected, and how to fix it; the CLIs print it as one
panel and exit with `exit_code` (2 for usage and config errors, 1 for a failed quality gate).
"""

from __future__ import annotations

import errno


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


# errno -> (what happened, how to fix it): I/O failures the user can fix, not bugs.
OS_ERRORS: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("the disk is full", "free some space on that disk, or write the output to another disk"),
    errno.EDQUOT: ("the disk quota is exceeded", "free some space, or write the output elsewhere"),
    errno.EROFS: ("the file system is read-only", "write the output to a writable folder"),
    errno.EACCES: ("permission denied", "use a path you can read or write, or fix its permissions"),
    errno.EPERM: ("operation not permitted", "use a path you can read or write"),
    errno.ENOTDIR: ("a part of the path is a file, not a folder", "choose a path that is not under a file"),
    errno.EISDIR: ("the path is a folder", "give a file name, not a folder"),
    errno.ENAMETOOLONG: ("the file name is too long", "choose a shorter path"),
    errno.EEXIST: ("a file with that name is in the way", "choose a path that is not under a file"),
    errno.ENOENT: ("no such file or folder", "check the path"),
}


def os_usage_error(
    err: OSError, target: object = None, cls: type[DatavetError] = UsageError
) -> DatavetError | None:
    """The user-facing error for an I/O failure the user can fix (disk full, read-only...), or None for
    others."""
    known = OS_ERRORS.get(err.errno if isinstance(err.errno, int) else -1)
    if known is None:
        return None
    what, fix = known
    where = err.filename or target
    if target is not None:
        return cls(
            f"cannot write {target}: {what}" + (f" ({where})" if str(where) != str(target) else ""), fix=fix
        )
    return cls(f"{what}: {where}" if where else what, fix=fix)
