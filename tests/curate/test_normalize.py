import json

from curate import load
from curate.normalize import normalize_dataset, normalize_text, normalized_context
from schemas.configs.curate import NormalizeConfig


def test_each_kind_is_counted():
    assert normalize_text("ｆｕｌｌ width")[1] == ["nfkc"]
    assert normalize_text("zero\u200bwidth") == ("zerowidth", ["zero_width"])
    assert normalize_text("bell\x07") == ("bell", ["control"])
    assert normalize_text("  a \t b  \n\n\n\nc ") == ("a b\n\nc", ["whitespace"])
    assert normalize_text("café â€œquotedâ€\x9d")[0] == "café “quoted”"
    assert "mojibake" in normalize_text("cafÃ© â€œquotedâ€\x9d")[1]
    assert normalize_text("a &amp; <b>b</b>", NormalizeConfig(html="strip"))[0] == "a & b"
    assert normalize_text("A &amp; B", NormalizeConfig(html="unescape", lowercase=True)) == (
        "a & b",
        ["html", "lowercase"],
    )
    assert normalize_text("plain text") == ("plain text", [])


def test_unrepairable_mojibake_is_flagged_not_changed():
    t = "I donÕ¢_ŠÎ_†¢t want either!"
    out, kinds = normalize_text(t)
    assert out == t and kinds == ["mojibake_unrepaired"]


def _write(tmp_path, rows, name="d.jsonl"):
    p = tmp_path / name
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return p


def test_dataset_labels_and_per_row_changes(tmp_path):
    p = _write(tmp_path, [{"id": "a", "text": "good  day", "label": " Positive"},
                          {"id": "b", "text": "bad day", "label": "neg"},
                          {"id": "c", "text": "meh", "label": "whatever"}])
    cfg = NormalizeConfig(label_map={"neg": "negative"}, labels=["positive", "negative"])
    res = normalize_dataset(load(p), cfg)
    assert [r["label"] for r in res.data.records] == ["positive", "negative", "whatever"]
    assert res.changes == {"a": ["whitespace", "label"], "b": ["label"]}
    assert res.counts == {"whitespace": 1, "label": 2}
    assert res.unknown_labels == {"whatever": 1} and res.unknown_rows == ["c"]
    assert res.texts[0] == "good day"


def test_normalization_check_reports(tmp_path):
    from curate.checks.normalization import NormalizationCheck

    p = _write(
        tmp_path, [{"id": "a", "text": "x\u200by", "label": "p"}, {"id": "b", "text": "ok", "label": "p"}]
    )
    ctx = normalized_context(load(p))
    r = NormalizationCheck().run(ctx)
    assert [(f.id, f.reason) for f in r.findings] == [("a", "normalized")]
    assert r.summary["by_kind"] == {"zero_width": 1}
    assert ctx.texts == ["xy", "ok"]


def test_completion_fields_normalized(tmp_path):
    p = _write(tmp_path, [{"id": "1", "prompt": "q  ?", "completion": "line1 \n line2"}])
    res = normalize_dataset(load(p))
    assert res.data.records[0]["prompt"] == "q ?" and res.data.records[0]["completion"] == "line1\nline2"


def test_parallel_normalization_equals_serial_in_order(monkeypatch) -> None:
    import random

    import curate.normalize as N
    from schemas.configs.curate import NormalizeConfig

    rng = random.Random(0)
    pieces = ["plain text", "cafÃ©", "ﬁne  print", "tab\there", "zero\u200bwidth", " padded ", "naïve",
              "Ã¢â‚¬Å“quotedÃ¢â‚¬Â", "line\r\nbreak", "Ｆｕｌｌ", "ok"]
    texts = [" ".join(rng.choice(pieces) for _ in range(rng.randint(1, 4))) for _ in range(3000)]
    cfg = NormalizeConfig(html="unescape")
    serial = [N.normalize_text(t, cfg) for t in texts]
    monkeypatch.setattr(N, "PARALLEL_MIN_ROWS", 10)
    monkeypatch.setattr(N, "_CHUNK", 97)  # many chunks: order across workers must be kept
    assert N.normalize_many(texts, cfg, workers=2) == serial
    assert N.normalize_many(texts, cfg, workers=1) == serial
