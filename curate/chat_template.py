"""Turn a chat record into what a tokenizer's chat template can render, and say what the template lacks.

Records keep every shape they were loaded with (content parts, tool calls, per-message weights). A template
renders strings: text parts are joined (non-text parts cannot be tokenized by a text model; they are counted
by the loader's summary, and stay in the data). Tool calls and tool definitions go to the template when it
renders them (it mentions `tool_calls` / `tools`); otherwise they are written into the text in the Hermes
`<tool_call>` form, and `ChatRendering.notes` says so, so the token audit and the trainer can report it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from schemas.records import message_text


@dataclass
class ChatRendering:
    messages: list[dict[str, Any]]
    weights: list[float]  # one per message: 0 means the trainer does not learn this turn
    tools: list[dict[str, Any]] | None
    notes: list[str] = field(default_factory=list)


def template_support(tok: Any) -> dict[str, bool]:
    """What the tokenizer's chat template renders natively, read from its source."""
    src = getattr(tok, "chat_template", None) or ""
    if not isinstance(src, str):
        src = json.dumps(src)
    return {"template": bool(src), "tool_calls": "tool_calls" in src, "tools": "tools" in src}


def _arguments(args: Any) -> Any:
    if isinstance(args, str):
        try:
            return json.loads(args) if args.strip() else {}
        except ValueError:
            return args
    return args


def _call_text(call: dict[str, Any]) -> str:
    fn = call.get("function") or {}
    return (
        "<tool_call>\n"
        + json.dumps(
            {"name": fn.get("name"), "arguments": _arguments(fn.get("arguments"))}, ensure_ascii=False
        )
        + "\n</tool_call>"
    )


def prepare_chat(record: dict[str, Any], tok: Any) -> ChatRendering:
    """The record's messages as the template takes them, each message's loss weight, and notes."""
    support = template_support(tok)
    tools = record.get("tools") or (record.get("metadata") or {}).get("tools")
    notes: list[str] = []
    out: list[dict[str, Any]] = []
    weights: list[float] = []
    for m in record["messages"]:
        msg: dict[str, Any] = {"role": m["role"], "content": message_text(m)}
        calls = m.get("tool_calls") or []
        if calls and support["tool_calls"]:
            msg["tool_calls"] = [
                {**c, "function": {**c["function"], "arguments": _arguments(c["function"].get("arguments"))}}
                for c in calls
            ]
        elif calls:
            msg["content"] = "\n".join([msg["content"], *(_call_text(c) for c in calls)]).strip("\n")
            notes.append("the chat template does not render tool calls: they were written into the assistant "
                         "text as <tool_call> JSON")
        if m["role"] == "tool" and support["tool_calls"]:
            for k in ("name", "tool_call_id"):
                if m.get(k) is not None:
                    msg[k] = m[k]
        out.append(msg)
        weights.append(1.0 if m.get("weight") is None else float(m["weight"]))
    tools_arg = None
    if tools and support["tools"]:
        tools_arg = tools
    elif tools:
        listing = "You can call these tools:\n" + json.dumps(tools, ensure_ascii=False)
        if out and out[0]["role"] == "system":
            out[0] = {**out[0], "content": out[0]["content"] + "\n\n" + listing}
        else:
            out.insert(0, {"role": "system", "content": listing})
            weights.insert(0, 0.0)
        notes.append(
            "the chat template does not take tool definitions: they were written into the system message"
        )
    return ChatRendering(out, weights, tools_arg, sorted(set(notes)))


def render(
    tok: Any, rendering: ChatRendering, upto: int | None = None, *, generation_prompt: bool = False
) -> str:
    """`apply_chat_template` on the first `upto` messages (all when None), with the tools when supported."""
    msgs = rendering.messages if upto is None else rendering.messages[:upto]
    kwargs: dict[str, Any] = {"tokenize": False, "add_generation_prompt": generation_prompt}
    if rendering.tools is not None:
        kwargs["tools"] = rendering.tools
    return tok.apply_chat_template(msgs, **kwargs)
