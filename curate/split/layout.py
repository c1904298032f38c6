"""The shape of a split: which disjoint parts the rows are assigned to, at what fractions, and which files
are built from those parts.

Holdout: parts train/val/test (a part with fraction 0 is left out), one file per part.
k-fold: parts fold-0..fold-(K-1) at (1 - test)/K each, plus test when asked; fold-i/val.jsonl is part
fold-i and fold-i/train.jsonl is every other fold. Rows kept out of assignment (`--rare-class train-only`)
go to train (holdout) or to the train file of every fold.
"""

from __future__ import annotations

import numpy as np

from schemas.configs.split import SplitConfig

TRAIN_ONLY = "train-only"


def parts(cfg: SplitConfig) -> tuple[list[str], np.ndarray]:
    """Names and target fractions of the disjoint parts rows are assigned to."""
    test = cfg.test_fraction
    if cfg.kfold:
        names = [f"fold-{i}" for i in range(cfg.kfold)]
        fr = [(1.0 - test) / cfg.kfold] * cfg.kfold
    else:
        val = cfg.val_fraction
        names, fr = ["train", "val"], [1.0 - val - test, val]
    if test > 0:
        names.append("test")
        fr.append(test)
    keep = [i for i, f in enumerate(fr) if f > 0]
    return [names[i] for i in keep], np.array([fr[i] for i in keep])


def files(cfg: SplitConfig, part_rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """File path (relative, without .jsonl) -> sorted row indices, built from the parts."""
    forced = part_rows.get(TRAIN_ONLY, np.empty(0, dtype=np.int64))
    out: dict[str, np.ndarray] = {}
    if cfg.kfold:
        folds = [f"fold-{i}" for i in range(cfg.kfold)]
        for i, name in enumerate(folds):
            others = [part_rows[f] for j, f in enumerate(folds) if j != i]
            out[f"{name}/train"] = np.sort(np.concatenate([*others, forced]))
            out[f"{name}/val"] = part_rows[name]
    else:
        out["train"] = np.sort(np.concatenate([part_rows["train"], forced]))
        if "val" in part_rows:
            out["val"] = part_rows["val"]
    if "test" in part_rows:
        out["test"] = part_rows["test"]
    return out
