"""Training records: the four shapes datavet reads, writes and trains on.

`classification` (text, label), `completion` (prompt, completion), `chat` (messages) and `text` (a plain
document: text only, for continued pre-training, retrieval corpora or raw text before curation).
`infer_kind` is the one place that decides a record kind from field names, for the loader, `curate split`
and `finetune` alike.

Every record has a stable `id`: the input's own `id` field when present, else its row number in the source
(assigned by the loader). Validation lives here so the loader, the `schema` check and the trainer agree.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
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
        if isinstance(v, int | float):
            return str(int(v)) if float(v).is_integer() else str(v)
        return v


class ClassificationRecord(_Record):
    """A text with one label (or several, for multilabel data) and an optional group."""

    text: str
    label: str | list[str]
    group: str | None = None

    @field_validator("label", mode="before")
    @classmethod
    def _label_to_str(cls, v: Any) -> Any:
        if isinstance(v, bool):
            return str(v).lower()
        if isinstance(v, int | float):
            return str(int(v)) if float(v).is_integer() else str(v)
        if isinstance(v, list):
            return [str(x) for x in v]
        return v

    @field_validator("group", mode="before")
    @classmethod
    def _group_to_str(cls, v: Any) -> Any:
        return None if v is None else str(v)


class TextRecord(_Record):
    """A plain document: text with an optional group. Nothing to predict; checks that need labels do not apply."""

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


ROLES = ("system", "user", "assistant")


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: str


class ChatRecord(_Record):
    """A conversation: an optional leading system message, then user/assistant turns alternating.

    The rules are checked here, per row, so a bad conversation is quarantined with its row id before
    training instead of failing mid-run on a bare assertion.
    """

    messages: list[Message]
    group: str | None = None

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
        for i, m in enumerate(turns):
            expected = "user" if i % 2 == 0 else "assistant"
            if m.role != expected:
                raise PydanticCustomError(
                    "bad_role_order",
                    "roles must alternate user/assistant: turn {i} is '{role}', expected '{expected}'",
                    {"i": i, "role": m.role, "expected": expected},
                )
            if m.role == "assistant" and not m.content.strip():
                raise PydanticCustomError("empty_assistant_turn", "assistant turn {i} is empty", {"i": i})
        if turns[-1].role != "assistant":
            raise PydanticCustomError("no_assistant_reply", "conversation does not end with an assistant turn")
        return messages


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


def infer_kind(columns: Collection[str], named: Collection[str] = ()) -> RecordKind:
    """The record kind of data with these columns: the one rule every command uses.

    Fields the user named explicitly (`named`: record field names such as "prompt" or "label", from
    `--prompt-field` etc.) decide first. Then the columns: messages -> chat; prompt and completion (or
    alpaca's instruction/output) -> completion; text and label -> classification; text alone -> text (a
    column named like a prompt but without a completion does not make the data generative). Anything else
    is read as classification, whose missing-field error names the columns found and the flags to use.

    Args:
        columns: Input column names, or a loaded record's keys (canonical names are recognised too).
        named: Record fields the user mapped to a column explicitly.
    """
    named = set(named)
    has = {f: f in named or any(a in columns for a in aliases) for f, aliases in FIELD_ALIASES.items()}
    if "messages" in named:
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
    return "\n".join(m["content"] for m in record["messages"])
