"""Model weights load from safetensors only: a pickle (`pytorch_model.bin`) can run code hidden in it.

`safe_weights(folder)` is called before every `from_pretrained` that loads weights (training, inference,
adapters, the linear probe, perplexity, semantic dedup). A folder that holds only pickle weights is refused
with a ModelAssetError (exit 2) that says how to convert it, unless the user opts in with `--allow-pickle`
(`finetune run`) or `DATAVET_ALLOW_PICKLE=1` (every command). `convert(folder)` is the fix it names: it
reads the pickle with torch's restricted unpickler (`weights_only=True`, which refuses anything but tensors
and plain containers) and writes safetensors beside it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from common.errors import ModelAssetError

ALLOW_ENV = "DATAVET_ALLOW_PICKLE"
SAFE_FILES = ("model.safetensors", "model.safetensors.index.json", "adapter_model.safetensors")
# pickle file -> the safetensors file `convert` writes for it
PICKLE_FILES = {"pytorch_model.bin": "model.safetensors", "adapter_model.bin": "adapter_model.safetensors"}


def pickle_allowed(allow_pickle: bool = False) -> bool:
    return allow_pickle or os.environ.get(ALLOW_ENV, "").strip().lower() in ("1", "true", "yes")


def safe_weights(path: str | Path, *, allow_pickle: bool = False) -> dict[str, Any]:
    """Refuse a folder whose weights exist only as a pickle; return the matching `from_pretrained` kwargs.

    Args:
        path: A model or adapter folder (a hub id, which is not a local folder, is passed through).
        allow_pickle: The user's opt-in to load pickle weights they trust.

    Returns:
        `{"use_safetensors": True}` (transformers then never falls back to a .bin), or `{}` when opted in.

    Raises:
        ModelAssetError: The folder has pickle weights and no safetensors, and the user did not opt in.
    """
    if pickle_allowed(allow_pickle):
        return {}
    folder = Path(path)
    if folder.is_dir() and not any((folder / n).exists() for n in SAFE_FILES):
        pickles = sorted(
            p.name for p in folder.glob("*.bin") if p.name.startswith(("pytorch_model", "adapter_model"))
        )
        if pickles:
            raise ModelAssetError(
                f"{folder} holds its weights only as a pickle ({', '.join(pickles)}); "
                "loading a pickle can run "
                "code hidden in it, so datavet loads safetensors only",
                fix="if you trust where it came from, convert it once with "
                f"`finetune convert-weights {folder}` "
                "(reads tensors only, writes model.safetensors beside it); or opt in to loading the pickle "
                f"with --allow-pickle (finetune run) or {ALLOW_ENV}=1",
            )
    return {"use_safetensors": True}


def convert(folder: str | Path) -> list[Path]:
    """Write `model.safetensors` (and/or `adapter_model.safetensors`) beside the pickle weights in `folder`.

    The pickle is read with `torch.load(weights_only=True)`: torch's restricted unpickler builds tensors and
    plain containers only and refuses any other object, so a payload fails to load instead of running.
    Sharded checkpoints (`pytorch_model-00001-of-...bin`) are out of scope: load and re-save them with
    transformers' `save_pretrained(..., safe_serialization=True)`.

    Returns:
        The files written.

    Raises:
        ModelAssetError: No single-file pickle weights, a safetensors file already there, or an unreadable
            pickle.
    """
    import torch
    from safetensors.torch import save_file

    folder = Path(folder)
    todo = [(folder / src, folder / dst) for src, dst in PICKLE_FILES.items() if (folder / src).is_file()]
    if not todo:
        raise ModelAssetError(f"{folder} has no pytorch_model.bin or adapter_model.bin to convert",
                            fix="point at the folder that holds the .bin file")
    written = []
    for src, dst in todo:
        if dst.exists():
            raise ModelAssetError(
                f"{dst} already exists; not overwriting it", fix="remove the .bin, it is not needed"
            )
        try:
            state = torch.load(src, map_location="cpu", weights_only=True)
        except Exception as e:  # the restricted unpickler refused something: not plain tensors
            raise ModelAssetError(
                f"{src} is not a plain tensor file ({type(e).__name__}: {str(e)[:200]}); it was not loaded",
                fix="get safetensors weights from the model's source",
            ) from None
        if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
            raise ModelAssetError(
                f"{src} does not hold a name -> tensor mapping", fix="get safetensors weights instead"
            )
        # clone: tied weights share storage in the pickle, and safetensors stores each tensor on its own
        save_file(
            {k: v.detach().contiguous().clone() for k, v in state.items()},
            str(dst),
            metadata={"format": "pt"},
        )
        written.append(dst)
    return written
