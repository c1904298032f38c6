"""Connect to Ray (an address, or a local instance started for this run) and set Ray Data up for it.

A local instance is started with the CPUs in `DATAVET_RAY_CPUS` (default: all) and an object store of
`DATAVET_RAY_OBJECT_STORE_MB` MiB (default 512; blocks beyond it spill to disk). An already initialised Ray
(a test fixture, a notebook) is used as it is and left running.

Shuffles use Ray Data's sort-based pull shuffle: its hash shuffle starts aggregator actors, a fixed cost of
~30 s per shuffle on a 2-core machine that dwarfs the data it moves (measured with 10k and 200k rows).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


def _require_ray():
    try:
        import ray
    except ImportError:
        from schemas.errors import UsageError

        raise UsageError("the ray engine needs Ray Data, which is not installed",
                         fix='pip install "datavet[ray]" (or pip install "ray[data]")') from None
    return ray


def configure_data_context() -> None:
    """Quiet, pull-based sort shuffle, no progress bars on stdout (stdout stays clean for JSON)."""
    import ray

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.shuffle_strategy = "sort_shuffle_pull_based"
    ctx.verbose_stats_logs = False


@contextmanager
def ray_session(address: str | None = None) -> Iterator[None]:
    """Ray for one run: join `address` (e.g. `ray://head:10001` or `auto`), reuse a running one, or start
    one."""
    ray = _require_ray()
    started = False
    if not ray.is_initialized():
        common = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR",
                  "configure_logging": False}
        if address:
            try:
                ray.init(address=address, **common)
            except (ConnectionError, RuntimeError, ValueError) as e:
                from schemas.errors import UsageError

                raise UsageError(f"cannot connect to the Ray cluster at {address}: {e}",
                                 fix="start it with `ray start --head` and pass its address "
                                     "(e.g. --address auto on the head node, or ray://HOST:10001)") from None
        else:
            cpus = os.environ.get("DATAVET_RAY_CPUS")
            store = int(os.environ.get("DATAVET_RAY_OBJECT_STORE_MB", "512")) * 2**20
            # "local": always a new instance, never a cluster another process left running on this machine
            ray.init(
                address="local", num_cpus=int(cpus) if cpus else None, object_store_memory=store, **common
            )
        started = True
    configure_data_context()
    try:
        yield
    finally:
        if started:
            ray.shutdown()
