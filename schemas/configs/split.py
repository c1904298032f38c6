"""The `curate split` config (also the `split:` stage of `curate run`) and the manifest it writes.

Holdout fractions default to 10% validation and 10% test; k-fold uses 1/K of the non-test rows per fold and
no test split unless `test` is given. The manifest lists, per written file, its row count, label (or stratum)
counts and the sha256 of its sorted ids, so `finetune` and `evalsuite cv` can verify what they read.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.configs.base import StrictModel
from schemas.configs.dedup_key import DedupKeyConfig

DEFAULT_VAL = 0.1
DEFAULT_TEST = 0.1


class SplitConfig(StrictModel):
    """How to split: holdout (val/test fractions) or k-fold, stratified and optionally group-aware."""

    val: float | None = Field(None, ge=0, lt=1, description="Validation fraction (holdout only; default 0.1)")
    test: float | None = Field(None, ge=0, lt=1,
                               description="Test fraction; default 0.1 for holdout, none for k-fold")
    kfold: int | None = Field(None, ge=2, description="Number of folds; omit for a holdout split")
    stratify: str = Field("auto", description="auto (label for classification, length otherwise), label, "
                                              "length, none, or the name of a record/metadata field")
    group_field: str | None = Field(
        None, description="Record or metadata field whose rows must stay together"
    )
    group_by: Literal["near_duplicate", "exact_duplicate"] | None = Field(
        None, description="Keep duplicate clusters together (clusters from curate.dedup)")
    near_dup_threshold: float = Field(0.8, gt=0, le=1, description="Jaccard threshold for near_duplicate")
    dedup_key: DedupKeyConfig = Field(default_factory=DedupKeyConfig,
                                      description="What duplicate clustering and the straddle count ignore")
    rare_class: Literal["error", "drop", "train-only"] = Field(
        "error", description="What to do with a class too small for every split")
    length_buckets: int = Field(4, ge=2, le=100, description="Quantile buckets when stratifying by length")
    method: Literal["balanced", "sklearn", "iterstrat"] = Field(
        "balanced", description="balanced: datavet's seeded group-stratified assignment; for comparison, "
                                "sklearn: StratifiedGroupKFold (k-fold, no test); iterstrat: iterative "
                                "stratification (rows, not groups)")
    seed: int = 0

    @model_validator(mode="after")
    def _consistent(self) -> SplitConfig:
        problems = []
        if self.group_field and self.group_by:
            problems.append("group_field and group_by are both set; choose one way to group rows")
        if self.kfold is not None and self.val is not None:
            problems.append("val is set with kfold; with k-fold each fold's validation share is 1/kfold "
                            "(drop --val, or drop --kfold for a holdout split)")
        if self.kfold is None and self.val_fraction + self.test_fraction <= 0:
            problems.append("val and test are both 0, so there is nothing to split off (set --val or --test)")
        if self.val_fraction + self.test_fraction >= 1:
            problems.append(
                f"val + test = {self.val_fraction + self.test_fraction:g} leaves no training rows "
                "(keep val + test below 1)"
            )
        if self.method == "sklearn" and (self.kfold is None or self.test_fraction > 0):
            problems.append(
                "method=sklearn compares against StratifiedGroupKFold and needs kfold and no test"
            )
        if self.method == "iterstrat" and (self.group_field or self.group_by):
            problems.append("method=iterstrat cannot keep groups together; drop the grouping or use balanced")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def val_fraction(self) -> float:
        if self.kfold is not None:
            return 0.0
        return DEFAULT_VAL if self.val is None else self.val

    @property
    def test_fraction(self) -> float:
        if self.test is not None:
            return self.test
        return 0.0 if self.kfold is not None else DEFAULT_TEST


class SplitFileStats(BaseModel):
    """What one written split file holds and how close it is to the global distribution."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="Path relative to the split folder, e.g. fold-0/train.jsonl")
    rows: int
    label_counts: dict[str, int] = Field(default_factory=dict, description="Per label (classification data)")
    strata_counts: dict[str, int] = Field(default_factory=dict, description="Per stratum stratified on")
    max_deviation_pp: float = Field(
        0.0, description="Largest |stratum share - global share|, percentage points"
    )
    worst_stratum: str | None = None
    ids_sha256: str = Field(description="sha256 of the file's ids, sorted and joined with newlines")


class SplitManifest(BaseModel):
    """`DIR/manifest.json` of a split folder. No timestamps, so equal inputs give byte-identical files."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["holdout", "kfold"]
    kfold: int | None = None
    kind: str
    stratify: str = Field(description="What was stratified on: label, length, none, or a field name")
    config: dict
    input_rows: int
    dropped_rows: int = 0
    groups: int = Field(description="Number of groups (each row its own group when not grouping)")
    groups_straddling: int = Field(
        description="Groups with rows in more than one disjoint split; 0 by design"
    )
    exact_duplicate_texts_straddling: int = Field(
        0, description="Texts identical under the duplicate key (`duplicate_key`) found in more than one "
                       "disjoint split (informative leakage count)")
    duplicate_key: str = Field(
        "whitespace", description="What the duplicate key ignores (DedupKeyConfig.spec)"
    )
    order: str = Field("shuffled", description="Row order inside each file: shuffled with the split seed")
    warnings: list[str] = Field(default_factory=list, description="e.g. a split file holding a single class")
    splits: dict[str, SplitFileStats] = Field(description="Key: file path without .jsonl, e.g. fold-0/val")
    argv: list[str] | None = Field(
        None,
        description="The `curate split` command line (no cwd, no time: equal "
        "commands still give byte-identical manifests)",
    )
