"""Options that `evalsuite compare` and `evalsuite score` take alike: a config file of metric arguments and
`--set` overrides of its keys, and how they combine with `--metric-args`."""

from __future__ import annotations

from typing import Any, Optional

from common.options import config_option, json_option, set_option

Json = json_option()

MetricConfig = config_option(
    "YAML with metric_args: {KEY: {OPTION: VALUE}}; --metric-args override it (default: none).", Optional[str]
)
MetricSet = set_option(
    "Override a key of the --config file: metric_args.KEY.OPTION=VALUE (repeatable; default: none).",
    metavar=None,
)


def metric_options(config: str | None, sets: list[str] | None, metric_args: list[str] | None) -> Any:
    """The metric arguments of `--config`, then `--set metric_args.KEY.OPTION=VALUE`, then `--metric-args`.

    Raises:
        UsageError: An unreadable config, a `--set` key outside metric_args, or a malformed item.
    """
    from evalsuite.metrics.args import load_metric_config, merge_args, parse_metric_args, sets_to_metric_args

    return merge_args(load_metric_config(config),
                      parse_metric_args([*sets_to_metric_args(sets), *(metric_args or [])]))
