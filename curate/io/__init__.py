"""Reading and writing datasets: loaders that quarantine instead of losing rows, atomic writers."""

from curate.io.load import LoadedData, load
from curate.io.writers import (
           atomic_path,
           atomic_text,
           write_hf,
           write_json,
           write_jsonl,
           write_parquet,
           write_records,
)

__all__ = ["LoadedData", "atomic_path", "atomic_text", "load", "write_hf", "write_json", "write_jsonl",
           "write_parquet", "write_records"]
