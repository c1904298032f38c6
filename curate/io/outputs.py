"""The output guard and atomic writer live in the shared layer (`common.outputs`); curate re-exports them."""

from common.outputs import (
    LOCK,
    MARKER,
    OutputError,
    atomic_path,
    atomic_text,
    check_dir_target,
    check_file_target,
    claim_outputs,
    is_marked,
    os_error,
    os_errors_as_usage,
    output_dir,
    replace_dir,
    write_marker,
    write_text,
    written_by,
)

__all__ = [
    "LOCK",
    "MARKER",
    "OutputError",
    "atomic_path",
    "atomic_text",
    "check_dir_target",
    "check_file_target",
    "claim_outputs",
    "is_marked",
    "os_error",
    "os_errors_as_usage",
    "output_dir",
    "replace_dir",
    "write_marker",
    "write_text",
    "written_by",
]
