"""Lazy tokenization: a short run tokenizes only the mega-batches its steps reach; every row of an epoch is
batched once; the val probabilities a run saves are the saved model's, so `cv` can reuse them."""

from __future__ import annotations

import json

import pytest

from finetune.lazy import MEGA_BATCHES, BatchOrder, ExampleStore, grouped_batches
from finetune.train import run
from schemas.configs.train import TrainConfig
from tests.finetune.conftest import cls_rows, sft_rows, write_jsonl


def test_an_epoch_batches_every_row_once_and_asks_lengths_only_of_reached_mega_batches():
    asked: list[int] = []

    def length_of(i: int) -> int:
        asked.append(i)
        return 1 + i % 7

    n, bs = 1000, 4
    order = BatchOrder(grouped_batches(n, bs, seed=3, length_of=length_of))
    assert order.available(0)
    assert len(asked) == bs * MEGA_BATCHES  # one mega-batch, not the 1,000 rows
    batches = list(grouped_batches(n, bs, seed=3, length_of=lambda i: 1 + i % 7))
    assert sorted(i for b in batches for i in b) == list(range(n))
    # inside a batch lengths are close: each batch comes from one length-sorted mega-batch
    assert all(max(1 + i % 7 for i in b) - min(1 + i % 7 for i in b) <= 1 for b in batches)
    assert batches == list(grouped_batches(n, bs, seed=3, length_of=lambda i: 1 + i % 7))
    assert batches != list(grouped_batches(n, bs, seed=4, length_of=lambda i: 1 + i % 7))


def test_ranks_share_each_global_batch_so_two_processes_see_one_processes_batches():
    def lengths(i: int) -> int:
        return i % 5

    for group in (True, False):
        # 43 rows at a global batch of 8: five full batches and a 3-row tail, which the ranks split 1 + 2
        whole = list(grouped_batches(43, 8, 0, lengths, group_by_length=group))
        r0 = BatchOrder(grouped_batches(43, 8, 0, lengths, group_by_length=group), rank=0, world=2)
        r1 = BatchOrder(grouped_batches(43, 8, 0, lengths, group_by_length=group), rank=1, world=2)
        assert sorted(len(r0[k]) for k in range(6)) == [1, 4, 4, 4, 4, 4]  # batches are shuffled
        assert [r0[k] + r1[k] for k in range(6)] == whole
        assert not r0.available(6) and not r1.available(6)
    # a tail with fewer rows than processes is skipped on every rank (no process gets an empty batch)
    r = [BatchOrder(grouped_batches(41, 8, 0, lengths), rank=k, world=2) for k in (0, 1)]
    assert [r[0].available(4), r[1].available(4)] == [True, True]
    assert [r[0].available(5), r[1].available(5)] == [False, False]
    assert all(len(r[k][j]) == 4 for k in (0, 1) for j in range(5))
    limited = BatchOrder(grouped_batches(43, 8, 0, lengths), rank=1, world=2, limit=3)
    assert not limited.available(3)
    with pytest.raises(IndexError):
        limited[3]


def test_store_tokenizes_each_row_once_and_leaves_out_sft_rows_without_answers(tiny_llama):
    from finetune.models import load_tokenizer

    tok = load_tokenizer(str(tiny_llama))
    rows = sft_rows(6, 0)
    rows[2] = {**rows[2], "prompt": "word " * 400}  # the answer falls past max_length
    store = ExampleStore(rows, tok, "sft", 64)
    assert store.get(2) is None and store.get(0) is not None
    store.get(0)
    assert store.stats == {"rows": 6, "tokenized": 2, "truncated": 1, "no_answer_tokens": 1}
    assert len(store.all()) == 5


def test_a_short_run_tokenizes_only_what_its_steps_reach(tiny_bert, tmp_path):
    d = tmp_path / "split"
    write_jsonl(d / "train.jsonl", cls_rows(900, 1))
    write_jsonl(d / "val.jsonl", cls_rows(30, 2))
    cfg = TrainConfig.model_validate(
        {
            "model": str(tiny_bert),
            "data": {"split_dir": str(d)},
            "out": str(tmp_path / "o"),
            "batch_size": 4,
            "max_steps": 3,
            "progress": False,
        }
    )
    res = run(cfg)
    train = res.data_stats["train"]
    assert train["rows"] == 900 and train["tokenized"] == 4 * MEGA_BATCHES
    assert res.data_stats["val"]["tokenized"] == 30


def test_saved_val_predictions_are_the_saved_models(tiny_bert, cls_split, tmp_path):
    from evalsuite.cv import _predict_probs, _run_val_probs
    from finetune.data import load_records

    out = tmp_path / "o"
    # early stopping keeps the best of several evals: the file must describe those weights, not the last ones
    res = run(TrainConfig.model_validate({
        "model": str(tiny_bert), "data": {"split_dir": str(cls_split)}, "out": str(out), "batch_size": 8,
        "epochs": 3, "eval_every": 4, "optim": {"lr": 3e-3, "warmup": 0}, "progress": False,
        "early_stopping": {"metric": "accuracy"}}))
    val, _ = load_records(cls_split / "val.jsonl", "classification")
    saved, classes = _run_val_probs(out, val)
    fresh, fresh_classes = _predict_probs(res.model_path, val, 128, 16)
    assert classes == fresh_classes == ["neg", "neu", "pos"]
    assert saved.shape == (30, 3)
    assert abs(saved - fresh).max() < 1e-4
    lines = [json.loads(x) for x in (out / "val_predictions.jsonl").read_text().splitlines()]
    assert [x["id"] for x in lines] == [r["id"] for r in val]
    # another val file (a different row order) is not mistaken for this run's
    assert _run_val_probs(out, val[::-1])[0] is None


def test_cv_takes_out_of_fold_probabilities_from_the_fold_runs(tiny_bert, tmp_path, monkeypatch):
    import evalsuite.cv as cv

    d = tmp_path / "folds"
    a, b = cls_rows(40, 1), cls_rows(40, 2)
    write_jsonl(d / "fold-0" / "train.jsonl", a)
    write_jsonl(d / "fold-0" / "val.jsonl", b)
    write_jsonl(d / "fold-1" / "train.jsonl", b)
    write_jsonl(d / "fold-1" / "val.jsonl", a)

    def no_second_pass(*args, **kw):
        raise AssertionError("cv predicted val again instead of reading the run's val_predictions.jsonl")

    monkeypatch.setattr(cv, "_predict_probs", no_second_pass)
    cfg = TrainConfig.model_validate(
        {"model": str(tiny_bert), "batch_size": 8, "max_steps": 4, "progress": False}
    )
    res = cv.run_cv(d, cfg, out=tmp_path / "cv")
    assert len(res.oof) == 80 and len(res.folds) == 2
    assert res.label_issues is not None and res.label_issues.summary["rows"] == 80


def test_eval_limit_validates_on_a_seeded_sample(tiny_bert, cls_split, tmp_path, run_main):
    from finetune.cli import main

    out = tmp_path / "o"
    argv = ["run", "--model", str(tiny_bert), "--data", str(cls_split), "--out", str(out), "--max-steps", "2",
            "--batch-size", "8", "--eval-limit", "7", "--no-progress"]
    assert run_main(main, argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["data_stats"]["val"]["rows"] == 7
    ids = [json.loads(x)["id"] for x in (out / "val_predictions.jsonl").read_text().splitlines()]
    assert len(ids) == 7 and len(set(ids)) == 7
    assert yaml_limit(out) == 7


def yaml_limit(out) -> int:
    import yaml

    return yaml.safe_load((out / "config.yaml").read_text())["data"]["limit_val"]


def test_seeded_sample_keeps_file_order_and_depends_on_the_seed():
    from evalsuite.compare import seeded_sample

    rows = [{"id": i} for i in range(100)]
    a = seeded_sample(rows, 10, seed=1)
    assert len(a) == 10 and [r["id"] for r in a] == sorted(r["id"] for r in a)
    assert a == seeded_sample(rows, 10, seed=1) and a != seeded_sample(rows, 10, seed=2)
    assert seeded_sample(rows, None, 0) is rows and seeded_sample(rows, 500, 0) is rows
