"""The `evalsuite` command line."""

from __future__ import annotations

import evalsuite.commands
from common.cli import make_app, run_app

# Each module in evalsuite/commands/ is one sub-command and registers itself.
app = make_app("evalsuite", "Score, compare and cross-validate models; write self-contained reports.", evalsuite.commands)


def main(argv: list[str] | None = None) -> None:
    raise SystemExit(run_app(app, "evalsuite", argv))
