"""Row ids on Ray, settled exactly as the local loader settles them (`curate.io.load`, `unique_id`).

The local rule runs row by row over one set of ids already used:

* an id the input gives (explicit) that an earlier explicit row holds: the row is a `duplicate_id`
  quarantine entry;
* a clash that involves an id the loader made up (the row number of a row without an id): the made-up one
  moves aside to `ID~N`, the smallest N >= 1 not used yet (an explicit id takes its id back from an earlier
  made-up one; a later made-up id that is already used is renamed itself), and a note names the renaming.

Every id the rule compares with `ID` is `ID` itself or `ID~N` (and, after a further clash, `ID~N~M`), so
it only ever looks at ids of one family: the id with its trailing `~N` parts stripped (`id_root`). One
shuffle on that root brings each family to one task, which replays the local rule over the family's rows
in row order; ids of different families never meet, so the answers are the sequential ones. Families of
one row (nearly all) pass untouched. The changes (renamed and quarantined rows) stay a Dataset, joined
with the rows by one shuffle on position (`apply`, skipped when nothing changed); the driver receives their
counts and the first renaming notes only, so its memory does not grow with the rows changed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from curate.engines.ray import bag
from curate.engines.ray.batches import columns

_SUFFIX = re.compile(r"(?:~\d+)+$")


def id_root(rid: str) -> str:
    """`rid` without its trailing `~N` parts: `id_root(x + "~" + str(n)) == id_root(x)` for every x and n."""
    return _SUFFIX.sub("", rid) if "~" in rid else rid


def settle_family(members: list[tuple[int, str, bool]], row_mask: int) -> list[tuple[int, tuple]]:
    """The local loader's id rule over one family's rows (pos, id, explicit), in pos order.

    Returns:
        (pos, change) pairs: ("rename", new_id), ("dup", id) for a `duplicate_id` row, and ("note", text)
        for each renaming, keyed by the row whose arrival caused it (the order the local notes list them).
    """
    seen: set[str] = set()
    implicit: dict[str, int] = {}   # a made-up id in use -> index of the member holding it
    final = [rid for _, rid, _ in members]
    out: list[tuple[int, tuple]] = []
    for k, (pos, rid, explicit) in enumerate(members):
        if rid not in seen:
            seen.add(rid)
            if not explicit:
                implicit[rid] = k
            continue
        if explicit and rid not in implicit:
            out.append((pos, ("dup", rid)))
            continue
        n = 1
        while f"{rid}~{n}" in seen:
            n += 1
        fresh = f"{rid}~{n}"
        seen.add(fresh)
        if explicit:   # the earlier row had a made-up id: it moves aside, this row keeps its own id
            idx = implicit.pop(rid)
            final[idx] = fresh
            implicit[fresh] = idx
            out.append((pos, ("note", f"the row without an id that was {rid!r} is now {fresh!r}")))
        else:
            final[k] = fresh
            implicit[fresh] = k
            out.append((pos, ("note", f"the row without an id at row {pos & row_mask} is {fresh!r}")))
    out += [(m[0], ("rename", new)) for m, new in zip(members, final, strict=True) if new != m[1]]
    return out


@dataclass
class SettledIds:
    """What settling the ids changed, as the driver holds it: counts and the first renaming notes (O(1));
    the changes themselves stay on the workers (`changes`) until `apply` joins them with the rows."""

    changes: Any = None     # Dataset (pos, _w: "dup" | "rename", _v: the id or new id), None when none
    changed: int = 0        # rows quarantined (repeated id) or renamed
    notes: int = 0          # renaming notes (one per renaming, as the local loader counts them)
    first_notes: list[str] = field(default_factory=list)   # the first NOTES_SHOWN notes, row order


NOTES_SHOWN = 3   # `curate.io.load.renamed_note` lists the first 3


def settle(raw: Any, n: int) -> SettledIds:
    """Settle the ids of the loaded rows of `raw` (`load.read`'s Dataset) by one shuffle on `id_root`."""
    import heapq

    from curate.engines.ray.load import ROW_BITS
    from curate.engines.ray.shuffle import counter_batches

    mask = (1 << ROW_BITS) - 1

    def keyed(b: Any):
        for pos, ok, rid, explicit in columns(b, "pos", "ok", "id", "explicit"):
            if ok:
                yield id_root(rid), (pos, rid, bool(explicit))

    def families(items: list):
        by: dict[str, list[tuple[int, str, bool]]] = {}
        for root, member in items:
            by.setdefault(root, []).append(member)
        for members in by.values():
            if len(members) > 1:
                yield from settle_family(sorted(members), mask)

    got = bag.step(bag.to_bag(raw, keyed, n), families, n).map_batches(
        _change_frame, batch_format="pandas").materialize()
    if got.count() == 0:
        return SettledIds()

    def notes(b: Any) -> dict:
        sel = b[b["_w"] == "note"]
        first = heapq.nsmallest(NOTES_SHOWN, zip(sel["pos"].tolist(), sel["_v"].tolist(), strict=True))
        return {"n": len(sel), "first": first}

    count, first = 0, []
    for part in counter_batches(got, notes):   # one batch's summary at a time
        count += part["n"]
        first = heapq.nsmallest(NOTES_SHOWN, first + [tuple(x) for x in part["first"]])
    changes = got.map_batches(lambda b: b[b["_w"] != "note"], batch_format="pandas").materialize()
    return SettledIds(changes=changes, changed=changes.count(), notes=count,
                      first_notes=[t for _, t in first])


def _change_frame(b: Any) -> Any:
    """A bag of (pos, (what, value)) changes as columns pos, _w (what), _v (value)."""

    import pandas as pd

    got = [bag.load(v) for v in b["_v"].tolist()]
    return pd.DataFrame({"pos": pd.Series([p for p, _ in got], dtype="int64"),
                         "_w": pd.Series([c[0] for _, c in got], dtype=object),
                         "_v": pd.Series([c[1] for _, c in got], dtype=object)})


def apply(raw: Any, settled: SettledIds, n: int) -> Any:
    """`raw` with the settled ids: a repeated id's row no longer `ok` (its `q` already holds its
    `duplicate_id` entry), a renamed row's `id` column and record `id` replaced. One shuffle joins the
    rows with their changes by position (hash buckets, rows sorted by pos in each); none when nothing
    changed."""
    if not settled.changed:
        return raw
    import numpy as np

    from curate.engines.ray.shuffle import by_bucket, int_bucket

    def rows(b: Any) -> Any:
        b = b.copy()
        b["_b"] = int_bucket(b["pos"].to_numpy(dtype=np.int64), n)
        b["_w"] = ""
        b["_v"] = ""
        b["_w"] = b["_w"].astype(object)
        b["_v"] = b["_v"].astype(object)
        return b

    def changes(b: Any) -> Any:
        import pandas as pd

        m = len(b)
        return pd.DataFrame({
            "pos": b["pos"].astype("int64").values, "ok": np.zeros(m, dtype=bool),
            "id": pd.Series([""] * m, dtype=object).values, "explicit": np.zeros(m, dtype=bool),
            "rec": pd.Series([""] * m, dtype=object).values, "q": pd.Series([""] * m, dtype=object).values,
            "_b": int_bucket(b["pos"].to_numpy(dtype=np.int64), n), "_w": b["_w"].values,
            "_v": b["_v"].values})

    both = raw.map_batches(rows, batch_format="pandas").union(
        settled.changes.map_batches(changes, batch_format="pandas"))
    return by_bucket(both, _joined, n)


def _joined(df: Any) -> Any:
    """One bucket: its rows (pos order) with their changes applied, without the join's columns."""
    ch = df[df["_w"] != ""]
    rows = df[df["_w"] == ""].sort_values("pos", kind="stable").reset_index(drop=True)
    dup = set(ch[ch["_w"] == "dup"]["pos"].tolist())
    renamed = dict(zip(ch[ch["_w"] == "rename"]["pos"].tolist(), ch[ch["_w"] == "rename"]["_v"].tolist(),
                       strict=True))
    if dup:
        rows["ok"] = rows["ok"].astype(bool) & ~rows["pos"].isin(dup)
    for i in rows.index[rows["pos"].isin(renamed)]:
        new = renamed[int(rows.at[i, "pos"])]
        rec = json.loads(rows.at[i, "rec"])
        rec["id"] = new
        rows.at[i, "id"] = new
        rows.at[i, "rec"] = json.dumps(rec, ensure_ascii=False)
    return rows.drop(columns=["_b", "_w", "_v"])


def summary_notes(plan_notes: list[str], settled: SettledIds) -> list[str]:
    """The input summary's notes: the source's, then the local loader's renaming note over all rows (the
    plan's probe of the first rows may carry a note about those rows only: it is replaced)."""
    from curate.io.load import RENAMED_NOTE, renamed_note

    notes = [x for x in plan_notes if RENAMED_NOTE not in x]
    return notes + ([renamed_note(settled.first_notes, settled.notes)] if settled.notes else [])
