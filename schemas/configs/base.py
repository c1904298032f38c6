"""Configs are validated data: pydantic models with `extra="forbid"`, loaded from YAML and overridden on the
command line with `key.sub=value`. Every problem in a config is collected into one error message.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from schemas.errors import ConfigError

T = TypeVar("T", bound=BaseModel)
_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


class StrictModel(BaseModel):
    """Base for every config: unknown keys are errors, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def parse_override(item: str) -> tuple[list[str], Any]:
    """`a.b=3` -> (["a", "b"], 3). The value is parsed as YAML, so `true`, `1e-4`, `[q,v]` work."""
    if "=" not in item:
        raise ConfigError(f"override {item!r} is not of the form key=value", fix="write e.g. `train.lr=2e-5`")
    key, _, raw = item.partition("=")
    if not key.strip():
        raise ConfigError(f"override {item!r} has an empty key", fix="write e.g. `train.lr=2e-5`")
    try:
        value = yaml.safe_load(raw) if raw != "" else None
    except yaml.YAMLError:
        value = raw
    if isinstance(value, str) and _FLOAT.fullmatch(value.strip()):
        value = float(value)  # YAML 1.1 reads `2e-5` (no dot) as a string; users mean the number
    return key.strip().split("."), value


def apply_overrides(data: dict[str, Any], overrides: list[str] | dict[str, Any] | None) -> dict[str, Any]:
    """Return a copy of `data` with dotted overrides applied (a list of `k=v` strings or a dict)."""
    out = _deepcopy(data)
    items = overrides.items() if isinstance(overrides, dict) else (parse_override(o) for o in overrides or [])
    for key, value in items:
        path = key.split(".") if isinstance(key, str) else key
        node = out
        for part in path[:-1]:
            nxt = node.get(part)
            if not isinstance(nxt, dict):
                nxt = {}
                node[part] = nxt
            node = nxt
        node[path[-1]] = value
    return out


def _deepcopy(d: Any) -> Any:
    if isinstance(d, dict):
        return {k: _deepcopy(v) for k, v in d.items()}
    if isinstance(d, list):
        return [_deepcopy(v) for v in d]
    return d


def format_validation_error(err: ValidationError, source: str) -> ConfigError:
    details = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(root)"
        if e["type"] == "extra_forbidden":
            details.append(f"{loc}: unknown key")
        else:
            details.append(
                f"{loc}: {e['msg']}"
                + (f" (got {e['input']!r})" if "input" in e and not isinstance(e["input"], dict) else "")
            )
    return ConfigError(
        f"{source} has {len(details)} problem{'s' * (len(details) != 1)}",
        details=details,
        fix="correct the keys listed above; `--help` and the shipped configs/ show every valid key",
    )


def validate_config(cls: type[T], data: dict[str, Any], source: str = "config") -> T:
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        raise format_validation_error(e, source) from None


def _non_string_keys(node: Any, prefix: str = "") -> list[str]:
    """Paths of the keys in a YAML mapping (nested included) that are not strings, e.g. `1:` or `yes:`."""
    bad: list[str] = []
    if isinstance(node, dict):
        for k, v in node.items():
            if not isinstance(k, str):
                bad.append(f"{prefix}{k!r}")
            else:
                bad += _non_string_keys(v, f"{prefix}{k}.")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            bad += _non_string_keys(v, f"{prefix}{i}.")
    return bad


def load_config(
    cls: type[T],
    path: str | Path | None = None,
    overrides: list[str] | dict[str, Any] | None = None,
    base: dict[str, Any] | None = None,
) -> T:
    """Load `cls` from an optional YAML file, then apply `overrides`, and validate once."""
    data: dict[str, Any] = dict(base or {})
    source = "config"
    if path is not None:
        p = Path(path)
        source = str(p)
        if not p.is_file():
            raise ConfigError(f"config file {p} does not exist", fix="pass the path of a YAML config file")
        try:
            loaded = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except UnicodeDecodeError as e:
            raise ConfigError(
                f"{p} is not UTF-8 text (byte {e.object[e.start]:#04x} at position {e.start})",
                fix="save the config as UTF-8 (YAML files are read as UTF-8)",
            ) from None
        except yaml.YAMLError as e:
            raise ConfigError(
                f"{p} is not valid YAML: {e}", fix="fix the YAML syntax at the position shown"
            ) from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{p} must hold a mapping of keys, not a {type(loaded).__name__}")
        bad = _non_string_keys(loaded)
        if bad:
            raise ConfigError(
                f"{p} has keys that are not names: {', '.join(bad)}",
                fix="every config key is a name (e.g. `out:`); quote a key that YAML reads as a "
                "number or boolean",
            )
        data = apply_overrides(data, {k: v for k, v in loaded.items()})
    data = apply_overrides(data, overrides)
    return validate_config(cls, data, source)
