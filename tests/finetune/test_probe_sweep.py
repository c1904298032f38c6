"""The linear-probe baseline, the sweep, and cheap imports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.finetune.conftest import cls_rows


def test_linear_probe_predicts_planted_labels(tiny_bert):
    from finetune.probe import train_linear_probe

    train, val = cls_rows(90, 1), cls_rows(30, 2)
    res = train_linear_probe(str(tiny_bert), train, val, batch_size=16)
    assert res.labels == ["neg", "neu", "pos"]
    assert len(res.val_pred) == 30 and res.val_proba.shape == (30, 3)
    assert res.val_proba.sum(1) == pytest.approx([1.0] * 30)
    assert res.metrics["macro_f1"] > 0.6  # the words are planted per label: frozen random features suffice
    assert res.predict(["it was great love happy"]) == ["pos"]


def test_linear_probe_rejects_unseen_val_labels(tiny_bert):
    from finetune.errors import FinetuneError
    from finetune.probe import train_linear_probe

    with pytest.raises(FinetuneError, match="absent from train") as e:
        train_linear_probe(
            str(tiny_bert), cls_rows(10, 1, labels=("pos", "neg")), cls_rows(10, 2, labels=("neu",))
        )
    assert e.value.fix


def test_sweep_grid_ranks_trials(tiny_bert, cls_split, tmp_path):
    from finetune.sweep import sweep
    from schemas.configs.train import TrainConfig

    cfg = TrainConfig.model_validate({"model": str(tiny_bert), "data": {"split_dir": str(cls_split)},
                                      "out": str(tmp_path / "sw"), "max_steps": 6, "progress": False,
                                      "early_stopping": {"metric": "loss"}})
    res = sweep(cfg, {"lr": [1e-9, 3e-3]})
    ranked = res.ranked()
    assert len(ranked) == 2 and ranked[0].value <= ranked[1].value
    assert ranked[0].params == {"lr": 3e-3}  # a learning rate of 1e-9 cannot beat one that learns
    assert all((tmp_path / "sw" / f"trial-{t.number:03d}" / "summary.json").exists() for t in ranked)


def test_sweep_rejects_unknown_space(tiny_bert):
    from finetune.errors import FinetuneError
    from finetune.sweep import sweep
    from schemas.configs.train import TrainConfig

    with pytest.raises(FinetuneError) as e:
        sweep(TrainConfig(model=str(tiny_bert)), {"momentum": [0.9]})
    assert e.value.fix


def test_import_finetune_is_cheap():
    code = (
        "import sys, finetune, finetune.train, finetune.data, finetune.models, finetune.cli; "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
