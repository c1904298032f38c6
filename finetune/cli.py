"""The `finetune` command line."""

from __future__ import annotations

import finetune.commands
from common.cli import make_app, run_app
from common.deprecation import KEY_VALUE, Deprecated

# Each module in finetune/commands/ is one sub-command and registers itself.
app = make_app(
    "finetune", "Fine-tune a compact model: classification or causal-LM SFT, full or LoRA.", finetune.commands
)


# Old spellings that still work (with a note on stderr); the README's vocabulary table lists the new ones.
DEPRECATED = (
    Deprecated("--task", "--kind", values={"sft": "completion"}),
    Deprecated(KEY_VALUE, "--set", commands=("run", "sweep")),
)


def main(argv: list[str] | None = None) -> None:
    raise SystemExit(run_app(app, "finetune", argv, deprecated=DEPRECATED))
