"""`curate split DATA --out DIR`: stratified, group-aware holdout or k-fold splits with a manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from common.options import grouped, out_option
from curate.commands import options as o

Out = out_option("Output folder (new, empty, or an earlier split).", Path)


def register(app: typer.Typer) -> None:
    @app.command()
    @grouped
    def split(
        data: Annotated[str, typer.Argument(help="Data file, folder, or bundled:NAME.")],
        out: Out,
        val: Annotated[
            Optional[float], typer.Option("--val", help="Validation fraction (holdout; default 0.1).")
        ] = None,
        test: Annotated[
            Optional[float],
            typer.Option(
                "--test", help="Test fraction (default 0.1 for holdout; with --kfold, held out of all folds)."
            ),
        ] = None,
        kfold: Annotated[
            Optional[int],
            typer.Option("--kfold", help="Write K folds instead of a holdout split (default: holdout)."),
        ] = None,
        stratify: Annotated[
            str, typer.Option("--stratify", help="auto, label, length, none, or a field name.")
        ] = "auto",
        group_field: Annotated[
            Optional[str],
            typer.Option(
                "--group-field", help="Keep rows sharing this field's value in one split (default: none)."
            ),
        ] = None,
        group_by: Annotated[
            Optional[str],
            typer.Option(
                "--group-by",
                help="near_duplicate or exact_duplicate: keep duplicate clusters in one split "
                "(default: none).",
            ),
        ] = None,
        threshold: Annotated[
            float, typer.Option("--threshold", help="Jaccard threshold for --group-by near_duplicate.")
        ] = 0.8,
        dedup_key: Annotated[
            Optional[str],
            typer.Option(
                "--dedup-key",
                help="What --group-by clustering and the straddle count ignore: a comma list of "
                "whitespace, urls, mentions, numbers, punctuation, case; or social, none "
                "(default: whitespace).",
            ),
        ] = None,
        rare_class: Annotated[
            str,
            typer.Option("--rare-class", help="Classes too small for every split: error, drop, train-only."),
        ] = "error",
        length_buckets: Annotated[
            int, typer.Option("--length-buckets", help="Quantile buckets for --stratify length.")
        ] = 4,
        method: Annotated[
            str, typer.Option("--method", help="balanced (default); sklearn or iterstrat, for comparison.")
        ] = "balanced",
        seed: Annotated[
            int, typer.Option("--seed", help="Seed; same data, options and seed give identical files.")
        ] = 0,
        loader: dict = o.LOADER,
        overwrite: o.Overwrite = False,
    ) -> None:
        """Split DATA into train/val/test or K folds, stratified, groups kept whole; DIR/manifest.json."""
        from curate.console import console, print_load_summary
        from curate.io import load
        from curate.io.outputs import check_dir_target
        from curate.split import print_split_report, split_records, write_splits
        from schemas.configs.base import validate_config
        from schemas.configs.split import SplitConfig

        cfg = validate_config(SplitConfig, dict(
            val=val, test=test, kfold=kfold, stratify=stratify, group_field=group_field, group_by=group_by,
            near_dup_threshold=threshold, rare_class=rare_class, length_buckets=length_buckets, method=method,
            seed=seed, **({"dedup_key": o.dedup_key_spec(dedup_key)} if dedup_key else {})), "split options")
        check_dir_target(out, overwrite=overwrite)  # refuse a folder we may not write before the load
        loaded = load(o.load_config(data, **o.loader_fields(loader), seed=seed))
        print_load_summary(loaded.summary)
        result = split_records(loaded.records, cfg, kind=loaded.kind)
        print_split_report(result, console)
        if loaded.summary.subset:
            typer.secho(f"note: split {loaded.summary.subset}", fg="yellow", err=True)
        path = write_splits(result, out, overwrite=overwrite)
        typer.echo(f"wrote {len(result.files)} split files and manifest.json to {path}")
