"""`curate check DATA`: load, run every registered check, print the summary, write JSON and reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from curate.commands import options as o


def register(app: typer.Typer) -> None:
    @app.command()
    def check(
        data: Annotated[str, typer.Argument(help="Data file, folder, or bundled:NAME.")],
        json_out: Annotated[Optional[Path], typer.Option("--json", help="Write the machine-readable result here.")] = None,
        fail_on: Annotated[str, typer.Option("--fail-on", help="Exit 1 when a check reaches: error, warning, never.")] = "error",
        kind: o.Kind = None, format: o.Format = "auto", text_field: o.TextField = None,
        label_field: o.LabelField = None, prompt_field: o.PromptField = None,
        completion_field: o.CompletionField = None, messages_field: o.MessagesField = None,
        id_field: o.IdField = "id", encoding: o.Encoding = None, limit: o.Limit = None,
    ) -> None:
        """Load DATA, validate every row, run the data checks, and gate on the result."""
        from curate.console import print_check_summary, print_load_summary
        from curate.io import load, write_json
        from curate.runner import GATE_LEVELS, build_checks, check_report, default_context, gate_fails, run_checks
        from schemas.errors import UsageError

        if fail_on not in GATE_LEVELS:
            raise UsageError(f"--fail-on {fail_on!r} is not a gate level", fix="use error, warning or never")
        cfg = o.load_config(data, kind=kind, format=format, text_field=text_field, label_field=label_field,
                            prompt_field=prompt_field, completion_field=completion_field,
                            messages_field=messages_field, id_field=id_field, encoding=encoding, limit=limit)
        loaded = load(cfg)
        print_load_summary(loaded.summary)
        report = check_report(loaded, run_checks(build_checks(), default_context(loaded)))
        print_check_summary(report)
        if json_out:
            write_json(report, json_out)
            typer.echo(f"wrote {json_out}")
        if gate_fails(report, fail_on):
            typer.secho(f"quality gate failed (--fail-on {fail_on})", fg="red", err=True)
            raise typer.Exit(1)
