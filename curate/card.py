"""Hugging Face dataset cards (README.md with YAML front matter) for curated data and split folders.

The front matter is built with huggingface_hub's `DatasetCardData` (so the hub's parser reads it back): size
category, task category, the `datavet` tag, `configs` naming each file of each split (the hub's data-files
convention), and `dataset_info` with the features and split sizes. The body says what curation removed and
why, row for row: kept + quarantined + removed = read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MARKER_TAG = "datavet"
TASK_CATEGORY = {"classification": "text-classification", "completion": "text-generation",
                 "chat": "text-generation", "text": "text-generation"}


def size_category(n: int) -> str:
    """The hub's size bucket for `n` rows (n<1K, 1K<n<10K, ...)."""
    bounds = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
              (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B")]
    return next((name for bound, name in bounds if n < bound), "n>1T")


def features(records: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The record fields and their types, from the first record (records of one kind share a shape)."""
    if not records:
        return []
    dtype = {str: "string", int: "int64", float: "float64", bool: "bool"}
    out = []
    for k, v in records[0].items():
        if isinstance(v, list):
            out.append({"name": k, "dtype": "list"})
        elif isinstance(v, dict):
            out.append({"name": k, "dtype": "struct"})
        else:
            out.append({"name": k, "dtype": dtype.get(type(v), "string")})
    return out


def _card(data: Any, body: list[str]) -> str:
    from huggingface_hub import DatasetCard

    return DatasetCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(body) + "\n").content


def curated_card_text(
    *,
    source: str,
    kind: str,
    rows_read: int,
    kept: int,
    quarantined: int,
    quarantine_reasons: dict[str, int],
    removed_by_reason: dict[str, int],
    data_file: str,
    records: list[dict[str, Any]],
    checks: list[str],
    split_files: dict[str, int] | None = None,
) -> str:
    """The card of a `curate run` output folder."""
    from huggingface_hub import DatasetCardData

    configs = [{"config_name": "default", "data_files": [{"split": "train", "path": data_file}]}]
    if split_files:
        configs.append(
            {
                "config_name": "splits",
                "data_files": [
                    {"split": name.replace("/", "_"), "path": f"splits/{name}.jsonl"}
                    for name in sorted(split_files)
                ],
            }
        )
    data = DatasetCardData(
        size_categories=size_category(kept), task_categories=[TASK_CATEGORY.get(kind, "text-generation")],
        tags=[MARKER_TAG, "curated", kind], pretty_name=f"{Path(source).name} (curated)", configs=configs,
        dataset_info={"features": features(records), "splits": [{"name": "train", "num_examples": kept}]},
    )
    removed = sum(removed_by_reason.values())
    body = [
        f"# {Path(source).name}, curated",
        "",
        f"`{source}` ({kind} records) as `curate run` left it: every input row is accounted for.",
        "",
        "| rows | count | where |",
        "|---|---|---|",
        f"| read | {rows_read:,} | `{source}` |",
        f"| kept | {kept:,} | `{data_file}` |",
        f"| quarantined (could not be read as a valid record) | {quarantined:,} | `quarantine.jsonl` |",
        f"| removed by curation | {removed:,} | "
        "`removed.jsonl` (each with its reason and the row it duplicates) |",
        "",
        "## What curation removed, and why",
        "",
        *(
            [
                "| reason | rows |",
                "|---|---|",
                *(f"| {k} | {v:,} |" for k, v in sorted(removed_by_reason.items())),
            ]
            if removed_by_reason
            else ["Nothing was removed."]
        ),
        "",
        "## Quarantined rows",
        "",
        *(
            [
                "| reason | rows |",
                "|---|---|",
                *(f"| {k} | {v:,} |" for k, v in sorted(quarantine_reasons.items())),
            ]
            if quarantine_reasons
            else ["None."]
        ),
        "",
        f"Checks run: {', '.join(checks) or '(none)'}; "
        "their findings are in `checks.json` and the QA report.",
    ]
    if split_files:
        body += ["", "## Splits", "", "| split | rows |", "|---|---|",
                 *(f"| {k} | {v:,} |" for k, v in sorted(split_files.items()))]
    return _card(data, body)


def split_card_text(manifest: dict[str, Any], records: list[dict[str, Any]]) -> str:
    """The card of a `curate split` folder, from its manifest."""
    from huggingface_hub import DatasetCardData

    splits = manifest["splits"]
    rows = {name: s["rows"] for name, s in splits.items()}
    kind = manifest["kind"]
    data = DatasetCardData(
        size_categories=size_category(manifest["input_rows"]),
        task_categories=[TASK_CATEGORY.get(kind, "text-generation")],
        tags=[MARKER_TAG, "splits", kind],
        configs=[
            {
                "config_name": "default",
                "data_files": [
                    {"split": name.replace("/", "_"), "path": f"{name}.jsonl"} for name in sorted(rows)
                ],
            }
        ],
        dataset_info={
            "features": features(records),
            "splits": [{"name": n.replace("/", "_"), "num_examples": r} for n, r in sorted(rows.items())],
        },
    )
    how = (f"{manifest['kfold']} folds" if manifest["mode"] == "kfold" else "a holdout split")
    body = [
        "# Splits",
        "",
        f"{manifest['input_rows']:,} {kind} records in {how}, stratified by {manifest['stratify']}, with "
        f"{manifest['groups']:,} groups kept whole ({manifest['groups_straddling']} straddle splits; "
        f"{manifest.get('exact_duplicate_texts_straddling', 0)} identical texts appear in more than one "
        "split). "
        f"{manifest.get('dropped_rows', 0):,} rows were dropped (`dropped.jsonl`).",
        "",
        "| split | rows |",
        "|---|---|",
        *(f"| {k} | {v:,} |" for k, v in sorted(rows.items())),
        "",
        "`manifest.json` has the label counts and a hash of each split's sorted ids.",
    ]
    return _card(data, body)


def write_card(path: Path, text: str) -> None:
    from curate.io.writers import atomic_text

    with atomic_text(path) as fh:
        fh.write(text)
