"""Engines that run `curate run`: `local` (curate.pipeline, one process, the default) and `ray` (Ray Data,
many processes or machines; the extra `datavet[ray]`). Both take the same CurateConfig and write the same
side files; `run` is the one hook the CLI calls to choose between them.
"""

from __future__ import annotations

from typing import Any

ENGINES = ("local", "ray")


def run(cfg: Any, command: str = "curate run", engine: str = "local", address: str | None = None,
        config_dir: Any = None, overwrite: bool = False):
    """Run the curation `cfg` on `engine`; returns a `curate.pipeline.PipelineResult`.

    Both engines claim `cfg.out` through the one output guard (common.outputs.output_dir): a new, empty or
    (with `overwrite`) earlier datavet folder, locked while the run writes.

    Raises:
        UsageError: an unknown engine, `--address` without `--engine ray`, or Ray not installed.
    """
    from schemas.errors import UsageError

    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}", fix=f"use one of: {', '.join(ENGINES)}")
    if engine == "local":
        if address:
            raise UsageError(
                "--address only applies to --engine ray", fix="add --engine ray or drop --address"
            )
        from curate.pipeline import run_pipeline

        return run_pipeline(cfg, command, config_dir=config_dir, overwrite=overwrite)
    from common.outputs import output_dir
    from curate.engines.ray import run_ray_pipeline

    with output_dir(cfg.out, overwrite=overwrite, command="curate run --engine ray"):
        return run_ray_pipeline(cfg, command, address=address)
