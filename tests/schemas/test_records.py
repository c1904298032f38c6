"""Record models: field coercion, alpaca mapping, chat rules, stable ids."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from schemas.records import ChatRecord, ClassificationRecord, CompletionRecord, RecordKind, record_text


def _error_type(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return exc.value.errors()[0]["type"]


def test_classification_coerces_ids_and_labels() -> None:
    r = ClassificationRecord(id=3, text="t", label=1)
    assert (r.id, r.label, r.group, r.metadata) == ("3", "1", None, {})
    assert ClassificationRecord(id=2.0, text="t", label=True).model_dump()["label"] == "true"
    assert ClassificationRecord(id="x", text="t", label=["a", 2]).label == ["a", "2"]
    assert ClassificationRecord(id="x", text="t", label="a", group=7).group == "7"


def test_classification_rejects_missing_and_wrong_types() -> None:
    with pytest.raises(ValidationError) as e:
        ClassificationRecord(id="1", label="a")
    assert _error_type(e) == "missing"
    with pytest.raises(ValidationError) as e:
        ClassificationRecord(id="1", text=5, label="a")
    assert _error_type(e) == "string_type"
    with pytest.raises(ValidationError):
        ClassificationRecord(id=True, text="t", label="a")  # a bool is not an id
    with pytest.raises(ValidationError) as e:
        ClassificationRecord(id="1", text="t", label="a", extra_field=1)
    assert _error_type(e) == "extra_forbidden"


def test_completion_maps_alpaca() -> None:
    r = CompletionRecord.model_validate(
        {"id": "0", "instruction": "Translate", "input": "chat", "output": "cat"}
    )
    assert (r.prompt, r.completion) == ("Translate\n\nchat", "cat")
    r = CompletionRecord.model_validate({"id": "0", "instruction": "Say hi", "input": "", "output": "hi"})
    assert r.prompt == "Say hi"


def test_completion_rejects_blank_completion() -> None:
    with pytest.raises(ValidationError) as e:
        CompletionRecord(id="0", prompt="p", completion="  \n")
    assert _error_type(e) == "empty_completion"


def _chat(*roles_contents: tuple[str, str]) -> dict:
    return {"id": "c", "messages": [{"role": r, "content": c} for r, c in roles_contents]}


def test_chat_accepts_leading_system_and_alternation() -> None:
    r = ChatRecord.model_validate(_chat(("system", "be brief"), ("user", "hi"), ("assistant", "hello"),
                                        ("user", "bye"), ("assistant", "bye")))
    assert [m.role for m in r.messages] == ["system", "user", "assistant", "user", "assistant"]
    assert record_text(r.model_dump(), RecordKind.chat) == "be brief\nhi\nhello\nbye\nbye"


@pytest.mark.parametrize(("turns", "reason"), [
    ((("bot", "hi"), ("assistant", "x")), "literal_error"),
    ((("assistant", "hi"), ("user", "x")), "bad_role_order"),
    ((("user", "hi"), ("user", "again"), ("assistant", "x")), "bad_role_order"),
    ((("user", "hi"), ("assistant", "   ")), "empty_assistant_turn"),
    ((("user", "hi"), ("system", "late"), ("assistant", "x")), "misplaced_system_message"),
    ((("system", "only"),), "empty_conversation"),
    ((), "empty_conversation"),
    ((("user", "hi"),), "no_assistant_reply"),
])
def test_chat_rules(turns, reason: str) -> None:
    with pytest.raises(ValidationError) as e:
        ChatRecord.model_validate(_chat(*turns))
    assert _error_type(e) == reason


def test_bad_role_order_message_names_the_roles() -> None:
    with pytest.raises(ValidationError) as e:
        ChatRecord.model_validate(_chat(("assistant", "hi"), ("user", "x")))
    assert "turn 0 is 'assistant', expected 'user'" in str(e.value)
