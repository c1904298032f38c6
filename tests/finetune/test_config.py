"""Config validation and bad input: every problem is rejected before training starts, with the fix named."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune.train import run
from schemas.configs.base import load_config
from schemas.configs.train import TrainConfig
from schemas.errors import ConfigError, DatavetError
from tests.finetune.conftest import cls_rows, sft_rows, write_jsonl

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", sorted((REPO / "configs" / "finetune").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_loads(path):
    cfg = load_config(TrainConfig, path)
    assert cfg.data.train or cfg.data.split_dir


def test_shipped_configs_exist():
    assert {p.name for p in (REPO / "configs" / "finetune").glob("*.yaml")} >= {
        "minilm-tweets.yaml",
        "smollm2-bbc-lora.yaml",
    }


def test_unknown_and_bad_keys_are_collected_into_one_error():
    with pytest.raises(ConfigError) as e:
        load_config(TrainConfig, overrides=["optim.lrr=1", "batch_size=0", "method=qdora"])
    assert len(e.value.details) == 3 and e.value.fix
    with pytest.raises(ConfigError, match="packing applies to kind=completion or chat"):
        load_config(TrainConfig, overrides=["packing=true"])


def _cfg(tmp_path, model, **kw):
    base = {"model": str(model), "out": str(tmp_path / "out"), "progress": False, "max_steps": 2}
    base.update(kw)
    return TrainConfig.model_validate(base)


def _rejects(cfg, match):
    with pytest.raises(DatavetError, match=match) as e:
        run(cfg)
    assert e.value.fix, "every user mistake names its fix"
    assert not (Path(cfg.out) / "model.safetensors").exists()
    return e.value


def test_unknown_model_is_rejected(tmp_path, cls_split):
    err = _rejects(_cfg(tmp_path, "no-such-model", data={"split_dir": str(cls_split)}), "unknown model")
    assert "minilm" in err.fix


def test_missing_split_files_are_rejected(tmp_path, tiny_bert):
    (tmp_path / "empty").mkdir()
    _rejects(_cfg(tmp_path, tiny_bert, data={"split_dir": str(tmp_path / "empty")}), "no train split")
    _rejects(_cfg(tmp_path, tiny_bert, data={"train": str(tmp_path / "nope.jsonl")}), "does not exist")
    write_jsonl(tmp_path / "only" / "train.jsonl", cls_rows(10, 1))
    _rejects(_cfg(tmp_path, tiny_bert, data={"split_dir": str(tmp_path / "only")}), "no val split")


def test_val_labels_absent_from_train_are_rejected(tmp_path, tiny_bert):
    d = tmp_path / "s"
    write_jsonl(d / "train.jsonl", cls_rows(20, 1, labels=("pos", "neg")))
    write_jsonl(d / "val.jsonl", cls_rows(20, 2, labels=("pos", "neu")))
    err = _rejects(_cfg(tmp_path, tiny_bert, data={"split_dir": str(d)}), "cannot be used")
    assert any("labels in val absent from train: neu" in x for x in err.details)


def test_empty_data_is_rejected(tmp_path, tiny_bert):
    d = tmp_path / "s"
    write_jsonl(d / "train.jsonl", [])
    write_jsonl(d / "val.jsonl", cls_rows(5, 2))
    with pytest.raises(DatavetError) as e:
        run(_cfg(tmp_path, tiny_bert, data={"split_dir": str(d)}))
    assert e.value.fix


def test_wrong_record_kind_for_task_is_rejected(tmp_path, tiny_llama, cls_split):
    err = _rejects(
        _cfg(tmp_path, tiny_llama, task="sft", data={"split_dir": str(cls_split)}), "cannot be used"
    )
    assert any("task=sft needs" in x for x in err.details)


def test_max_length_shorter_than_prompts_is_rejected(tmp_path, tiny_llama):
    d = tmp_path / "s"
    long = [{"id": str(i), "prompt": "long words " * 40, "completion": "x"} for i in range(8)]
    write_jsonl(d / "train.jsonl", long)
    write_jsonl(d / "val.jsonl", sft_rows(4, 2))
    _rejects(
        _cfg(tmp_path, tiny_llama, task="sft", max_length=32, data={"split_dir": str(d)}),
        "shorter than the prompts",
    )


def test_malformed_chat_is_quarantined_and_reported(tmp_path, tiny_llama):
    d = tmp_path / "s"
    bad = [
        {"id": "c1", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": ""}]}
    ]
    good = [
        {"id": "c2", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
    ]
    write_jsonl(d / "train.jsonl", good + bad)
    write_jsonl(d / "val.jsonl", good)
    # the loader quarantines the malformed row with its reason; training goes on without it and says so
    res = run(_cfg(tmp_path, tiny_llama, task="sft", data={"split_dir": str(d)}, batch_size=1))
    assert res.data_stats["quarantined"]["train"] == {"empty_assistant_turn": 1}
    assert res.data_stats["train"]["rows"] == 1


def test_unknown_early_stopping_metric_and_qlora_on_cpu(tmp_path, tiny_bert, cls_split):
    _rejects(_cfg(tmp_path, tiny_bert, data={"split_dir": str(cls_split)}, early_stopping={"metric": "bleu"}),
             "not computed")
    import torch

    if not torch.cuda.is_available():
        _rejects(_cfg(tmp_path, tiny_bert, method="qlora", data={"split_dir": str(cls_split)}), "CUDA")


def test_resume_without_checkpoint_is_rejected(tmp_path, tiny_bert, cls_split):
    _rejects(_cfg(tmp_path, tiny_bert, resume=True, data={"split_dir": str(cls_split)}), "no checkpoint")


def test_cli_runs_and_reports_errors(tmp_path, tiny_bert, cls_split, capsys):
    from finetune.cli import main

    with pytest.raises(SystemExit) as e:
        main(["run", "--model", str(tiny_bert), "--data", str(cls_split), "--out", str(tmp_path / "o"),
              "--max-steps", "3", "--no-progress", "optim.lr=1e-3", "eval_every=3"])
    assert e.value.code == 0
    saved = load_config(TrainConfig, tmp_path / "o" / "config.yaml")
    assert saved.optim.lr == 1e-3 and saved.max_steps == 3 and saved.eval_every == 3
    with pytest.raises(SystemExit) as e:
        main(["run", "--model", "nonexistent-model", "--data", str(cls_split), "--out", str(tmp_path / "x")])
    assert e.value.code == 2
    assert "unknown model" in capsys.readouterr().err


def test_flags_override_yaml(tmp_path):
    from finetune.commands.run import resolve_config

    y = tmp_path / "c.yaml"
    y.write_text("model: minilm\noptim:\n  lr: 1.0e-5\nbatch_size: 4\n")
    cfg = resolve_config(y, {"optim.lr": 3e-4, "batch_size": None}, ["epochs=2"])
    assert cfg.optim.lr == 3e-4 and cfg.batch_size == 4 and cfg.epochs == 2


def test_resume_with_changed_config_is_rejected(tmp_path, tiny_bert, cls_split):
    c = _cfg(tmp_path, tiny_bert, data={"split_dir": str(cls_split)}, checkpoint_every=1, max_steps=2)
    import torch

    from finetune.checkpoint import CKPT, rng_state, save_checkpoint
    from finetune.models import load_for_training
    from finetune.train import build_optimizer

    # a checkpoint as a killed run would leave it, built by hand
    model, _ = load_for_training(str(tiny_bert), "classification", id2label={0: "neg", 1: "neu", 2: "pos"})
    opt = build_optimizer(model, c)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    out = Path(c.out)
    out.mkdir(parents=True)
    state = {"step": 1, "epoch": 0, "micro": 1, "tokens": 0, "train_s": 0.0, "best": None, "best_step": None,
             "bad_evals": 0, "last_eval": None, "stop": None,
             "config": c.model_dump(mode="json", exclude={"resume", "progress"})}
    save_checkpoint(out, model, opt, sched, state, [rng_state()])
    assert (out / CKPT / "tensors.safetensors").exists()
    changed = c.model_copy(update={"resume": True, "batch_size": 4})
    _rejects(changed, "differs from the checkpoint's in: batch_size")
