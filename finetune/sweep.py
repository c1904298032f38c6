"""Hyper-parameter search: a small grid or a random space over lr, batch size, epochs and LoRA rank.

Each trial is one `finetune.train.run` with overrides, in its own folder `OUT/trial-NNN`, scored on the
validation metric that early stopping uses. optuna drives the search (GridSampler for grids, TPE for
random spaces with a fixed seed); trials run one at a time because the CPU is the bottleneck.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finetune.errors import FinetuneError
from schemas.configs.train import TrainConfig

SPACE_KEYS = {"lr": "optim.lr", "batch_size": "batch_size", "epochs": "epochs", "lora_r": "lora.r"}


@dataclass
class Trial:
    number: int
    params: dict[str, Any]
    value: float
    metrics: dict[str, float]
    out: str


@dataclass
class SweepResult:
    metric: str
    mode: str
    trials: list[Trial] = field(default_factory=list)

    def ranked(self) -> list[Trial]:
        return sorted(self.trials, key=lambda t: t.value, reverse=self.mode == "max")


def _apply(cfg: TrainConfig, params: dict[str, Any], out: Path) -> TrainConfig:
    from schemas.configs.base import apply_overrides, validate_config

    data = apply_overrides(cfg.model_dump(mode="json"), {SPACE_KEYS[k]: v for k, v in params.items()})
    data["out"] = str(out)
    data["resume"] = False
    return validate_config(TrainConfig, data, "sweep trial")


def sweep(
    cfg: TrainConfig,
    space: dict[str, list[Any]],
    *,
    n_trials: int | None = None,
    strategy: str = "grid",
    seed: int = 0,
) -> SweepResult:
    """Run trials over `space` (name -> candidate values; names: lr, batch_size, epochs, lora_r).

    Args:
        strategy: "grid" tries every combination (n_trials caps it); "random" samples n_trials with TPE.
    """
    import optuna

    unknown = set(space) - set(SPACE_KEYS)
    if unknown or not space:
        raise FinetuneError(f"unknown or empty sweep space: {sorted(unknown) or '{}'}",
                            fix=f"sweep over some of {sorted(SPACE_KEYS)}, e.g. --lr 1e-5,3e-5")
    if "lora_r" in space and cfg.method == "full":
        raise FinetuneError(
            "lora_r is swept but method=full", fix="add --method lora, or drop the lora_r values"
        )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    metric, mode = cfg.early_stopping.metric, cfg.early_stopping.resolved_mode()
    sampler = (
        optuna.samplers.GridSampler(space, seed=seed)
        if strategy == "grid"
        else optuna.samplers.TPESampler(seed=seed)
    )
    grid_size = 1
    for v in space.values():
        grid_size *= len(v)
    n = min(n_trials or grid_size, grid_size) if strategy == "grid" else (n_trials or 8)
    study = optuna.create_study(direction="minimize" if mode == "min" else "maximize", sampler=sampler)
    result = SweepResult(metric, mode)

    def objective(trial: Any) -> float:
        from finetune.train import run

        params = {k: trial.suggest_categorical(k, v) for k, v in space.items()}
        out = Path(cfg.out) / f"trial-{trial.number:03d}"
        res = run(_apply(cfg, params, out))
        value = res.best_metrics[metric]
        result.trials.append(Trial(trial.number, params, value, res.best_metrics, str(out)))
        return value

    study.optimize(objective, n_trials=n)
    return result


def print_table(result: SweepResult) -> None:
    from rich.console import Console
    from rich.table import Table

    ranked = result.ranked()
    t = Table(title=f"sweep ranked by val {result.metric} ({result.mode})")
    t.add_column("rank", justify="right")
    for k in ranked[0].params if ranked else []:
        t.add_column(k)
    t.add_column(result.metric, justify="right")
    t.add_column("out")
    for i, tr in enumerate(ranked, 1):
        t.add_row(str(i), *(str(v) for v in tr.params.values()), f"{tr.value:.4f}", tr.out)
    Console().print(t)
