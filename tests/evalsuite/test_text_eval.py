"""`evalsuite perplexity` and `evalsuite compare --kind text` on plain documents built from the bundled BBC
articles; the adapted model is a few steps of `finetune run --kind text` on a tiny model built from a
config."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import curate
from common.cli import run_app
from evalsuite.cli import app


def _docs(records: list[dict], chars: int = 300) -> list[dict]:
    return [{"id": r["id"], "text": r["text"][:chars], "group": r["group"]} for r in records]


@pytest.fixture(scope="module")
def cpt(tmp_path_factory) -> dict[str, Path]:
    """A tiny base model, a text split of BBC openings (held-out test documents) and a short full CPT run."""
    from finetune.train import run
    from schemas.configs.train import TrainConfig
    from tests.tiny_models import make_tiny_llama

    root = tmp_path_factory.mktemp("cpt")
    make_tiny_llama(root / "base")
    docs = _docs(curate.load("bundled:bbc", kind="text").records[::7])
    split = root / "split"
    curate.write_jsonl(docs[:40], split / "train.jsonl")
    curate.write_jsonl(docs[40:48], split / "val.jsonl")
    # the held-out documents as a user has them: a plain file of {"id", "text"} (plus a group column)
    curate.write_jsonl(docs[48:72], root / "test.jsonl")
    run(
        TrainConfig.model_validate(
            {
                "model": str(root / "base"),
                "data": {"split_dir": str(split), "kind": "text"},
                "out": str(root / "run"),
                "max_length": 64,
                "batch_size": 4,
                "max_steps": 12,
                "optim": {"lr": 5e-3, "warmup": 0},
                "eval_every": 6,
                "progress": False,
            }
        )
    )
    return {"base": root / "base", "run": root / "run", "test": root / "test.jsonl"}


def test_perplexity_reads_text_records_directly(cpt, tmp_path):
    from evalsuite.perplexity import load_causal_lm, perplexity

    out = tmp_path / "ppl.json"
    assert run_app(app, "evalsuite", ["perplexity", "--model", str(cpt["base"]), "--data", str(cpt["test"]),
                                      "--max-length", "64", "--stride", "32", "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["n_documents"] == 24
    sig = res["metrics"]["token_perplexity"]["signature"]
    assert sig.startswith("ppl:sliding") and "max_length:64|stride:32" in sig and "scored:all" in sig
    # the same number as the sliding-window function on the documents' texts
    lm, tok = load_causal_lm(str(cpt["base"]))
    texts = [r["text"] for r in curate.load(str(cpt["test"])).records]
    direct = perplexity(lm, tok, texts, max_length=64, stride=32)
    assert res["metrics"]["token_perplexity"]["value"] == pytest.approx(direct.token_perplexity, rel=1e-6)
    assert res["metrics"]["bits_per_byte"]["value"] == pytest.approx(direct.bits_per_byte, rel=1e-6)
    assert res["n_tokens"] == direct.n_tokens


def test_compare_kind_text_shows_the_adapted_model_fits_the_domain(cpt, tmp_path):
    out, rep = tmp_path / "cmp.json", tmp_path / "rep"
    assert run_app(app, "evalsuite", ["compare", "--kind", "text", "--base", str(cpt["base"]), "--tuned",
                                      str(cpt["run"]), "--data", str(cpt["test"]), "--ppl-max-length", "64",
                                      "--n-resamples", "300", "--json", str(out), "--out", str(rep)]) == 0
    res = json.loads(out.read_text())
    assert res["task"] == "text" and res["n_items"] == 24
    ppl, bpb = res["metrics"]["perplexity"], res["metrics"]["bits_per_byte"]
    for m in (ppl, bpb):
        assert m["higher_is_better"] is False
        assert m["delta"] < 0 and m["delta_ci"][1] < 0 and m["status"] == "improved"
        assert m["delta_ci"][0] <= m["delta"] <= m["delta_ci"][1]
    # bits per byte and perplexity describe the same NLL: ln(ppl) * tokens == bpb * ln 2 * bytes
    n_bytes = sum(len(r["text"].encode("utf-8")) for r in curate.load(str(cpt["test"])).records)
    assert ppl["n_bytes"] == n_bytes
    for side in ("base", "value"):
        tokens = ppl["n_tokens_base"] if side == "base" else ppl["n_tokens"]
        assert math.log(ppl[side]) * tokens == pytest.approx(bpb[side] * math.log(2) * n_bytes, rel=1e-6)
    assert "max_length:64" in ppl["signature"] and bpb["signature"].endswith("per:utf8_byte")
    assert {s["value"] for s in res["slices"]} <= {"business", "entertainment", "politics", "sport", "tech"}
    assert res["slices"] and all(s["slice"] == "group" for s in res["slices"])
    assert res["training_curves"] and res["training_curves"].endswith("metrics.jsonl")
    report = json.loads((rep / "report.json").read_text())
    assert report["summary"]["rows"][0][0] == "perplexity" and (rep / "index.html").exists()


def test_compare_documents_against_itself_is_unchanged():
    from evalsuite.compare_text import compare_documents
    from evalsuite.perplexity import PerplexityResult

    texts = ["one two three", "four five", "six seven eight nine"]
    res = PerplexityResult.from_sums([6.0, 3.0, 9.0], [3, 2, 4], texts, "ppl:sliding|x")
    same = compare_documents(["a", "b", "c"], texts, res, res, n_resamples=200)
    for d in same.deltas.values():
        assert d.delta == 0.0 and d.ci == (0.0, 0.0) and d.status == "unchanged"
    assert same.deltas["bits_per_byte"].base == pytest.approx(res.bits_per_byte)
    assert same.deltas["perplexity"].base == pytest.approx(res.token_perplexity)
    worse = PerplexityResult.from_sums([9.0, 3.0, 9.0], [3, 2, 4], texts, "ppl:sliding|x")
    cmp = compare_documents(["a", "b", "c"], texts, res, worse, n_resamples=200)
    assert cmp.deltas["perplexity"].delta > 0 and [e["id"] for e in cmp.examples] == ["a"]
    assert cmp.examples[0]["kind"] == "regression"
    other = PerplexityResult.from_sums([6.0, 3.0, 9.0], [3, 2, 4], texts, "ppl:sliding|y")
    from schemas.errors import UsageError

    with pytest.raises(UsageError):
        compare_documents(["a", "b", "c"], texts, res, other)
