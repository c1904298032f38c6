"""Today's chat fine-tuning data loads as first-class records: content parts, tool calls and results, per-turn
weights, ShareGPT and TRL's conversational prompt/completion. Broken tool flows are quarantined with a
reason."""

from __future__ import annotations

import json

import pytest

import curate
from schemas.records import ChatRecord, RecordKind, message_text, non_text_parts, record_text

PARTS = {"id": "parts", "messages": [
    {"role": "user", "content": [{"type": "text", "text": "What is in this picture?"},
                                 {"type": "image_url", "image_url": {"url": "https://example.org/cat.png"}}]},
    {"role": "assistant", "content": [{"type": "text", "text": "A cat on a mat."}]}]}
TOOLS = {
    "id": "tools",
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ],
    "messages": [
        {"role": "system", "content": "You can call tools."},
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                },
                {
                    "id": "c2",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": {"city": "Lyon"}},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "c2", "name": "get_weather", "content": "21C, sunny"},
        {"role": "tool", "tool_call_id": "c1", "name": "get_weather", "content": "18C, cloudy"},
        {"role": "assistant", "content": "Paris: 18C and cloudy (Lyon is sunny)."},
    ],
}
WEIGHTS = {"id": "weights", "messages": [
    {"role": "developer", "content": "Be brief."},
    {"role": "user", "content": "hi", "name": "ana"},
    {"role": "assistant", "content": "bad answer", "weight": 0},
    {"role": "user", "content": "again"},
    {"role": "assistant", "content": "good answer", "train": True}]}
SHAREGPT = {
    "id": "sharegpt",
    "conversations": [
        {"from": "system", "value": "Be kind."},
        {"from": "human", "value": "Hello"},
        {"from": "gpt", "value": "Hi!"},
    ],
}
TRL_PAIR = {
    "id": "trl",
    "prompt": [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "3+3?"},
    ],
    "completion": [{"role": "assistant", "content": "6"}],
}


def _load(tmp_path, rows, name="chat.jsonl"):
    p = tmp_path / name
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return curate.load(p)


def test_every_modern_chat_shape_loads_with_nothing_quarantined(tmp_path) -> None:
    d = _load(tmp_path, [PARTS, TOOLS, WEIGHTS])
    assert d.kind is RecordKind.chat
    assert d.summary.rows_quarantined == 0, [(q.id, q.reason, q.message) for q in d.quarantine]
    by_id = {r["id"]: r for r in d.records}
    # nothing dropped: the image part, the tool calls and the tool definitions survive the load
    assert non_text_parts(by_id["parts"]["messages"][0]) == 1
    assert by_id["parts"]["messages"][0]["content"][1]["image_url"]["url"].endswith("cat.png")
    assert len(by_id["tools"]["messages"][2]["tool_calls"]) == 2
    assert by_id["tools"]["metadata"]["tools"][0]["function"]["name"] == "get_weather"
    # OpenAI's `developer` role is the system role; `train: true` is weight 1
    assert by_id["weights"]["messages"][0]["role"] == "system"
    assert [m.get("weight") for m in by_id["weights"]["messages"]] == [None, None, 0.0, None, 1.0]
    assert by_id["weights"]["messages"][1]["name"] == "ana"
    # text checks see the text parts joined
    assert record_text(by_id["parts"], RecordKind.chat) == "What is in this picture?\nA cat on a mat."


def test_sharegpt_is_mapped_in(tmp_path) -> None:
    d = _load(tmp_path, [SHAREGPT])
    assert d.kind is RecordKind.chat and d.summary.rows_quarantined == 0
    assert [m["role"] for m in d.records[0]["messages"]] == ["system", "user", "assistant"]
    assert d.records[0]["messages"][2]["content"] == "Hi!"


def test_trl_conversational_prompt_completion_becomes_one_chat(tmp_path) -> None:
    d = _load(tmp_path, [TRL_PAIR])
    assert d.kind is RecordKind.chat and d.summary.rows_quarantined == 0
    msgs = d.records[0]["messages"]
    assert [m["content"] for m in msgs] == ["2+2?", "4", "3+3?", "6"]
    # the few-shot answer inside the prompt is not learned; the completion is
    assert msgs[1]["weight"] == 0.0 and msgs[3].get("weight") is None


def test_trl_pairs_from_parquet_are_chat_too(tmp_path) -> None:
    import pandas as pd

    p = tmp_path / "trl.parquet"
    pd.DataFrame([TRL_PAIR]).to_parquet(p)
    d = curate.load(p)
    assert d.kind is RecordKind.chat and d.summary.rows_quarantined == 0


@pytest.mark.parametrize(
    ("messages", "reason"),
    [
        (
            [
                {"role": "user", "content": "x"},
                {
                    "role": "assistant",
                    "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": "{not json"}}],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "r"},
                {"role": "assistant", "content": "ok"},
            ],
            "bad_tool_arguments",
        ),
        (
            [
                {"role": "user", "content": "x"},
                {
                    "role": "assistant",
                    "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": "[1, 2]"}}],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "r"},
                {"role": "assistant", "content": "ok"},
            ],
            "bad_tool_arguments",
        ),
        (
            [
                {"role": "user", "content": "x"},
                {"role": "tool", "tool_call_id": "zz", "content": "r"},
                {"role": "assistant", "content": "ok"},
            ],
            "orphan_tool_result",
        ),
        (
            [
                {"role": "user", "content": "x"},
                {
                    "role": "assistant",
                    "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": "{}"}}],
                },
                {"role": "tool", "tool_call_id": "other", "content": "r"},
                {"role": "assistant", "content": "ok"},
            ],
            "orphan_tool_result",
        ),
        (
            [
                {"role": "user", "content": "x"},
                {
                    "role": "assistant",
                    "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": "{}"}}],
                },
                {"role": "assistant", "content": "ok"},
            ],
            "unanswered_tool_call",
        ),
        (
            [{"role": "user", "content": "x"}, {"role": "assistant", "content": "ok", "weight": 3}],
            "bad_weight",
        ),
        (
            [{"role": "user", "content": [{"type": "text"}]}, {"role": "assistant", "content": "ok"}],
            "bad_content_part",
        ),
        (
            [
                {"role": "user", "content": "x", "tool_calls": [{"id": "c", "function": {"name": "f"}}]},
                {"role": "assistant", "content": "ok"},
            ],
            "misplaced_tool_call",
        ),
    ],
)
def test_broken_tool_flows_are_quarantined_with_their_reason(tmp_path, messages, reason) -> None:
    d = _load(tmp_path, [{"id": "bad", "messages": messages}, PARTS])
    assert d.summary.rows_read == 2 and d.summary.rows_loaded == 1
    assert [(q.id, q.reason) for q in d.quarantine] == [("bad", reason)]


def test_round_trip_keeps_the_shapes(tmp_path) -> None:
    d = _load(tmp_path, [PARTS, TOOLS, WEIGHTS])
    out = tmp_path / "out.jsonl"
    curate.write_jsonl(d.records, out)
    again = curate.load(out)
    assert again.records == d.records


def test_message_text_joins_only_text_parts() -> None:
    rec = ChatRecord.model_validate(PARTS).model_dump(mode="json")
    assert message_text(rec["messages"][0]) == "What is in this picture?"
    assert message_text({"role": "assistant", "tool_calls": []}) == ""


def test_schema_check_counts_what_a_text_model_cannot_use(tmp_path) -> None:
    p = tmp_path / "c.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in (PARTS, TOOLS, WEIGHTS)), encoding="utf-8")
    result = curate.check(p, disable=["token_audit"])
    summary = next(c for c in result.report.checks if c.name == "schema").summary
    assert summary["non_text_parts"] == 1 and summary["rows_with_non_text_parts"] == 1
    assert summary["tool_calls"] == 2 and summary["tool_results"] == 2
