"""Resumable checkpoints that load without pickle: tensors in safetensors, everything else in JSON.

`OUT/checkpoint/` holds
- `tensors.safetensors`: the trainable weights (`model/<name>`), the AdamW moments and step counts
  (`optimizer/<param index>/<key>`), and each process's torch RNG state (`rng/<rank>/torch`, `.../cuda/<i>`);
- `state.json`: the optimizer's param groups, the LR scheduler, each process's python and numpy RNG states;
- `trainer_state.json`: the loop position (step, epoch, micro-batch, best metrics, config fingerprint).

Reading uses only `safetensors` and `json`, so nothing placed in the folder can run code: an older datavet
pickled all of this into `state.pt` and loaded it with `torch.load(weights_only=False)`, which executes a
planted payload. Such a folder is refused, never read. JSON keeps floats exact (repr round-trips), so a
resumed run is bitwise the run that was killed.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

from finetune.errors import FinetuneError

CKPT = "checkpoint"
TENSORS, OBJECTS, TRAINER = "tensors.safetensors", "state.json", "trainer_state.json"
LEGACY = "state.pt"


# ------------------------------------------------------------------------------------------------ weights
def trainable_state(model: Any) -> dict:
    """Full fine-tuning: every weight. LoRA: only what trains (adapter and head), a few MB."""
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    full = all(p.requires_grad for p in model.parameters())
    # contiguous copies: safetensors stores each tensor on its own (tied weights would share storage)
    return {
        k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items() if full or k in names
    }


def save_weights(model: Any, path: Path) -> None:
    from safetensors.torch import save_file

    save_file(trainable_state(model), str(path))


def load_weights(model: Any, path: Path) -> None:
    model.load_state_dict(_read_tensors(path), strict=False)


# ------------------------------------------------------------------------------------------------ RNG
def rng_state() -> dict[str, Any]:
    """This process's RNG states: tensors under "torch"/"cuda", JSON-ready lists for python and numpy."""
    import numpy as np
    import torch

    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    s: dict[str, Any] = {"python": [version, list(internal), gauss],
                         "numpy": [kind, keys.tolist(), int(pos), int(has_gauss), float(cached)],
                         "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        s["cuda"] = torch.cuda.get_rng_state_all()
    return s


def set_rng_state(s: dict[str, Any]) -> None:
    import numpy as np
    import torch

    version, internal, gauss = s["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = s["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(s["torch"])
    if s.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(s["cuda"])


# ------------------------------------------------------------------------------------------------ save
def save_checkpoint(out: Path, model: Any, optimizer: Any, scheduler: Any, state: dict,
                    rngs: list[dict[str, Any]]) -> None:
    """Write OUT/checkpoint (main process only). `rngs` holds every process's `rng_state()`, by rank.

    Written to a temporary folder, then renamed: a kill mid-write leaves the previous checkpoint intact.
    """
    from safetensors.torch import save_file

    tensors = {f"model/{k}": v for k, v in trainable_state(model).items()}
    opt = optimizer.state_dict()
    opt_plain: dict[str, dict[str, Any]] = {}
    for pid, st in opt["state"].items():
        for key, v in st.items():
            if hasattr(v, "detach"):
                tensors[f"optimizer/{pid}/{key}"] = v.detach().cpu().contiguous().clone()
            else:
                opt_plain.setdefault(str(pid), {})[key] = v
    rng_plain = []
    for rank, r in enumerate(rngs):
        tensors[f"rng/{rank}/torch"] = r["torch"].contiguous()
        for i, c in enumerate(r.get("cuda") or []):
            tensors[f"rng/{rank}/cuda/{i}"] = c.contiguous()
        rng_plain.append({"python": r["python"], "numpy": r["numpy"], "cuda": len(r.get("cuda") or [])})
    objects = {"optimizer": {"param_groups": opt["param_groups"], "state": opt_plain},
               "scheduler": scheduler.state_dict(), "rng": rng_plain}

    tmp, final, old = out / (CKPT + ".tmp"), out / CKPT, out / (CKPT + ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
    tmp.mkdir()
    save_file(tensors, str(tmp / TENSORS))
    (tmp / OBJECTS).write_text(json.dumps(objects))
    (tmp / TRAINER).write_text(json.dumps(state, indent=1))
    if final.exists():
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)


# ------------------------------------------------------------------------------------------------ load
def find_checkpoint(out: Path) -> Path:
    """The checkpoint folder to resume from (the previous one when a kill fell between the two renames)."""
    ckpt = out / CKPT
    if not ckpt.exists() and (out / (CKPT + ".old")).exists():
        ckpt = out / (CKPT + ".old")
    if (ckpt / LEGACY).exists() and not (ckpt / TENSORS).exists():
        raise FinetuneError(
            f"{ckpt} was written by an older datavet as a pickle ({LEGACY}); pickles can run code "
            "when loaded, so it is not read",
            fix="start the run afresh (drop --resume)",
        )
    if not (ckpt / TRAINER).exists():
        raise FinetuneError(
            f"--resume: no checkpoint in {out}",
            fix="drop --resume, or set checkpoint_every so runs write one",
        )
    return ckpt


def read_trainer_state(out: Path) -> dict:
    return _read_json(find_checkpoint(out) / TRAINER)


def load_checkpoint(out: Path, model: Any, optimizer: Any, scheduler: Any, rank: int = 0) -> dict:
    """Restore weights, optimizer, scheduler and this process's RNG; return the loop state."""
    ckpt = find_checkpoint(out)
    tensors = _read_tensors(ckpt / TENSORS)
    objects = _read_json(ckpt / OBJECTS)
    state = _read_json(ckpt / TRAINER)
    try:
        model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model/")}, strict=False)
        opt_state: dict[int, dict[str, Any]] = {}
        for key, v in tensors.items():
            if key.startswith("optimizer/"):
                _, pid, name = key.split("/", 2)
                opt_state.setdefault(int(pid), {})[name] = v
        for pid, plain in objects["optimizer"]["state"].items():
            opt_state.setdefault(int(pid), {}).update(plain)
        groups = [{**g, "betas": tuple(g["betas"])} if "betas" in g else g
                  for g in objects["optimizer"]["param_groups"]]
        optimizer.load_state_dict({"state": opt_state, "param_groups": groups})
        scheduler.load_state_dict(objects["scheduler"])
        rngs = objects["rng"]
        if rank >= len(rngs):
            raise FinetuneError(
                f"the checkpoint was written by {len(rngs)} process(es); this is process {rank}",
                fix="resume with the number of processes the run started with",
            )
        r = rngs[rank]
        set_rng_state({"python": r["python"], "numpy": r["numpy"], "torch": tensors[f"rng/{rank}/torch"],
                       "cuda": [tensors[f"rng/{rank}/cuda/{i}"] for i in range(r["cuda"])]})
    except (KeyError, ValueError, TypeError, RuntimeError) as e:
        raise FinetuneError(
            f"the checkpoint in {ckpt} does not match this model or is damaged ({type(e).__name__}: "
            f"{str(e)[:300]})",
            fix="start the run afresh (drop --resume)",
        ) from None
    return state


def _read_tensors(path: Path) -> dict:
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except Exception as e:  # safetensors raises its own error types for a truncated or foreign file
        raise FinetuneError(f"{path} is not a readable safetensors file ({type(e).__name__}: {str(e)[:200]})",
                            fix="start the run afresh (drop --resume); the checkpoint is damaged") from None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FinetuneError(f"{path} is not readable JSON ({type(e).__name__}: {str(e)[:200]})",
                            fix="start the run afresh (drop --resume); the checkpoint is damaged") from None
