"""Hand the driver's freed heap back to the operating system while a Ray run goes on.

Ray's C++ core (task submission, reference counting, replies) allocates on the driver's many threads, and
glibc keeps what they free in per-thread arenas instead of returning it: the driver's resident memory
then grows with the work done, not with what it holds. `returning_freed_heap` calls glibc's
`malloc_trim(0)` every `DATAVET_RAY_TRIM_S` seconds (default 2; 0 turns it off) on a background thread
for the length of a run. Elsewhere than glibc (macOS, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

DEFAULT_EVERY_S = 2.0


def malloc_trim() -> Callable[[], int] | None:
    """glibc's `malloc_trim(0)` as a callable (it returns 1 when memory went back), None without glibc.
    Looked up among the symbols the process already has loaded (libc is one), not by searching for a
    library file."""
    try:
        fn = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
    return lambda: fn(0)


def trim_interval() -> float:
    """Seconds between trims: `DATAVET_RAY_TRIM_S`, else `DEFAULT_EVERY_S`; 0 or less means never."""
    env = os.environ.get("DATAVET_RAY_TRIM_S")
    if not env:
        return DEFAULT_EVERY_S
    try:
        return float(env)
    except ValueError:
        from schemas.errors import UsageError

        raise UsageError(f"DATAVET_RAY_TRIM_S={env!r} is not a number of seconds",
                         fix="set it to e.g. 2 (seconds between trims) or 0 (never trim)") from None


class Trimmer:
    """The trims one `returning_freed_heap` block made (`calls`) and whether glibc was there to make them."""

    def __init__(self, active: bool) -> None:
        self.active = active
        self.calls = 0


@contextmanager
def returning_freed_heap(every_s: float | None = None) -> Iterator[Trimmer]:
    """Trim the heap every `every_s` seconds (default `trim_interval()`) until the block ends, and once
    more at its end."""
    every = trim_interval() if every_s is None else every_s
    trim = malloc_trim()
    if trim is None or every <= 0:
        yield Trimmer(active=False)
        return
    trimmer = Trimmer(active=True)
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            trim()
            trimmer.calls += 1

    thread = threading.Thread(target=loop, name="datavet-malloc-trim", daemon=True)
    thread.start()
    try:
        yield trimmer
    finally:
        stop.set()
        thread.join()
        trim()
        trimmer.calls += 1
