"""Continued pre-training on `text` records: packing into blocks, no attention across documents, `finetune run
--kind text` (full and LoRA) on a plain corpus built from the bundled BBC articles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import curate
from finetune.data import IGNORE, pack_text_blocks
from schemas.configs.train import TrainConfig


def bbc_corpus(n: int, offset: int = 0, chars: int = 300) -> list[dict]:
    """Plain `{"id", "text"}` documents: the openings of BBC articles (short, so a few steps see them all)."""
    recs = curate.load("bundled:bbc", kind="text").records[offset:offset + n]
    return [{"id": r["id"], "text": r["text"][:chars]} for r in recs]


@pytest.fixture
def text_split(tmp_path: Path) -> Path:
    d = tmp_path / "split"
    # every 9th article, so train and val mix topics; val is disjoint from train
    docs = curate.load("bundled:bbc", kind="text").records[::9]
    rows = [{"id": r["id"], "text": r["text"][:300]} for r in docs]
    curate.write_jsonl(rows[:32], d / "train.jsonl")
    curate.write_jsonl(rows[32:40], d / "val.jsonl")
    return d


def test_pack_text_blocks_fills_blocks_and_restarts_positions_per_document(tiny_llama) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_llama))
    docs = [*bbc_corpus(5, chars=200), {"id": "empty", "text": ""}]
    blocks, stats = pack_text_blocks(docs, tok, 32)
    encoded = [tok(d["text"])["input_ids"] + [tok.eos_token_id] for d in docs[:5]]
    stream = [t for ids in encoded for t in ids]
    assert [t for b in blocks for t in b["input_ids"]] == stream        # every token, in order, none lost
    assert all(len(b["input_ids"]) == 32 for b in blocks[:-1]) and 0 < len(blocks[-1]["input_ids"]) <= 32
    assert stats["tokens"] == len(stream) and stats["blocks"] == len(blocks) == -(-len(stream) // 32)
    assert (stats["documents"], stats["empty_documents"]) == (5, 1)
    for b in blocks:
        starts = [i for i, p in enumerate(b["position_ids"]) if p == 0]
        assert starts[0] == 0
        # positions count up inside a segment; the first token of each segment carries no label
        assert all(b["labels"][i] == IGNORE for i in starts)
        assert all(b["labels"][i] == b["input_ids"][i] for i in range(len(b["labels"])) if i not in starts)
        assert all(b["position_ids"][i] == b["position_ids"][i - 1] + 1 for i in range(1, len(b["labels"]))
                   if i not in starts)
    # a segment starts exactly where a document starts (or where a block cuts one)
    n_segments = sum(p == 0 for b in blocks for p in b["position_ids"])
    cut = sum(1 for b in blocks[1:] if b["position_ids"][0] == 0 and b["position_ids"][1:2] != [0])
    assert len(encoded) <= n_segments <= len(encoded) + cut


def test_packed_documents_do_not_attend_to_each_other(tiny_llama) -> None:
    """The logits of document B inside a packed block equal those of B alone: the restart of the position ids
    is what keeps B from seeing A (with plain positions it does see A, so this test can fail)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from finetune.data import collate

    tok = AutoTokenizer.from_pretrained(str(tiny_llama))
    model = AutoModelForCausalLM.from_pretrained(str(tiny_llama)).eval()
    a, b = bbc_corpus(2, chars=120)
    blocks, _ = pack_text_blocks([a, b], tok, 256)
    assert len(blocks) == 1
    n_a = len(tok(a["text"])["input_ids"]) + 1
    batch = collate(blocks, tok.pad_token_id)
    # use_cache=False as in the trainer: transformers reads packing from position ids only without a cache
    with torch.no_grad():
        packed = model(
            input_ids=batch["input_ids"], position_ids=batch["position_ids"], use_cache=False
        ).logits
        alone = model(input_ids=batch["input_ids"][:, n_a:], use_cache=False).logits[0]
        leaky = model(input_ids=batch["input_ids"], use_cache=False).logits[0, n_a:]
    packed = packed[0, n_a:]
    assert torch.allclose(packed, alone, atol=1e-4)
    assert not torch.allclose(leaky, alone, atol=1e-2)


def test_kind_text_selects_continued_pretraining_and_rejects_a_conflicting_task() -> None:
    assert TrainConfig.model_validate({"data": {"kind": "text"}}).task == "text"
    with pytest.raises(ValueError, match="task=text"):
        TrainConfig.model_validate({"data": {"kind": "text"}, "task": "sft"})
    with pytest.raises(ValueError, match="class_weights"):
        TrainConfig.model_validate({"task": "text", "class_weights": "balanced"})


def _run_cli(args: list[str]) -> int:
    from finetune.cli import main

    with pytest.raises(SystemExit) as e:
        main(args)
    return int(e.value.code)


@pytest.mark.parametrize("method", ["full", "lora"])
def test_finetune_run_kind_text_lowers_val_loss(tiny_llama, text_split, tmp_path, method) -> None:
    out = tmp_path / method
    code = _run_cli(["run", "--kind", "text", "--model", str(tiny_llama), "--method", method, "--data",
                     str(text_split), "--out", str(out), "--max-length", "64", "--batch-size", "4",
                     "--max-steps", "8", "--lr", "5e-3" if method == "full" else "2e-2", "--no-progress",
                     "eval_before=true", "optim.warmup=0"])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["task"] == "text" and summary["steps"] == 8
    st = summary["data_stats"]["train"]
    assert st["rows"] == 32 and st["blocks"] >= 32 and st["tokens"] > 32 * 40
    # LoRA on a random 2-layer model moves slowly (attention adapters only); full training moves a lot
    drop = summary["initial_metrics"]["loss"] - summary["final_metrics"]["loss"]
    assert drop > (0.3 if method == "full" else 0.01)
    assert summary["final_metrics"]["perplexity"] > 1.0
    saved = "adapter_config.json" if method == "lora" else "model.safetensors"
    assert (out / saved).exists()


def test_finetune_refuses_text_records_for_sft_with_a_clear_message(tiny_llama, text_split, tmp_path, capsys):
    code = _run_cli(["run", "--task", "sft", "--model", str(tiny_llama), "--data", str(text_split),
                     "--out", str(tmp_path / "o"), "--no-progress"])
    assert code == 2
    err = capsys.readouterr()
    assert "text records" in err.out + err.err
