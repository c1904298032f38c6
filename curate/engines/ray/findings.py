"""Findings as shards: the workers write every finding, quarantined row and removal; the driver keeps
counts and the first `CAP` findings of each check.

A findings dataset has one row per finding (columns `COLUMNS`): `pos` (the row's position), `k` (its rank
among the row's findings), `o` (the check's sort key, a JSON list), `r` (reason), `s` (severity), `c` (what
it adds to the check's count), `x` (a check-specific extra count) and `f` (the JSON line). `Sink.write` sends
the rows to buckets of consecutive positions (the range shuffle of `curate.engines.ray.write`); each bucket
task writes one part file sorted by (pos, k) and returns its counts and its first `cap` lines by `o`. The
driver then joins the parts into one JSONL file (a streamed copy: O(1) memory) and merges the counts and
heads (O(cap) memory), so its memory does not grow with the number of findings.

What the driver keeps of a check (`Sink.result`): the count, status and summary the local engine gives,
and `findings`: the first `CAP` findings in the check's own order, as many as the local HTML report shows
(`curate.report.MAX_FINDING_ROWS`); every finding is in `findings/<check>.jsonl` (input order), named by
the result's `findings_file`.
"""

from __future__ import annotations

import heapq
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas.findings import CheckResult, CheckStatus, Finding

# The findings checks.json keeps per check on this engine: the local report's MAX_FINDING_ROWS.
CAP = 2000
COLUMNS = ("pos", "k", "o", "r", "s", "c", "x", "f")
PARTS = ".datavet-parts"


def frame(rows: list[tuple]) -> Any:
    """A findings batch (pandas) from (pos, k, order key, reason, severity, count, extra, line) tuples."""
    import pandas as pd

    cols = list(zip(*rows, strict=True)) if rows else [[] for _ in COLUMNS]
    df = pd.DataFrame({name: list(col) for name, col in zip(COLUMNS, cols, strict=True)})
    for name in ("pos", "k", "c", "x"):
        df[name] = df[name].astype("int64")
    for name in ("o", "r", "s", "f"):
        df[name] = df[name].astype(object)
    return df


def finding_row(pos: int, k: int, order: list, f: Finding, count: int = 1, extra: int = 0) -> tuple:
    """One findings-dataset row for finding `f` of row `pos`."""
    from curate.io.writers import encode_line

    return (pos, k, json.dumps(order), f.reason, f.severity.value, count, extra,
            encode_line(f.model_dump(mode="json")))


@dataclass
class Sunk:
    """What the driver keeps of one written findings file."""

    rel: str                      # the file, relative to the output folder
    lines: int = 0
    count: int = 0                # sum of `c`
    extra: int = 0                # sum of `x`
    rows: int = 0                 # distinct `pos` (rows with at least one finding)
    reasons: dict[str, int] = field(default_factory=dict)   # in input order of first appearance
    severities: set[str] = field(default_factory=set)
    head: list[str] = field(default_factory=list)           # the first `cap` lines by the check's order

    def findings(self) -> list[Finding]:
        return [Finding.model_validate_json(x) for x in self.head]


def status_of(severities: set[str]) -> CheckStatus:
    """`Check.result`'s default status: the worst severity among the findings."""
    return (CheckStatus.fail if "error" in severities else CheckStatus.warn if "warning" in severities
            else CheckStatus.passed)


@dataclass
class Sink:
    """Where findings go: the output folder, the range buckets of `curate.engines.ray.write` and the cap."""

    out: Path
    offsets: list[int]
    total: int
    n: int
    cap: int = CAP

    def write(self, ds: Any, rel: str) -> Sunk:
        """Write the findings dataset `ds` as `<out>/<rel>` (JSONL, input order) from the workers."""
        import pandas as pd

        from curate.engines.ray.shuffle import by_bucket
        from curate.engines.ray.write import range_bucket
        from curate.io import atomic_path

        ds = ds.materialize()
        target = self.out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if ds.count() == 0:
            with atomic_path(target) as tmp:
                Path(tmp).write_bytes(b"")
            return Sunk(rel=rel)
        parts = self.out / PARTS / rel.replace("/", "__")
        offsets, total, n, cap = self.offsets, self.total, self.n, self.cap

        def key(b: Any) -> Any:
            import numpy as np

            b = b.copy()
            b["_b"] = np.array([range_bucket(p, offsets, total, n) for p in b["pos"].tolist()],
                               dtype=np.int64)
            return b

        def part(df: Any) -> Any:
            from curate.io import atomic_text

            b = int(df["_b"].iloc[0])
            df = df.sort_values(["pos", "k"], kind="stable")
            lines = df["f"].tolist()
            parts.mkdir(parents=True, exist_ok=True)
            with atomic_text(parts / f"part-{b:05d}.jsonl") as fh:
                fh.write("\n".join(lines) + "\n")
            keys = [json.loads(o) for o in df["o"].tolist()]
            top = heapq.nsmallest(cap, range(len(lines)), key=lambda i: keys[i])
            return pd.DataFrame({"s": [json.dumps({
                "b": b, "lines": len(lines), "count": int(df["c"].sum()), "extra": int(df["x"].sum()),
                "rows": int(df["pos"].nunique()),
                "reasons": dict(Counter(df["r"].tolist())), "sev": sorted(set(df["s"].tolist())),
                "head": [[keys[i], lines[i]] for i in top]})]})

        stats, head = [], []
        for row in by_bucket(ds.map_batches(key, batch_format="pandas"), part, n).iter_rows():
            s = json.loads(row["s"])
            # the heads are merged as they arrive: the driver holds at most 2 x cap lines
            head = heapq.nsmallest(cap, head + [tuple(h) for h in s.pop("head")], key=lambda h: h[0])
            stats.append(s)
        stats.sort(key=lambda s: s["b"])
        concat([parts / f"part-{s['b']:05d}.jsonl" for s in stats], target)
        for d in (parts, parts.parent):
            if d.is_dir() and not any(d.iterdir()):
                d.rmdir()
        reasons: Counter[str] = Counter()
        for s in stats:
            reasons.update(s["reasons"])
        return Sunk(rel=rel, lines=sum(s["lines"] for s in stats), count=sum(s["count"] for s in stats),
                    extra=sum(s["extra"] for s in stats), rows=sum(s["rows"] for s in stats),
                    reasons=dict(reasons),
                    severities={v for s in stats for v in s["sev"]}, head=[h[1] for h in head])

    def discard(self, rel: str) -> None:
        """Remove what `write` wrote (or began to write) for `rel`: this run's file and part files."""
        (self.out / rel).unlink(missing_ok=True)
        parts = self.out / PARTS / rel.replace("/", "__")
        if parts.is_dir():
            for p in parts.glob("part-*.jsonl"):
                p.unlink()
            parts.rmdir()

    def result(self, check: Any, sunk: Sunk, summary: dict, *, count: int | None = None,
               status: CheckStatus | None = None, message: str | None = None) -> CheckResult:
        """The check's result: the local engine's count and status over every finding, its first `cap`
        findings, and the file that holds them all."""
        res = check.result(sunk.findings(), status=status or status_of(sunk.severities), summary=summary,
                           count=sunk.lines if count is None else count, message=message)
        res.findings_file = sunk.rel if sunk.lines else None
        return res


def removals(ds: Any, name: str) -> Any:
    """The removal rows (pos, p: priority in REMOVAL_ORDER, e: the removed.jsonl entry as JSON) that the
    findings of check `name` ask for, by the local engine's `curate.pipeline.removal_entry`."""
    from curate.pipeline import REMOVAL_ORDER

    prio = REMOVAL_ORDER.index(name)

    def fn(b: Any) -> Any:
        import pandas as pd

        from curate.pipeline import removal_entry

        pos, e = [], []
        for p, line in zip(b["pos"].tolist(), b["f"].tolist(), strict=True):
            entry = removal_entry(name, Finding.model_validate_json(line))
            if entry is not None:
                pos.append(p)
                e.append(json.dumps(entry, ensure_ascii=False))
        return pd.DataFrame({"pos": pd.Series(pos, dtype="int64"), "p": pd.Series([prio] * len(pos),
                                                                                    dtype="int64"),
                             "e": pd.Series(e, dtype=object)})

    return ds.map_batches(fn, batch_format="pandas")


def concat(parts: list[Path], target: Path) -> None:
    """Join the part files into `target` (a streamed copy), then remove the parts (this run wrote them)."""
    from curate.io import atomic_path

    with atomic_path(target) as tmp, open(tmp, "wb") as fh:
        for p in parts:
            with open(p, "rb") as src:
                while chunk := src.read(1 << 20):
                    fh.write(chunk)
    for p in parts:
        p.unlink()
