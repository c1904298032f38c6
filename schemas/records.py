"""Training records: the three shapes datavet reads, writes and trains on.

Every record has a stable `id`: the input's own `id` field when present, else its row number in the source
(assigned by the loader). Validation lives here so the loader, the `schema` check and the trainer agree.
"""

from __future__ import annotations

import math
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
    """True for a label that is a missing value: None, NaN, infinity, "" or whitespace, or "NaN"/"inf" text."""
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
            raise PydanticCustomError("missing_label", "label is missing (null, NaN, infinite, empty or whitespace)")
        if isinstance(v, int | float):
            return _number_to_str(v)
        if isinstance(v, list):
            return [str(_number_to_str(x)) for x in v]
        return v

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
}

# The fields each record kind needs in the input; the loader's field mapping renames input columns to these.
REQUIRED_FIELDS: dict[RecordKind, tuple[str, ...]] = {
    RecordKind.classification: ("text", "label"),
    RecordKind.completion: ("prompt", "completion"),
    RecordKind.chat: ("messages",),
}


def record_text(record: dict[str, Any], kind: RecordKind) -> str:
    """The text a record is judged by (dedup, length, PII): the text, prompt+completion, or all turns."""
    if kind is RecordKind.classification:
        return record["text"]
    if kind is RecordKind.completion:
        return f"{record['prompt']}\n{record['completion']}"
    return "\n".join(m["content"] for m in record["messages"])
