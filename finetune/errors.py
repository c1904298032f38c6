"""finetune's exceptions: all derive from `FinetuneError`, a `DatavetError` the CLI prints as one panel."""

from schemas.errors import DatavetError


class FinetuneError(DatavetError):
    title = "finetune error"
