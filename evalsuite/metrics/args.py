"""Metric options: `--metric-args KEY.OPTION=VALUE` on the CLI, `metric_args: {KEY: {OPTION: VALUE}}` in a
config.

KEY is a metric name (`rougeLsum`) or the name of its group (`rouge` sets rouge1/rouge2/rougeL/rougeLsum,
`classification` sets every classification metric); a metric's own key wins over its group's. VALUE is read
as YAML (`true`, `2`, `0.5`, `[a, b]`), then coerced to the type of the option's default. Every option a
metric was built with is part of its signature, so two scores with different settings are never compared.
An unknown key or option is a usage error that lists what exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from schemas.errors import UsageError

MetricArgs = dict[str, dict[str, Any]]


def parse_metric_args(items: Sequence[str] | None) -> MetricArgs:
    """`["bleu.tokenize=intl", "rouge.use_stemmer=true"]` -> `{"bleu": {"tokenize": "intl"}, ...}`.

    Raises:
        UsageError: For an item that is not `KEY.OPTION=VALUE`.
    """
    import yaml

    out: MetricArgs = {}
    for item in items or ():
        head, eq, raw = item.partition("=")
        key, dot, opt = head.strip().partition(".")
        if not eq or not dot or not key or not opt:
            raise UsageError(
                f"bad --metric-args {item!r}", fix="write KEY.OPTION=VALUE, e.g. bleu.tokenize=intl"
            )
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        out.setdefault(key, {})[opt.strip()] = value
    return out


def merge_args(*layers: Mapping[str, Mapping[str, Any]] | None) -> MetricArgs:
    """Later layers override earlier ones, option by option (config file first, then the CLI)."""
    out: MetricArgs = {}
    for layer in layers:
        for key, opts in (layer or {}).items():
            if not isinstance(opts, Mapping):
                raise UsageError(f"metric_args.{key} must be a mapping of option: value, got {opts!r}",
                                 fix=f"write metric_args: {{{key}: {{OPTION: VALUE}}}}")
            out.setdefault(str(key), {}).update({str(k): v for k, v in opts.items()})
    return out


def _coerce(key: str, opt: str, value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "yes", "1", "on"):
            return True
        if str(value).lower() in ("false", "no", "0", "off"):
            return False
    elif isinstance(default, int) and not isinstance(value, bool):
        try:
            if float(value) == int(float(value)):
                return int(float(value))
        except (TypeError, ValueError):
            pass
    elif isinstance(default, float):
        try:
            return float(value)
        except (TypeError, ValueError):
            pass
    elif isinstance(default, (list, tuple)):
        return list(value) if isinstance(value, (list, tuple)) else [value]
    else:
        return value  # None or str defaults take the value as given (validated by the metric)
    raise UsageError(f"{key}.{opt}={value!r} is not a {type(default).__name__}",
                     fix=f"give {key}.{opt} a {type(default).__name__} value like {default!r}")


class ArgResolver:
    """Hands each metric its options and remembers which keys were used, to reject typos at the end."""

    def __init__(self, args: Mapping[str, Mapping[str, Any]] | None):
        self.args = merge_args(args)
        self.used: set[tuple[str, str]] = set()
        self.known: dict[str, set[str]] = {}

    def resolve(self, keys: Sequence[str], defaults: Mapping[str, Any]) -> dict[str, Any]:
        """Options for a metric addressed by `keys` (most general first), validated against `defaults`."""
        out = dict(defaults)
        for key in keys:
            self.known.setdefault(key, set()).update(defaults)
            for opt, value in self.args.get(key, {}).items():
                if opt in defaults:
                    out[opt] = _coerce(key, opt, value, defaults[opt])
                    self.used.add((key, opt))
        return out

    def check_all_used(self) -> None:
        """Raise for any KEY.OPTION that no metric took (a typo, or a metric not computed for this task)."""
        bad = sorted(f"{k}.{o}" for k, opts in self.args.items() for o in opts if (k, o) not in self.used)
        if bad:
            known = [f"{k}: {', '.join(sorted(v))}" for k, v in sorted(self.known.items()) if v]
            raise UsageError(
                f"unknown metric option(s): {', '.join(bad)}",
                details=known,
                fix="use one of the KEY.OPTION pairs listed above (docs/metrics.md lists them all)",
            )


def sig_opts(opts: Mapping[str, Any]) -> str:
    """`k:v|k:v` for a signature, options in a stable order."""
    return "|".join(f"{k}:{_show(v)}" for k, v in sorted(opts.items()))


def _show(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(map(str, v)) + "]"
    return str(v)


def load_metric_config(path: str | None) -> MetricArgs:
    """`metric_args` from a YAML (or JSON) config file: `metric_args: {bleu: {tokenize: intl}}`.

    Raises:
        UsageError: A missing or unreadable file, a top-level key other than `metric_args`, or a bad shape.
    """
    if not path:
        return {}
    from pathlib import Path

    import yaml

    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise UsageError(
            f"cannot read config {p}: {e}", fix="give a UTF-8 YAML file with metric_args: {...}"
        ) from None
    if not isinstance(data, dict) or set(map(str, data)) - {"metric_args"}:
        extra = sorted(map(str, data)) if isinstance(data, dict) else [type(data).__name__]
        raise UsageError(
            f"config {p}: unexpected keys {extra}",
            fix="write metric_args: {KEY: {OPTION: VALUE}}, e.g. metric_args: {bleu: {tokenize: intl}}",
        )
    return merge_args(data.get("metric_args") or {})


def sets_to_metric_args(sets: Sequence[str] | None) -> list[str]:
    """`--set metric_args.bleu.tokenize=intl` (the shared override word, on a key of the `--config` file) ->
    the `--metric-args` item `bleu.tokenize=intl`.

    Raises:
        UsageError: A key outside `metric_args` (the only section these configs have).
    """
    from schemas.errors import UsageError

    out = []
    for item in sets or ():
        head, eq, value = item.partition("=")
        if not eq or not head.startswith("metric_args."):
            raise UsageError(
                f"--set {item!r}: this command's config has only metric_args",
                fix="write --set metric_args.KEY.OPTION=VALUE, e.g. --set metric_args.bleu.tokenize=intl",
            )
        out.append(f"{head[len('metric_args.'):]}={value}")
    return out
