"""Batched greedy generation equals the per-example loop (left padding is right); the `score` command."""

from __future__ import annotations

import json

import pytest
import torch

from common.cli import run_app
from evalsuite.cli import app
from evalsuite.generate import generate

WORDS = ["hello", "world", "the", "cat", "sat", "on", "mat", "a", "dog", "ran", "far", "away"]


@pytest.fixture(scope="module")
def tiny():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(["<pad>", "<s>", "</s>", "<unk>", *WORDS])}
    tk = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, pad_token="<pad>", bos_token="<s>", eos_token="</s>",
                                  unk_token="<unk>")
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(vocab), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=64,
                      pad_token_id=0, bos_token_id=1, eos_token_id=2)
    return LlamaForCausalLM(cfg).eval(), tok


def test_batched_generation_equals_one_by_one(tiny):
    model, tok = tiny
    prompts = ["hello world", "the cat sat on the mat", "a dog", "dog ran far away the cat"]
    batched = generate(model, tok, prompts, max_new_tokens=6, batch_size=4)
    single = [generate(model, tok, [p], max_new_tokens=6, batch_size=1)[0] for p in prompts]
    assert batched == single
    assert all(isinstance(s, str) for s in batched) and any(batched)
    assert all(len(s.split()) <= 6 for s in batched)


def test_score_command_writes_json_contract(tmp_path):
    refs = tmp_path / "refs.jsonl"
    refs.write_text("".join(json.dumps({"id": f"r{i}", "text": f"t{i}", "label": lab}) + "\n"
                            for i, lab in enumerate(["a", "b", "a", "b"])))
    preds = tmp_path / "preds.jsonl"
    preds.write_text(
        "".join(json.dumps({"id": f"r{i}", "prediction": p}) + "\n" for i, p in enumerate("abba"))
    )
    out = tmp_path / "s.json"
    rc = run_app(app, "evalsuite", ["score", "--kind", "classification", "--predictions", str(preds),
                                    "--references", str(refs), "--json", str(out)])
    assert rc == 0
    res = json.loads(out.read_text())
    assert res["metrics"]["accuracy"]["value"] == pytest.approx(0.5) and res["n"] == 4
    lo, hi = res["metrics"]["f1_macro"]["ci"]  # a seeded bootstrap CI (was always null before issue 13)
    assert lo <= res["metrics"]["f1_macro"]["value"] <= hi and res["metrics"]["f1_macro"]["signature"]


def test_score_command_bad_predictions_exit_2(tmp_path):
    bad = tmp_path / "p.jsonl"
    bad.write_text("not json\n")
    rc = run_app(app, "evalsuite", ["score", "--kind", "classification", "--predictions", str(bad),
                                    "--references", str(bad)])
    assert rc == 2
