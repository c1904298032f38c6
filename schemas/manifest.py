"""A reproducibility manifest written next to every output: what went in, with which settings and versions."""

from __future__ import annotations

import hashlib
import os
import platform
import shlex
import sys
from contextvars import ContextVar
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# The command line being run, as the CLI parsed it (old spellings already rewritten), set by
# `common.cli.run_app`: every manifest written during the command records it, so the output can be re-run.
CURRENT_ARGV: ContextVar[list[str] | None] = ContextVar("datavet_argv", default=None)

TRACKED_PACKAGES = (
    "datavet", "pydantic", "numpy", "pandas", "datasets", "scikit-learn", "torch", "transformers", "peft",
    "accelerate", "great-expectations", "datasketch", "sacrebleu", "rouge-score", "cleanlab", "ftfy",
)


def sha256_path(path: str | Path) -> str:
    """sha256 of a file, or of a folder's files (sorted relative paths and contents)."""
    p = Path(path)
    h = hashlib.sha256()
    files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
    for f in files:
        if p.is_dir():
            h.update(str(f.relative_to(p)).encode())
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def package_versions(names: tuple[str, ...] = TRACKED_PACKAGES) -> dict[str, str]:
    out = {}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            continue
    return out


class RunManifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: str
    inputs: dict[str, str] = Field(default_factory=dict, description="input path -> sha256")
    config: dict[str, Any] = Field(default_factory=dict, description="the final resolved config")
    seed: int | None = None
    versions: dict[str, str] = Field(default_factory=dict)
    python: str = Field(default_factory=lambda: sys.version.split()[0])
    platform: str = Field(default_factory=platform.platform)
    created: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    extra: dict[str, Any] = Field(default_factory=dict)
    argv: list[str] | None = Field(None, description="the full command line, program first (new spellings)")
    cwd: str | None = Field(
        None, description="the working directory relative paths in argv are resolved from"
    )
    rerun: str | None = Field(None, description="`cd CWD && ARGV`: a shell line that re-runs this output")

    @classmethod
    def create(cls, command: str, inputs: list[str | Path] | dict[str, str | Path] | None = None,
               **kw: Any) -> RunManifest:
        """`inputs`: paths, or {name as the user wrote it: the file to hash} (e.g. bundled:tweets -> its
        CSV)."""
        pairs = inputs.items() if isinstance(inputs, dict) else ((str(p), p) for p in inputs or [])
        hashed = {str(name): sha256_path(p) if Path(p).exists() else "missing" for name, p in pairs}
        return cls(command=command, inputs=hashed, versions=package_versions(), **{**invocation(), **kw})


def invocation() -> dict[str, Any]:
    """{argv, cwd, rerun} of the command line being run, or {} outside one (a library call)."""
    argv = CURRENT_ARGV.get()
    if not argv:
        return {}
    cwd = os.getcwd()
    return {"argv": list(argv), "cwd": cwd, "rerun": f"cd {shlex.quote(cwd)} && {shlex.join(argv)}"}
