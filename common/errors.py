"""The shared layer's exception: a model or bundled asset that cannot be found or loaded safely."""

from schemas.errors import DatavetError


class ModelAssetError(DatavetError):
    """An unknown model name, a folder that is not a model, a missing model package, or pickle-only
    weights."""

    title = "model error"
