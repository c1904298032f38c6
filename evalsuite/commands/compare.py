"""`evalsuite compare`: base vs tuned on the same test items, with paired bootstrap CIs and a report."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from common.options import Limit, json_option, out_option, overwrite_option, precision_option
from evalsuite.commands.options import MetricConfig, MetricSet, metric_options

Precision = precision_option(
    "What both models compute in: auto (fp32 on the CPU), fp32, or bf16 on a CPU with bf16 instructions "
    "(faster; recorded in the report)."
)
Out = out_option("Report folder: index.html, report.md, report.json, manifest.json (default: print only).")
Json = json_option(
    "Write the JSON result ({metrics: {name: {value, ci, signature, ...}}, deltas, ...}) to this file "
    "(default: none)."
)
Overwrite = overwrite_option(
    "Replace an earlier datavet report folder (never a folder another program wrote; default: refuse)."
)


def register(app: typer.Typer) -> None:
    @app.command()
    def compare(
        base: Annotated[
            str, typer.Option("--base", help="Base model: minilm, smollm2 or a folder (required).")
        ],
        tuned: Annotated[
            str,
            typer.Option(
                "--tuned",
                help="Tuned model folder or LoRA adapter folder; a `finetune "
                "run` output adds training curves (required).",
            ),
        ],
        data: Annotated[str, typer.Option("--data", help="Test data file or bundled:NAME (required).")],
        kind: Annotated[
            Optional[str],
            typer.Option(
                "--kind",
                help="classification (accuracy/F1; base = linear "
                "probe, needs --train-data), completion or chat (BLEU/chrF/ROUGE/perplexity), or text "
                "(perplexity and bits per byte on held-out documents) (default: inferred from the data's "
                "fields).",
            ),
        ] = None,
        train_data: Annotated[
            Optional[str],
            typer.Option(
                "--train-data",
                help="Classification: training data for the base linear probe (default: none).",
            ),
        ] = None,
        sample: Annotated[
            Optional[int],
            typer.Option(
                "--sample", min=1, help="A seeded random sample of N test records (--seed) (default: all)."
            ),
        ] = None,
        head: Annotated[
            Optional[int],
            typer.Option(
                "--head",
                min=1,
                help="First N test records only (a sorted "
                "file gives a biased subset: prefer --sample; default: all).",
            ),
        ] = None,
        limit: Limit = None,
        probe_sample: Annotated[
            Optional[int],
            typer.Option(
                "--probe-sample",
                min=1,
                help="Classification: fit "
                "the base linear probe on a seeded sample of N training records (default: all).",
            ),
        ] = None,
        adapter: Annotated[
            Optional[str],
            typer.Option(
                "--adapter",
                help="A LoRA adapter to apply on --tuned; not "
                "needed when --tuned is itself an adapter folder (default: none).",
            ),
        ] = None,
        max_new_tokens: Annotated[
            int, typer.Option("--max-new-tokens", help="Generation: greedy decoding cap per prompt.")
        ] = 32,
        batch_size: Annotated[int, typer.Option("--batch-size", help="Prediction/scoring batch size.")] = 8,
        seed: Annotated[int, typer.Option("--seed", help="Bootstrap (and probe) seed.")] = 0,
        n_resamples: Annotated[
            int, typer.Option("--n-resamples", help="Paired bootstrap resamples.", min=10)
        ] = 1000,
        rouge_tokenizer: Annotated[
            str,
            typer.Option(
                "--rouge-tokenizer",
                help="Generation: default (rouge-score, "
                "ASCII a-z0-9 only) or unicode (keeps non-Latin words).",
            ),
        ] = "default",
        metric_args: Annotated[
            Optional[list[str]],
            typer.Option(
                "--metric-args",
                help="KEY.OPTION=VALUE, "
                "repeatable (e.g. bleu.tokenize=intl); shown in every signature; docs/metrics.md (default: "
                "each library's defaults).",
            ),
        ] = None,
        config: MetricConfig = None,
        sets: MetricSet = None,
        perplexity: Annotated[
            bool,
            typer.Option(
                "--perplexity/--no-perplexity",
                help="Generation: also compare "
                "completion-only perplexity of the references (trainer's template).",
            ),
        ] = True,
        ppl_max_length: Annotated[
            Optional[int],
            typer.Option(
                "--ppl-max-length",
                help="Generation: truncation for "
                "perplexity (default: the trainer's max_length from the run's config.yaml, else "
                "the model's max positions, at most 1024); text: the sliding window length.",
                min=2,
            ),
        ] = None,
        precision: Precision = "auto",
        out: Out = None,
        json_out: Json = None,
        overwrite: Overwrite = False,
        cli: typer.Context = None,  # type: ignore[assignment]
    ) -> None:
        """Compare a base and a fine-tuned model; print the summary, write the report."""
        import json

        from curate.commands.options import head_or_limit
        from curate.io.outputs import claim_outputs
        from evalsuite.compare import kind_to_task, run_compare
        from evalsuite.metrics.args import merge_args

        task = kind_to_task(kind)
        # "default" is rouge's own default: passing it would make a classification (or inferred-kind) run
        # refuse an option it has no metric for
        opts = merge_args({"rouge": {"tokenizer": rouge_tokenizer}} if rouge_tokenizer != "default" else None,
                          metric_options(config, sets, metric_args))
        claim_outputs(cli, folder=out, files=(json_out,), overwrite=overwrite, command="evalsuite compare")
        res = run_compare(
            base,
            tuned,
            data,
            task=task,
            train_data=train_data,
            adapter=adapter,
            head=head_or_limit(head, limit),
            sample=sample,
            probe_sample=probe_sample,
            max_new_tokens=max_new_tokens,
            batch_size=batch_size,
            n_resamples=n_resamples,
            seed=seed,
            report_dir=out,
            metric_options=opts,
            perplexity=perplexity,
            ppl_max_length=ppl_max_length,
            precision=precision or "auto",
        )
        for k, d in res.deltas.items():
            typer.echo(f"{k:<18} base {d.base:9.4f}  tuned {d.tuned:9.4f}  delta {d.delta:+9.4f}  "
                       f"CI [{d.ci[0]:+.4f}, {d.ci[1]:+.4f}]  {d.status}")
        if res.perplexity:
            typer.echo(
                f"perplexity: {res.signatures['perplexity']} "
                f"({res.perplexity['n_tokens']} tokens; lower is better)"
            )
        if res.curves_source:
            typer.echo(f"training curves from {res.curves_source}")
        if res.support:
            typer.echo("test items per class: " + ", ".join(f"{c} {n}" for c, n in res.support.items()))
        v = res.verdict()
        typer.secho(
            f"verdict: {v.outcome}: {v.headline}", fg={"pass": "green", "fail": "red"}.get(v.status, "yellow")
        )
        for w in res.warnings:
            typer.secho(f"warning: {w}", fg="yellow", err=True)
        if res.paths:
            typer.echo(f"report: {res.paths['html']}")
        if json_out:
            from curate import write_text

            write_text(json.dumps(res.to_json(), indent=2, default=str), json_out)
            typer.echo(f"wrote {json_out}")
