"""The `curate run` config (also read by `curate check --config`): input, normalization, check parameters,
what to remove or mask, the optional split stage, and the gate."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from schemas.configs.base import StrictModel
from schemas.configs.dedup_key import DedupKeyConfig
from schemas.configs.load import LoadConfig
from schemas.configs.split import SplitConfig
from schemas.deprecation import note
from schemas.findings import OLD_GATE_LEVELS


class NormalizeConfig(StrictModel):
    nfkc: bool = True
    fix_mojibake: bool = Field(True, description="Repair mojibake with ftfy")
    strip_control: bool = Field(True, description="Remove control and zero-width characters")
    whitespace: bool = Field(True, description="Collapse runs of whitespace, strip ends")
    html: Literal["keep", "unescape", "strip"] = "keep"
    lowercase: bool = False
    label_map: dict[str, str] = Field(default_factory=dict, description="Raw label -> canonical label")
    labels: list[str] | None = Field(None, description="The allowed canonical labels; others are reported")


class RemoveConfig(StrictModel):
    """What `curate run` removes (each removed row is listed in removed.jsonl with its reason)."""

    exact_duplicates: bool = True
    near_duplicates: bool = True
    semantic_duplicates: bool = False
    conflicting_labels: bool = False
    empty: bool = True


class CurateConfig(StrictModel):
    input: LoadConfig
    out: str = Field("reports/curated", description="Output folder of `curate run`")
    against: str | None = Field(None, description="Another split to check for leakage")
    split_field: str | None = None
    group_field: str | None = None
    tokenizer: str | None = None
    max_length: int | None = Field(None, ge=1)
    normalize: NormalizeConfig = Field(default_factory=NormalizeConfig)
    dedup_key: DedupKeyConfig = Field(default_factory=DedupKeyConfig,
                                      description="What duplicate detection ignores (whitespace by default)")
    checks: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="check name -> its parameters"
    )
    disable: list[str] = Field(default_factory=list, description="checks not to run")
    enable: list[str] = Field(
        default_factory=list, description="opt-in checks to run (e.g. semantic_duplicate)"
    )
    remove: RemoveConfig = Field(default_factory=RemoveConfig)
    mask_pii: bool = False
    expectations: str | None = Field(None, description="Path of a great-expectations suite YAML")
    split: SplitConfig | None = Field(
        None,
        description="Split stage options (schemas/configs/split.py); its seed defaults to the run's seed",
    )
    out_format: Literal["jsonl", "parquet", "hf"] = "jsonl"
    fail_on: Literal["fail", "warn", "never"] = Field(
        "fail", description="Fail the quality gate (exit 1) when a check reaches this status: fail (fail or "
                            "error), warn (also warn), or never")
    report: bool = True
    seed: int = 0

    @field_validator("fail_on", mode="before")
    @classmethod
    def _old_gate_levels(cls, v: Any) -> Any:
        if v in OLD_GATE_LEVELS:
            note(f"fail_on: {v}", f"fail_on: {OLD_GATE_LEVELS[v]}")
            return OLD_GATE_LEVELS[v]
        return v

    @model_validator(mode="before")
    @classmethod
    def _split_seed(cls, data: Any) -> Any:
        # the split stage uses the run's seed unless it names its own
        if isinstance(data, dict) and isinstance(data.get("split"), dict) and "seed" not in data["split"]:
            data = {**data, "split": {**data["split"], "seed": data.get("seed", 0)}}
        return data
