"""The Python API of finetune: train from a config object, a dict or a YAML file, as `finetune run` does.

    from finetune.api import run
    result = run({"model": "minilm", "kind": "classification", "data": {"split_dir": "splits/"},
                  "out": "runs/minilm", "max_steps": 200})
    result.final_metrics["macro_f1"]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def run(config: Any, *, overwrite: bool = False, **overrides: Any) -> Any:
    """Train one model and write its folder (weights or adapter, model card, metrics, manifest).

    Args:
        config: A TrainConfig, a dict of its fields, or the path of a YAML config.
        overwrite: Replace an earlier datavet run in `out` (a folder another program wrote is never replaced),
            as `finetune run --overwrite`.
        **overrides: Config keys to override, dotted keys with `__` (`optim__lr=1e-4`) or plain
            (`max_steps=20`).

    Returns:
        The TrainResult (`final_metrics`, `best_metrics`, `steps`, `out` ...).
    """
    from finetune.commands.run import claim_run_dir
    from finetune.train import run as train_run
    from schemas.configs.base import load_config, validate_config
    from schemas.configs.train import TrainConfig

    dotted = {k.replace("__", "."): v for k, v in overrides.items()}
    if isinstance(config, TrainConfig):
        cfg = (
            config
            if not dotted
            else validate_config(TrainConfig, _merge(config.model_dump(), dotted), "overrides")
        )
    elif isinstance(config, dict):
        cfg = validate_config(TrainConfig, _merge(config, dotted), "config")
    else:
        cfg = load_config(TrainConfig, Path(config), dotted)
    # the same output-folder claim as the command line: new, empty, or datavet's own with `overwrite`
    with claim_run_dir(cfg.out, resume=cfg.resume, overwrite=overwrite):
        return train_run(cfg)


def _merge(base: dict[str, Any], dotted: dict[str, Any]) -> dict[str, Any]:
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    for key, value in dotted.items():
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out
