"""Training records: the four shapes datavet reads, writes and trains on.

`classification` (text, label), `completion` (prompt, completion), `chat` (messages) and `text` (a plain
document: text only, for continued pre-training, retrieval corpora or raw text before curation).
`infer_kind` is the one place that decides a record kind from field names, for the loader, `curate split`
and `finetune` alike.

Every record has a stable `id`: the input's own `id` field when present, else its row number in the source
(assigned by the loader). Validation lives here so the loader, the `schema` check and the trainer agree.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator, model_validator
from pydantic_core import PydanticCustomError

# Deeper structures than this in any field are quarantined: they are never useful training data and
# they make naive recursive code blow the stack.
MAX_NESTING_DEPTH = 20


class RecordKind(str, Enum):
    classification = "classification"
    completion = "completion"
    chat = "chat"
    text = "text"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    id: str = Field(description="Stable row id: the input's id field, else the row number in the source.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Other input fields, kept verbatim.")

    @field_validator("id", mode="before")
    @classmethod
    def _id_to_str(cls, v: Any) -> Any:
        if isinstance(v, bool):
            return v  # let pydantic reject it
        return _number_to_str(v)


def _number_to_str(v: Any) -> Any:
    """An int as its decimal string (any size: no float() on the way, which overflows near 1e308); an
    integral float without its `.0`; anything else unchanged."""
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else str(v)
    return v


# Labels that are a missing value written out, not a class: what float formatting gives for NaN and inf.
MISSING_LABEL_WORDS = frozenset({"nan", "-nan", "+nan", "inf", "+inf", "-inf", "infinity", "+infinity",
                                 "-infinity"})


def is_missing_label(v: Any) -> bool:
    """True for a label that is a missing value: None, NaN, infinity, "" or whitespace, or "NaN"/"inf"
    text."""
    if v is None:
        return True
    if isinstance(v, float):
        return not math.isfinite(v)
    if isinstance(v, str):
        s = v.strip()
        return not s or (len(s) <= 9 and s.lower() in MISSING_LABEL_WORDS)
    return False


class ClassificationRecord(_Record):
    """A text with one label (or several, for multilabel data) and an optional group.

    One rule for every input format (CSV cannot tell null from empty, so JSON and Parquet must not either): a
    null text is an empty text, loaded as "" for the length check to flag and `curate run` to remove as
    `empty`; a label that is null, NaN, infinite, empty or whitespace only is quarantined as `missing_label`.
    """

    text: str
    label: str | list[str]
    group: str | None = None

    @field_validator("text", mode="before")
    @classmethod
    def _null_text_is_empty(cls, v: Any) -> Any:
        return "" if v is None else v

    @field_validator("label", mode="before")
    @classmethod
    def _label_to_str(cls, v: Any) -> Any:
        if isinstance(v, bool):
            return str(v).lower()
        if is_missing_label(v) or (isinstance(v, list) and any(is_missing_label(x) for x in v)):
            raise PydanticCustomError(
                "missing_label", "label is missing (null, NaN, infinite, empty or whitespace)"
            )
        if isinstance(v, int | float):
            return _number_to_str(v)
        if isinstance(v, list):
            return [str(_number_to_str(x)) for x in v]
        return v

    @field_validator("group", mode="before")
    @classmethod
    def _group_to_str(cls, v: Any) -> Any:
        return None if v is None else str(v)


class TextRecord(_Record):
    """A plain document: text with an optional group. Nothing to predict; checks that need labels do not
    apply."""

    text: str
    group: str | None = None

    @field_validator("group", mode="before")
    @classmethod
    def _group_to_str(cls, v: Any) -> Any:
        return None if v is None else str(v)


class CompletionRecord(_Record):
    """A prompt and the completion the model should learn to produce.

    Alpaca records (`instruction`, optional `input`, `output`) are mapped in: the prompt is the instruction,
    followed by a blank line and the input when the input is not empty.
    """

    prompt: str
    completion: str
    group: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_alpaca(cls, data: Any) -> Any:
        if isinstance(data, dict) and "prompt" not in data and "instruction" in data:
            data = dict(data)
            instruction = data.pop("instruction")
            extra = data.pop("input", "") or ""
            data["prompt"] = f"{instruction}\n\n{extra}" if extra else instruction
            if "output" in data:
                data["completion"] = data.pop("output")
        return data

    @field_validator("completion")
    @classmethod
    def _completion_not_blank(cls, v: str) -> str:
        if not v.strip():
            raise PydanticCustomError("empty_completion", "completion is empty")
        return v


ROLES = ("system", "user", "assistant", "tool")
# Roles other tools write for the same idea, mapped on load (OpenAI's `developer` is its new `system`).
ROLE_ALIASES = {"developer": "system"}
# ShareGPT's `from` values (FastChat, axolotl, LLaMA-Factory) and the role each means.
SHAREGPT_ROLES = {"system": "system", "human": "user", "user": "user", "gpt": "assistant",
                  "assistant": "assistant", "chatgpt": "assistant", "bing": "assistant", "bard": "assistant",
                  "tool": "tool", "observation": "tool", "function_response": "tool"}


class ContentPart(BaseModel):
    """One part of a multi-part message (`{"type": "text", "text": ...}`, an image, audio ...), as the
    OpenAI and Hugging Face chat formats write them. Parts other than text are kept verbatim."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None

    @model_validator(mode="after")
    def _text_part_has_text(self) -> ContentPart:
        if self.type == "text" and self.text is None:
            raise PydanticCustomError("bad_content_part", "a text part has no 'text'")
        return self


class ToolFunction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    arguments: str | dict[str, Any] = Field(default_factory=dict)

    @field_validator("arguments")
    @classmethod
    def _arguments_are_json(cls, v: str | dict[str, Any]) -> str | dict[str, Any]:
        if isinstance(v, str):
            try:
                parsed = json.loads(v) if v.strip() else {}
            except ValueError as e:
                raise PydanticCustomError(
                    "bad_tool_arguments", "tool call arguments are not valid JSON: {err}", {"err": str(e)}
                ) from None
            if not isinstance(parsed, dict):
                raise PydanticCustomError("bad_tool_arguments", "tool call arguments must be a JSON object")
        return v


class ToolCall(BaseModel):
    """An assistant's call of a tool, in the OpenAI / HF shape (`id`, `type`, `function`)."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    type: Literal["function"] = "function"
    function: ToolFunction


class Message(BaseModel):
    """One turn. `content` is a string or a list of parts; `weight` (0 or 1, as axolotl and TRL write it) or
    `train` (a bool) says whether the trainer learns this assistant turn."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    weight: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _aliases(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if data.get("role") in ROLE_ALIASES:
                data = {**data, "role": ROLE_ALIASES[data["role"]]}
            if "train" in data and "weight" not in data and isinstance(data["train"], bool):
                data = {**{k: v for k, v in data.items() if k != "train"}, "weight": float(data["train"])}
        return data

    @field_validator("weight")
    @classmethod
    def _weight_range(cls, v: float | None) -> float | None:
        if v is not None and not 0.0 <= v <= 1.0:
            raise PydanticCustomError(
                "bad_weight", "message weight must be between 0 and 1, got {v}", {"v": v}
            )
        return v

    @model_validator(mode="after")
    def _content_or_calls(self) -> Message:
        if self.content is None and not self.tool_calls:
            raise PydanticCustomError("missing_field", "a {role} message has neither content nor tool calls",
                                      {"role": self.role})
        if self.tool_calls and self.role != "assistant":
            raise PydanticCustomError("misplaced_tool_call", "only assistant messages may call tools")
        return self


def message_text(message: dict[str, Any]) -> str:
    """The text of one message: its content string, or its text parts joined by newlines."""
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(p["text"] for p in content if isinstance(p, dict) and p.get("type") == "text"
                     and isinstance(p.get("text"), str))


def non_text_parts(message: dict[str, Any]) -> int:
    """How many parts of a multi-part message are not text (images, audio...): counted, never dropped."""
    content = message.get("content")
    return (
        sum(1 for p in content if isinstance(p, dict) and p.get("type") != "text")
        if isinstance(content, list)
        else 0
    )


def map_message_text(message: dict[str, Any], fn: Any) -> tuple[dict[str, Any], list[Any]]:
    """Apply `fn(text) -> (new_text, changes)` to every text of a message (the content string or each text
    part). Returns the message (the same object when nothing changed) and the changes of every text."""
    content = message.get("content")
    if isinstance(content, str):
        t, changes = fn(content)
        return ({**message, "content": t} if t != content else message), list(changes or [])
    if not isinstance(content, list):
        return message, []
    parts, all_changes, changed = [], [], False
    for p in content:
        if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str):
            t, changes = fn(p["text"])
            all_changes.extend(changes or [])
            if t != p["text"]:
                p, changed = {**p, "text": t}, True
        parts.append(p)
    return ({**message, "content": parts} if changed else message), all_changes


def _from_sharegpt(data: Any) -> Any:
    """ShareGPT turns (`{"from": "human", "value": ...}`, under `conversations` or already renamed to
    `messages` by the loader's field mapping) -> OpenAI-style messages."""
    if not isinstance(data, dict):
        return data
    key = "messages" if "messages" in data else "conversations"
    turns = data.get(key)
    if not (isinstance(turns, list) and turns and all(isinstance(t, dict) and "from" in t for t in turns)):
        return data
    messages = []
    for t in turns:
        m = {"role": SHAREGPT_ROLES.get(str(t["from"]).lower(), str(t["from"])), "content": t.get("value")}
        m.update({k: v for k, v in t.items() if k not in ("from", "value")})
        messages.append(m)
    return {**{k: v for k, v in data.items() if k != key}, "messages": messages}


def _from_conversational_pair(data: Any) -> Any:
    """TRL's conversational prompt/completion (`prompt` and `completion` as message lists) -> one chat.

    Assistant turns inside the prompt (few-shot examples) get weight 0: TRL trains on the completion only.
    """
    if not (isinstance(data, dict) and "messages" not in data and isinstance(data.get("prompt"), list)
            and isinstance(data.get("completion"), list)):
        return data
    prompt = [
        (
            {**m, "weight": 0.0}
            if isinstance(m, dict) and m.get("role") == "assistant" and "weight" not in m
            else m
        )
        for m in data["prompt"]
    ]
    rest = {k: v for k, v in data.items() if k not in ("prompt", "completion")}
    return {**rest, "messages": [*prompt, *data["completion"]]}


def _check_tool_flow(turns: list[Message]) -> None:
    """Every tool result answers a call of the assistant turn before it; every call gets its result."""
    pending: list[ToolCall] = []
    for i, m in enumerate(turns):
        if m.role == "tool":
            if not pending:
                raise PydanticCustomError("orphan_tool_result",
                                          "turn {i} is a tool result that answers no tool call", {"i": i})
            if m.tool_call_id is not None:
                match = next((c for c in pending if c.id == m.tool_call_id), None)
                if match is None:
                    raise PydanticCustomError(
                        "orphan_tool_result", "turn {i} answers tool call id {cid!r}, which no open call has",
                        {"i": i, "cid": m.tool_call_id})
                pending.remove(match)
            else:
                pending.pop(0)
            continue
        if pending:
            raise PydanticCustomError("unanswered_tool_call",
                                      "turn {i} comes before every tool call was answered ({n} open)",
                                      {"i": i, "n": len(pending)})
        if m.role == "assistant" and m.tool_calls:
            pending = list(m.tool_calls)
    if pending:
        raise PydanticCustomError(
            "unanswered_tool_call",
            "the conversation ends with {n} unanswered tool call(s)",
            {"n": len(pending)},
        )


class ChatRecord(_Record):
    """A conversation: an optional leading system message, then user and assistant turns, where an assistant
    turn may call tools and be followed by the tools' results and another assistant turn.

    Shapes read as chat: `messages` (OpenAI / HF, content as a string or a list of parts, with `name`,
    `tool_calls`, `tool_call_id`, `weight`), ShareGPT `conversations` with `from`/`value`, and TRL's
    conversational `prompt`/`completion` message lists. A `tools` column (the functions the assistant may
    call, as HF chat templates take them) stays in `metadata["tools"]`. The rules are checked here, per row,
    so a bad
    conversation is quarantined with its row id before training instead of failing mid-run.
    """

    messages: list[Message]
    group: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _other_shapes(cls, data: Any) -> Any:
        return _from_conversational_pair(_from_sharegpt(data))

    @field_validator("messages")
    @classmethod
    def _conversation_shape(cls, messages: list[Message]) -> list[Message]:
        if not messages:
            raise PydanticCustomError("empty_conversation", "conversation has no messages")
        turns = messages[1:] if messages[0].role == "system" else messages
        if any(m.role == "system" for m in turns):
            raise PydanticCustomError("misplaced_system_message", "a system message may only come first")
        if not turns:
            raise PydanticCustomError("empty_conversation", "conversation has only a system message")
        _check_tool_flow(turns)
        # user/assistant alternate; a tool call's results sit between the calling turn and the next assistant
        # turn, which continues the same reply (so it does not count as a new turn).
        i = 0
        prev: Message | None = None
        for m in turns:
            if m.role == "tool":
                prev = m
                continue
            expected = "user" if i % 2 == 0 else "assistant"
            continues = m.role == "assistant" and prev is not None and prev.role == "tool"
            if not continues:
                if m.role != expected:
                    raise PydanticCustomError(
                        "bad_role_order",
                        "roles must alternate user/assistant: turn {i} is '{role}', expected '{expected}'",
                        {"i": i, "role": m.role, "expected": expected},
                    )
                i += 1
            if m.role == "assistant" and not m.tool_calls and not message_text(m.model_dump()).strip():
                raise PydanticCustomError("empty_assistant_turn", "assistant turn {i} is empty", {"i": i})
            prev = m
        if turns[-1].role != "assistant" or turns[-1].tool_calls:
            raise PydanticCustomError(
                "no_assistant_reply", "conversation does not end with an assistant reply"
            )
        return messages

    @field_serializer("messages")
    def _dump_messages(self, messages: list[Message]) -> list[dict[str, Any]]:
        # Keys the input did not have stay absent (no `"name": null` on every turn of a round trip).
        return [m.model_dump(mode="json", exclude_none=True) for m in messages]


RECORD_MODELS: dict[RecordKind, type[_Record]] = {
    RecordKind.classification: ClassificationRecord,
    RecordKind.completion: CompletionRecord,
    RecordKind.chat: ChatRecord,
    RecordKind.text: TextRecord,
}

# The fields each record kind needs in the input; the loader's field mapping renames input columns to these.
REQUIRED_FIELDS: dict[RecordKind, tuple[str, ...]] = {
    RecordKind.classification: ("text", "label"),
    RecordKind.completion: ("prompt", "completion"),
    RecordKind.chat: ("messages",),
    RecordKind.text: ("text",),
}

# Input column names recognised as each record field without any --*-field flag, in order of preference.
# The canonical field name comes first, so a loaded record's own keys are recognised too.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "text": ("text", "sentence", "content", "document", "review", "tweet"),
    "label": ("label", "labels", "sentiment", "category", "class", "target", "topic"),
    "prompt": ("prompt", "question", "query", "input_text", "source"),
    "completion": ("completion", "response", "answer", "output", "target_text", "chosen"),
    "messages": ("messages", "conversation", "conversations", "chat"),
}
ALPACA = ("instruction", "output")


def infer_kind(
    columns: Collection[str], named: Collection[str] = (), *, message_lists: bool = False
) -> RecordKind:
    """The record kind of data with these columns: the one rule every command uses.

    Fields the user named explicitly (`named`: record field names such as "prompt" or "label", from
    `--prompt-field` etc.) decide first. Then the columns: messages -> chat; prompt and completion (or
    alpaca's instruction/output) -> completion; text and label -> classification; text alone -> text (a
    column named like a prompt but without a completion does not make the data generative). Anything else
    is read as classification, whose missing-field error names the columns found and the flags to use.

    Args:
        columns: Input column names, or a loaded record's keys (canonical names are recognised too).
        named: Record fields the user mapped to a column explicitly.
        message_lists: The rows' prompt and completion hold message lists (TRL's conversational pairs),
            which makes them chat; the loader decides it from sampled values.
    """
    named = set(named)
    has = {f: f in named or any(a in columns for a in aliases) for f, aliases in FIELD_ALIASES.items()}
    if "messages" in named or message_lists:
        return RecordKind.chat
    if named & {"prompt", "completion"}:
        return RecordKind.completion
    if "label" in named:
        return RecordKind.classification
    if "text" in named:
        return RecordKind.classification if has["label"] else RecordKind.text
    if has["messages"]:
        return RecordKind.chat
    if set(ALPACA) <= set(columns) or (has["prompt"] and has["completion"]):
        return RecordKind.completion
    if has["text"] and not has["label"]:
        return RecordKind.text
    return RecordKind.classification


def record_text(record: dict[str, Any], kind: RecordKind) -> str:
    """The text a record is judged by (dedup, length, PII): the text, prompt+completion, or all turns."""
    if kind is RecordKind.classification or kind is RecordKind.text:
        return record["text"]
    if kind is RecordKind.completion:
        return f"{record['prompt']}\n{record['completion']}"
    return "\n".join(message_text(m) for m in record["messages"])
