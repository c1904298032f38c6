"""The `evalsuite` command line."""

from __future__ import annotations

import evalsuite.commands
from common.cli import make_app, run_app
from common.deprecation import KEY_VALUE, Deprecated

# Each module in evalsuite/commands/ is one sub-command and registers itself.
app = make_app(
    "evalsuite", "Score, compare and cross-validate models; write self-contained reports.", evalsuite.commands
)


# Old spellings that still work (with a note on stderr); the README's vocabulary table lists the new ones.
DEPRECATED = (
    Deprecated("--task", "--kind", values={"generation": "completion", "sft": "completion"}),
    Deprecated("--report-dir", "--out", commands=("compare",)),
    Deprecated(KEY_VALUE, "--set", commands=("cv",)),
)


def main(argv: list[str] | None = None) -> None:
    raise SystemExit(run_app(app, "evalsuite", argv, deprecated=DEPRECATED))
