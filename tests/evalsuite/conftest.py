"""One quick demo run shared by the tests that read its outputs (it takes about a minute on 2 cores)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def quick_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """(output folder, exit code) of `run_demo(out, quick=True)`; what the run wrote on stderr (its stages'
    progress lines included: they are subprocesses, so it is captured at the file descriptor) is kept in
    `stderr.txt` beside the output folder."""
    import os
    import sys

    from evalsuite.demo import run_demo

    out = tmp_path_factory.mktemp("quick-demo") / "demo"
    env_progress = os.environ.pop("DATAVET_PROGRESS", None)
    sys.stderr.flush()
    saved = os.dup(2)
    with open(out.parent / "stderr.txt", "wb") as err:
        os.dup2(err.fileno(), 2)
        try:
            code = run_demo(out, quick=True)
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            if env_progress is not None:
                os.environ["DATAVET_PROGRESS"] = env_progress
    return out, code
