"""The split report printed after `curate split`: per file its rows, distribution, the largest deviation
from the global distribution (percentage points), and the group-integrity line (straddling groups: 0)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from curate.split.core import SplitResult

# Deviation above this many percentage points is shown in yellow: the bar for a stratified split.
DEVIATION_WARN_PP = 1.0


def split_table(result: SplitResult, top: int = 6) -> Table:
    total = sum(len(v) for k, v in result.parts.items())
    t = Table(title=f"Split ({result.mode}, stratified by {result.strata_by}, {result.method}, "
                    f"seed {result.config.seed})", title_justify="left")
    t.add_column("split", style="bold")
    t.add_column("rows", justify="right")
    t.add_column("% rows", justify="right")
    t.add_column(f"{result.strata_by} shares" if result.strata_by != "none" else "distribution",
                 overflow="fold")
    t.add_column("max dev (pp)", justify="right")
    t.add_column("worst")
    for name, s in result.stats.items():
        if name.endswith("/train"):
            continue  # fold-i/train is every other fold: its balance follows from theirs
        counts = s.strata_counts
        shown = sorted(counts.items(), key=lambda kv: -kv[1])[:top]
        dist = ", ".join(f"{k} {100 * v / max(s.rows, 1):.1f}%" for k, v in shown)
        if len(counts) > top:
            dist += f", +{len(counts) - top} more"
        dev = f"{s.max_deviation_pp:.2f}"
        style = "yellow" if s.max_deviation_pp > DEVIATION_WARN_PP else "green"
        t.add_row(name, f"{s.rows:,}", f"{100 * s.rows / max(total, 1):.1f}", dist, f"[{style}]{dev}",
                  s.worst_stratum or "")
    return t


def summary_lines(result: SplitResult) -> list[str]:
    folds = [s for k, s in result.stats.items() if k.endswith("/val") or k in ("val", "test")]
    worst = max((s.max_deviation_pp for s in folds), default=0.0)
    ok = "[green]" if result.groups_straddling == 0 else "[bold red]"
    lines = []
    if result.config.kfold:
        trains = [s.rows for k, s in result.stats.items() if k.endswith("/train")]
        lines.append(
            f"fold-i/train.jsonl = the other folds{' + train-only rows' * ('train-only' in result.parts)}"
            f" ({min(trains):,}-{max(trains):,} rows)"
        )
    lines += [
        f"groups: {result.groups:,} from {result.group_source}; {ok}groups straddling splits: "
        f"{result.groups_straddling}[/]",
        f"texts identical under the duplicate key ({result.config.dedup_key.spec()}) in more than one split: "
        f"{result.exact_duplicate_texts_straddling:,}"
        + ("  (group with --group-by exact_duplicate or near_duplicate to prevent this)"
           if result.exact_duplicate_texts_straddling and not result.config.group_by else ""),
        f"largest deviation of a held-out split from the global {result.strata_by} shares: {worst:.2f} pp",
    ]
    lines += [f"[bold yellow]warning: {w}" for w in result.warnings]
    if result.dropped:
        lines.append(f"[yellow]dropped {len(result.dropped):,} rows (rare classes): see dropped.jsonl")
    if "train-only" in result.parts:
        lines.append(f"{len(result.parts['train-only']):,} rows of rare classes kept in train only")
    lines.append(f"split {len(result.records):,} rows in {result.seconds:.2f} s")
    return lines


def print_split_report(result: SplitResult, console: Console | None = None) -> None:
    """Print the per-file table and the integrity lines."""
    console = console or Console()
    console.print(split_table(result))
    for line in summary_lines(result):
        console.print(line)
