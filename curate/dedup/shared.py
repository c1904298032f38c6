"""Expensive dedup results computed once per CheckContext and shared between checks via `ctx.shared`."""

from __future__ import annotations

from typing import Any

from curate.dedup import NearDuplicates, exact_duplicate_groups, near_duplicates


def normalize_options(ctx: Any):
    """The NormalizeConfig the run uses (ctx.options["normalize"]) or the default one."""
    from schemas.configs.curate import NormalizeConfig

    cfg = ctx.options.get("normalize")
    if isinstance(cfg, dict):
        cfg = NormalizeConfig.model_validate(cfg)
    return cfg or NormalizeConfig()


def exact_groups(ctx: Any) -> list[int]:
    if "exact_groups" not in ctx.shared:
        ctx.shared["exact_groups"] = exact_duplicate_groups(ctx.texts)
    return ctx.shared["exact_groups"]


def near(ctx: Any, threshold: float, num_perm: int, shingle: int, bands: int | None, seed: int = 0) -> NearDuplicates:
    key = ("near", threshold, num_perm, shingle, bands, seed)
    if key not in ctx.shared:
        ctx.shared[key] = near_duplicates(ctx.texts, threshold, num_perm, shingle, seed, bands)
    return ctx.shared[key]
