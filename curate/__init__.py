"""curate: data-QA before training. Load, validate, normalize, deduplicate, check, split.

The public API other packages may use is what this module exports; everything else is internal.
`import curate` does not import torch.
"""

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
__all__ = ["LoadedData", "OutputError", "load", "output_dir", "write_json", "write_jsonl", "write_records",
           "write_text"]
