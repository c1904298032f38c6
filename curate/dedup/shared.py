"""Expensive dedup results computed once per CheckContext and shared between checks via `ctx.shared`."""

from __future__ import annotations

from typing import Any

from curate.dedup import NearDuplicates, exact_duplicate_groups, near_duplicates, prepare


def normalize_options(ctx: Any):
    """The NormalizeConfig the run uses (ctx.options["normalize"]) or the default one."""
    from schemas.configs.curate import NormalizeConfig

    cfg = ctx.options.get("normalize")
    if isinstance(cfg, dict):
        cfg = NormalizeConfig.model_validate(cfg)
    return cfg or NormalizeConfig()


def key_options(ctx: Any):
    """The DedupKeyConfig the run uses (ctx.options["dedup_key"]: a config, a dict or a spec string)."""
    from schemas.configs.dedup_key import DedupKeyConfig

    cfg = ctx.options.get("dedup_key")
    if isinstance(cfg, dict):
        cfg = DedupKeyConfig.model_validate(cfg)
    elif isinstance(cfg, str):
        cfg = DedupKeyConfig.from_spec(cfg)
    return cfg or DedupKeyConfig()


def dedup_texts(ctx: Any) -> list[str]:
    """The duplicate keys of ctx.texts (what exact, near and conflicting-label checks compare)."""
    if "dedup_texts" not in ctx.shared:
        from curate.dedup.key import dedup_keys

        ctx.shared["dedup_texts"] = dedup_keys(ctx.texts, key_options(ctx))
    return ctx.shared["dedup_texts"]


def exact_groups(ctx: Any) -> list[int]:
    if "exact_groups" not in ctx.shared:
        sigs = [v for k, v in ctx.shared.items() if isinstance(k, tuple) and k[0] == "signatures"]
        ctx.shared["exact_groups"] = (
            sigs[0].group.tolist() if sigs else exact_duplicate_groups(dedup_texts(ctx))
        )
    return ctx.shared["exact_groups"]


def near(
    ctx: Any, threshold: float, num_perm: int, shingle: int, bands: int | None, seed: int = 0
) -> NearDuplicates:
    key = ("near", threshold, num_perm, shingle, bands, seed)
    if key not in ctx.shared:
        # signatures do not depend on the threshold: near_duplicate (0.8) and conflicting_labels (0.9)
        # hash the texts once
        skey = ("signatures", num_perm, shingle, seed)
        if skey not in ctx.shared:
            ctx.shared[skey] = prepare(dedup_texts(ctx), num_perm, shingle, seed)
        ctx.shared[key] = near_duplicates(dedup_texts(ctx), threshold, num_perm, shingle, seed, bands,
                                          prepared=ctx.shared[skey])
        # a default run has exactly two users (near_duplicate, conflicting_labels): once a second threshold
        # is served, drop the signatures (256 MiB at 1M rows) so later checks do not carry them; a third
        # user, if any, recomputes them (results never depend on this cache)
        served = [
            k
            for k in ctx.shared
            if isinstance(k, tuple) and k[0] == "near" and (k[2], k[3], k[5]) == (num_perm, shingle, seed)
        ]
        if len(served) >= 2:
            ctx.shared.pop(skey, None)
    return ctx.shared[key]
