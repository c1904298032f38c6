"""The error `curate split` raises for data that cannot be split as asked (rare classes, too few rows or
groups, a group larger than a fold, a split that would be empty). Each message names the class or number."""

from curate.errors import CurateError


class SplitError(CurateError):
    title = "cannot split the data"
