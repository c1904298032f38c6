"""Reading and writing datasets: loaders that quarantine instead of losing rows, atomic writers."""

from curate.io.load import LoadedData, load
from curate.io.outputs import OutputError, output_dir
from curate.io.writers import (
           atomic_path,
           atomic_text,
           write_hf,
           write_json,
           write_jsonl,
           write_parquet,
           write_records,
           write_text,
)

__all__ = ["LoadedData", "OutputError", "atomic_path", "atomic_text", "load", "output_dir", "write_hf",
           "write_json", "write_jsonl", "write_parquet", "write_records", "write_text"]
