"""Write one benchmark's section of BENCHMARKS.md: the text between `<!-- section:NAME -->` and
`<!-- /section:NAME -->` is replaced, everything else is kept. The file is rewritten atomically, so an
interrupted or concurrent benchmark never leaves it half-written.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# What the machine was doing during a run, printed beside the figures; set BENCH_CONDITIONS when it was busy.
CONDITIONS = os.environ.get("BENCH_CONDITIONS", "quiet machine, nothing else running")


def write_section(name: str, body: str, path: Path = ROOT / "BENCHMARKS.md") -> bool:
    """Replace section `name` with `body`. Returns False (and changes nothing) when the markers are
    missing."""
    from curate.io.writers import atomic_text

    start, end = f"<!-- section:{name} -->", f"<!-- /section:{name} -->"
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        print(f"{path.name} has no {start} markers; table printed only")
        return False
    with atomic_text(path) as fh:
        fh.write(pattern.sub(lambda _: f"{start}\n{body.strip()}\n{end}", text))
    return True
