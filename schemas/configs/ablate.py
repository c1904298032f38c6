"""The `evalsuite ablate` config: which data, which curation, which training budget, which variants, which
seeds.

Every variant is trained with the same `train` section (same steps, hyperparameters and model); only the
training rows differ. `curate` is a `curate run` config body without `input`/`out` (the ablation sets them).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from schemas.configs.base import StrictModel

# Curation steps that can be left out one at a time, as `curate run` config switches.
STEPS = ("exact_duplicate", "near_duplicate", "conflicting_labels", "label_issues", "mojibake", "pii")


class AblateConfig(StrictModel):
    """Everything `evalsuite.ablate.runner.run_ablation` needs."""

    data: str = Field(description="Raw training data: a file, folder or bundled:NAME")
    kind: Literal["classification"] = Field(
        "classification", description="Record kind (classification only for now)"
    )
    train_size: int | None = Field(
        None, ge=2, description="Seeded sample of this many raw rows as the training pool"
    )
    test_size: int = Field(
        1000, ge=10, description="Rows set aside (before dedup against training) for the test set"
    )
    val_size: int = Field(300, ge=2, description="Rows set aside for validation (same for every variant)")
    curate: dict[str, Any] = Field(
        default_factory=dict, description="A `curate run` config without input/out (see configs/curate/)"
    )
    label_issues: str | None = Field(
        None, description="label_issues.json from `evalsuite cv`: remove those ids as one more curation step"
    )
    train: dict[str, Any] = Field(
        default_factory=dict, description="A `finetune run` config without data/out/seed"
    )
    max_steps: int = Field(150, ge=1, description="Optimizer steps for every variant (the shared budget)")
    seeds: list[int] = Field(
        default_factory=lambda: [0, 1], min_length=1, description="Training seeds per variant"
    )
    steps: list[str] | None = Field(
        None,
        description=f"Leave-one-out steps to ablate (default: every step that "
        f"changed rows); from {', '.join(STEPS)}",
    )
    random_twins: bool = Field(True, description="Add a random removal of as many rows as each removing step")
    n_resamples: int = Field(1000, ge=10, description="Paired bootstrap resamples")
    seed: int = Field(0, description="Seed of the test/val carve-out, random twins and the bootstrap")
    out: str = Field("reports/ablate", description="Output folder")

    @model_validator(mode="after")
    def _known(self) -> AblateConfig:
        problems = []
        for key in ("input", "out"):
            if key in self.curate:
                problems.append(f"curate.{key} is set by the ablation; remove it")
        for key in ("data", "out", "seed", "max_steps", "resume"):
            if key in self.train:
                problems.append(
                    f"train.{key} is set by the ablation; remove it (use max_steps/seeds at top level)"
                )
        bad = [s for s in self.steps or [] if s not in STEPS]
        if bad:
            problems.append(f"unknown step(s) {', '.join(bad)}; use {', '.join(STEPS)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self
