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
one row (nearly all) pass untouched. The driver receives the changes only (renamed and quarantined rows,
and the notes), and the renaming is applied to the rows by a batch map.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from curate.engines.ray import bag

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
    """What settling the ids changed: rows to quarantine, rows renamed, and the local loader's notes."""

    duplicates: list[tuple[int, str]] = field(default_factory=list)   # (pos, id), pos order
    renamed: dict[int, str] = field(default_factory=dict)             # pos -> new id
    notes: list[str] = field(default_factory=list)                    # renaming messages, row order


def settle(raw: Any, n: int) -> SettledIds:
    """Settle the ids of the loaded rows of `raw` (`load.read`'s Dataset) by one shuffle on `id_root`."""
    from curate.engines.ray.load import ROW_BITS

    mask = (1 << ROW_BITS) - 1

    def keyed(b: Any):
        for pos, ok, rid, explicit in zip(b["pos"].tolist(), b["ok"].tolist(), b["id"].tolist(),
                                          b["explicit"].tolist(), strict=True):
            if ok:
                yield id_root(rid), (pos, rid, bool(explicit))

    def families(items: list):
        by: dict[str, list[tuple[int, str, bool]]] = {}
        for root, member in items:
            by.setdefault(root, []).append(member)
        for members in by.values():
            if len(members) > 1:
                yield from settle_family(sorted(members), mask)

    got = sorted(bag.unpack(bag.step(bag.to_bag(raw, keyed, n), families, n)))
    out = SettledIds()
    for pos, (what, value) in got:
        if what == "dup":
            out.duplicates.append((pos, value))
        elif what == "rename":
            out.renamed[pos] = value
        else:
            out.notes.append(value)
    return out


def apply(raw: Any, settled: SettledIds) -> Any:
    """`raw` with the renamed rows' ids (the `id` column and the record's `id`) replaced."""
    if not settled.renamed:
        return raw
    renamed = settled.renamed

    def fn(b: Any) -> Any:
        hit = b["pos"].isin(list(renamed))
        if not hit.any():
            return b
        b = b.copy()
        for i in b.index[hit]:
            new = renamed[int(b.at[i, "pos"])]
            rec = json.loads(b.at[i, "rec"])
            rec["id"] = new
            b.at[i, "id"] = new
            b.at[i, "rec"] = json.dumps(rec, ensure_ascii=False)
        return b

    return raw.map_batches(fn, batch_format="pandas")


def summary_notes(plan_notes: list[str], settled: SettledIds) -> list[str]:
    """The input summary's notes: the source's, then the local loader's renaming note over all rows (the
    plan's probe of the first rows may carry a note about those rows only: it is replaced)."""
    from curate.io.load import RENAMED_NOTE, renamed_note

    notes = [x for x in plan_notes if RENAMED_NOTE not in x]
    return notes + ([renamed_note(settled.notes)] if settled.notes else [])
