"""One-line deprecation notes on stderr, once per process each: for old command-line spellings
(`common.deprecation.rewrite_args`) and old config keys and values (the config models' validators)."""

from __future__ import annotations

import sys

_seen: set[str] = set()


def note(old: str, new: str, where: str = "") -> None:
    """Print `datavet: OLD is deprecated; use NEW` on stderr, once per process for each (old, new)."""
    key = f"{old}->{new}"
    if key in _seen:
        return
    _seen.add(key)
    sys.stderr.write(f"datavet: {old} is deprecated{f' in {where}' if where else ''}; use {new}\n")


def reset_notes() -> None:
    """Forget which notes were printed (tests call several commands in one process)."""
    _seen.clear()
