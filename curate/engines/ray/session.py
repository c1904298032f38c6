"""Connect to Ray (an address, or a local instance started for this run) and set Ray Data up for it.

A local instance is started with the CPUs in `DATAVET_RAY_CPUS` (default: all) and an object store of
`DATAVET_RAY_OBJECT_STORE_MB` MiB (default 512; blocks beyond it spill to disk, one file per object),
and little task lineage kept (`LOCAL_SYSTEM_CONFIG`). An already initialised Ray
(a test fixture, a notebook) is used as it is and left running.

Shuffles use Ray Data's sort-based pull shuffle until the pipeline has seen its input: then
`curate.engines.ray.shuffle.strategy` picks the sort or the hash shuffle by the number of read tasks.
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
    """Quiet, pull-based sort shuffle (until `shuffle.use`), no progress bars on stdout (stdout stays clean
    for JSON)."""
    import ray

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.shuffle_strategy = "sort_shuffle_pull_based"
    ctx.verbose_stats_logs = False


# The settings of a Ray this process starts on its own machine:
# - spill each object to its own file. Ray's default packs small objects into shared ~100 MB files, and a
#   file is deleted only when every object in it is freed: one long-lived block kept a whole file of freed
#   shuffle data on disk. Measured at 200k rows, this change alone (one run each): spill on disk at its
#   peak 1.88 -> 1.00 GiB, run 94.7 -> 100.5 s;
# - keep at most 1 MB of task lineage. The driver owns every block its tasks make and by default keeps up
#   to 1 GB of the tasks' lineage to rebuild a lost block; that grew with the rows (1M rows: driver peak
#   0.49 GiB with the default, 0.42 GiB with this cap, bench/ray_scaling.py). On one machine a lost block
#   means the machine, and the driver with it, is gone, so the lineage buys nothing there; a lost block
#   fails the run with Ray's ObjectLostError instead of being rebuilt.
# - return at most 4 KiB from a task straight to the driver. Ray's default (100 KiB) keeps every smaller
#   return of the driver's tasks and actor calls in the driver's own heap, not in the object store. A
#   native-heap profile of the driver at 5M rows found 42 MiB of such returns (of actor calls) at the peak
#   of what it allocated; with this cap the driver peaked at 0.49 GiB there instead of 0.55
#   (bench/ray_scaling.py). A block's metadata or a count stays under 4 KiB and still comes back directly.
LOCAL_SYSTEM_CONFIG = {"min_spilling_size": 0, "max_fused_object_count": 1, "max_lineage_bytes": 1_000_000,
                       "max_direct_call_object_size": 4096}
# no dashboard, and nothing of Ray's on this process's stdout/stderr (stdout stays clean for JSON)
QUIET = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR",
         "configure_logging": False}


def start_local(cpus: int | None, store_mb: int) -> None:
    """A new local Ray instance (never a cluster another process left running on this machine) with `cpus`
    CPUs (None: all) and an object store of `store_mb` MiB, with `LOCAL_SYSTEM_CONFIG`."""
    import ray

    ray.init(address="local", num_cpus=cpus, object_store_memory=store_mb * 2**20,
             _system_config=LOCAL_SYSTEM_CONFIG, **QUIET)


@contextmanager
def ray_session(address: str | None = None) -> Iterator[None]:
    """Ray for one run: join `address` (e.g. `ray://head:10001` or `auto`), reuse a running one, or start
    one."""
    ray = _require_ray()
    started = False
    if not ray.is_initialized():
        if address:
            try:
                ray.init(address=address, **QUIET)
            except (ConnectionError, RuntimeError, ValueError) as e:
                from schemas.errors import UsageError

                raise UsageError(f"cannot connect to the Ray cluster at {address}: {e}",
                                 fix="start it with `ray start --head` and pass its address "
                                     "(e.g. --address auto on the head node, or ray://HOST:10001)") from None
        else:
            cpus = os.environ.get("DATAVET_RAY_CPUS")
            store_mb = int(os.environ.get("DATAVET_RAY_OBJECT_STORE_MB", "512"))
            start_local(int(cpus) if cpus else None, store_mb)
        started = True
    configure_data_context()
    try:
        yield
    finally:
        if started:
            ray.shutdown()
