"""Every data check, one module each in this folder, registered by name.

A module registers its check by defining a `Check` subclass with a `name`; the registry is discovered from
this package, so adding a check is adding a module. The registry key, the finding reasons and the report
column all use the same snake_case strings.
"""

from __future__ import annotations

import importlib
import pkgutil

from curate.checks.base import Check, CheckContext

# Reserved for evalsuite: likely label errors found from out-of-fold predictions (cleanlab).
RESERVED = {"label_issues": "written by `evalsuite cv` from out-of-fold predictions"}

# The order checks run and appear in reports; checks not listed here follow in name order.
ORDER = (
    "schema",
    "expectations",
    "normalization",
    "exact_duplicate",
    "near_duplicate",
    "semantic_duplicate",
    "conflicting_labels",
    "conflicting_responses",
    "class_balance",
    "bias",
    "leakage",
    "length",
    "token_audit",
    "pii",
)


def _discover() -> dict[str, type[Check]]:
    found: dict[str, type[Check]] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, Check)
                and obj is not Check
                and getattr(obj, "name", None)
                and obj.__module__ == module.__name__
            ):
                found[obj.name] = obj
    rank = {n: i for i, n in enumerate(ORDER)}
    return dict(sorted(found.items(), key=lambda kv: (rank.get(kv[0], len(ORDER)), kv[0])))


REGISTRY: dict[str, type[Check]] = _discover()

__all__ = ["REGISTRY", "RESERVED", "Check", "CheckContext"]
