"""Shared by the Ray engine tests: a planted corpus and the comparison of two `curate run` output folders."""

from __future__ import annotations

import json
import random
from pathlib import Path

WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "omicron",
    "pi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "chi",
    "psi",
    "omega",
    "river",
    "stone",
    "cloud",
    "light",
    "music",
    "paper",
    "garden",
    "window",
    "orange",
    "silver",
]


def planted_rows(n: int = 600, seed: int = 7) -> list[str]:
    """JSONL lines with every kind of finding planted: exact and near duplicates (some with another label),
    PII, empty and very long texts, mojibake and odd whitespace, unknown labels, bad rows, repeated ids."""
    rng = random.Random(seed)
    labels = ["positive", "negative", "neutral"]
    lines: list[str] = []
    base: list[str] = []
    for i in range(n):
        r = rng.random()
        rid = f"r{i}"
        if base and r < 0.12:
            text, lab = rng.choice(base), rng.choice(labels)                    # exact duplicate
        elif base and r < 0.24:
            words = rng.choice(base).split()
            words[rng.randrange(len(words))] = rng.choice(WORDS)             # near duplicate
            text, lab = " ".join(words), rng.choice(labels)
        else:
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20)))
            lab = rng.choice(labels)
            base.append(text)
        if r > 0.97:
            text = "contact me at someone@example.com or +1 415 555 0100 " + text
        elif 0.95 < r <= 0.97:
            text = "   "
        elif 0.93 < r <= 0.95:
            text = ("very long " * 120) + text
        elif 0.91 < r <= 0.93:
            text = "caf\u00c3\u00a9  au   lait\u200b " + text
        if 0.89 < r <= 0.91:
            lab = "Positive "
        if 0.885 < r <= 0.89:
            lab = "mystery"
        obj = {"id": rid, "text": text, "label": lab, "src": rng.choice(["a", "b"])}
        if 0.875 < r <= 0.885:
            lines.append('{"id": "bad' + str(i) + '", "text": "unterminated')
            continue
        if 0.87 < r <= 0.875:
            obj.pop("label")
        if 0.865 < r <= 0.87 and i > 10:
            obj["id"] = "r3"
        lines.append(json.dumps(obj, ensure_ascii=False))
    return lines


def write_planted(path: Path, n: int = 600, shards: int = 1) -> list[Path]:
    """The planted corpus as one file (shards=1) or a folder of `shards` JSONL files."""
    lines = planted_rows(n)
    if shards == 1:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return [path]
    path.mkdir(parents=True, exist_ok=True)
    size = -(-len(lines) // shards)
    out = []
    for k in range(shards):
        p = path / f"part-{k:03d}.jsonl"
        p.write_text("\n".join(lines[k * size:(k + 1) * size]) + "\n", encoding="utf-8")
        out.append(p)
    return out


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def kept_rows(out: Path) -> list[dict]:
    if (out / "curated").is_dir():
        return [r for p in sorted((out / "curated").glob("part-*.jsonl")) for r in _jsonl(p)]
    return _jsonl(out / "curated.jsonl")


# summary keys allowed to differ: none (kept for a future engine-specific key)
STAR_DEPENDENT: dict[str, set[str]] = {}


def differences(local: Path, ray: Path, same_source: bool = True) -> list[str]:
    """What differs between two `curate run` output folders (empty when they agree)."""
    diffs = []
    lk, rk = kept_rows(local), kept_rows(ray)
    if lk != rk:
        diffs.append(f"kept rows differ: {len(lk)} vs {len(rk)}; ids only in local "
                     f"{sorted({r['id'] for r in lk} - {r['id'] for r in rk})[:5]}, only in ray "
                     f"{sorted({r['id'] for r in rk} - {r['id'] for r in lk})[:5]}")
    lr, rr = _jsonl(local / "removed.jsonl"), _jsonl(ray / "removed.jsonl")
    if lr != rr:
        diffs.append(f"removed rows differ: {len(lr)} vs {len(rr)}: "
                     f"{[a for a, b in zip(lr, rr, strict=False) if a != b][:2]}")
    lq, rq = _jsonl(local / "quarantine.jsonl"), _jsonl(ray / "quarantine.jsonl")
    # from shards, a row's source, line and row number (and the id of a row without one) are the shard's
    where = ("source", "line", "row", "id")
    strip = (lambda q: q) if same_source else (lambda q: {k: v for k, v in q.items() if k not in where})
    if [strip(q) for q in lq] != [strip(q) for q in rq]:
        diffs.append(f"quarantine differs: {len(lq)} vs {len(rq)}")
    lc = json.loads((local / "checks.json").read_text(encoding="utf-8"))
    rc = json.loads((ray / "checks.json").read_text(encoding="utf-8"))
    if lc["input"] != rc["input"] and same_source:
        diffs.append(f"input summary differs: {lc['input']} vs {rc['input']}")
    lnames, rnames = [c["name"] for c in lc["checks"]], [c["name"] for c in rc["checks"]]
    if lnames != rnames:
        diffs.append(f"checks differ: {lnames} vs {rnames}")
    for a, b in zip(lc["checks"], rc["checks"], strict=False):
        for key in ("status", "count", "message"):
            if a[key] != b[key]:
                diffs.append(f"{a['name']}.{key}: {a[key]!r} vs {b[key]!r}")
        skip = STAR_DEPENDENT.get(a["name"], set())
        sa = {k: v for k, v in a["summary"].items() if k not in skip}
        sb = {k: v for k, v in b["summary"].items() if k not in skip}
        if a["name"] == "schema" and not same_source:
            sa, sb = {k: v for k, v in sa.items()}, {k: v for k, v in sb.items()}
        if sa != sb:
            keys = [k for k in set(sa) | set(sb) if sa.get(k) != sb.get(k)]
            diffs.append(
                f"{a['name']}.summary differs in {keys}: {[(sa.get(k), sb.get(k)) for k in keys][:2]}"
            )
        fa = [strip(f) if a["name"] == "schema" else f for f in a["findings"]]
        fb = [strip(f) if a["name"] == "schema" else f for f in b["findings"]]
        if b.get("findings_file"):
            # the Ray engine keeps the first `findings_cap` findings in checks.json, every one in the file
            cap = json.loads((ray / "manifest.json").read_text(encoding="utf-8"))["extra"]["findings_cap"]
            every = [strip(f) if a["name"] == "schema" else f for f in _jsonl(ray / b["findings_file"])]
            if sorted(map(_key, every)) != sorted(map(_key, fa)):
                diffs.append(f"{a['name']}: {b['findings_file']} holds {len(every)} findings, "
                             f"local {len(fa)}")
            fa = fa[:cap]
        if fa != fb:
            bad = [(x, y) for x, y in zip(fa, fb, strict=False) if x != y][:2]
            diffs.append(f"{a['name']}.findings differ ({len(fa)} vs {len(fb)}): {bad}")
    return diffs


def _key(finding: dict) -> str:
    return json.dumps(finding, sort_keys=True)
