"""docs/api.md's examples run, in order, in one namespace, in a fresh folder: the documented API works."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "api.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_the_page_has_examples_for_every_api_function() -> None:
    code = "\n".join(_blocks())
    for name in ("curate.check(", "curate.load(", "split(", "run(", "compare(", "score("):
        assert name in code, name


@pytest.mark.slow
def test_api_examples_run(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for i, block in enumerate(_blocks()):
        exec(compile(block, f"docs/api.md block {i + 1}", "exec"), namespace)
    assert (tmp_path / "runs" / "minilm" / "README.md").is_file()
    assert (tmp_path / "qa-report" / "index.html").is_file()
