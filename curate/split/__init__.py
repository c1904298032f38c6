"""Train/validation/test and k-fold splits that are stratified and keep groups (user groups or duplicate
clusters) whole, so near-duplicates never straddle splits. Call `split_records` then `write_splits`."""

from curate.split.core import SplitResult, split_records, write_splits
from curate.split.errors import SplitError
from curate.split.report import print_split_report

__all__ = ["SplitError", "SplitResult", "print_split_report", "split_records", "write_splits"]
