"""How to read a dataset: format, record kind, and which input fields map to the record's fields."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from schemas.configs.base import StrictModel
from schemas.records import RecordKind

Format = Literal["auto", "jsonl", "json", "csv", "tsv", "parquet", "hf", "textdir", "bundled"]


class LoadConfig(StrictModel):
    path: str = Field(description="File, folder, or bundled:NAME")
    format: Format = "auto"
    kind: RecordKind | None = Field(None, description="Record kind; inferred from the fields when not given")
    id_field: str = "id"
    text_field: str | None = None
    label_field: str | None = None
    prompt_field: str | None = None
    completion_field: str | None = None
    messages_field: str | None = None
    group_field: str | None = None
    encoding: str | None = Field(
        None, description="Force an encoding; by default UTF-8 with a reported fallback"
    )
    split: str | None = Field(None, description="Which split of a Hugging Face DatasetDict folder to read "
                              "(default: train, and the summary says so)")
    head: int | None = Field(None, ge=1, description="Use only the first N rows (after the header)")
    sample: int | None = Field(
        None, ge=1, description="Use a seeded random sample of N rows (reservoir sampling)"
    )
    seed: int = Field(0, description="Seed of `sample`")
    limit: int | None = Field(None, ge=1, description="Deprecated alias of `head` (head takes its value)")
    fields: list[str] | None = Field(
        None,
        description="Read and validate only these record fields (for a "
        "command that needs fewer than the kind has); the kind's "
        "other fields are None and their columns stay in metadata",
    )

    @model_validator(mode="before")
    @classmethod
    def _subset(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("limit") is not None:
            data = dict(data)
            limit = data["limit"]  # kept, so a command can print the deprecation note
            if data.get("head") is not None and data["head"] != limit:
                raise ValueError("limit (deprecated) and head are both set; keep head only")
            data["head"] = limit
        if isinstance(data, dict) and data.get("head") is not None and data.get("sample") is not None:
            raise ValueError("head and sample are both set; use head (first N rows) or sample (random rows)")
        return data
