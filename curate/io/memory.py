"""In-memory data as a load source: a pandas DataFrame, a `datasets.Dataset`, or a list of dicts.

Rows go through the same validation and quarantine as a file's rows (curate.io.load), so a notebook user gets
the same answers as the command line. NaN cells of a DataFrame are read as missing values (None), as a CSV's
empty cells are; ClassLabel columns of a Dataset are read as their names.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from curate.io.readers import RawRow, Source


def is_in_memory(data: Any) -> bool:
    """Whether `data` is a DataFrame, a Dataset or a list of dicts (rather than a path)."""
    if isinstance(data, list):
        return True
    return _library(data) in ("pandas", "datasets")


def _library(data: Any) -> str:
    return type(data).__module__.split(".")[0]


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "tolist") and not isinstance(value, str | bytes):  # numpy arrays and scalars
        return value.tolist()
    return value


def _raw(item: dict[str, Any]) -> str:
    try:
        return json.dumps(item, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return repr(item)[:100_000]


def open_memory(data: Any) -> tuple[Source, list[str] | None, Iterator[RawRow]]:
    """The load source of an in-memory object: its description, its columns, and its rows."""
    from curate.errors import DataUsageError

    if isinstance(data, list):
        bad = next((i for i, r in enumerate(data) if not isinstance(r, dict)), None)
        if bad is not None:
            raise DataUsageError(
                f"row {bad} of the list is a {type(data[bad]).__name__}, not a dict",
                fix="pass a list of dicts (one per record), a DataFrame or a datasets.Dataset",
            )
        items: Any = data
        name, columns = "<list>", None
    elif _library(data) == "pandas":
        if not hasattr(data, "to_dict"):
            raise DataUsageError(f"cannot read a {type(data).__name__}", fix="pass a DataFrame")
        dupes = sorted({str(c) for c in data.columns if list(data.columns).count(c) > 1})
        if dupes:
            raise DataUsageError(f"the DataFrame has duplicate column names: {', '.join(dupes)}",
                                 fix="rename the columns so each name is used once")
        items = ({str(k): _clean(v) for k, v in row.items()} for row in data.to_dict(orient="records"))
        name, columns = "<DataFrame>", [str(c) for c in data.columns]
    else:
        from datasets import ClassLabel, Dataset

        if not isinstance(data, Dataset):
            raise DataUsageError(f"cannot read a {type(data).__name__}",
                                 fix="pass a datasets.Dataset (pick a split of a DatasetDict: dd['train'])")
        names = {c: f.int2str for c, f in data.features.items() if isinstance(f, ClassLabel)}
        items = (
            {k: (names[k](v) if k in names and isinstance(v, int) and v >= 0 else v) for k, v in r.items()}
            for r in data
        )
        name, columns = "<Dataset>", list(data.column_names)

    def rows() -> Iterator[RawRow]:
        for i, item in enumerate(items):
            yield RawRow(i, _raw(item), dict(item))

    return Source(name, "memory", "utf-8", None, columns), columns, rows()
