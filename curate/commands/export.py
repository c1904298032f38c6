"""`curate export bundled:NAME OUT`: write a bundled (or any readable) dataset as JSONL/Parquet/HF folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from common.options import grouped
from curate.commands import options as o


def register(app: typer.Typer) -> None:
    @app.command()
    @grouped
    def export(
        data: Annotated[
            str, typer.Argument(help="bundled:tweets, bundled:bbc, bundled:chat, or any data path.")
        ],
        out: Annotated[Path, typer.Argument(help="Output: .jsonl, .parquet, or a folder (HF save_to_disk).")],
        loader: dict = o.LOADER.without("format", "id_field", "encoding"),
        seed: o.SampleSeed = 0,
        split: o.HfSplit = None,
        overwrite: o.Overwrite = False,
    ) -> None:
        """Write DATA's validated records to OUT (quarantined rows go to OUT's quarantine file)."""
        from curate.console import print_load_summary
        from curate.io import load, write_jsonl, write_records
        from curate.io.outputs import check_dir_target, check_file_target
        from curate.io.writers import writer_format

        fmt = writer_format(out)  # validate the output name before spending time on the load
        qpath = out.with_name(out.stem + ".quarantine.jsonl")
        if fmt == "hf":
            check_dir_target(out, overwrite=overwrite)
        else:
            check_file_target(out)
        check_file_target(qpath)
        loaded = load(o.load_config(data, **o.loader_fields(loader), seed=seed, split=split))
        print_load_summary(loaded.summary)
        n = write_records(loaded.records, out, fmt, overwrite=overwrite)
        typer.echo(f"wrote {n:,} records to {out}")
        if loaded.quarantine:
            write_jsonl(loaded.quarantine, qpath)
            typer.echo(f"wrote {len(loaded.quarantine):,} quarantined rows to {qpath}")
