"""Per-row cluster facts: each row joined (a shuffle on its exact-group head) with its head's near-duplicate
cluster at each threshold, then conflicting labels by a shuffle on the 0.9 cluster (their findings made on
the workers).

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


def conflict_findings(annotated: Any, rows: Any, tag: str | None, n: int) -> Any:
    """The findings of `conflicting_labels` as a findings dataset (`curate.engines.ray.findings`), built on
    the workers by the check's own `group_findings`: `c` is 1 for a likely error (the check's count), `x` is
    1 on each group's first row (the number of conflicting groups).

    Groups are the near clusters at `tag` (None: exact groups). Four shuffles: rows by group; each
    conflicting group's members, with the group, by row position, where they meet their rows' texts; the
    texts back by group, where the findings are made.
    """
    from curate.checks.conflicting_labels import group_findings
    from curate.engines.ray.findings import finding_row, frame
    from schemas.findings import Finding

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
        for root, got in members.items():
            if len(got) < 2 or len({r[3] for r in got}) < 2:
                continue
            got.sort(key=lambda r: r[1])
            yield root, ("g", got[0][0], [(pos, rid, lk) for _, pos, rid, lk in got])
            for _, pos, _, _ in got:
                yield pos, ("m", root)

    def texts(batch: Any):
        for pos, text in zip(batch["pos"].tolist(), batch["text"].tolist(), strict=True):
            yield pos, ("t", text)

    def meet(items: list):
        text: dict[int, str] = {}
        wants: list[tuple[int, int]] = []
        for k, v in items:
            if v[0] == "t":
                text[k] = v[1]
            elif v[0] == "m":
                wants.append((k, v[1]))
            else:
                yield k, v
        for pos, root in wants:
            yield root, ("t", pos, text[pos])

    def found(items: list):
        by: dict[int, dict] = {}
        for root, v in items:
            g = by.setdefault(root, {"t": {}})
            if v[0] == "g":
                g["g"] = v[1:]
            else:
                g["t"][v[1]] = v[2]
        for root, g in by.items():
            root_id, members = g["g"]
            got = group_findings(root, root_id, [(pos, rid, lk, g["t"][pos]) for pos, rid, lk in members])
            for key, f in got:
                yield key[-1], (key, f.model_dump(mode="json"))

    def to_frame(b: Any) -> Any:

        out = []
        for v in b["_v"].tolist():
            pos, (key, dumped) = bag.load(v)
            f = Finding.model_validate(dumped)
            out.append(finding_row(pos, 0, list(key), f, count=int(bool(f.likely_error)),
                                   extra=int(pos == key[3])))
        return frame(out)

    grouped = bag.step(bag.step(annotated, by_cluster, n), groups, n)
    met = bag.step(grouped.union(bag.to_bag(rows.select_columns(["pos", "text"]), texts, n)), meet, n)
    return bag.step(met, found, n).map_batches(to_frame, batch_format="pandas")
