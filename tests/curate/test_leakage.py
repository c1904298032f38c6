import json

from curate import load
from curate.checks.leakage import LeakageCheck
from curate.normalize import normalized_context

A = "how do i reset my password on the account settings page"
B = "what is the refund policy for cancelled international flights"


def _load(tmp_path, rows, name):
    p = tmp_path / name
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return load(p)


def test_split_field_leakage(tmp_path):
    data = _load(tmp_path, [
        {"id": "t1", "text": A, "label": "x", "split": "train"},
        {"id": "t2", "text": B, "label": "x", "split": "train"},
        {"id": "v1", "text": A, "label": "x", "split": "test"},                       # exact copy
        {"id": "v2", "text": B.replace("policy", "policies"), "label": "x", "split": "test"},   # near copy
        {"id": "v3", "text": "a completely unrelated question here", "label": "x", "split": "test"},
    ], "d.jsonl")
    ctx = normalized_context(data, split_field="split")
    r = LeakageCheck().run(ctx)
    got = sorted((f.id, f.copies, f.match) for f in r.findings)
    assert got == [("v1", "t1", "exact"), ("v2", "t2", "near")]


def test_against_per_field(tmp_path):
    train = _load(
        tmp_path,
        [
            {"id": "a", "prompt": A, "completion": "go to settings"},
            {"id": "b", "prompt": B, "completion": "full refund within 30 days"},
        ],
        "train.jsonl",
    )
    test = _load(
        tmp_path,
        [
            {"id": "x", "prompt": A, "completion": "call support"},
            {"id": "y", "prompt": "new question entirely", "completion": "full refund within 30 days"},
            {"id": "z", "prompt": "unseen prompt text", "completion": "unseen answer text"},
        ],
        "test.jsonl",
    )
    ctx = normalized_context(test)
    ctx.against = train
    r = LeakageCheck().run(ctx)
    assert sorted((f.id, f.field, f.copies) for f in r.findings) == [
        ("x", "prompt", "a"),
        ("y", "completion", "b"),
    ]
    assert r.summary["by_field"] == {"prompt": 1, "completion": 1}


def test_nothing_to_compare_is_skipped(tmp_path):
    data = _load(tmp_path, [{"id": "a", "text": A, "label": "x"}], "d.jsonl")
    assert LeakageCheck().run(normalized_context(data)).status.value == "not_run"
