import json

from curate import load
from curate.checks.conflicting_labels import ConflictingLabelsCheck
from curate.checks.conflicting_responses import ConflictingResponsesCheck
from curate.checks.exact_duplicate import ExactDuplicateCheck
from curate.checks.near_duplicate import NearDuplicateCheck
from curate.normalize import normalized_context


def _ctx(tmp_path, rows):
    p = tmp_path / "d.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return normalized_context(load(p))


LONG = "the service on this flight was slow and the seats were very uncomfortable"


def test_conflicting_labels_exact_and_near(tmp_path):
    ctx = _ctx(tmp_path, [
        {"id": "a", "text": LONG, "label": "neg"},
        {"id": "b", "text": LONG + " ", "label": "pos"},        # same after normalization
        {"id": "c", "text": "lovely crew", "label": "pos"},
        {"id": "d", "text": "lovely crew", "label": "pos"},     # duplicate, same label: no conflict
        {"id": "e", "text": LONG + "!!", "label": "neu"},   # near-same text
    ])
    r = ConflictingLabelsCheck().run(ctx)
    assert sorted(f.id for f in r.findings) == ["a", "b", "e"]
    assert {f.cluster for f in r.findings} == {"a"}
    assert r.summary["conflict_groups"] == 1
    r2 = ConflictingLabelsCheck({"near": False}).run(ctx)
    assert sorted(f.id for f in r2.findings) == ["a", "b"]


def test_duplicate_findings_name_their_original(tmp_path):
    ctx = _ctx(tmp_path, [
        {"id": "a", "text": LONG, "label": "x"},
        {"id": "b", "text": LONG, "label": "x"},
        {"id": "c", "text": LONG.replace("slow", "slw"), "label": "x"},
        {"id": "d", "text": "nothing alike", "label": "x"},
    ])
    ex = ExactDuplicateCheck().run(ctx)
    assert [(f.id, f.duplicate_of) for f in ex.findings] == [("b", "a")]
    nd = NearDuplicateCheck().run(ctx)
    assert [(f.id, f.duplicate_of) for f in nd.findings] == [("c", "a")]
    assert 0.8 <= nd.findings[0].jaccard < 1
    assert nd.summary["sample_pairs"][0]["a"] == "a"


def test_conflicting_responses(tmp_path):
    ctx = _ctx(tmp_path, [
        {"id": "1", "prompt": "capital of france?", "completion": "Paris"},
        {"id": "2", "prompt": "capital of france?", "completion": "Lyon"},
        {"id": "3", "prompt": "2+2?", "completion": "4"},
        {"id": "4", "prompt": "2+2?", "completion": "4"},
    ])
    r = ConflictingResponsesCheck().run(ctx)
    assert sorted((f.id, f.conflicts_with) for f in r.findings) == [("1", "2"), ("2", "1")]
    assert r.summary["conflict_groups"] == 1


def test_conflicting_responses_does_not_apply_to_classification(tmp_path):
    ctx = _ctx(tmp_path, [{"id": "a", "text": "t", "label": "x"}])
    assert ConflictingResponsesCheck().run(ctx).status.value == "not_applicable"
