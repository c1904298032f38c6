"""A rich progress bar for training: step, loss, learning rate, tokens/s and ETA. Off when not a terminal
user is watching (tests, non-main processes) so logs stay clean."""

from __future__ import annotations

from typing import Any


class TrainProgress:
    def __init__(self, total_steps: int, enabled: bool = True):
        self.total = total_steps
        self.enabled = enabled
        self._progress: Any = None
        self._task: Any = None

    def start(self, step: int = 0) -> None:
        if not self.enabled:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[stats]}"),
            TextColumn("ETA"), TimeRemainingColumn(), transient=False,
        )
        self._progress.start()
        self._task = self._progress.add_task("train", total=self.total, completed=step, stats="")

    def update(self, step: int, *, loss: float, lr: float, tps: float) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=step,
                                  stats=f"loss {loss:.4f}  lr {lr:.2e}  {tps:,.0f} tok/s")

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
