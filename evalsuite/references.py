"""Reference data for `evalsuite score`: only the id and the reference are required.

Scoring compares a prediction with a reference, so a references file needs `id` and the reference field:
the `label` (classification), else the `completion` or, failing that, the `text` (generation). Other
fields (the input text, the prompt) may be absent; rows are still validated and quarantined by `curate.load`.
"""

from __future__ import annotations

from typing import Any

from schemas.errors import DatavetError


def load_references(path: str, task: str) -> tuple[list[dict[str, Any]], str]:
    """(records, reference field) from a references file; only the id and the reference are required.

    Args:
        path: The references file (any format `curate.load` reads, or bundled:NAME).
        task: "classification" (reference = label) or "generation" (completion, else text).

    Raises:
        DatavetError: The loader's usage error when the file has no column the task can use as the reference
            (it names the columns found), or cannot be read.
    """
    from curate import load

    if task == "classification":
        return load(path, kind="classification", fields=["label"]).records, "label"
    try:
        return load(path, kind="completion", fields=["completion"]).records, "completion"
    except DatavetError as first:
        try:
            return load(path, kind="text").records, "text"
        except DatavetError:
            raise first from None  # its message names the columns found (or the missing file)
