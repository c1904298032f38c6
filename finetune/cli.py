"""The `finetune` command line."""

from __future__ import annotations

import finetune.commands
from common.cli import make_app, run_app

# Each module in finetune/commands/ is one sub-command and registers itself.
app = make_app("finetune", "Fine-tune a compact model: classification or causal-LM SFT, full or LoRA.", finetune.commands)


def main(argv: list[str] | None = None) -> None:
    raise SystemExit(run_app(app, "finetune", argv))
