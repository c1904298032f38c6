"""One quick demo run shared by the tests that read its outputs (it takes about a minute on 2 cores)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def quick_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """(output folder, exit code) of `run_demo(out, quick=True)`."""
    from evalsuite.demo import run_demo

    out = tmp_path_factory.mktemp("quick-demo") / "demo"
    return out, run_demo(out, quick=True)
