"""`evalsuite perplexity`: perplexity of a causal LM (optionally with an adapter) on a file.

Text records (plain documents, or the text of classification records) are scored with sliding windows; only
the fields scoring uses are required: text, or prompt/completion, or messages. SFT records
(prompt/completion or chat) are scored, by default
(`--template auto`), through the trainer's formatting (the chat template when the tokenizer has one) on
completion tokens only; `--template raw` scores raw prompt + completion with sliding windows instead. The
signature printed with the numbers says which.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from common.options import Limit, precision_option
from evalsuite.commands.options import Json

Precision = precision_option(
    "What the model computes in: auto (fp32 on the CPU), fp32, or bf16 on a CPU with bf16 instructions "
    "(faster; named in the signature, so the figures are not mistaken for fp32 ones)."
)


def register(app: typer.Typer) -> None:
    @app.command()
    def perplexity(
        model: Annotated[str, typer.Option("--model", help="smollm2 or a causal-LM folder (required).")],
        data: Annotated[
            str,
            typer.Option(
                "--data", help="Text, prompt/completion or chat data file, or bundled:NAME (required)."
            ),
        ],
        adapter: Annotated[
            Optional[str], typer.Option("--adapter", help="A LoRA adapter folder (default: none).")
        ] = None,
        max_length: Annotated[
            Optional[int],
            typer.Option(
                "--max-length",
                help="Window length in tokens (raw); "
                "truncation length for --template auto (use the trainer's max_length; default: "
                "the model's max positions, capped at 1024).",
            ),
        ] = None,
        stride: Annotated[
            Optional[int],
            typer.Option("--stride", help="Raw windows only: window step (default: max-length/2)."),
        ] = None,
        kind: Annotated[
            Optional[str],
            typer.Option(
                "--kind",
                help="text (plain documents), classification (its "
                "text), completion or chat (SFT: completion tokens only) "
                "(default: inferred from the fields).",
            ),
        ] = None,
        template: Annotated[
            str,
            typer.Option(
                "--template",
                help="SFT records: auto = the trainer's formatting "
                "(chat template when the tokenizer has one), one pass per record truncated at "
                "--max-length; raw = prompt + completion text, sliding windows.",
            ),
        ] = "auto",
        sample: Annotated[
            Optional[int],
            typer.Option("--sample", min=1, help="A seeded random sample of N records (default: all)."),
        ] = None,
        head: Annotated[
            Optional[int], typer.Option("--head", min=1, help="First N records only (default: all).")
        ] = None,
        seed: Annotated[int, typer.Option("--seed", help="Seed of --sample (default: 0).")] = 0,
        limit: Limit = None,
        batch_size: Annotated[
            int, typer.Option("--batch-size", min=1, help="Records/windows per forward pass.")
        ] = 8,
        slice_by: Annotated[
            Optional[list[str]],
            typer.Option(
                "--slice-by",
                help="Also report token perplexity "
                "per value of this record field (or metadata key), token-weighted, with a bootstrap "
                "CI; repeatable (default: none).",
            ),
        ] = None,
        precision: Precision = "auto",
        json_out: Json = None,
    ) -> None:
        """Token perplexity, bits per byte and word perplexity, each labelled, with the scoring signature."""
        import json

        from common.precision import resolve
        from curate import load
        from curate.commands.options import head_or_limit
        from evalsuite.perplexity import TEMPLATES, load_causal_lm, sft_perplexity
        from evalsuite.perplexity import perplexity as ppl
        from schemas.errors import UsageError

        if template not in TEMPLATES:
            raise UsageError(f"unknown --template {template!r}", fix="use --template auto or --template raw")
        resolved = resolve(precision or "auto", cuda=False)   # evalsuite scores on the CPU
        from common.models import check_max_length, resolve_model
        from curate.console import print_load_summary

        if json_out is not None:
            from curate.io.outputs import check_file_target

            check_file_target(json_out)
        check_max_length(resolve_model(model).path, max_length)  # before the data or the weights load
        loaded = load(data, kind=kind, head=head_or_limit(head, limit), sample=sample, seed=seed)
        print_load_summary(loaded.summary)  # says how many rows were quarantined, and why
        recs = loaded.records
        sft = bool(recs) and all("completion" in r or "messages" in r for r in recs)
        if not recs:
            raise UsageError(f"no usable records in {data}", fix="check the file with `curate check`")
        lm, tok = load_causal_lm(model, adapter)
        if sft and template == "auto":
            cap = getattr(lm.config, "max_position_embeddings", 1024) or 1024
            res = sft_perplexity(
                lm, tok, recs, max_length=int(max_length or min(cap, 1024)), batch_size=batch_size,
                precision=resolved,
            )
        else:
            if any("messages" in r for r in recs):
                raise UsageError("chat records can only be scored through the chat template",
                                 fix="use --template auto, or load the data as --kind completion")
            docs = [r if "completion" in r else r.get("text") for r in recs]
            res = ppl(lm, tok, docs, max_length=max_length, stride=stride, batch_size=batch_size,
                      precision=resolved)
        typer.echo(f"token perplexity       {res.token_perplexity:.4f}  (exp of mean NLL per scored token, "
                   f"{res.n_tokens} tokens)")
        typer.echo(f"bits per byte          {res.bits_per_byte:.4f}  ({res.n_bytes} UTF-8 bytes)")
        typer.echo(f"word perplexity        {res.word_perplexity:.4f}  ({res.n_words} whitespace words)")
        if res.truncated:
            typer.echo(f"truncated records      {res.truncated} of {res.n_documents} (cut at max length)")
        typer.echo(f"signature              {res.signature}")
        slices = {}
        if slice_by:
            from evalsuite.perplexity_slices import group_value, perplexity_by_group

            for fld in slice_by:
                slices[fld] = perplexity_by_group(
                    res.doc_nll_sum, res.doc_tokens, [group_value(r, fld) for r in recs]
                )
                for g in slices[fld]:
                    ppl_s = (
                        "n/a (no scored tokens)"
                        if g["token_perplexity"] is None
                        else f"{g['token_perplexity']:.4f}"
                    )
                    ci = f"  CI [{g['ci'][0]:.4f}, {g['ci'][1]:.4f}]" if g["ci"] else ""
                    typer.echo(f"  {fld}={g['value']:<20} {ppl_s}{ci}  ({g['n_documents']} documents, "
                               f"{g['n_tokens']} tokens)")
        if json_out:
            from curate import write_text
            from schemas.manifest import invocation

            settings = {
                "model": model,
                "data": data,
                "adapter": adapter,
                "max_length": max_length,
                "stride": stride,
                "kind": kind,
                "template": template,
                "head": head,
                "sample": sample,
                "seed": seed,
                "limit": limit,
                "batch_size": batch_size,
                "precision": resolved,
            }
            write_text(json.dumps({"metrics": res.metrics(), "n_tokens": res.n_tokens,
                                   "n_documents": res.n_documents, "truncated": res.truncated,
                                   **({"slices": slices} if slices else {}),
                                   "manifest": {"config": settings, **invocation()}}, indent=2), json_out)
            typer.echo(f"wrote {json_out}")
