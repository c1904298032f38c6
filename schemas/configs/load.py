"""How to read a dataset: format, record kind, and which input fields map to the record's fields."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

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
    encoding: str | None = Field(None, description="Force an encoding; by default UTF-8 with a reported fallback")
    split: str | None = Field(None, description="Which split of a Hugging Face DatasetDict folder to read "
                              "(default: train, and the summary says so)")
    limit: int | None = Field(None, ge=1, description="Read at most this many rows (after the header)")
    fields: list[str] | None = Field(None, description="Read and validate only these record fields (for a "
                                                        "command that needs fewer than the kind has); the kind's "
                                                        "other fields are None and their columns stay in metadata")
