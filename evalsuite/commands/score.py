"""`evalsuite score`: score given predictions (`id`, `prediction` per row) against a references file.

Every row of both files is accounted for (scored / unmatched / without prediction / duplicate / invalid;
see `evalsuite.scoring`); every metric gets a seeded bootstrap CI, per-item scores and, with `--slice-by`,
per-slice scores. `--metric-args KEY.OPTION=VALUE` sets any metric option (docs/metrics.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from evalsuite.commands.options import Json, MetricConfig, MetricSet, metric_options

TASKS = ("classification", "generation", "completion", "chat", "text")


def score_files(task: str, predictions: Path, references: str, rouge_tokenizer: str | None = None, *,
                metric_args: dict[str, dict[str, Any]] | None = None, reference_field: str | None = None,
                slice_by: list[str] | None = None, n_resamples: int = 1000, confidence: float = 0.95,
                seed: int = 0) -> dict:
    """The `--json` contract for `score`: metrics (value, ci, signature, ...), n, accounting, items, slices.

    Raises:
        UsageError: Unknown task, missing file, bad options, or no prediction matching a reference.
    """
    from evalsuite.metrics.args import merge_args
    from evalsuite.scoring import match, score_matched
    from schemas.errors import UsageError

    if task not in TASKS:
        raise UsageError(f"unknown task {task!r}", fix="use --kind classification, completion, chat or text")
    task = "classification" if task == "classification" else "generation"
    if not 0 < confidence < 1:
        raise UsageError(f"--confidence {confidence} is not in (0, 1)", fix="use e.g. --confidence 0.95")
    args = merge_args({"rouge": {"tokenizer": rouge_tokenizer}} if rouge_tokenizer else None, metric_args)
    weight_field = (args.get("classification") or {}).get("sample_weight") or None
    m = match(predictions, references, task, reference_field=reference_field,
              weight_field=str(weight_field) if weight_field else None)
    return score_matched(m, task, args, n_resamples=n_resamples, confidence=confidence, seed=seed,
                         slice_by=slice_by)


def _fmt(v: Any) -> str:
    return "       nan" if v is None else f"{v:>10.4f}"


def print_result(res: dict) -> None:
    """Metrics with CI and signature on stdout; the row accounting and every warning on stderr."""
    for k, v in res["metrics"].items():
        ci = f"[{v['ci'][0]:.4f}, {v['ci'][1]:.4f}]" if v.get("ci") else "[no CI]"
        typer.echo(f"{k:<18} {_fmt(v['value'])}  {ci:<20}  {v['signature']}")
    acc = res["accounting"]
    p, r = acc["predictions"], acc["references"]
    typer.echo(
        f"n={res['n']} scored; predictions: {p['rows']} rows = {p['scored']} scored + {p['unmatched']} "
        f"unmatched + {p['duplicate']} duplicate + {p['invalid']} invalid",
        err=True,
    )
    typer.echo(
        f"references ({acc['reference_field']}): {r['rows']} rows = {r['scored']} scored + "
        f"{r['without_prediction']} without prediction + {r['duplicate']} duplicate + {r['invalid']} invalid",
        err=True,
    )
    if not acc["clean"]:
        from collections import Counter

        reasons = Counter((x["file"], x["reason"]) for x in res["problems"])
        typer.echo("warning: not a clean one-to-one match; rows not scored: "
                   + "; ".join(f"{f} {why}: {n}" for (f, why), n in sorted(reasons.items())), err=True)
        for x in res["problems"][:5]:
            typer.echo(
                f"  {x['file']} line {x['line']} id={x['id']!r}: {x['status']} ({x['reason']})", err=True
            )
        if len(res["problems"]) > 5:
            typer.echo(f"  ... {len(res['problems']) - 5} more in the JSON's \"problems\"", err=True)
    for note in res.get("notes", []):
        typer.echo(f"warning: {note}", err=True)
    b = res["bootstrap"]
    typer.echo(f"CIs: {b['confidence']:.0%} percentile bootstrap, {b['n_resamples']} resamples of items, "
               f"seed {b['seed']}", err=True)


def register(app: typer.Typer) -> None:
    @app.command()
    def score(
        kind: Annotated[
            str,
            typer.Option(
                "--kind", help="classification (labels) or completion/chat/text (generated text) (required)."
            ),
        ],
        predictions: Annotated[
            Path,
            typer.Option(
                "--predictions",
                help="JSONL with id and prediction (and optionally probabilities: {label: p}) (required).",
            ),
        ],
        references: Annotated[
            str,
            typer.Option(
                "--references",
                help="Data file with id and the reference "
                "(label, completion or text; a list = several references / labels) (required).",
            ),
        ],
        metric_args: Annotated[
            Optional[list[str]],
            typer.Option(
                "--metric-args",
                help="KEY.OPTION=VALUE, "
                "repeatable, e.g. bleu.tokenize=intl, rouge.use_stemmer=true, "
                "classification.pos_label=pos (docs/metrics.md lists all) (default: none).",
            ),
        ] = None,
        config: MetricConfig = None,
        sets: MetricSet = None,
        reference_field: Annotated[
            Optional[str],
            typer.Option(
                "--reference-field",
                help="Reference column "
                "(default: label; generation: completion, reference, references or text).",
            ),
        ] = None,
        slice_by: Annotated[
            Optional[list[str]],
            typer.Option(
                "--slice-by",
                help="Also score each value of "
                "this field (reference row, else prediction row); repeatable (default: none).",
            ),
        ] = None,
        strict: Annotated[
            bool,
            typer.Option(
                "--strict",
                help="Exit 1 unless every row of both files is "
                "scored one-to-one (the JSON is still written) (default: off).",
            ),
        ] = False,
        n_resamples: Annotated[
            int,
            typer.Option(
                "--n-resamples", help="Bootstrap resamples for the CIs (0: none) (default: 1000).", min=0
            ),
        ] = 1000,
        confidence: Annotated[float, typer.Option("--confidence", help="CI mass (default: 0.95).")] = 0.95,
        seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed (default: 0).")] = 0,
        rouge_tokenizer: Annotated[
            Optional[str],
            typer.Option(
                "--rouge-tokenizer",
                help="Same as --metric-args rouge.tokenizer=default|unicode (default: default).",
            ),
        ] = None,
        json_out: Json = None,
    ) -> None:
        """Score given predictions against references; print every metric with its CI and signature."""
        from curate.io.writers import write_json

        task = "classification" if kind == "classification" else "generation"
        margs = metric_options(config, sets, metric_args)
        res = score_files(task, predictions, references, rouge_tokenizer, metric_args=margs,
                          reference_field=reference_field, slice_by=slice_by, n_resamples=n_resamples,
                          confidence=confidence, seed=seed)
        print_result(res)
        if json_out:
            write_json(res, json_out)
            typer.echo(f"wrote {json_out}", err=True)
        if strict and not res["accounting"]["clean"]:
            typer.echo("error: --strict and the match is not one-to-one (exit 1)", err=True)
            raise typer.Exit(1)
