"""`evalsuite perplexity`: sliding-window perplexity of a causal LM (optionally with an adapter) on a file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def perplexity(
        model: Annotated[str, typer.Option("--model", help="smollm2 or a causal-LM folder.")],
        data: Annotated[str, typer.Option("--data", help="Text or prompt/completion data file, or bundled:NAME.")],
        adapter: Annotated[Optional[str], typer.Option("--adapter", help="A LoRA adapter folder.")] = None,
        max_length: Annotated[Optional[int], typer.Option("--max-length", help="Window length in tokens.")] = None,
        stride: Annotated[Optional[int], typer.Option("--stride", help="Window step (default max-length/2).")] = None,
        kind: Annotated[Optional[str], typer.Option("--kind", help="classification (text) or completion (SFT: "
                                                    "completion tokens only).")] = None,
        limit: Annotated[Optional[int], typer.Option("--limit", help="First N records only.")] = None,
        batch_size: Annotated[int, typer.Option("--batch-size")] = 8,
        json_out: Annotated[Optional[Path], typer.Option("--json", help="Write the JSON result here.")] = None,
    ) -> None:
        """Token perplexity, bits per byte and word perplexity, each labelled, with the window signature."""
        import json

        from curate import load
        from evalsuite.perplexity import load_causal_lm
        from evalsuite.perplexity import perplexity as ppl

        recs = load(data, kind=kind, limit=limit).records
        docs = [r if "completion" in r else r.get("text") for r in recs]
        if any(d is None for d in docs):
            from schemas.errors import UsageError

            raise UsageError("chat records are not supported by perplexity yet",
                             fix="load the data as --kind completion or --kind classification")
        lm, tok = load_causal_lm(model, adapter)
        res = ppl(lm, tok, docs, max_length=max_length, stride=stride, batch_size=batch_size)
        typer.echo(f"token perplexity       {res.token_perplexity:.4f}  (exp of mean NLL per scored token, "
                   f"{res.n_tokens} tokens)")
        typer.echo(f"bits per byte          {res.bits_per_byte:.4f}  ({res.n_bytes} UTF-8 bytes)")
        typer.echo(f"word perplexity        {res.word_perplexity:.4f}  ({res.n_words} whitespace words)")
        typer.echo(f"signature              {res.signature}")
        if json_out:
            json_out.write_text(json.dumps({"metrics": res.metrics(), "n_tokens": res.n_tokens,
                                            "n_documents": res.n_documents}, indent=2))
            typer.echo(f"wrote {json_out}")
