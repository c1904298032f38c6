"""End-to-end on the real bundled models (slow: run with `pytest -m slow`)."""

from __future__ import annotations

import pytest

from finetune.train import run
from schemas.configs.train import TrainConfig

pytestmark = pytest.mark.slow


def test_smollm2_lora_lowers_headline_perplexity(tmp_path):
    res = run(
        TrainConfig.model_validate(
            {
                "model": "smollm2",
                "task": "sft",
                "method": "lora",
                "max_steps": 8,
                "batch_size": 4,
                "max_length": 160,
                "data": {"train": "bundled:bbc", "kind": "completion", "limit_train": 64, "limit_val": 16},
                "optim": {"lr": 1e-3, "warmup": 0},
                "eval_before": True,
                "out": str(tmp_path / "o"),
                "progress": False,
            }
        )
    )
    assert res.final_metrics["perplexity"] < res.initial_metrics["perplexity"]


def test_minilm_full_learns_tweet_sentiment(tmp_path):
    res = run(TrainConfig.model_validate({
        "model": "minilm", "max_steps": 30, "batch_size": 32, "max_length": 64, "eval_before": True,
        "data": {"train": "bundled:tweets", "limit_train": 960, "limit_val": 200},
        "optim": {"lr": 1e-4}, "out": str(tmp_path / "o"), "progress": False}))
    assert res.final_metrics["macro_f1"] > res.initial_metrics["macro_f1"] + 0.1
