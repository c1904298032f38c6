"""The report block the three duplicate checks share (exact, near, semantic): how large their clusters are.

Not a check (the registry skips `_` modules): each duplicate check's `report_blocks` calls it, so the chart
is still declared by the check that found the clusters.
"""

from __future__ import annotations

from collections import Counter

from schemas.findings import CheckResult
from schemas.report import Block, ChartBlock


def cluster_sizes_chart(result: CheckResult) -> list[Block]:
    """A bar chart of clusters per cluster size, from the findings' `cluster` (else `duplicate_of`) keys.

    Args:
        result: A duplicate check's result; each finding is one repeated row of a cluster.

    Returns:
        The chart, or nothing when the check found no duplicate.
    """
    if not result.findings:
        return []
    sizes = Counter(Counter(str(getattr(f, "cluster", None) or getattr(f, "duplicate_of", None))
                            for f in result.findings).values())
    # A cluster's head row has no finding of its own, hence + 1.
    xs = sorted(sizes)
    return [
        ChartBlock(
            title="Duplicate cluster sizes",
            chart="bar",
            x=[k + 1 for k in xs],
            series={"clusters": [float(sizes[k]) for k in xs]},
            x_label="rows in cluster",
            y_label="clusters",
        )
    ]
