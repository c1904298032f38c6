"""The five generic package names resolve inside this repository, and the light packages stay light."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

PACKAGES = ("schemas", "common", "curate", "finetune", "evalsuite")


@pytest.mark.parametrize("name", PACKAGES)
def test_package_resolves_inside_the_repository(name: str) -> None:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin is not None
    assert Path(spec.origin).resolve().is_relative_to(REPO), (
        f"{name} resolves to {spec.origin}, outside {REPO}"
    )


def test_packages_resolve_inside_the_repository_from_another_folder(tmp_path: Path) -> None:
    # From a neutral working directory only the editable install can find them.
    code = f"import importlib.util as u; print('\\n'.join(u.find_spec(n).origin for n in {PACKAGES!r}))"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         timeout=60, check=True).stdout.split()
    assert len(out) == len(PACKAGES)
    assert all(Path(o).resolve().is_relative_to(REPO) for o in out), out


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
                         cwd=REPO, capture_output=True, text=True, timeout=120, check=True).stdout
    return set(out.split())


@pytest.mark.parametrize("module", ["schemas", "common", "curate"])
def test_import_does_not_load_torch(module: str) -> None:
    loaded = _modules_after(f"import {module}")
    assert module in loaded  # the import really happened
    assert not {"torch", "transformers", "peft"} & loaded


def test_schemas_imports_no_heavy_libraries() -> None:
    loaded = _modules_after("import schemas")
    assert not {"torch", "pandas", "numpy", "datasets", "rich", "typer"} & loaded


def test_curate_help_does_not_load_torch() -> None:
    code = ("import runpy, sys\nsys.argv = ['curate', '--help']\n"
            "try:\n    runpy.run_module('curate', run_name='__main__')\nexcept SystemExit as e:\n"
            "    assert e.code == 0, e.code\n")
    loaded = _modules_after(code)
    assert "curate.cli" in loaded
    assert "torch" not in loaded
