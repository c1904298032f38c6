"""Connected components of the verified near-duplicate pairs, distributed: min-label propagation.

Every node (an exact-group head in at least one verified pair) starts with its own label, (pos, id). In each
round a node sends its label to all its neighbours, one shuffle keyed by node; each node keeps the smallest
label it holds or receives. A round changes nothing once every node holds the smallest pos of its component,
which is the local engine's cluster id (`curate.dedup.lsh.components`: the smallest index in the component).
Rounds needed: the largest component's diameter plus one (near-duplicate clusters are small and dense:
2-4 rounds on the corpora tested). Large-star/small-star (Kiveris et al. 2014) would bound rounds by
O(log n) on long chains; min-label propagation was kept because it is one shuffle per round and simple.
Each state tuple is (label, neighbours, best Jaccard); the driver only counts changed labels per round.
"""

from __future__ import annotations

from typing import Any

from curate.engines.ray import bag

MAX_ROUNDS = 100


def components(verified: Any, n: int) -> Any:
    """A bag of ((tag, node), ("s", label_pos, label_id, neighbours, best_jaccard, node_id, changed)) for
    every
    node of a verified pair."""
    def adjacency(items: list):
        for (tag, a), (b, j, a_id, b_id) in items:
            yield (tag, a), ("e", b, j, a_id)
            yield (tag, b), ("e", a, j, b_id)

    def init(items: list):
        by: dict[Any, list] = {}
        for k, v in items:
            by.setdefault(k, []).append(v)
        for (tag, node), edges in by.items():
            nid = edges[0][3]
            best = max(e[2] for e in edges)
            yield (tag, node), ("s", node, nid, tuple(sorted({e[1] for e in edges})), best, nid, True)

    def spread(items: list):
        for (tag, node), s in items:
            yield (tag, node), s
            if s[6]:   # only a label that changed last round can lower a neighbour's
                for m in s[3]:
                    yield (tag, m), ("m", s[1], s[2])

    def gather(items: list):
        state: dict[Any, tuple] = {}
        best: dict[Any, tuple] = {}
        for k, v in items:
            if v[0] == "s":
                state[k] = v
            else:
                cur = best.get(k)
                if cur is None or v[1] < cur[0]:
                    best[k] = (v[1], v[2])
        for k, s in state.items():
            m = best.get(k)
            if m is not None and m[0] < s[1]:
                yield k, ("s", m[0], m[1], s[3], s[4], s[5], True)
            else:
                yield k, (*s[:6], False)

    state = bag.step(bag.step(verified, adjacency, n), init, n).materialize()
    for _ in range(MAX_ROUNDS):
        state = bag.step(bag.step(state, spread, n), gather, n).materialize()
        changed = state.map_batches(_changed, batch_format="pandas").sum("c") or 0
        if not changed:
            break

    return state


def _changed(df: Any) -> Any:

    import pandas as pd

    return pd.DataFrame({"c": [sum(1 for v in df["_v"].tolist() if bag.load(v)[1][6])]})
