"""`finetune run`: resolve the config (YAML, then flags, then `--set key=value`), train, print the summary."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from common.options import grouped, out_option, overwrite_option
from finetune.commands.options import BASE, KNOBS, key_help, resolve_config, train_config

Opt = typer.Option
Out = out_option(key_help("out", "Output folder: model, metrics, manifest"), Optional[str])
Overwrite = overwrite_option(
    "Replace an earlier run in --out (never a folder another program wrote; default: refuse)."
)

__all__ = ["claim_run_dir", "print_result", "register", "resolve_config"]


def print_result(result: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"finetune run -> {result.out}", show_header=True)
    t.add_column("metric")
    t.add_column("best", justify="right")
    t.add_column("final", justify="right")
    for k in result.final_metrics:
        t.add_row(k, f"{result.best_metrics.get(k, float('nan')):.4f}", f"{result.final_metrics[k]:.4f}")
    Console().print(t)
    Console().print(
        f"steps {result.steps}  stop: {result.stop_reason}  best step {result.best_step}  "
        f"{result.tokens_per_s:,.0f} tok/s  peak {result.peak_mem_mb:,.0f} MB  {result.wall_s:.1f} s"
    )
    for split in ("train", "val"):
        st = result.data_stats.get(split, {})
        q = sum(result.data_stats.get("quarantined", {}).get(split, {}).values())
        if "blocks" in st:  # continued pre-training: documents packed into blocks, nothing truncated
            Console().print(
                f"{split}: {st['rows']} documents ({st['empty_documents']} empty), {st['tokens']} tokens "
                f"in {st['blocks']} blocks of max_length, {q} quarantined by the loader"
            )
            continue
        Console().print(
            f"{split}: {st.get('rows', 0)} rows, {st.get('truncated', 0)} truncated at max_length, "
            f"{st.get('no_answer_tokens', 0)} dropped with no answer token left, "
            f"{q} quarantined by the loader"
        )


def register(app: typer.Typer) -> None:
    @app.command()
    @grouped
    def run(
        base: dict = BASE,
        data: Annotated[
            Optional[str],
            Opt(
                "--data",
                help="Split folder with train.* and val.* (from `curate "
                "split`); or use --train/--val (default: none; config key data.split_dir)",
            ),
        ] = None,
        train: Annotated[
            Optional[str],
            Opt("--train", help=key_help("data.train", "Training file, folder or bundled:NAME")),
        ] = None,
        val: Annotated[
            Optional[str],
            Opt(
                "--val",
                help=key_help(
                    "data.val", "Validation file; without one, data.val_fraction of train is held out"
                ),
            ),
        ] = None,
        out: Out = None,
        knobs: dict = KNOBS,
        eval_limit: Annotated[
            Optional[int],
            Opt(
                "--eval-limit",
                min=1,
                help="Validate on a seeded random sample "
                "of N val rows (config key data.limit_val; default: every row).",
            ),
        ] = None,
        resume: Annotated[
            bool,
            Opt("--resume", help="Continue exactly from the checkpoint in --out (default: start afresh)."),
        ] = False,
        merge: Annotated[
            bool,
            Opt(
                "--merge", help="LoRA: also write merged full weights to OUT/merged (default: adapter only)."
            ),
        ] = False,
        no_progress: Annotated[
            bool,
            Opt(
                "--no-progress",
                help="Show no progress on stderr (default: a bar on a terminal, periodic lines otherwise).",
            ),
        ] = False,
        overwrite: Overwrite = False,
        allow_pickle: Annotated[
            bool,
            Opt(
                "--allow-pickle",
                help="Also load pickle weights (pytorch_model.bin), "
                "which can run code: only files you trust (default: safetensors "
                "only).",
            ),
        ] = False,
    ) -> None:
        """Fine-tune a model on curated splits (classification, SFT or continued pre-training on text; full,
        LoRA or QLoRA)."""
        from finetune.train import run as train_run

        flags = {
            "data.split_dir": data,
            "data.train": train,
            "data.val": val,
            "out": out,
            "data.limit_val": eval_limit,
            "resume": resume or None,
            "merge": merge or None,
            "progress": False if no_progress else None,
            "allow_pickle": allow_pickle or None,
        }
        cfg = train_config(base, flags, knobs)
        from common.models import check_max_length, resolve_model

        check_max_length(resolve_model(cfg.model).path, cfg.max_length)  # before the output folder or weights
        with claim_run_dir(cfg.out, resume=cfg.resume, overwrite=overwrite):
            result = train_run(cfg)
        from accelerate import PartialState

        if PartialState().is_main_process:  # under `accelerate launch`, one summary, not one per process
            print_result(result)


def claim_run_dir(out: str, *, resume: bool, overwrite: bool) -> Any:
    """The output-folder claim of a training run: new, empty, or an earlier run with --overwrite
    (--resume: none).

    Only the main process claims (under `accelerate launch` every process runs this command); the lock is left
    out for the same reason: the processes of one run share the folder.
    """
    import os
    from contextlib import nullcontext

    from curate.io.outputs import continued_dir, output_dir

    if os.environ.get("RANK", "0") != "0":
        return nullcontext()
    if resume:
        # Continuing a run replaces nothing: the trainer reads the folder's checkpoint (refusing anything that
        # is not one) and writes the rest of the run beside it; the marker then lists what the run added.
        # Folders from before markers existed resume too.
        return continued_dir(out, command="finetune run")
    return output_dir(out, overwrite=overwrite, command="finetune run", lock=False)
