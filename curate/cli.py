"""The `curate` command line: data-QA commands run before training."""

from __future__ import annotations

import curate.commands
from common.cli import make_app, run_app
from common.deprecation import FILE, Deprecated

# Each module in curate/commands/ is one sub-command and registers itself.
app = make_app("curate", "Check and curate fine-tuning data before training.", curate.commands)


# Old spellings that still work (with a note on stderr); the README's vocabulary table lists the new ones.
DEPRECATED = (
    Deprecated("-c", "--set", commands=("check",)),
    Deprecated("--report-dir", "--out", commands=("check",)),
    Deprecated("--fail-on", "--fail-on", commands=("check",), values={"error": "fail", "warning": "warn"}),
    Deprecated(FILE, "--config", commands=("run",)),
)


def main(argv: list[str] | None = None) -> None:
    raise SystemExit(run_app(app, "curate", argv, deprecated=DEPRECATED))
