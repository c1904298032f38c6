"""`finetune sweep`: search lr / batch size / epochs / LoRA rank on the validation metric, print a ranked
table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from common.options import grouped, out_option, overwrite_option
from finetune.commands.options import BASE, MaxStepsOpt, key_help, train_config

Opt = typer.Option
Out = out_option(key_help("out", "Folder for the trials and sweep.json"), Optional[str])
Overwrite = overwrite_option(
    "Replace an earlier sweep in --out (never a folder another program wrote; default: refuse)."
)


def _values(raw: Optional[str], cast: Any) -> list[Any] | None:
    from schemas.errors import UsageError

    if raw is None:
        return None
    try:
        return [cast(v) for v in raw.split(",") if v.strip()]
    except ValueError:
        raise UsageError(
            f"cannot read {raw!r} as a comma-separated list of numbers", fix="write e.g. 1e-5,3e-5"
        ) from None


def register(app: typer.Typer) -> None:
    @app.command()
    @grouped
    def sweep(
        base: dict = BASE,
        data: Annotated[
            Optional[str],
            Opt(
                "--data",
                help="Split folder with train.* and val.* (default: none; config key data.split_dir).",
            ),
        ] = None,
        train: Annotated[Optional[str], Opt("--train", help=key_help("data.train", "Training file"))] = None,
        val: Annotated[Optional[str], Opt("--val", help=key_help("data.val", "Validation file"))] = None,
        out: Out = None,
        max_steps: MaxStepsOpt = None,
        lr: Annotated[
            Optional[str],
            Opt(
                "--lr",
                help="Learning rates to try, comma-separated, e.g. "
                "1e-5,3e-5,1e-4 (default: the config's only).",
            ),
        ] = None,
        batch_size: Annotated[
            Optional[str],
            Opt("--batch-size", help="Batch sizes to try, comma-separated (default: the config's only)."),
        ] = None,
        epochs: Annotated[
            Optional[str],
            Opt("--epochs", help="Epoch counts to try, comma-separated (default: the config's only)."),
        ] = None,
        lora_r: Annotated[
            Optional[str],
            Opt("--lora-r", help="LoRA ranks to try, comma-separated (default: the config's only)."),
        ] = None,
        strategy: Annotated[str, Opt("--strategy", help="grid (every combination) or random.")] = "grid",
        n_trials: Annotated[
            Optional[int],
            Opt("--n-trials", help="Trials to run (random) or at most (grid) (default: the whole grid)."),
        ] = None,
        overwrite: Overwrite = False,
        cli: typer.Context = None,  # type: ignore[assignment]
    ) -> None:
        """Search a small grid or random space on the validation metric and print the ranked trials."""
        from finetune.sweep import print_table
        from finetune.sweep import sweep as do_sweep
        from schemas.errors import UsageError
        from schemas.manifest import RunManifest

        if strategy not in ("grid", "random"):
            raise UsageError(f"--strategy {strategy!r} is unknown", fix="use grid or random")
        flags = {"data.split_dir": data, "data.train": train, "data.val": val, "out": out,
                 "max_steps": max_steps}
        cfg = train_config(base, flags)
        from curate.io.outputs import claim_outputs

        claim_outputs(cli, folder=cfg.out, overwrite=overwrite, command="finetune sweep")
        space = {
            k: v
            for k, v in {
                "lr": _values(lr, float),
                "batch_size": _values(batch_size, int),
                "epochs": _values(epochs, float),
                "lora_r": _values(lora_r, int),
            }.items()
            if v
        }
        result = do_sweep(cfg, space, n_trials=n_trials, strategy=strategy, seed=cfg.seed)
        print_table(result)
        ranked = [
            {"params": t.params, result.metric: t.value, "metrics": t.metrics, "out": t.out}
            for t in result.ranked()
        ]
        from curate import write_text

        write_text(json.dumps(ranked, indent=1), Path(cfg.out) / "sweep.json")
        manifest = RunManifest.create(
            "finetune sweep",
            inputs=[p for p in (cfg.data.split_dir, cfg.data.train, cfg.data.val) if p],
            config=cfg.model_dump(mode="json"),
            seed=cfg.seed,
            extra={"space": space, "strategy": strategy, "n_trials": n_trials},
        )
        write_text(manifest.model_dump_json(indent=1), Path(cfg.out) / "manifest.json")
