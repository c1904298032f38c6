"""Continued pre-training of the real SmolLM2 on BBC documents, then base vs adapted by perplexity (slow)."""

from __future__ import annotations

import pytest

import curate
from evalsuite.compare_text import run_text_compare
from finetune.train import run
from schemas.configs.train import TrainConfig

pytestmark = pytest.mark.slow


def test_smollm2_lora_continued_pretraining_lowers_held_out_perplexity(tmp_path):
    # small on purpose: a 2-core CPU shared with other jobs takes minutes per few SmolLM2 steps
    docs = [{"id": r["id"], "text": r["text"][:400], "group": r["group"]}
            for r in curate.load("bundled:bbc", kind="text").records[::20]]
    curate.write_jsonl(docs[:24], tmp_path / "split" / "train.jsonl")
    curate.write_jsonl(docs[24:28], tmp_path / "split" / "val.jsonl")
    curate.write_jsonl(docs[28:40], tmp_path / "test.jsonl")
    res = run(TrainConfig.model_validate({
        "model": "smollm2", "method": "lora", "max_steps": 6, "batch_size": 4, "max_length": 128,
        "data": {"split_dir": str(tmp_path / "split"), "kind": "text"}, "optim": {"lr": 2e-3, "warmup": 0},
        "eval_before": True, "out": str(tmp_path / "run"), "progress": False}))
    assert res.task == "text" and res.final_metrics["perplexity"] < res.initial_metrics["perplexity"]
    cmp = run_text_compare("smollm2", str(tmp_path / "run"), str(tmp_path / "test.jsonl"), max_length=128,
                           n_resamples=300, batch_size=4)
    ppl, bpb = cmp.deltas["perplexity"], cmp.deltas["bits_per_byte"]
    assert ppl.delta < 0 and bpb.delta < 0 and ppl.ci[0] <= ppl.delta <= ppl.ci[1]
