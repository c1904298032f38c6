"""Per-row cluster facts: each row joined (a shuffle on its exact-group head) with its head's near-duplicate
cluster at each threshold, then conflicting labels by a shuffle on the 0.9 cluster.

A row's near cluster is its head's: exact duplicates always share a cluster, as in the local engine, where
each exact duplicate is linked to its first copy before the components are taken.
"""

from __future__ import annotations

from typing import Any

from curate.engines.ray import bag


def annotate(exact: Any, state: Any, n: int) -> Any:
    """A bag keyed by pos: (pos, id, head_pos, head_id, gsize, label_key, clusters) where clusters maps a tag
    to (cluster_pos, cluster_id, best_jaccard) for heads in a verified pair (absent: the row's own group)."""
    def rows(batch: Any):
        for pos, rid, hp, hid, gs, lk in zip(
            batch["pos"].tolist(),
            batch["id"].tolist(),
            batch["head_pos"].tolist(),
            batch["head_id"].tolist(),
            batch["gsize"].tolist(),
            batch["label_key"].tolist(),
            strict=True,
        ):
            yield hp, ("r", pos, rid, hp, hid, gs, lk)

    def states(items: list):
        for (tag, node), s in items:
            yield node, ("c", tag, s[1], s[2], s[4])

    def join(items: list):
        found: dict[int, dict] = {}
        rs = []
        for k, v in items:
            if v[0] == "c":
                found.setdefault(k, {})[v[1]] = (v[2], v[3], v[4])
            else:
                rs.append(v)
        for v in rs:
            yield v[1], (*v[1:], found.get(v[3], {}))

    joined = bag.to_bag(exact, rows, n).union(bag.step(state, states, n))
    return bag.step(joined, join, n)


def conflicting_labels(annotated: Any, tag: str | None, n: int) -> Any:
    """The groups of `conflicting_labels` whose rows carry more than one label, as a bag keyed by the group's
    first pos: (root_pos, root_id, [(pos, id, label_key), ...] in pos order). Groups are the near clusters at
    `tag` (None: exact groups); the findings are built on the driver by the check's own `group_findings`."""
    def by_cluster(items: list):
        for _, v in items:
            pos, rid, hp, hid, _gs, lk, cl = v
            c = cl.get(tag) if tag else None
            root = (c[0], c[1]) if c else (hp, hid)
            yield root[0], (root[1], pos, rid, lk)

    def groups(items: list):
        members: dict[int, list] = {}
        for root, v in items:
            members.setdefault(root, []).append(v)
        for root, rows in members.items():
            if len(rows) < 2 or len({r[3] for r in rows}) < 2:
                continue
            rows.sort(key=lambda r: r[1])
            yield root, (root, rows[0][0], [(pos, rid, lk) for _, pos, rid, lk in rows])

    return bag.step(bag.step(annotated, by_cluster, n), groups, n)
