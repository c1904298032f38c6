"""Command-line options shared by every curate command that reads data."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from common.options import Limit, OptionGroup, overwrite_option
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
Overwrite = overwrite_option(
    "Replace an earlier datavet output folder (never a folder another program wrote; default: refuse)."
)
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

# The loader's options, in the order `--help` lists them; `loader_fields` turns their values into LoadConfig
# fields. `--seed` and `--split` are not in it: what they seed or pick differs between commands.
LOADER = OptionGroup(
    kind=(Kind, None),
    format=(Format, "auto"),
    text_field=(TextField, None),
    label_field=(LabelField, None),
    prompt_field=(PromptField, None),
    completion_field=(CompletionField, None),
    messages_field=(MessagesField, None),
    id_field=(IdField, "id"),
    encoding=(Encoding, None),
    head=(Head, None),
    sample=(Sample, None),
    limit=(Limit, None),
)


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


def loader_fields(values: dict[str, Any]) -> dict[str, Any]:
    """The LoadConfig fields that the `LOADER` options (or a part of them) set, from their values.

    An option left at its default gives None (so a config file's value stands), `--kind` gives the kind's
    name, and the deprecated `--limit` becomes `head` (with its note on stderr).
    """
    fields = dict(values)
    limit = fields.pop("limit", None)
    fields["head"] = head_or_limit(fields.get("head"), limit)
    defaults = {k: default for k, (_, default) in LOADER.options.items() if k in fields}
    fields = {k: None if v == defaults.get(k) else v for k, v in fields.items()}
    if fields.get("kind") is not None:
        fields["kind"] = fields["kind"].value
    return fields


def load_config(path: str, **fields: Any) -> LoadConfig:
    """The LoadConfig of `path` from command-line values; a field given as None keeps its default."""
    from schemas.configs.base import validate_config

    given = {k: v for k, v in fields.items() if v is not None}
    return validate_config(LoadConfig, {"path": path, **given}, "command-line options")


__all__ = ["claim_outputs", "load_config"]
