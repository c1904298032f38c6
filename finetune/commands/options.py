"""Options of `finetune run` that `finetune sweep` and `evalsuite cv` take too (one help text each), in
groups as the commands list them, and the TrainConfig key each one sets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from common.cli import config_help
from common.options import OptionGroup, config_option, precision_option, set_option
from schemas.configs.train import TrainConfig

Opt = typer.Option


def key_help(key: str, text: str) -> str:
    """Help that names the option's default and config key (the option's own default is None)."""
    return config_help(TrainConfig, key, text)


def resolve_config(config: Optional[Path], flags: dict[str, Any], overrides: list[str]) -> Any:
    """YAML < flags < `--set key=value` overrides, validated once (all problems in one error)."""
    from common.options import resolve_config as resolve

    return resolve(TrainConfig, config, overrides, flags, sets_win=True)


ConfigOpt = config_option(
    "A finetune YAML config (see configs/finetune/); flags and --set override it "
    "(default: none, the built-in defaults)."
)
SetOpt = set_option(
    "Override any config key, e.g. --set optim.lr=3e-5 (repeatable; wins over flags; default: none)."
)
ModelOpt = Annotated[
    Optional[str],
    Opt("--model", help=key_help("model", "minilm, smollm2, a save_pretrained folder, or a hub id")),
]
KindOpt = Annotated[
    Optional[str],
    Opt(
        "--kind",
        help=key_help(
            "kind",
            "Record kind: classification (label head), "
            "completion or chat (causal-LM SFT), or text "
            "(continued pre-training on plain documents)",
        ),
    ),
]
MethodOpt = Annotated[Optional[str], Opt("--method", help=key_help("method", "full, lora or qlora"))]
EpochsOpt = Annotated[
    Optional[float], Opt("--epochs", help=key_help("epochs", "Passes over the training data"))
]
MaxStepsOpt = Annotated[
    Optional[int],
    Opt("--max-steps", help=key_help("max_steps", "Optimizer steps; overrides --epochs when set")),
]
LrOpt = Annotated[Optional[float], Opt("--lr", help=key_help("optim.lr", "Peak learning rate (AdamW)"))]
BatchOpt = Annotated[
    Optional[int], Opt("--batch-size", help=key_help("batch_size", "Training examples per micro-batch"))
]
GradAccumOpt = Annotated[
    Optional[int], Opt("--grad-accum", help=key_help("grad_accum", "Micro-batches per optimizer step"))
]
MaxLenOpt = Annotated[
    Optional[int],
    Opt("--max-length", help=key_help("max_length", "Tokens per example; longer ones are truncated")),
]
PrecisionOpt = precision_option(
    key_help("precision", "What the model computes in: auto (bf16 on CUDA, fp32 on CPU), fp32, bf16 "
             "(CUDA, or a CPU with bf16 instructions) or fp16 (CUDA)")
)
SeedOpt = Annotated[
    Optional[int], Opt("--seed", help=key_help("seed", "Seed for weights, data order and sampling"))
]

# The config and the model, which `finetune run`, `finetune sweep` and `evalsuite cv` all start with.
BASE = OptionGroup(
    config=(ConfigOpt, None),
    sets=(SetOpt, None),
    model=(ModelOpt, None),
    kind=(KindOpt, None),
    method=(MethodOpt, None),
)
# How long and how it trains: `finetune run`; `evalsuite cv` takes all but --lr and --grad-accum.
KNOBS = OptionGroup(
    epochs=(EpochsOpt, None),
    max_steps=(MaxStepsOpt, None),
    lr=(LrOpt, None),
    batch_size=(BatchOpt, None),
    grad_accum=(GradAccumOpt, None),
    max_length=(MaxLenOpt, None),
    seed=(SeedOpt, None),
    precision=(PrecisionOpt, None),
)
# The TrainConfig key of each option in these groups whose parameter name is not its key.
KEYS = {"lr": "optim.lr"}


def train_config(base: dict[str, Any], flags: dict[str, Any], knobs: dict[str, Any] | None = None) -> Any:
    """The TrainConfig of a command: its `--config` file, then its flags, then its `--set` overrides.

    Args:
        base: The values of the `BASE` options.
        flags: The command's other flags as {config key: value} (None: not given).
        knobs: The values of the `KNOBS` options it takes, if any.
    """
    grouped = {k: v for k, v in {**base, **(knobs or {})}.items() if k not in ("config", "sets")}
    keyed = {KEYS.get(k, k): v for k, v in grouped.items()}
    return resolve_config(base["config"], {**keyed, **flags}, base["sets"] or [])
