"""Macro-F1 has one definition: the trainer's early-stopping metric is evalsuite's f1_macro (issue 10
item 3)."""

from __future__ import annotations

import random

import pytest

from finetune.scoring import macro_f1


def test_macro_f1_is_sklearns_default_macro_on_random_labels():
    from sklearn.metrics import f1_score

    rng = random.Random(0)
    for _ in range(200):
        n, k = rng.randint(1, 30), rng.randint(1, 6)
        golds = [rng.randrange(k) for _ in range(n)]
        preds = [rng.randrange(k + 1) for _ in range(n)]
        assert macro_f1(golds, preds) == pytest.approx(
            f1_score(golds, preds, average="macro", zero_division=0), abs=1e-12
        )


def test_a_class_absent_from_gold_and_predictions_is_not_averaged_in():
    # 4 classes known to the model, class 3 absent from this val set and never predicted
    golds, preds = [0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 2, 2]
    assert macro_f1(golds, preds) == 1.0  # the old trainer definition (all 4 classes) said 0.75


def test_trainer_and_evalsuite_score_the_same_predictions_the_same(monkeypatch):
    """The trainer's evaluate() and evalsuite's f1_macro metric agree on identical predictions, including a
    validation set that lacks one of the model's classes."""
    import torch

    from evalsuite.metrics import metrics_for, score_all
    from finetune import train

    id2label = {0: "neg", 1: "neu", 2: "pos", 3: "rare"}
    golds = [0, 0, 1, 1, 2, 2, 0, 1]
    planted = [0, 1, 1, 1, 2, 0, 0, 2]  # what the "model" predicts, row by row; never class 3
    examples = [{"input_ids": [101, 7 + i, 102], "attention_mask": [1, 1, 1], "labels": g}
                for i, g in enumerate(golds)]

    def fake_loss(model, batch, task, class_weights=None):
        rows = [int(ids[1]) - 7 for ids in batch["input_ids"]]
        logits = torch.full((len(rows), 4), -5.0)
        for j, r in enumerate(rows):
            logits[j, planted[r]] = 5.0
        return torch.tensor(0.5), logits

    monkeypatch.setattr(train, "compute_loss", fake_loss)
    cfg = train.TrainConfig.model_validate({"batch_size": 3, "progress": False})
    got = train.evaluate(torch.nn.Linear(1, 1), examples, cfg, pad_id=0, device="cpu")

    f1_metric = [m for m in metrics_for("classification") if m.name == "f1_macro"]
    report = score_all(f1_metric, [id2label[p] for p in planted], [id2label[g] for g in golds])
    assert got["macro_f1"] == pytest.approx(report["f1_macro"]["value"], abs=1e-12)
    assert got["macro_f1"] == pytest.approx(macro_f1(golds, planted))
    assert got["accuracy"] == pytest.approx(5 / 8)
