"""Model cards, portable adapters, and SFT on today's chat shapes (tool calls, per-turn weights)."""

from __future__ import annotations

import json
import shutil

import pytest

from finetune import data as D
from finetune.train import run
from schemas.configs.train import TrainConfig
from tests.finetune.conftest import write_jsonl

TOOL_CHAT = {
    "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "18C and cloudy"},
        {"role": "assistant", "content": "It is 18C and cloudy."},
    ],
    "metadata": {
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                },
            }
        ]
    },
}


@pytest.fixture(scope="module")
def chat_tok(tiny_llama):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_llama))


def _learned(tok, ex) -> str:
    return tok.decode([t for t, lab in zip(ex["input_ids"], ex["labels"], strict=True) if lab != D.IGNORE])


def test_weight_zero_turns_are_not_learned(chat_tok) -> None:
    rec = {
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "bad answer", "weight": 0},
            {"role": "user", "content": "again"},
            {"role": "assistant", "content": "good answer"},
        ]
    }
    learned = _learned(chat_tok, D.build_sft_example(rec, chat_tok, 256))
    assert "good answer" in learned and "bad answer" not in learned


def test_tool_calls_are_learned_and_tool_results_are_not(chat_tok) -> None:
    from curate.chat_template import prepare_chat

    ex = D.build_sft_example(TOOL_CHAT, chat_tok, 512)
    learned = _learned(chat_tok, ex)
    full = chat_tok.decode(ex["input_ids"])
    # SmolLM2's template renders neither tools nor tool calls: both are written as text, and the notes say so
    notes = prepare_chat(TOOL_CHAT, chat_tok).notes
    assert any("tool calls" in n for n in notes) and any("tool definitions" in n for n in notes)
    # exactly the two assistant turns are learned: the call and the reply; the tool's result is context only
    assert learned == (
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call><|im_end|>\n'
        "It is 18C and cloudy.<|im_end|>\n"
    )
    assert "<|im_start|>tool\n18C and cloudy<|im_end|>" in full
    assert '"parameters"' in full  # the tool definitions reach the prompt


def test_multimodal_text_parts_train_as_text(chat_tok) -> None:
    rec = {"messages": [{"role": "user", "content": [{"type": "text", "text": "Describe"},
                                                     {"type": "image", "url": "x.png"}]},
                        {"role": "assistant", "content": [{"type": "text", "text": "A cat."}]}]}
    ex = D.build_sft_example(rec, chat_tok, 256)
    assert "A cat." in _learned(chat_tok, ex) and "Describe" in chat_tok.decode(ex["input_ids"])


def test_sft_trains_on_a_tool_calling_sample(tiny_llama, tmp_path) -> None:
    rows = [{**TOOL_CHAT, "id": f"t{i}"} for i in range(12)]
    split = tmp_path / "split"
    write_jsonl(split / "train.jsonl", rows[:8])
    write_jsonl(split / "val.jsonl", rows[8:])
    out = tmp_path / "o"
    res = run(TrainConfig.model_validate({
        "model": str(tiny_llama), "task": "sft", "method": "lora", "lora": {"r": 4}, "max_steps": 4,
        "batch_size": 4, "max_length": 256, "data": {"split_dir": str(split)}, "out": str(out),
        "optim": {"lr": 1e-2, "warmup": 0}, "progress": False, "eval_before": True, "seed": 0}))
    assert res.data_stats["train"]["rows"] == 8 and res.data_stats["train"]["no_answer_tokens"] == 0
    assert res.final_metrics["loss"] < res.initial_metrics["loss"]


def test_model_card_replaces_peft_boilerplate_and_parses(tiny_llama, sft_split, tmp_path) -> None:
    from huggingface_hub import ModelCard

    out = tmp_path / "o"
    run(TrainConfig.model_validate({
        "model": str(tiny_llama), "task": "sft", "method": "lora", "lora": {"r": 4}, "max_steps": 2,
        "batch_size": 4, "data": {"split_dir": str(sft_split)}, "out": str(out), "progress": False}))
    text = (out / "README.md").read_text()
    assert "More Information Needed" not in text
    card = ModelCard.load(out / "README.md")
    assert "datavet" in card.data.tags and card.data.library_name == "peft"
    assert card.data.pipeline_tag == "text-generation"
    assert card.data.base_model is None  # a local folder has no hub id: left out, and the body says so
    assert "no known hub id" in card.text


def test_compare_results_go_into_the_model_index(tiny_llama, sft_split, tmp_path) -> None:
    from huggingface_hub import ModelCard
    from huggingface_hub.repocard_data import model_index_to_eval_results

    from finetune.card import record_evaluation

    out = tmp_path / "o"
    run(TrainConfig.model_validate({
        "model": str(tiny_llama), "task": "sft", "method": "lora", "lora": {"r": 4}, "max_steps": 1,
        "batch_size": 4, "data": {"split_dir": str(sft_split)}, "out": str(out), "progress": False}))
    compare_json = {"metrics": {"rougeL": {"value": 0.31, "signature": "rouge|stem:no"},
                                "perplexity": {"value": 12.5, "signature": "ppl|template:chat"}}}
    assert record_evaluation(out, compare_json, task="generation", dataset_name="test.jsonl")
    card = ModelCard.load(out / "README.md")
    _name, results = model_index_to_eval_results(card.data.to_dict()["model-index"])
    assert {(r.metric_type, r.metric_value) for r in results} == {("rougeL", 0.31), ("perplexity", 12.5)}
    assert all(r.dataset_name == "test.jsonl" and r.dataset_split == "test" for r in results)


def test_a_card_datavet_did_not_write_is_left_alone(tmp_path) -> None:
    from finetune.card import record_evaluation

    (tmp_path / "README.md").write_text("---\nlicense: mit\n---\n# someone else's card\n")
    before = (tmp_path / "README.md").read_text()
    assert not record_evaluation(tmp_path, {"metrics": {"accuracy": {"value": 1.0}}}, task="classification",
                                 dataset_name="x")
    assert (tmp_path / "README.md").read_text() == before


@pytest.mark.slow
def test_smollm2_adapter_loads_with_plain_peft_from_another_path(tmp_path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from common.models import resolve_model

    out = tmp_path / "o"
    run(
        TrainConfig.model_validate(
            {
                "model": "smollm2",
                "task": "sft",
                "method": "lora",
                "max_steps": 1,
                "batch_size": 2,
                "max_length": 64,
                "data": {"train": "bundled:bbc", "kind": "completion", "limit_train": 8, "limit_val": 4},
                "out": str(out),
                "progress": False,
            }
        )
    )
    elsewhere = tmp_path / "copied" / "adapter"
    shutil.copytree(out, elsewhere)
    shutil.rmtree(out)
    base_id = json.loads((elsewhere / "adapter_config.json").read_text())["base_model_name_or_path"]
    assert base_id == "HuggingFaceTB/SmolLM2-135M-Instruct"
    # on another machine the hub serves this id; here the registry resolves it to the bundled copy
    base = AutoModelForCausalLM.from_pretrained(resolve_model(base_id).path)
    model = PeftModel.from_pretrained(base, str(elsewhere))
    assert model.peft_config["default"].base_model_name_or_path == base_id
    from huggingface_hub import ModelCard

    assert ModelCard.load(elsewhere / "README.md").data.base_model == base_id
