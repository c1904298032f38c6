"""Command-line options shared by every curate command that reads data."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from curate.io.outputs import claim_outputs
from schemas.configs.load import LoadConfig
from schemas.records import RecordKind

Kind = Annotated[
    Optional[RecordKind],
    typer.Option(
        "--kind", help="Record kind: classification, completion or chat (default: inferred from the fields)."
    ),
]
Format = Annotated[str, typer.Option("--format", help="auto, jsonl, json, csv, tsv, parquet, hf, textdir.")]
TextField = Annotated[
    Optional[str],
    typer.Option("--text-field", help="Input column holding the text (default: found by common names)."),
]
LabelField = Annotated[
    Optional[str],
    typer.Option("--label-field", help="Input column holding the label (default: found by common names)."),
]
PromptField = Annotated[
    Optional[str],
    typer.Option("--prompt-field", help="Input column holding the prompt (default: found by common names)."),
]
CompletionField = Annotated[
    Optional[str],
    typer.Option(
        "--completion-field", help="Input column holding the completion (default: found by common names)."
    ),
]
MessagesField = Annotated[
    Optional[str],
    typer.Option(
        "--messages-field", help="Input column holding chat messages (default: found by common names)."
    ),
]
IdField = Annotated[
    str,
    typer.Option(
        "--id-field", help="Input column holding a stable row id (default: id, else the row number)."
    ),
]
Encoding = Annotated[
    Optional[str],
    typer.Option(
        "--encoding", help="Force an encoding (default: UTF-8, with a reported cp1252/latin-1 fallback)."
    ),
]
Overwrite = Annotated[bool, typer.Option(
    "--overwrite", help="Replace an earlier datavet output folder (never a folder another program wrote; "
    "default: refuse).")]
HfSplit = Annotated[Optional[str], typer.Option(
    "--split", help="Which split of a Hugging Face DatasetDict folder to read (default: train).")]
Head = Annotated[
    Optional[int],
    typer.Option(
        "--head",
        min=1,
        help="Use only the first N rows (a sorted file "
        "gives a biased subset: prefer --sample; default: "
        "every row).",
    ),
]
Sample = Annotated[Optional[int], typer.Option("--sample", min=1, help="Use a seeded random sample of N rows "
                                                                      "(default: every row).")]
SampleSeed = Annotated[int, typer.Option("--seed", help="Seed of --sample (and of anything else "
                                                                 "seeded; default: 0).")]
Limit = Annotated[Optional[int], typer.Option("--limit", min=1, hidden=True,
                                              help="Deprecated alias of --head (first N rows).")]


def dedup_key_spec(spec: str):
    """`--dedup-key SPEC` as a DedupKeyConfig; a usage error naming the valid parts."""
    from schemas.configs.dedup_key import DedupKeyConfig
    from schemas.errors import UsageError

    try:
        return DedupKeyConfig.from_spec(spec)
    except ValueError as e:
        raise UsageError(
            f"--dedup-key {spec!r}: {e}", fix="e.g. --dedup-key social, or whitespace,urls,mentions"
        ) from None


def head_or_limit(head: int | None, limit: int | None) -> int | None:
    """`--head`, or the deprecated `--limit` with a one-line note on stderr."""
    if limit is None:
        return head
    from curate.subset import LIMIT_DEPRECATED
    from schemas.errors import UsageError

    typer.secho(f"note: {LIMIT_DEPRECATED}", fg="yellow", err=True)
    if head is not None and head != limit:
        raise UsageError("--limit and --head both given", fix="use --head N only (--limit is its old name)")
    return limit


def load_config(path: str, *, kind=None, format="auto", text_field=None, label_field=None, prompt_field=None,
                completion_field=None, messages_field=None, id_field="id", group_field=None, encoding=None,
                head=None, sample=None, seed=0, split=None) -> LoadConfig:
    from schemas.configs.base import validate_config

    return validate_config(LoadConfig, dict(
        path=path, kind=kind, format=format, text_field=text_field, label_field=label_field,
        prompt_field=prompt_field, completion_field=completion_field, messages_field=messages_field,
        id_field=id_field, group_field=group_field, encoding=encoding, head=head, sample=sample,
        seed=seed, split=split), "command-line options")


__all__ = ["claim_outputs", "load_config"]
