"""curate: data-QA before training. Load, validate, normalize, deduplicate, check, split.

The public API other packages may use is what this module exports; everything else is internal.
`import curate` does not import torch.
"""

from curate.io import LoadedData, load, write_jsonl, write_records

__version__ = "0.1.0"
__all__ = ["LoadedData", "load", "write_jsonl", "write_records"]
