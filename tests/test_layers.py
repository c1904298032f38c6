"""Dependencies point one way: schemas -> common -> curate -> finetune -> evalsuite -> bench.

Every import in the packages (module level and inside functions, `import x` and `from x import y`) is parsed
with `ast`; an import of a higher layer from a lower one fails the test, naming the file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LAYERS = ("schemas", "common", "curate", "finetune", "evalsuite", "bench")
RANK = {name: i for i, name in enumerate(LAYERS)}


def imported_layers(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) for every import of one of our layers in `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [(node.lineno, n.split(".")[0]) for n in names if n.split(".")[0] in RANK]
    return found


def upward_imports(layer: str) -> list[str]:
    bad = []
    for path in sorted((REPO / layer).rglob("*.py")):
        for line, target in imported_layers(path):
            if RANK[target] > RANK[layer]:
                bad.append(f"{path.relative_to(REPO)}:{line} imports {target} ({layer} is below {target})")
    return bad


@pytest.mark.parametrize("layer", LAYERS)
def test_no_layer_imports_a_higher_one(layer: str) -> None:
    assert upward_imports(layer) == []


def test_the_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_text("import os\n\ndef f():\n    from evalsuite.render import x\n    import finetune.models\n")
    assert imported_layers(f) == [(4, "evalsuite"), (5, "finetune")]


def test_schemas_imports_only_pydantic_and_the_standard_library() -> None:
    import sys

    allowed = {"pydantic", "pydantic_core", "schemas", "yaml", "__future__", *sys.stdlib_module_names}
    bad = []
    for path in sorted((REPO / "schemas").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                tops = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops = [node.module.split(".")[0]]
            else:
                continue
            bad += [f"{path.relative_to(REPO)}:{node.lineno} imports {t}" for t in tops if t not in allowed]
    assert bad == []
