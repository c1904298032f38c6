"""`evalsuite score`: score given predictions (`id`, `prediction` per line) against a data file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def read_predictions(path: Path) -> dict[str, str]:
    """{id: prediction} from a JSONL file with `id` and `prediction` on every line."""
    import json

    from schemas.errors import UsageError

    if not path.exists():
        raise UsageError(f"{path} does not exist", fix="pass a JSONL file with one {\"id\", \"prediction\"} per line")
    out: dict[str, str] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out[str(row["id"])] = str(row["prediction"])
        except (ValueError, KeyError, TypeError):
            raise UsageError(f"{path}:{n} is not a JSON object with id and prediction",
                             fix="write one {\"id\": ..., \"prediction\": ...} object per line") from None
    return out


def score_files(task: str, predictions: Path, references: str, rouge_tokenizer: str = "default") -> dict:
    """The `--json` contract for `score`: {"metrics": {...}, "n": int, "missing": int}."""
    from curate import load
    from evalsuite.metrics import metrics_for, score_all
    from schemas.errors import UsageError

    preds = read_predictions(predictions)
    recs = load(references, kind="classification" if task == "classification" else "completion").records
    field = "label" if task == "classification" else "completion"
    have = [r for r in recs if str(r["id"]) in preds]
    if not have:
        raise UsageError(f"no prediction id matches a reference id in {references}",
                         fix="use the reference file's `id` values in the predictions file")
    refs = [str(r[field]) for r in have]
    if task == "generation":
        from evalsuite.metrics.generation import warn_non_ascii

        warn_non_ascii(refs, rouge_tokenizer)
    opts = {"rouge_tokenizer": rouge_tokenizer} if task == "generation" else {}
    metrics = score_all(metrics_for(task, **opts), [preds[str(r["id"])] for r in have], refs)
    return {"metrics": metrics, "n": len(have), "missing": len(recs) - len(have)}


def register(app: typer.Typer) -> None:
    @app.command()
    def score(
        task: Annotated[str, typer.Option("--task", help="classification or generation.")],
        predictions: Annotated[Path, typer.Option("--predictions", help="JSONL with id and prediction.")],
        references: Annotated[str, typer.Option("--references", help="Data file with label or completion.")],
        rouge_tokenizer: Annotated[str, typer.Option("--rouge-tokenizer", help="default or unicode.")] = "default",
        json_out: Annotated[Optional[Path], typer.Option("--json", help="Write the JSON result here.")] = None,
    ) -> None:
        """Score given predictions against references; print every metric with its signature."""
        import json

        res = score_files(task, predictions, references, rouge_tokenizer)
        for k, v in res["metrics"].items():
            typer.echo(f"{k:<18} {v['value']:>10.4f}   {v['signature']}")
        typer.echo(f"n={res['n']} (references without a prediction: {res['missing']})")
        if json_out:
            from curate import write_text

            write_text(json.dumps(res, indent=2), json_out)
            typer.echo(f"wrote {json_out}")
