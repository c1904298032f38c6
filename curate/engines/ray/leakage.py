"""`leakage` on Ray: rows that copy, exactly or nearly, a row of `--against` or of another split, with the
answers of `curate.checks.leakage.cross_matches` (same rows flagged, same row copied, same Jaccard).

The local check runs the near-duplicate engine over the originals and the checked rows together (against
rows first, then the data; or the data in order when a split field names the originals), per field. Here:

1. Both sides as one Dataset of (pos, meta, field text): against rows keep their pos, data rows get
   `SIDE_BIT` added, so pos orders rows as the local check's list does (the LSH stars and "first" depend
   only on that order); meta carries (side, split name, id) through every shuffle.
2. Exact groups (`dedup.exact_groups`, on the run's duplicate key), MinHash signatures and LSH band shuffles
   of the group heads (`dedup.candidates`), verification (`dedup.verify`) and connected components
   (`components`) at the check's threshold, num_perm and shingle: the local clusters, pair by pair.
3. A shuffle on each row's exact-group head joins the row with its cluster and, for a checked head, its
   best verified partner among the originals (highest Jaccard, then smallest pos: the local `max` over
   partners listed in index order). Rows alone in their group and in no cluster copy nothing and stop here.
4. A shuffle on the cluster: a checked row is an exact copy when its group holds an original (the first
   one is named), else a near copy of its best direct partner, else (a row linked only through other rows,
   or an exact copy of such a row) of the best of the cluster's first `MAX_SOURCES` originals whose exact
   Jaccard reaches the threshold, as the local check verifies them.

The findings are built on the workers (one dataset per field, ordered by field, then row) and written to
`findings/leakage.jsonl` by `curate.engines.ray.findings.Sink`; the driver receives counts and the first
findings. `--against` is read, validated and its ids settled like the input
(`load`, `ids`), whole (a --head or --sample subsets the checked data only), and normalized with the local
`normalize_dataset`, batch by batch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from curate.engines.ray import bag
from curate.engines.ray.batches import columns

SIDE_BIT = 1 << 62
MAX_SOURCES = 20   # `cross_matches`: a row linked through other rows is verified against this many originals


@dataclass
class Against:
    """The `--against` data as loaded on Ray: its record kind and its loaded rows (pos, id, rec)."""

    kind: str
    rows: Any


def load_against(cfg: Any, n: int) -> Against:
    """Read `cfg.against` whole with the input's load options (as `curate.runner.run_suite` does)."""
    from curate.engines.ray import ids, load

    whole = {"path": cfg.against, "head": None, "sample": None, "limit": None}
    plan = load.plan(cfg.input.model_copy(update=whole), n)
    raw = load.read(plan).materialize()
    raw = ids.apply(raw, ids.settle(raw, n), n)   # a repeated id's row is no longer `ok`

    def keep(b: Any) -> Any:
        return b[b["ok"].astype(bool)][["pos", "id", "rec"]]

    return Against(plan.kind, raw.map_batches(keep, batch_format="pandas").materialize())


def _fields(b: Any, kind: str, offset: int, name: str | None, norm: dict | None, split_field: str | None,
            source: str | None) -> dict[str, list]:
    """Batch map: pos (+ offset), meta [side, split name, id] and one `f_<field>` column per compared field
    (`curate.checks.leakage.field_texts`); `norm`: normalize the records first (the against rows)."""
    from curate.checks.leakage import field_texts

    recs = [json.loads(x) for x in b["rec"].tolist()]
    if norm is not None:
        from curate.io.load import LoadedData
        from curate.normalize import normalize_dataset
        from schemas.configs.curate import NormalizeConfig
        from schemas.records import RecordKind

        data = LoadedData(RecordKind(kind), recs, [], None, None)  # type: ignore[arg-type]
        recs = normalize_dataset(data, NormalizeConfig.model_validate(norm)).data.records
    if split_field:
        names = [str(r.get("metadata", {}).get(split_field)) for r in recs]
        sides = [0 if v == source else 1 for v in names]
    else:
        names, sides = [name] * len(recs), [0 if offset == 0 else 1] * len(recs)
    out: dict[str, list] = {
        "pos": [p + offset for p in b["pos"].tolist()],
        "meta": [json.dumps([s, v, r["id"]]) for s, v, r in zip(sides, names, recs, strict=True)],
    }
    for f, texts in field_texts(recs, kind).items():
        out[f"f_{f}"] = texts
    return out


def _split_source(rows: Any, split_field: str, wanted: str | None) -> str | None:
    """The originals' split: `source_split`, else "train" when present, else the first value in row order."""
    from curate.engines.ray.shuffle import counter_batches

    def fn(b: Any) -> dict:
        first: dict[str, int] = {}
        for pos, rec in zip(b["pos"].tolist(), b["rec"].tolist(), strict=True):
            v = str(json.loads(rec).get("metadata", {}).get(split_field))
            first.setdefault(v, pos)
        return first

    first: dict[str, int] = {}
    for part in counter_batches(rows, fn):
        for v, pos in part.items():
            first[v] = min(pos, first.get(v, pos))
    seen = sorted(first, key=first.__getitem__)
    return wanted or ("train" if "train" in seen else seen[0] if seen else None)


def leakage_result(check: Any, rows: Any, kind: str, against: Against | None, options: dict, n: int,
                   sink: Any):
    """`LeakageCheck.run` on Ray (the rows are the run's normalized rows, `rows.row_columns`); its findings
    go through `sink` (`curate.engines.ray.findings.Sink`)."""
    from curate.checks.leakage import field_texts
    from curate.errors import ConfigError
    from schemas.configs.dedup_key import DedupKeyConfig
    from schemas.findings import CheckStatus

    p = check.params
    if p.num_perm & (p.num_perm - 1):
        raise ConfigError(f"leakage.num_perm must be a power of two on the ray engine, got {p.num_perm}",
                          fix="use 64, 128 or 256, or run with --engine local")
    split_field = options.get("split_field")
    norm = options["normalize"].model_dump(mode="json")
    cols = ["pos", "meta"] + [f"f_{f}" for f in field_texts([], kind)]
    if against is not None:
        if against.kind != kind:
            return check.result([], status=CheckStatus.skipped,
                                message=f"--against holds {against.kind} records, the data {kind}")
        mode = "against"
        both = against.rows.map_batches(_fields, batch_format="pandas", batch_size=4096, fn_kwargs={
            "kind": kind, "offset": 0, "name": "against", "norm": norm, "split_field": None, "source": None,
        }).union(rows.select_columns(["pos", "rec"]).map_batches(_fields, batch_format="pandas", fn_kwargs={
            "kind": kind, "offset": SIDE_BIT, "name": "data", "norm": None, "split_field": None,
            "source": None,
        }))
    else:
        source = _split_source(rows, split_field, p.source_split)
        mode = f"split_field={split_field} (originals: {source})"
        both = rows.select_columns(["pos", "rec"]).map_batches(_fields, batch_format="pandas", fn_kwargs={
            "kind": kind, "offset": 0, "name": None, "norm": None, "split_field": split_field,
            "source": source,
        })
    both = both.select_columns(cols).materialize()
    key = options.get("dedup_key") or DedupKeyConfig()
    found, per_field = [], {}
    for k, fname in enumerate(field_texts([], kind)):
        hits = field_hits(both, f"f_{fname}", p, key, n).map_batches(
            _findings, batch_format="pandas", fn_kwargs={"field": fname, "k": k}).materialize()
        per_field[fname] = hits.count()
        found.append(hits)
    sunk = sink.write(found[0].union(*found[1:]) if len(found) > 1 else found[0], "findings/leakage.jsonl")
    # `x` is 1 on an exact copy; a row's findings are in one part (by pos), so `rows` counts rows once
    return sink.result(check, sunk, {
        "mode": mode, "by_field": per_field, "duplicate_key": key.spec(),
        "leaked_rows": sunk.rows, "exact": sunk.extra, "near": sunk.lines - sunk.extra})


def _findings(b: Any, field: str, k: int) -> Any:
    """Batch map from a bag of hits (`field_hits`) to findings rows: the local check's finding per hit,
    keyed by the checked row's own position, ordered by field, then row."""

    from curate.engines.ray.findings import finding_row, frame
    from schemas.findings import Finding, Severity

    out = []
    for v in b["_v"].tolist():
        _, (pos, meta, src, match, jac) = bag.load(v)
        side, orig = json.loads(meta), json.loads(src)
        pos &= SIDE_BIT - 1   # a data row's own position (against mode adds SIDE_BIT)
        f = Finding(id=side[2], reason="leakage", severity=Severity.error, field=field, match=match,
                    jaccard=round(jac, 4), copies=orig[2], copies_split=orig[1], split=side[1])
        out.append(finding_row(pos, k, [k, pos], f, extra=int(match == "exact")))
    return frame(out)


def field_hits(both: Any, col: str, p: Any, key: Any, n: int) -> Any:
    """A bag of (pos, (pos, meta, copied row's meta, "exact"|"near", Jaccard)) per checked row that copies
    an original, comparing column `col` of `both` (it stays on the workers)."""
    from curate.dedup.lsh import choose_bands
    from curate.engines.ray import components, dedup

    def one_field(b: Any) -> Any:
        import pandas as pd

        return pd.DataFrame({"pos": b["pos"], "id": b["meta"], "text": b[col], "label_key": ""})

    side_rows = both.map_batches(one_field, batch_format="pandas")
    exact = dedup.exact_groups(side_rows, n, key.model_dump()).materialize()
    heads = exact.map_batches(lambda b: b[b["pos"] == b["head_pos"]][["pos", "id", "text"]],
                              batch_format="pandas").materialize()
    bands, rows = choose_bands(p.threshold, p.num_perm)
    configs = [dedup.LshConfig("lk", p.threshold, bands, rows)]
    cand = dedup.candidates(heads, configs, p.num_perm, p.shingle, 0, n).materialize()
    verified = dedup.verify(cand, heads, configs, p.num_perm, p.shingle, 0, n).materialize()
    joined = bag.to_bag(exact, _by_head, n)
    if verified.count():
        state = components.components(verified, n)
        joined = joined.union(bag.step(state, _states, n)).union(bag.step(verified, _direct, n))
    return bag.step(bag.step(joined, _join, n), _cluster(p.threshold, p.shingle), n)


def _by_head(b: Any):
    for pos, meta, hp, gs, text in columns(b, "pos", "id", "head_pos", "gsize", "text"):
        yield hp, ("r", pos, meta, gs, text)


def _states(items: list):
    for (_tag, node), s in items:
        yield node, ("c", s[1])


def _direct(items: list):
    """Each verified pair between an original and a checked head, sent to the checked head."""
    for (_tag, a), (b, j, a_meta, b_meta) in items:
        sa, sb = json.loads(a_meta)[0], json.loads(b_meta)[0]
        if sa == 0 and sb != 0:
            yield b, ("d", a, j, a_meta)
        elif sb == 0 and sa != 0:
            yield a, ("d", b, j, b_meta)


def _join(items: list):
    """Per exact group (keyed by its head): its rows, its cluster root and the head's best original."""
    by: dict[int, dict] = {}
    for hp, v in items:
        g = by.setdefault(hp, {"r": [], "c": None, "d": None})
        if v[0] == "r":
            g["r"].append(v)
        elif v[0] == "c":
            g["c"] = v[1]
        else:
            d = g["d"]
            if d is None or v[2] > d[1] or (v[2] == d[1] and v[1] < d[0]):
                g["d"] = (v[1], v[2], v[3])
    for hp, g in by.items():
        if g["c"] is None and len(g["r"]) < 2:
            continue   # a row alone in its group and in no cluster copies nothing
        root = g["c"] if g["c"] is not None else hp
        for _, pos, meta, _gs, text in g["r"]:
            yield root, (pos, meta, hp, text, g["d"] if pos == hp else None)


def _cluster(threshold: float, shingle: int):
    """Step over clusters (keyed by root): the leaks of each cluster's checked rows (`cluster_hits`)."""
    def fn(items: list):
        by: dict[int, list] = {}
        for root, m in items:
            by.setdefault(root, []).append(m)
        for members in by.values():
            yield from cluster_hits(sorted(members, key=lambda m: m[0]), threshold, shingle)
    return fn


def cluster_hits(members: list[tuple], threshold: float, shingle: int):
    """(pos, (pos, meta, copied meta, match, Jaccard)) for each checked row of one cluster that copies an
    original; `members` are (pos, meta, head pos, head's text or "", best direct original or None)."""
    from curate.dedup.lsh import jaccard, shingle_set

    side = [json.loads(m[1])[0] for m in members]
    srcs = [k for k, s in enumerate(side) if s == 0]
    if not srcs:
        return
    text = {m[2]: m[3] for m in members if m[0] == m[2]}
    first_src: dict[int, int] = {}
    for k in srcs:
        first_src.setdefault(members[k][2], k)
    sets: dict[int, set] = {}
    for k, (pos, meta, hp, _text, direct) in enumerate(members):
        if side[k] == 0:
            continue
        if hp in first_src:
            yield pos, (pos, meta, members[first_src[hp]][1], "exact", 1.0)
        elif direct is not None:
            yield pos, (pos, meta, direct[2], "near", direct[1])
        else:   # linked through other rows: verified against the cluster's first originals
            best = None
            for s in srcs[:MAX_SOURCES]:
                for h in (hp, members[s][2]):
                    if h not in sets:
                        sets[h] = shingle_set(text[h], shingle)
                j = jaccard(sets[hp], sets[members[s][2]])
                if j >= threshold and (best is None or j > best[1]):
                    best = (s, j)
            if best is not None:
                yield pos, (pos, meta, members[best[0]][1], "near", best[1])
