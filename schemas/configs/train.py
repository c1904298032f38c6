"""The `finetune run` config (`TrainConfig`) and what a run returns (`TrainResult`).

Defaults follow common practice for small models: AdamW lr 5e-5 with weight decay 0.01, 6% linear warmup then
cosine decay, gradient clipping at 1.0 (BERT/RoBERTa fine-tuning recipes); LoRA r=8, alpha=16, dropout 0.05
(the peft/QLoRA papers' small-model settings). Every section rejects unknown keys.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, computed_field, model_validator

from schemas.configs.base import StrictModel
from schemas.deprecation import note

# `task` was finetune's word for the record kind; `sft` covered both completion and chat records.
TASK_TO_KIND = {"classification": "classification", "sft": "completion", "text": "text"}


class LoraConfig(StrictModel):
    r: int = Field(8, ge=1, description="LoRA rank")
    alpha: int = Field(16, ge=1, description="LoRA alpha (scale = alpha / r)")
    dropout: float = Field(0.05, ge=0.0, lt=1.0)
    target_modules: list[str] | None = Field(
        None, description="Module names; default chosen per architecture"
    )


class DataConfig(StrictModel):
    """Either a split folder (train.jsonl + val.jsonl as written by `curate split`) or train/val paths."""

    split_dir: str | None = Field(
        None, description="Folder holding train.* and val.* (or validation.*/dev.*)"
    )
    train: str | None = Field(None, description="Training file, folder or bundled:NAME")
    val: str | None = Field(
        None, description="Validation file; when absent, val_fraction of train is held out"
    )
    kind: Literal["classification", "completion", "chat", "text"] | None = Field(
        None, description="Record kind to load as; text selects continued pre-training (task=text)")
    val_fraction: float = Field(
        0.1, gt=0.0, lt=1.0, description="Held-out fraction when no val file is given"
    )
    limit_train: int | None = Field(
        None, ge=1, description="Use a seeded random subsample of this many train rows"
    )
    limit_val: int | None = Field(
        None,
        ge=1,
        description="Validate on a seeded random subsample of this many val rows "
        "(`--eval-limit`); every evaluation uses the same rows",
    )

    @model_validator(mode="after")
    def _one_source(self) -> DataConfig:
        if self.split_dir and (self.train or self.val):
            raise ValueError("give either data.split_dir or data.train/data.val, not both")
        return self


class OptimConfig(StrictModel):
    lr: float = Field(5e-5, gt=0.0)
    weight_decay: float = Field(0.01, ge=0.0)
    warmup: float = Field(
        0.06, ge=0.0, description="Warmup: a fraction of total steps if < 1, else a step count"
    )
    schedule: Literal["cosine", "linear", "constant"] = "cosine"
    max_grad_norm: float | None = Field(1.0, gt=0.0, description="Clip gradients to this norm; null disables")
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8


class EarlyStoppingConfig(StrictModel):
    metric: str = Field("loss", description="Validation metric that picks the best checkpoint")
    mode: Literal["min", "max", "auto"] = Field("auto", description="auto: min for loss/perplexity, else max")
    patience: int | None = Field(None, ge=1, description="Stop after this many evals without improvement")
    min_delta: float = Field(0.0, ge=0.0)

    def resolved_mode(self) -> str:
        if self.mode != "auto":
            return self.mode
        return "min" if self.metric in ("loss", "perplexity") else "max"


class TrainConfig(StrictModel):
    """Everything `finetune.train.run` needs. Loaded from YAML, overridden by CLI flags and `key=value`."""

    model: str = Field("minilm", description="minilm, smollm2, a save_pretrained folder, or a hub id")
    kind: Literal["classification", "completion", "chat", "text"] = Field(
        "classification",
        description="Record kind: classification trains a label head; completion and chat "
        "train causal-LM SFT (loss on the answers); text is continued pre-training "
        "(causal LM on every token of text records packed into max_length blocks)",
    )
    method: Literal["full", "lora", "qlora"] = "full"
    lora: LoraConfig = Field(default_factory=LoraConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)
    batch_size: int = Field(16, ge=1)
    eval_batch_size: int | None = Field(None, ge=1, description="Defaults to 2 x batch_size")
    grad_accum: int = Field(1, ge=1)
    epochs: float = Field(1.0, gt=0.0)
    max_steps: int | None = Field(None, ge=1, description="Optimizer steps; overrides epochs when set")
    max_length: int = Field(128, ge=8)
    eval_every: int | None = Field(
        None, ge=1, description="Validate every N optimizer steps; null: each epoch"
    )
    log_every: int = Field(10, ge=1)
    eval_before: bool = Field(False, description="Also validate the untrained model (logged as step 0)")
    early_stopping: EarlyStoppingConfig = Field(default_factory=EarlyStoppingConfig)
    class_weights: Literal["none", "balanced"] | dict[str, float] = Field(
        "none", description="balanced: inverse class frequency; or an explicit label -> weight mapping")
    dropout: float | None = Field(
        None, ge=0.0, lt=1.0, description="Override the model's dropout probabilities"
    )
    seed: int = 0
    out: str = "reports/finetune/run"
    checkpoint_every: int | None = Field(None, ge=1, description="Write a resumable checkpoint every N steps")
    resume: bool = Field(False, description="Continue from the latest checkpoint in `out`")
    loss_on: Literal["completion", "all"] = Field(
        "completion", description="SFT: which tokens carry the loss"
    )
    packing: bool = Field(
        False, description="SFT: pack short examples into one row (no cross-sample attention)"
    )
    group_by_length: bool = Field(True, description="Batch similar lengths together to cut padding")
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        "auto", description="auto: bf16 on CUDA, fp32 on CPU; bf16 also runs on a CPU with bf16 instructions"
    )
    merge: bool = Field(False, description="LoRA: also write merged full weights to out/merged")
    progress: bool = Field(
        True, description="Show progress on stderr: a rich bar on a terminal, periodic lines otherwise"
    )
    allow_pickle: bool = Field(
        False,
        description="Also load pickle weights (pytorch_model.bin), which can run code: "
        "only for files you trust; safetensors only otherwise",
    )

    @model_validator(mode="before")
    @classmethod
    def _task_is_kind(cls, data: Any) -> Any:
        """The old key `task` (classification|sft|text) still loads, as `kind`, with a deprecation note; and
        data.kind=text alone (`--set data.kind=text`) names the objective too: continued pre-training."""
        if not isinstance(data, dict):
            return data
        if "task" not in data:
            if (
                "kind" not in data
                and isinstance(data.get("data"), dict)
                and data["data"].get("kind") == "text"
            ):
                return {**data, "kind": "text"}
            return data
        data = dict(data)
        task = data.pop("task")
        if "kind" in data:  # both: a dump of this model (it carries `task` for old readers); kind wins
            return data
        note("config key `task`", "`kind` (classification, completion, chat or text)")
        data["kind"] = TASK_TO_KIND.get(task, task)
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def task(self) -> str:
        """What the trainer does: "classification" (a label head), "sft" (causal LM on the answers) or "text"
        (continued pre-training on every token)."""
        return self.kind if self.kind in ("classification", "text") else "sft"
    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        problems = []
        if (self.data.kind == "text") != (self.task == "text") and self.data.kind is not None:
            problems.append(
                f"data.kind={self.data.kind} does not go with task={self.task}: text records train "
                "with task=text (continued pre-training), other kinds with classification or sft"
            )
        if self.packing and self.task != "sft":
            problems.append(
                "packing applies to kind=completion or chat only (kind=text always packs documents "
                "into blocks)"
            )
        if self.task != "classification" and self.class_weights != "none":
            problems.append("class_weights apply to kind=classification only")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class TrainResult(StrictModel):
    """What `finetune.train.run` returns; also written to `out/summary.json`."""

    out: str
    model_path: str = Field(description="The saved model (or LoRA adapter) folder")
    merged_path: str | None = None
    task: str = Field(description="classification or sft (kept for old readers; `kind` says the same)")
    kind: str | None = Field(None, description="Record kind trained on: classification, completion or chat")
    method: str
    precision: str = Field("fp32", description="What the run computed in: fp32, bf16 or fp16")
    initial_metrics: dict[str, float] = Field(
        default_factory=dict, description="Before training (eval_before)"
    )
    best_metrics: dict[str, float] = Field(default_factory=dict)
    final_metrics: dict[str, float] = Field(default_factory=dict)
    best_step: int | None = None
    steps: int = 0
    epochs: float = 0.0
    wall_s: float = 0.0
    train_tokens: int = 0
    tokens_per_s: float = 0.0
    train_cpu_s: float = Field(0.0, description="CPU seconds of this process spent in training steps")
    peak_mem_mb: float = 0.0
    stop_reason: Literal["max_steps", "epochs", "early_stopping"] = "epochs"
    labels: list[str] | None = None
    data_stats: dict[str, Any] = Field(default_factory=dict, description="rows, truncation, dropped examples")
