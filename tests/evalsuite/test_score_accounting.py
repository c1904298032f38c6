"""`evalsuite score` accounts for every row of both files (issue 9 item 4), and its CIs, items, slices,
metric options, multi-reference and probability inputs (issue 13)."""

from __future__ import annotations

import json
import math

import pytest

from common.cli import run_app
from evalsuite.cli import app
from evalsuite.commands.score import score_files


def jsonl(path, rows):
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def run(tmp_path, task, preds, refs, *extra):
    p = jsonl(tmp_path / "p.jsonl", preds)
    r = jsonl(tmp_path / "r.jsonl", refs)
    out = tmp_path / "o.json"
    rc = run_app(app, "evalsuite", ["score", "--kind", task, "--predictions", str(p), "--references", str(r),
                                    "--json", str(out), "--n-resamples", "50", *extra])
    return rc, (json.loads(out.read_text()) if out.exists() else None)


def test_unknown_prediction_ids_are_counted_not_hidden(tmp_path, capsys):
    # the reported case: 55 predictions with unknown ids were ignored and accuracy 1.0 printed on n=5
    refs = [{"id": f"r{i}", "label": "a"} for i in range(5)]
    preds = [{"id": f"r{i}", "prediction": "a"} for i in range(5)] + [
        {"id": f"u{i}", "prediction": "b"} for i in range(55)
    ]
    rc, res = run(tmp_path, "classification", preds, refs)
    assert rc == 0
    assert res["accounting"]["predictions"] == {
        "rows": 60,
        "scored": 5,
        "unmatched": 55,
        "duplicate": 0,
        "invalid": 0,
    }
    assert res["accounting"]["clean"] is False
    assert sum(p["reason"] == "no_reference" for p in res["problems"]) == 55
    err = capsys.readouterr().err
    assert "60 rows = 5 scored + 55 unmatched" in err and "warning: not a clean one-to-one match" in err
    rc, _ = run(tmp_path, "classification", preds, refs, "--strict")
    assert rc == 1  # a failed gate, after the JSON is written


def test_invalid_reference_rows_are_counted(tmp_path, capsys):
    refs = [{"id": "a", "label": "x"}, {"id": "b", "label": None}, {"id": "c", "label": float("nan")},
            {"id": "d", "label": ""}, {"label": "x"}, "{broken"]
    preds = [{"id": k, "prediction": "x"} for k in "abcd"]
    rc, res = run(tmp_path, "classification", preds, refs)
    assert rc == 0
    acc = res["accounting"]
    assert acc["references"] == {
        "rows": 6,
        "scored": 1,
        "without_prediction": 0,
        "duplicate": 0,
        "invalid": 5,
    }
    assert acc["predictions"]["unmatched"] == 3
    reasons = sorted(p["reason"] for p in res["problems"] if p["file"] == "references")
    assert reasons == ["empty_reference", "malformed_json", "missing_id", "nan_reference", "null_reference"]
    assert {p["reason"] for p in res["problems"] if p["file"] == "predictions"} == {"reference_invalid"}
    assert "6 rows = 1 scored + 0 without prediction + 0 duplicate + 5 invalid" in capsys.readouterr().err


def test_duplicates_are_never_resolved_last_wins(tmp_path):
    refs = [
        {"id": "a", "label": "x"},
        {"id": "b", "label": "y"},
        {"id": "c", "label": "y"},
        {"id": "c", "label": "x"},
    ]
    preds = [{"id": "a", "prediction": "x"}, {"id": "b", "prediction": "x"}, {"id": "b", "prediction": "y"},
             {"id": "c", "prediction": "x"}]
    rc, res = run(tmp_path, "classification", preds, refs)
    assert rc == 0
    acc = res["accounting"]
    # last-wins would score b correct (1.0 accuracy on a, b); the duplicated ids are set aside instead
    assert res["n"] == 1 and res["metrics"]["accuracy"]["value"] == 1.0
    assert acc["predictions"] == {"rows": 4, "scored": 1, "unmatched": 1, "duplicate": 2, "invalid": 0}
    assert acc["references"] == {
        "rows": 4,
        "scored": 1,
        "without_prediction": 1,
        "duplicate": 2,
        "invalid": 0,
    }
    rows = {(p["file"], p["id"], p["reason"]) for p in res["problems"]}
    assert ("references", "b", "prediction_duplicate_id") in rows and (
        "predictions",
        "c",
        "reference_duplicate_id",
    ) in rows


def test_null_and_nan_predictions_are_invalid_not_strings(tmp_path):
    refs = [
        {"id": "a", "completion": "None"},
        {"id": "b", "completion": "nan"},
        {"id": "c", "completion": "ok"},
    ]
    preds = [
        '{"id": "a", "prediction": null}',
        '{"id": "b", "prediction": NaN}',
        {"id": "c", "prediction": "ok"},
    ]
    rc, res = run(tmp_path, "generation", preds, refs)
    assert rc == 0
    # scored as the strings "None"/"nan" these would be exact matches; they are invalid rows instead
    assert res["n"] == 1 and res["metrics"]["exact_match"]["value"] == 1.0
    assert res["accounting"]["predictions"]["invalid"] == 2
    assert {p["reason"] for p in res["problems"] if p["file"] == "predictions"} == {
        "null_prediction",
        "nan_prediction",
    }
    assert res["accounting"]["references"]["without_prediction"] == 2 and res["missing"] == 2


def test_empty_reference_is_scored_zero_not_dropped(tmp_path):
    refs = [{"id": "a", "completion": "the cat sat"}, {"id": "b", "completion": ""}]
    preds = [{"id": "a", "prediction": "the cat sat"}, {"id": "b", "prediction": "something"}]
    rc, res = run(tmp_path, "generation", preds, refs)
    assert rc == 0 and res["n"] == 2 and res["accounting"]["clean"]
    assert res["metrics"]["rougeLsum"]["value"] == pytest.approx(0.5)  # (1 + 0) / 2
    assert [it["scores"]["rougeLsum"] for it in res["items"]] == [1.0, 0.0]


def test_clean_match_strict_passes_and_references_need_only_id_and_field(tmp_path):
    refs = [{"id": 1, "label": "x"}, {"id": 2, "label": "y"}]  # no text field at all
    preds = [{"id": "1", "prediction": "x"}, {"id": "2", "prediction": "x"}]
    rc, res = run(tmp_path, "classification", preds, refs, "--strict")
    assert rc == 0 and res["accounting"]["clean"] and res["problems"] == []
    rc, res = run(tmp_path, "generation", [{"id": "1", "prediction": "hi there"}],
                  [{"id": "1", "text": "hi there"}])
    assert (
        rc == 0
        and res["accounting"]["reference_field"] == "text"
        and res["metrics"]["exact_match"]["value"] == 1
    )


def test_no_match_at_all_is_a_usage_error(tmp_path):
    rc, res = run(tmp_path, "classification", [{"id": "z", "prediction": "x"}], [{"id": "a", "label": "x"}])
    assert rc == 2 and res is None


def test_every_metric_gets_a_seeded_ci_and_items(tmp_path):
    refs = [{"id": f"r{i}", "label": "ab"[i % 2], "lang": "en" if i < 6 else "de"} for i in range(12)]
    preds = [{"id": f"r{i}", "prediction": "ab"[(i // 3) % 2]} for i in range(12)]
    rc, res = run(tmp_path, "classification", preds, refs, "--slice-by", "lang", "--seed", "3")
    assert rc == 0
    for name, m in res["metrics"].items():
        assert m["ci"] is not None and m["ci"][0] <= m["ci"][1], name
    acc = res["metrics"]["accuracy"]
    assert acc["ci"][0] <= acc["value"] <= acc["ci"][1] and acc["ci"][0] < acc["ci"][1]
    _, again = run(tmp_path, "classification", preds, refs, "--slice-by", "lang", "--seed", "3")
    assert again["metrics"]["f1_macro"]["ci"] == res["metrics"]["f1_macro"]["ci"]
    assert [it["scores"]["accuracy"] for it in res["items"]] == [
        float(p["prediction"] == r["label"]) for p, r in zip(preds, refs, strict=True)]
    slices = {s["value"]: s for s in res["slices"]["lang"]}
    assert slices["en"]["n"] == 6 and slices["de"]["n"] == 6
    lo, hi = slices["de"]["ci"]["accuracy"]
    assert lo <= slices["de"]["metrics"]["accuracy"] <= hi
    assert slices["en"]["metrics"]["accuracy"] == pytest.approx(
        sum(p["prediction"] == r["label"] for p, r in zip(preds[:6], refs[:6], strict=True)) / 6)
    pc = res["per_class"]
    assert pc["labels"] == ["a", "b"] and len(pc["f1"]) == 2 and sum(pc["support"]) == 12
    _, none = run(tmp_path, "classification", preds, refs, "--n-resamples", "0")
    assert none["metrics"]["accuracy"]["ci"] is None


def test_metric_args_multi_reference_and_sentence_bleu(tmp_path):
    refs = [{"id": "1", "completion": ["The dog bit the man.", "The dog had bit the man."]},
            {"id": "2", "completion": ["It was not unexpected.", "No one was surprised."]},
            {"id": "3", "completion": ["The man bit him first.", "The man had bitten the dog."]}]
    preds = [
        {"id": "1", "prediction": "The dog bit the man."},
        {"id": "2", "prediction": "It wasn't surprising."},
        {"id": "3", "prediction": "The man had just bitten him."},
    ]
    rc, res = run(tmp_path, "generation", preds, refs, "--metric-args", "bleu.tokenize=intl")
    assert rc == 0
    bleu = res["metrics"]["bleu"]
    assert bleu["value"] == pytest.approx(43.91623493, abs=1e-6)  # sacrebleu test_bleu.py, tokenize=intl
    assert "tok:intl" in bleu["signature"] and "nrefs:2" in bleu["signature"]
    assert res["items"][0]["scores"]["bleu"] == pytest.approx(100.0)
    assert bleu["ci"][0] <= bleu["value"] <= bleu["ci"][1]
    rc, _ = run(tmp_path, "generation", preds, refs, "--metric-args", "bleu.tokenise=intl")
    assert rc == 2


def test_probabilities_add_topk_brier_ece_and_bad_ones_are_invalid(tmp_path):
    refs = [{"id": str(i), "label": lab} for i, lab in enumerate(["a", "b", "c", "c"])]
    probs = [{"a": 0.5, "b": 0.2, "c": 0.2}, {"a": 0.3, "b": 0.4, "c": 0.2}, {"a": 0.2, "b": 0.4, "c": 0.3},
             {"a": 0.7, "b": 0.2, "c": 0.1}]
    preds = [{"id": str(i), "prediction": max(p, key=p.get), "probabilities": p} for i, p in enumerate(probs)]
    rc, res = run(tmp_path, "classification", preds, refs)
    assert res["metrics"]["top_k_accuracy"]["value"] == pytest.approx(0.75)  # sklearn top_k docstring
    assert {"brier", "ece"} <= set(res["metrics"])
    preds[0]["probabilities"] = {"a": float("nan")}
    rc, res = run(tmp_path, "classification", preds, refs)
    assert rc == 0
    assert res["accounting"]["predictions"]["invalid"] == 1 and "top_k_accuracy" in res["metrics"]


def test_sample_weight_field(tmp_path):
    refs = [
        {"id": str(i), "label": lab, "w": w}
        for i, (lab, w) in enumerate(zip("abab", [3, 1, 1, 3], strict=True))
    ]
    preds = [{"id": str(i), "prediction": p} for i, p in enumerate("aaaa")]  # right on 0 (w 3) and 2 (w 1)
    res = score_files(
        "classification",
        jsonl(tmp_path / "p.jsonl", preds),
        str(jsonl(tmp_path / "r.jsonl", refs)),
        metric_args={"classification": {"sample_weight": "w"}},
        n_resamples=20,
    )
    assert res["metrics"]["accuracy"]["value"] == pytest.approx(4 / 8)
    assert "sample_weight:w" in res["metrics"]["accuracy"]["signature"]
    refs[1]["w"] = "heavy"
    res = score_files(
        "classification",
        jsonl(tmp_path / "p.jsonl", preds),
        str(jsonl(tmp_path / "r.jsonl", refs)),
        metric_args={"classification": {"sample_weight": "w"}},
        n_resamples=20,
    )
    assert res["accounting"]["references"]["invalid"] == 1 and res["n"] == 3


def test_multilabel_rows(tmp_path):
    refs = [{"id": "1", "label": []}, {"id": "2", "label": ["a", "b", "c"]}, {"id": "3", "label": ["b", "c"]}]
    preds = [
        {"id": "1", "prediction": []},
        {"id": "2", "prediction": ["a", "b", "c"]},
        {"id": "3", "prediction": ["a", "b"]},
    ]
    rc, res = run(tmp_path, "classification", preds, refs)
    assert rc == 0
    assert res["metrics"]["f1_macro"]["value"] == pytest.approx((2 / 3 + 1 + 2 / 3) / 3)
    assert "hamming_loss" in res["metrics"] and "multilabel" in res["metrics"]["f1_samples"]["signature"]
    assert not any(isinstance(v["value"], float) and math.isnan(v["value"]) for v in res["metrics"].values())


def test_config_file_metric_args_and_cli_override(tmp_path):
    cfg = tmp_path / "m.yaml"
    cfg.write_text("metric_args:\n  bleu: {tokenize: char}\n  exact_match: {ignore_case: true}\n")
    preds, refs = [{"id": "1", "prediction": "Hello"}], [{"id": "1", "completion": "hello"}]
    rc, res = run(tmp_path, "generation", preds, refs, "--config", str(cfg))
    assert rc == 0 and "tok:char" in res["metrics"]["bleu"]["signature"]
    assert res["metrics"]["exact_match"]["value"] == 1.0
    rc, res = run(
        tmp_path, "generation", preds, refs, "--config", str(cfg), "--metric-args", "bleu.tokenize=none"
    )
    assert rc == 0 and "tok:none" in res["metrics"]["bleu"]["signature"]
    cfg.write_text("metrics: {bleu: {tokenize: char}}\n")
    assert run(tmp_path, "generation", preds, refs, "--config", str(cfg))[0] == 2


def test_compare_takes_metric_args_and_refuses_other_signatures():
    from evalsuite.compare import compare_predictions
    from evalsuite.metrics import metrics_for
    from schemas.errors import UsageError

    ids, refs = ["1", "2", "3"], [["a cat sat", "the cat sat"], ["a dog"], ["hello world"]]
    base, tuned = ["a cat", "dog", "hello"], ["the cat sat", "a dog", "hello world"]
    res = compare_predictions("generation", ids, refs, base, tuned, n_resamples=50,
                              metric_options={"bleu": {"tokenize": "char"}, "rouge": {"use_stemmer": True}})
    assert "tok:char" in res.signatures["bleu"] and "nrefs:var" in res.signatures["bleu"]
    assert "stemmer:yes" in res.signatures["rouge1"]
    assert res.deltas["exact_match"].tuned == 1.0  # the second reference of item 1 matches
    default = {m.name: m.signature for m in metrics_for("generation", nrefs="var")}
    with pytest.raises(UsageError, match="signatures differ"):
        compare_predictions("generation", ids, refs, base, tuned, n_resamples=20, base_signatures=default,
                            metric_options={"bleu": {"tokenize": "char"}})


def test_a_metric_that_fails_does_not_stop_the_others(tmp_path):
    refs = [{"id": str(i), "label": lab, "w": 0} for i, lab in enumerate("ab")]  # all weights zero
    preds = [{"id": str(i), "prediction": "a"} for i in range(2)]
    res = score_files(
        "classification",
        jsonl(tmp_path / "p.jsonl", preds),
        str(jsonl(tmp_path / "r.jsonl", refs)),
        metric_args={"classification": {"sample_weight": "w"}},
        n_resamples=10,
    )
    failed = [k for k, v in res["metrics"].items() if "error" in v]
    assert failed and all(res["metrics"][k]["value"] is None for k in failed)
    assert any(k in n for n in res["notes"] for k in failed)


def test_reference_field_option_and_chat_references(tmp_path):
    preds = [{"id": "1", "prediction": "hello there"}, {"id": "2", "prediction": "bye"}]
    refs = [
        {"id": "1", "gold": "hello there", "completion": "x"},
        {"id": "2", "gold": "bye", "completion": "y"},
    ]
    rc, res = run(tmp_path, "generation", preds, refs, "--reference-field", "gold")
    assert (
        rc == 0
        and res["metrics"]["exact_match"]["value"] == 1.0
        and res["accounting"]["reference_field"] == "gold"
    )
    chat = [
        {
            "id": "1",
            "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello there"}],
        },
        # no assistant turn: invalid, counted
        {"id": "2", "messages": [{"role": "user", "content": "bye?"}]},
    ]
    rc, res = run(tmp_path, "chat", preds, chat)
    assert rc == 0 and res["n"] == 1 and res["metrics"]["exact_match"]["value"] == 1.0
    assert [p["reason"] for p in res["problems"] if p["file"] == "references"] == ["no_assistant_reply"]
