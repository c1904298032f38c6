"""curate: data-QA before training. Load, validate, normalize, deduplicate, check, split.

The public API other packages may use is what this module exports (plus `curate.api.split`); everything else
is internal. docs/api.md shows it with examples the test suite runs.
`import curate` does not import torch.
"""

from curate.api import QAResult, check
from curate.io import (
    LoadedData,
    OutputError,
    load,
    output_dir,
    write_json,
    write_jsonl,
    write_records,
    write_text,
)

__version__ = "0.1.0"
__all__ = [
    "LoadedData",
    "OutputError",
    "QAResult",
    "check",
    "load",
    "output_dir",
    "write_json",
    "write_jsonl",
    "write_records",
    "write_text",
]
