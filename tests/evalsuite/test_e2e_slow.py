"""End-to-end on the real smollm2 (marked slow): perplexity vs the transformers loop, and a generation
compare."""

from __future__ import annotations

import math

import pytest

pytestmark = pytest.mark.slow

SENTS = ["The quick brown fox jumps over the lazy dog.", "Fine-tuning changes a model's weights a little.",
         "Paris is the capital of France, and it is known for its museums."]


@pytest.fixture(scope="module")
def smol():
    from evalsuite.perplexity import load_causal_lm

    return load_causal_lm("smollm2")


def test_smollm2_perplexity_matches_plain_loop(smol):
    import torch

    from evalsuite.perplexity import perplexity

    model, tok = smol
    res = perplexity(model, tok, SENTS, max_length=8, stride=4, batch_size=4)
    total, n = 0.0, 0
    for d in SENTS:
        ids = torch.tensor([tok(d)["input_ids"]])
        prev = 0
        for b in range(0, ids.size(1), 4):
            e = min(b + 8, ids.size(1))
            tgt = ids[:, b:e].clone()
            tgt[:, :-(e - prev)] = -100
            with torch.no_grad():
                loss = model(input_ids=ids[:, b:e], labels=tgt).loss
            k = int((tgt[:, 1:] != -100).sum())
            total, n, prev = total + float(loss) * k, n + k, e
            if e == ids.size(1):
                break
    assert res.token_perplexity == pytest.approx(math.exp(total / n), rel=1e-4)
    assert 1 < res.token_perplexity < 1000


def test_generation_compare_same_model_is_unchanged(tmp_path):
    import json

    from evalsuite.compare import run_compare

    data = tmp_path / "t.jsonl"
    data.write_text(
        "".join(
            json.dumps({"id": str(i), "prompt": f"What is {i} plus {i}?", "completion": str(2 * i)}) + "\n"
            for i in range(4)
        )
    )
    res = run_compare("smollm2", "smollm2", str(data), task="generation", max_new_tokens=8, n_resamples=50,
                      report_dir=tmp_path / "rep")
    assert all(d.delta == 0 and d.status == "unchanged" for d in res.deltas.values())
    assert (tmp_path / "rep" / "index.html").exists()
    assert "untuned model" in (tmp_path / "rep" / "report.md").read_text()
