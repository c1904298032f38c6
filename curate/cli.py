"""The `curate` command line: data-QA commands run before training."""

from __future__ import annotations

import curate.commands
from common.cli import make_app, run_app

# Each module in curate/commands/ is one sub-command and registers itself.
app = make_app("curate", "Check and curate fine-tuning data before training.", curate.commands)


def main(argv: list[str] | None = None) -> None:
    raise SystemExit(run_app(app, "curate", argv))
