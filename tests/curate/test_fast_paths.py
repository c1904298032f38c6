"""The `curate run` fast paths give the same answers as the slow paths they replace, on planted data.

pii's NumPy/regex gate, near_duplicate's vectorised findings, bias's length subsample, the loader's flat-row
checks and the batched JSONL writer.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from curate.checks import pii
from curate.checks.bias import length_leakage
from curate.checks.near_duplicate import NearDuplicateCheck
from curate.io import load, write_jsonl
from curate.io import writers as writers_mod
from curate.io.load import _flat_nul, _has_nul
from curate.io.readers import depth_exceeds
from curate.runner import default_context
from schemas.findings import Severity
from schemas.records import MAX_NESTING_DEPTH

PLANTED = [
    "mail me at jo.smith+x@example.co.uk today", "@user thanks!", "@user.name hi", "x@y.z",
    "call +1 (555) 123-4567 now", "call 555.123.4567", "5551234567", "(020) 7946 0958 office",
    "card 4111 1111 1111 1111 ok", "4111-1111-1111-1111", "4111111111111111",
    "server 192.168.1.1 down", "1.2.3.4", "ver 1.2.3", "fe80::1ff:fe23:4567:890a ip6", "::a:b:c", "::a:b:c 1",
    "meet 10:30:45:12", "12:30", "", " ", "no digits at all", "٤١١١١١١١١١١١١١١١ arabic digits",
    "+44 20 7946 0958", "price 1,234,567.89", "year 2024 and 2025", "é 1.2.3.4 é", "x²³ 1:2:3:",
]


def _fuzz(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    alphabet = "0123456789" * 4 + " .-()+@:abcXY\n٣é"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40))) for _ in range(n)]


def test_pii_gate_never_hides_a_span_the_old_gate_found():
    texts = PLANTED + _fuzz(4000)
    old = {i: s for i, t in enumerate(texts)
           if ("@" in t or any(c.isdigit() for c in t)) and (s := pii.find_pii(t))}
    assert len(old) > 100  # the fuzz really plants PII of several kinds
    assert {k for s in old.values() for k, _, _ in s} == {"card", "email", "ip", "phone"}
    cand = pii.candidate_rows(texts, chunk=997)  # several chunks, one ragged
    assert cand == [i for i, t in enumerate(texts) if pii.may_have_pii(t)]
    new = {i: s for i in cand if (s := pii.find_pii(texts[i]))}
    assert new == old
    # the gate does skip rows: "@user" mentions and short numbers never reach the five regexes
    assert not pii.may_have_pii("@user thanks!") and not pii.may_have_pii("year 2024 and 2025")


def test_mask_pii_gate_matches_the_ungated_masking():
    for t in PLANTED + _fuzz(2000, seed=1):
        spans = pii.find_pii(t)
        out, pos = [], 0
        for kind, a, b in spans:
            out += [t[pos:a], pii.MASKS[kind]]
            pos = b
        assert pii.mask_pii(t) == ("".join(out) + t[pos:], len(spans))


def ctx_of(tmp_path: Path, rows: list[dict]):
    p = tmp_path / "data.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return default_context(load(p))


def test_near_duplicate_findings_match_a_brute_force_exact_jaccard(tmp_path):
    # The expectation is computed independently of the engine: exact Jaccard of 5-byte shingles over every
    # pair of distinct texts, clusters as connected components rooted at their first row.
    rng = random.Random(3)
    words = [
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
    ]
    base = [" ".join(rng.choice(words) for _ in range(12)) for _ in range(40)]
    texts = base + [t + " nu" for t in base[:15]] + base[:5]  # near copies and exact copies
    rows = [{"id": f"r{i}", "text": t, "label": "a"} for i, t in enumerate(texts)]
    ctx = ctx_of(tmp_path, rows)
    res = NearDuplicateCheck().run(ctx)

    def shingles(t: str) -> set[bytes]:
        b = t.encode()
        return {b[i:i + 5] for i in range(len(b) - 4)}

    first = {}
    # exact copies are another check's
    reps = [i for i, t in enumerate(ctx.texts) if first.setdefault(t, i) == i]
    sh = {i: shingles(ctx.texts[i]) for i in reps}
    best: dict[int, float] = {}
    parent = {i: i for i in reps}

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for x, i in enumerate(reps):
        for j in reps[x + 1:]:
            jac = len(sh[i] & sh[j]) / len(sh[i] | sh[j])
            if jac >= 0.8:
                best[i], best[j] = max(best.get(i, 0), jac), max(best.get(j, 0), jac)
                a, b = root(i), root(j)
                parent[max(a, b)] = min(a, b)
    want = sorted((ctx.ids[i], ctx.ids[root(i)], round(best[i], 4)) for i in reps if root(i) != i)
    got = sorted((f.id, f.duplicate_of, f.jaccard) for f in res.findings)
    assert got == want and len(got) >= 10
    assert all(f.severity == Severity.warning and f.cluster == f.duplicate_of for f in res.findings)


def test_length_leakage_subsample_keeps_the_verdict_and_is_seeded():
    rng = random.Random(4)
    labels = ["long" if rng.random() < 0.3 else "short" for _ in range(3000)]
    texts = [" ".join(["word"] * (20 if lab == "long" else 4)) for lab in labels]
    full = length_leakage(texts, labels, folds=5)
    sub = length_leakage(texts, labels, folds=5, sample=600)
    assert full["rows_used"] == 3000 and sub["rows_used"] == 600
    assert full["majority_baseline"] == sub["majority_baseline"]  # the baseline counts every row
    assert abs(full["cv_accuracy"] - sub["cv_accuracy"]) < 0.02 and sub["lift"] > 0.05
    assert sub == length_leakage(texts, labels, folds=5, sample=600)
    assert length_leakage(texts, labels, folds=5, sample=5000) == full  # sample above n: the full fit


@pytest.mark.parametrize(
    "obj",
    [
        {"a": "x", "b": 1, "c": 2.5, "d": None, "e": True},
        {"a": "x\x00y"},
        {},
        {"a": [1, 2]},
        {"a": {"b": "\x00"}},
        {"a": ["\x00"]},
        {"a": b"bytes"},
    ],
)
def test_flat_row_checks_agree_with_the_general_ones(obj):
    flat = _flat_nul(obj)
    if flat is None:
        assert any(
            isinstance(v, dict | list) or not isinstance(v, str | int | float | type(None))
            for v in obj.values()
        )
    else:
        assert flat == _has_nul(obj) and not depth_exceeds(obj, MAX_NESTING_DEPTH)


def test_loader_still_quarantines_nul_and_deep_rows(write_bytes):
    deep: object = "x"
    for _ in range(MAX_NESTING_DEPTH + 2):
        deep = [deep]
    rows = [
        {"id": "a", "text": "ok", "label": "p"},
        {"id": "b", "text": "bad\x00", "label": "p"},
        {"id": "c", "text": "ok", "label": "p", "extra": deep},
        {"id": "d", "text": "ok", "label": "p", "n": 3},
    ]
    data = load(write_bytes("d.jsonl", "".join(json.dumps(r) + "\n" for r in rows)))
    assert [r["id"] for r in data.records] == ["a", "d"]
    assert data.records[1]["metadata"] == {"n": 3}
    assert [(q.id, q.reason) for q in data.quarantine] == [("b", "nul_character"), ("c", "too_deeply_nested")]


def test_batched_jsonl_equals_one_dumps_per_line(tmp_path, monkeypatch):
    monkeypatch.setattr(writers_mod, "_BATCH", 3)
    rows = [{"id": str(i), "text": f"é ✓ \"q\" {i}\n", "label": ["a", "b"], "metadata": {"x": 1.5, "n": None}}
            for i in range(10)]
    for n in (0, 3, 10):
        target = tmp_path / f"o{n}.jsonl"
        assert write_jsonl(rows[:n], target) == n
        assert target.read_text(encoding="utf-8") == "".join(json.dumps(r, ensure_ascii=False) + "\n"
                                                             for r in rows[:n])
