"""Progress of long steps, on stderr only, so JSON on stdout stays clean.

On a terminal: a rich bar (label, done/total, rate, the step's own numbers, ETA). Otherwise (a pipe, a log
file, CI): plain lines, flushed as they are written, e.g.

    progress | train 40/200 (20%) 3.1 steps/s ETA 52s | loss 0.5123 lr 4.2e-05

one at the start, one each time another tenth of the work is done (at most one a second), one at least every
`DATAVET_PROGRESS_EVERY` seconds (default 15; 0 prints every update), and one at the end.
`DATAVET_PROGRESS=off|plain|rich`
overrides the choice (default `auto`). rich is imported only when a bar is drawn, so this module is cheap to
import from curate, finetune and evalsuite alike.

Several bars can be open at once (a fold of `evalsuite cv` trains inside the folds' bar): they share one
rich display.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
PREFIX = "progress |"
MODE_ENV = "DATAVET_PROGRESS"
EVERY_ENV = "DATAVET_PROGRESS_EVERY"

_live: Any = None  # the shared rich Progress while any bar is open
_open = 0


def progress_mode() -> str:
    """"rich", "plain" or "off": `DATAVET_PROGRESS` if set, else rich on a terminal and plain otherwise."""
    mode = os.environ.get(MODE_ENV, "auto").strip().lower()
    if mode in ("off", "plain", "rich"):
        return mode
    return "rich" if sys.stderr.isatty() else "plain"


def _seconds(seconds: float) -> str:
    s = round(seconds)
    return (
        f"{s // 3600}h{s % 3600 // 60:02d}m"
        if s >= 3600
        else (f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s")
    )


def _stats_text(stats: dict[str, Any]) -> str:
    parts = []
    for k, v in stats.items():
        if isinstance(v, float):
            parts.append(f"{k} {v:.3g}" if abs(v) < 1e-3 and v else f"{k} {v:.4f}".rstrip("0").rstrip("."))
        else:
            parts.append(f"{k} {v}")
    return " ".join(parts)


class Progress:
    """One long step's progress. Use as a context manager, call `update` as work gets done.

    Args:
        label: What is being done, e.g. "train", "evaluate", "generate (base)".
        total: Units of work, when known.
        unit: The unit's name for the rate ("steps", "batches", "records").
        enabled: False shows nothing (e.g. non-main processes of a multi-GPU run).
        start: Units already done (a resumed run).
    """

    def __init__(self, label: str, total: int | None = None, *, unit: str = "items", enabled: bool = True,
                 start: int = 0) -> None:
        self.label, self.total, self.unit = label, total, unit
        self.mode = progress_mode() if enabled else "off"
        self.done = self._first = start
        self.stats: dict[str, Any] = {}
        self._t0 = self._last_line = 0.0
        self._decile = -1
        self._task: Any = None
        self._started = False

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> Progress:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> None:
        global _live, _open
        if self._started:
            return
        self._started = True
        self._t0 = time.perf_counter()
        if self.mode == "rich":
            if _live is None:
                from rich.console import Console
                from rich.progress import (
                    BarColumn,
                    MofNCompleteColumn,
                    TextColumn,
                    TimeElapsedColumn,
                    TimeRemainingColumn,
                )
                from rich.progress import (
                    Progress as RichProgress,
                )

                _live = RichProgress(
                    TextColumn("[bold]{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TextColumn("{task.fields[stats]}"),
                    TimeElapsedColumn(),
                    TextColumn("ETA"),
                    TimeRemainingColumn(),
                    console=Console(stderr=True),
                    transient=False,
                    # stdout is the JSON channel: never into the display
                    redirect_stdout=False,
                )
                _live.start()
            _open += 1
            self._task = _live.add_task(self.label, total=self.total, completed=self.done, stats="")
        elif self.mode == "plain":
            self._line()

    def update(self, completed: int | None = None, *, advance: int = 0, **stats: Any) -> None:
        """Record progress: `completed` units in all, or `advance` more; `stats` are shown beside it."""
        if not self._started:
            self.start()
        self.done = completed if completed is not None else self.done + advance
        self.stats.update(stats)
        if self.mode == "rich" and _live is not None:
            _live.update(self._task, completed=self.done, stats=_stats_text(self.stats))
        elif self.mode == "plain":
            now = time.perf_counter()
            decile = int(10 * self.done / self.total) if self.total else -1
            every = float(os.environ.get(EVERY_ENV, "15"))
            since = now - self._last_line
            # a tenth more done earns a line, but not more than one a second; silence never lasts `every`
            if (decile > self._decile and since >= min(1.0, every)) or since >= every:
                self._line()

    def advance(self, n: int = 1, **stats: Any) -> None:
        self.update(advance=n, **stats)

    def stop(self) -> None:
        global _live, _open
        if not self._started:
            return
        self._started = False
        if self.mode == "rich" and _live is not None:
            _live.update(self._task, completed=self.done, stats=_stats_text(self.stats))
            _open -= 1
            if _open > 0:  # a finished inner bar (one fold's training) leaves the screen to the others
                _live.remove_task(self._task)
            else:
                _live.stop()
                _live, _open = None, 0
        elif self.mode == "plain" and (self.total is None or self._decile < 10):
            self._line(final=True)

    # ------------------------------------------------------------------ plain lines
    def _line(self, final: bool = False) -> None:
        now = time.perf_counter()
        self._last_line = now
        elapsed = now - self._t0
        rate = (self.done - self._first) / elapsed if elapsed > 0 else 0.0
        head = f"{self.label} {self.done:,}" + (f"/{self.total:,}" if self.total else "")
        if self.total:
            self._decile = int(10 * self.done / self.total)
            head += f" ({100 * self.done / self.total:.0f}%)"
        parts = [head]
        if self.done > self._first and elapsed > 0:
            parts.append(
                f"{rate:,.0f} {self.unit}/s"
                if rate >= 100
                else f"{rate:.3g} {self.unit}/s"
                if rate >= 0.1
                else f"{1 / rate:.3g} s per {self.unit.rstrip('s')}"
            )
            if self.total and not final and self.done < self.total and rate > 0:
                parts.append(f"ETA {_seconds((self.total - self.done) / rate)}")
        parts.append(f"elapsed {_seconds(elapsed)}")
        if final:
            parts.append("done")
        line = f"{PREFIX} {' '.join(parts)}"
        if self.stats:
            line += f" | {_stats_text(self.stats)}"
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


def track(items: Iterable[T], label: str, total: int | None = None, *, unit: str = "items",
          enabled: bool = True) -> Iterator[T]:
    """Iterate `items` while showing progress (one unit per item)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with Progress(label, total, unit=unit, enabled=enabled) as p:
        for item in items:
            yield item
            p.advance()
