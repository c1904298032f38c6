"""The trainer's `metrics.jsonl`: one JSON event per line (`step`, `epoch`, `split`, then the metrics).

The trainer appends one line per event and closes the file each time, so a killed run leaves every event it
logged, plus at most one torn last line (the write the kill interrupted). This module is the only reader:
`finetune run --resume`, `evalsuite compare` and `evalsuite cv` all read the log through `read_events`, so
they agree on what a torn line means. A bad line anywhere but the last is damage, not a kill, and is an error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from finetune.errors import FinetuneError

LOG_NAME = "metrics.jsonl"


def read_events(path: str | Path) -> list[dict[str, Any]]:
    """The events of a metrics log, in file order; a torn last line (a run killed mid-write) is dropped.

    Args:
        path: A `metrics.jsonl` written by `finetune run`.

    Returns:
        One dict per complete line; blank lines are skipped.

    Raises:
        FinetuneError: When a line other than the last is not a JSON object (the file was damaged or edited).
    """
    lines = Path(path).read_text(encoding="utf-8", errors="replace").split("\n")
    last = max((i for i, ln in enumerate(lines) if ln.strip()), default=-1)
    events = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            event = None
        if isinstance(event, dict):
            events.append(event)
        elif i != last:
            raise FinetuneError(
                f"{path}: line {i + 1} is not a JSON object, and it is not the last line "
                "(a killed run can only tear the last one)",
                fix="restore the file from the run's output folder, or delete the damaged line",
            )
    return events


def truncate_after(path: str | Path, step: int) -> int:
    """Keep only the events at or before `step` (and drop a torn last line), rewriting the file atomically.

    `--resume` replays the steps after its checkpoint; without this they would be logged twice.

    Returns:
        The number of events dropped.
    """
    from curate.io import atomic_text

    events = read_events(path)
    keep = [e for e in events if int(e.get("step", 0)) <= step]
    with atomic_text(path) as fh:
        fh.write("".join(json.dumps(e) + "\n" for e in keep))
    return len(events) - len(keep)


def append_event(path: str | Path, event: dict[str, Any]) -> None:
    """Append one event as a line; opened and closed per event, so a kill loses at most this line."""
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(event) + "\n")
