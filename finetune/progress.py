"""Training progress: step, loss, learning rate and tokens/s, through the shared `common.progress` display
(a rich bar on a terminal, periodic plain lines on stderr otherwise)."""

from __future__ import annotations

from common.progress import Progress


class TrainProgress:
    """The training loop's progress; `enabled=False` on non-main processes and with `progress: false`."""

    def __init__(self, total_steps: int, enabled: bool = True):
        self.total = total_steps
        self._progress = Progress("train", total_steps, unit="steps", enabled=enabled)

    def start(self, step: int = 0) -> None:
        self._progress.done = self._progress._first = step
        self._progress.start()

    def update(self, step: int, *, loss: float, lr: float, tps: float) -> None:
        self._progress.update(step, loss=loss, lr=lr, tok_s=round(tps))

    def stop(self) -> None:
        self._progress.stop()
