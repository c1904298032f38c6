"""`evalsuite compare`: base vs tuned on the same test items, with paired bootstrap CIs and a report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def compare(
        base: Annotated[str, typer.Option("--base", help="Base model: minilm, smollm2 or a folder.")],
        tuned: Annotated[str, typer.Option("--tuned", help="Tuned model folder or LoRA adapter folder.")],
        data: Annotated[str, typer.Option("--data", help="Test data file or bundled:NAME.")],
        task: Annotated[str, typer.Option("--task", help="classification or generation.")] = "generation",
        train_data: Annotated[Optional[str], typer.Option("--train-data", help="Classification: training data "
                                                          "for the base linear probe.")] = None,
        limit: Annotated[Optional[int], typer.Option("--limit", help="First N test records only.")] = None,
        max_new_tokens: Annotated[int, typer.Option("--max-new-tokens")] = 32,
        batch_size: Annotated[int, typer.Option("--batch-size")] = 8,
        seed: Annotated[int, typer.Option("--seed")] = 0,
        rouge_tokenizer: Annotated[str, typer.Option("--rouge-tokenizer", help="default or unicode.")] = "default",
        report_dir: Annotated[Optional[Path], typer.Option("--report-dir", help="Write the HTML/markdown report here.")] = None,
        json_out: Annotated[Optional[Path], typer.Option("--json", help="Write the JSON result here.")] = None,
    ) -> None:
        """Compare a base and a fine-tuned model; print the summary, write the report."""
        import json

        from evalsuite.compare import run_compare

        opts = {"rouge_tokenizer": rouge_tokenizer} if task == "generation" else {}
        res = run_compare(base, tuned, data, task=task, train_data=train_data, limit=limit,
                          max_new_tokens=max_new_tokens, batch_size=batch_size, seed=seed,
                          report_dir=report_dir, metric_options=opts)
        for k, d in res.deltas.items():
            typer.echo(f"{k:<18} base {d.base:9.4f}  tuned {d.tuned:9.4f}  delta {d.delta:+9.4f}  "
                       f"CI [{d.ci[0]:+.4f}, {d.ci[1]:+.4f}]  {d.status}")
        if res.paths:
            typer.echo(f"report: {res.paths['html']}")
        if json_out:
            json_out.write_text(json.dumps(res.to_json(), indent=2, default=str))
            typer.echo(f"wrote {json_out}")
