"""`infer_kind`, the one rule that names a record kind from field names, and the `text` record."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from schemas.findings import CheckResult, CheckStatus
from schemas.records import RecordKind, TextRecord, infer_kind, record_text


@pytest.mark.parametrize(("columns", "named", "kind"), [
    ({"id", "text"}, (), "text"),
    ({"id", "document", "source"}, (), "text"),          # a prompt-like column without a completion
    ({"id", "text", "label"}, (), "classification"),
    ({"id", "tweet", "sentiment"}, (), "classification"),
    ({"id", "prompt", "completion"}, (), "completion"),
    ({"instruction", "input", "output"}, (), "completion"),
    ({"messages", "text"}, (), "chat"),
    ({"id", "body"}, ("text",), "text"),                  # --text-field body, no label column
    ({"id", "body", "topic"}, ("text",), "classification"),
    ({"id", "body"}, ("label",), "classification"),
    ({"q", "a"}, ("prompt", "completion"), "completion"),
    # nothing known: classification names what is missing
    ({"id", "foo"}, (), "classification"),
    # a loaded record's own keys give back its kind
    ({"id", "metadata", "text", "group"}, (), "text"),
    ({"id", "metadata", "text", "label", "group"}, (), "classification"),
    ({"id", "metadata", "prompt", "completion", "group"}, (), "completion"),
])
def test_infer_kind(columns, named, kind) -> None:
    assert infer_kind(columns, named) is RecordKind(kind)


def test_text_record_coerces_ids_and_groups_and_rejects_a_non_string_text() -> None:
    r = TextRecord(id=7, text="a document", group=3)
    assert (r.id, r.group, r.metadata) == ("7", "3", {})
    assert record_text(r.model_dump(), RecordKind.text) == "a document"
    with pytest.raises(ValidationError):
        TextRecord(id="1", text=5)
    with pytest.raises(ValidationError):
        TextRecord(id="1", text="t", label="a")  # a label makes it classification data, not text


def test_not_applicable_is_a_status_of_its_own() -> None:
    r = CheckResult(name="class_balance", status="not_applicable")
    assert r.status is CheckStatus.not_applicable and r.model_dump(mode="json")["status"] == "not_applicable"
