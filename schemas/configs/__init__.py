"""Validated configs. Each package's config lives in its own module; all share `StrictModel`."""

from schemas.configs.base import StrictModel, apply_overrides, load_config, parse_override

__all__ = ["StrictModel", "apply_overrides", "load_config", "parse_override"]
