"""run_compare end to end on tiny models (2 layers, hidden 64, seed 0) with the real tokenizers.

Classification: a tiny BERT base (linear probe) vs a tiny BERT classifier. Generation: a tiny random Llama vs
itself (perplexity delta exactly 0, CI containing 0) and vs a copy with perturbed weights (nonzero delta),
plus the training curves read from a planted metrics.jsonl and the trainer's max_length from config.yaml.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
import torch

from common.render import render_html
from evalsuite.compare import perplexity_delta, run_compare, training_curve_charts
from tests.tiny_models import make_tiny_bert, tiny_llama


def _jsonl(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


WORDS = {"pos": ["great", "love", "happy", "good"], "neg": ["awful", "hate", "sad", "bad"]}


def _cls_rows(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        lab = rng.choice(sorted(WORDS))
        rows.append(
            {
                "id": f"c{seed}-{i}",
                "text": "it was " + " ".join(rng.choice(WORDS[lab]) for _ in range(4)),
                "label": lab,
                "group": "a" if i % 2 else "b",
            }
        )
    return rows


@pytest.fixture(scope="module")
def bert_folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("bert")
    make_tiny_bert(root / "base")
    make_tiny_bert(root / "tuned", labels=["neg", "pos"])
    return root


def test_classification_run_compare_with_probe_base(bert_folders, tmp_path):
    train = _jsonl(tmp_path / "train.jsonl", _cls_rows(40, 1))
    test_rows = _cls_rows(24, 2)
    test = _jsonl(tmp_path / "test.jsonl", test_rows)
    res = run_compare(str(bert_folders / "base"), str(bert_folders / "tuned"), test, task="classification",
                      train_data=train, n_resamples=100, report_dir=tmp_path / "rep")
    j = res.to_json()
    assert j["n_items"] == 24 and set(j["metrics"]) >= {"accuracy", "f1_macro"}
    # the probe fits planted words on a frozen random encoder, so it beats chance; the tuned head is random
    acc = res.deltas["accuracy"]
    gold = [r["label"] for r in test_rows]
    assert acc.base >= 0.9 and acc.tuned < acc.base and acc.status == "regressed"
    assert {s["value"] for s in res.slices if s["slice"] == "label"} == set(gold)
    assert {s["value"] for s in res.slices if s["slice"] == "group"} == {"a", "b"}
    for m in j["metrics"].values():
        assert {"value", "ci", "signature", "delta_ci", "status"} <= set(m)
    assert "perplexity" not in j["metrics"]
    assert (tmp_path / "rep" / "index.html").exists() and res.mcnemar is not None


@pytest.fixture(scope="module")
def llama_folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("llama")
    model, tok = tiny_llama()
    model.save_pretrained(root / "base")
    tok.save_pretrained(root / "base")
    with torch.no_grad():  # a "tuned" model: same architecture, weights moved
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    model.save_pretrained(root / "tuned")
    tok.save_pretrained(root / "tuned")
    # what `finetune run` leaves next to the model
    (root / "tuned" / "config.yaml").write_text("task: sft\nmax_length: 96\n")
    log = [
        {"step": 5, "split": "train", "loss": 3.0, "lr": 1e-4},
        {"step": 10, "split": "train", "loss": 2.5},
        {"step": 10, "split": "val", "loss": 2.7, "perplexity": 14.9},
        {"step": 20, "split": "train", "loss": 2.0},
        {"step": 20, "split": "val", "loss": 2.4, "perplexity": 11.0},
    ]
    (root / "tuned" / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in log) + '{"step": 2')
    return root


def _gen_data(tmp_path: Path) -> str:
    colours = ["red", "blue", "green", "yellow"]
    rows = [
        {
            "id": f"g{i}",
            "prompt": f"Name the colour in: the {colours[i % 4]} car.",
            "completion": f"{colours[i % 4]} car",
            "group": "even" if i % 2 == 0 else "odd",
        }
        for i in range(10)
    ]
    return _jsonl(tmp_path / "test.jsonl", rows)


def test_generation_perplexity_base_vs_itself_is_zero(llama_folders, tmp_path):
    base = str(llama_folders / "base")
    res = run_compare(base, base, _gen_data(tmp_path), task="generation", max_new_tokens=3, n_resamples=200,
                      ppl_max_length=64)
    d = res.deltas["perplexity"]
    assert d.delta == 0.0 and d.ci[0] <= 0.0 <= d.ci[1] and d.status == "unchanged"
    assert not d.higher_is_better and d.base > 1.0
    sig = res.signatures["perplexity"]
    assert "template:chat" in sig and "max_length:64" in sig and "completion tokens only" in sig
    assert res.curves == []  # no metrics.jsonl next to the base folder


def test_generation_perplexity_delta_and_curves_vs_perturbed(llama_folders, tmp_path):
    res = run_compare(str(llama_folders / "base"), str(llama_folders / "tuned"), _gen_data(tmp_path),
                      task="generation", max_new_tokens=3, n_resamples=200, report_dir=tmp_path / "rep")
    d = res.deltas["perplexity"]
    assert d.delta != 0.0 and math.isfinite(d.delta)
    assert d.ci[0] <= d.delta <= d.ci[1]
    assert "max_length:96" in res.signatures["perplexity"]  # read from the run's config.yaml
    j = res.to_json()
    ppl = j["metrics"]["perplexity"]
    assert ppl["value"] == pytest.approx(d.tuned) and ppl["signature"] == res.signatures["perplexity"]
    assert ppl["max_length"] == 96 and ppl["template"] == "chat" and ppl["n_tokens"] > 0
    assert {"bleu", "rougeL", "perplexity"} <= set(j["metrics"]) and "perplexity" in j["deltas"]
    # curves: loss chart (train + val) and val perplexity chart; the half-written last line is skipped
    titles = {c.title: c for c in res.curves}
    assert titles["Loss by step"].x == [5, 10, 20]
    assert titles["Loss by step"].series["val loss"] == [None, 2.7, 2.4]
    assert titles["Validation perplexity by step"].series["val perplexity"] == [14.9, 11.0]
    html = render_html(res.report)
    assert "Training curves" in html and "perplexity" in html
    assert json.loads((tmp_path / "rep" / "report.json").read_text())


def test_perplexity_delta_recomputes_token_weighted_ppl():
    base_nll, base_tok = [2.0, 30.0], [2, 10]
    tuned_nll, tuned_tok = [1.0, 20.0], [2, 10]
    d = perplexity_delta(base_nll, base_tok, tuned_nll, tuned_tok, n_resamples=300, seed=0)
    assert d.base == pytest.approx(math.exp(32 / 12)) and d.tuned == pytest.approx(math.exp(21 / 12))
    assert d.ci[1] < 0 and d.status == "improved"  # lower perplexity on every document
    worse = perplexity_delta(tuned_nll, tuned_tok, base_nll, base_tok, n_resamples=300)
    assert worse.status == "regressed"


def test_training_curves_classification_metrics(tmp_path):
    log = tmp_path / "metrics.jsonl"
    log.write_text("\n".join(json.dumps(r) for r in [
        {"step": 1, "split": "train", "loss": 1.0}, {"step": 2, "split": "val", "loss": 0.9, "accuracy": 0.6,
                                                     "macro_f1": 0.5}]))
    charts = {c.title: c for c in training_curve_charts(log)}
    assert set(charts["Validation metrics by step"].series) == {"val accuracy", "val macro_f1"}
    assert "Validation perplexity by step" not in charts


def test_compare_manifest_records_every_argument(bert_folders, tmp_path, run_main, capsys):
    import evalsuite.cli

    train = _jsonl(tmp_path / "train.jsonl", _cls_rows(40, 1))
    test = _jsonl(tmp_path / "test.jsonl", _cls_rows(24, 2))
    argv = [
        "compare",
        "--base",
        str(bert_folders / "base"),
        "--tuned",
        str(bert_folders / "tuned"),
        "--data",
        test,
        "--train-data",
        train,
        "--head",
        "20",
        "--n-resamples",
        "50",
        "--seed",
        "4",
        "--out",
        str(tmp_path / "rep"),
    ]
    assert run_main(evalsuite.cli.main, argv) == 0
    assert "kind: classification (inferred" in capsys.readouterr().err  # no --kind: read from the fields
    manifest = json.loads((tmp_path / "rep" / "manifest.json").read_text())
    assert manifest["argv"] == ["evalsuite", *argv] and manifest["cwd"] and manifest["rerun"]
    cfg = manifest["config"]
    assert (cfg["head"], cfg["train_data"], cfg["kind"], cfg["n_resamples"], cfg["seed"]) == \
        (20, train, "classification", 50, 4)
    assert set(manifest["inputs"]) == {test, train}
    # the report prints the same
    shown = json.loads((tmp_path / "rep" / "report.json").read_text())["manifest"]
    assert shown["head"] == 20 and shown["train_data"] == train and shown["n_items"] == 20


def test_compare_precision_is_recorded_and_refused_where_the_cpu_lacks_it(bert_folders, tmp_path, run_main,
                                                                          capsys, monkeypatch):
    import common.precision as P
    import evalsuite.cli

    train = _jsonl(tmp_path / "train.jsonl", _cls_rows(40, 1))
    test = _jsonl(tmp_path / "test.jsonl", _cls_rows(24, 2))
    argv = ["compare", "--base", str(bert_folders / "base"), "--tuned", str(bert_folders / "tuned"),
            "--data", test, "--train-data", train, "--n-resamples", "50"]
    monkeypatch.setattr(P, "cpu_has_bf16", lambda: True)  # bf16 autocast runs on any CPU, only slower
    accuracy = {}
    for precision in ("fp32", "bf16"):
        out = tmp_path / precision
        assert run_main(evalsuite.cli.main, [*argv, "--precision", precision, "--out", str(out),
                                             "--json", str(tmp_path / f"{precision}.json")]) == 0
        assert json.loads((out / "report.json").read_text())["manifest"]["precision"] == precision
        assert json.loads((out / "manifest.json").read_text())["config"]["precision"] == precision
        m = json.loads((tmp_path / f"{precision}.json").read_text())["metrics"]["accuracy"]
        accuracy[precision] = (m["base"], m["value"])
    # the same items and probe in another number format: at most 2 of 24 predictions move per model
    for fp32, bf16 in zip(accuracy["fp32"], accuracy["bf16"], strict=True):
        assert abs(fp32 - bf16) <= 2 / 24 + 1e-9
    monkeypatch.setattr(P, "cpu_has_bf16", lambda: False)
    capsys.readouterr()
    assert run_main(evalsuite.cli.main, [*argv, "--precision", "bf16"]) == 2
    assert "emulated" in capsys.readouterr().err
    assert run_main(evalsuite.cli.main, [*argv, "--precision", "fp16"]) == 2


def test_compare_report_folder_overwrite_keeps_a_user_file(bert_folders, tmp_path, run_main, capsys):
    """A second compare with --overwrite replaces its own report folder; a file placed there by hand makes
    it refuse (exit 2) and stays, with the report it sits beside."""
    import evalsuite.cli
    from common.outputs import MARKER

    rep = tmp_path / "rep"
    argv = ["compare", "--base", str(bert_folders / "base"), "--tuned", str(bert_folders / "tuned"), "--data",
            _jsonl(tmp_path / "test.jsonl", _cls_rows(16, 2)), "--train-data",
            _jsonl(tmp_path / "train.jsonl", _cls_rows(24, 1)), "--n-resamples", "20", "--out", str(rep)]
    assert run_main(evalsuite.cli.main, argv) == 0
    assert "index.html" in json.loads((rep / MARKER).read_text())["entries"]
    assert run_main(evalsuite.cli.main, [*argv, "--overwrite"]) == 0
    (rep / "notes.md").write_text("mine")
    report = (rep / "index.html").read_bytes()
    capsys.readouterr()
    assert run_main(evalsuite.cli.main, [*argv, "--overwrite"]) == 2
    assert "notes.md" in capsys.readouterr().err
    assert (rep / "notes.md").read_text() == "mine" and (rep / "index.html").read_bytes() == report
