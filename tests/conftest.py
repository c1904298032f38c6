"""Shared test helpers: the repository root and a runner for the three CLIs in-process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_debug_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # `--debug` sets DATAVET_DEBUG for the process; one test's --debug must not leak tracebacks into the next.
    monkeypatch.delenv("DATAVET_DEBUG", raising=False)
    # Wide rich output, so that messages asserted on are not wrapped across panel lines.
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def repo_root() -> Path:
    return REPO


def _run_main(main, argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return int(exc.value.code)


def _run_module(module: str, *args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("DATAVET_DEBUG", None)
    return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def run_main():
    """`run_main(main, argv) -> exit code`: call a CLI's `main` in-process (it always raises SystemExit)."""
    return _run_main


@pytest.fixture
def run_module():
    """`run_module("curate", *args) -> CompletedProcess`: run `python -m` from the repository root."""
    return _run_module
