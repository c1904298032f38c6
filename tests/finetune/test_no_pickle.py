"""Nothing executed on --resume or on a model load (issue 9 item 2).

A pickle payload that would create a marker file when unpickled is planted in a checkpoint and in a model
folder; the payload is first shown to be live (torch.load with weights_only=False runs it), then every
datavet path must refuse it with a clear message (exit 2 through the CLI) and leave no marker.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from finetune.train import run
from schemas.configs.train import TrainConfig
from schemas.errors import DatavetError


class Payload:
    """Unpickling this calls open(marker, "w"): the marker file appears iff the pickle was executed."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def plant(path: Path, marker: Path) -> Path:
    """Write a torch.save file whose unpickling runs the payload, and prove that it would."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": Payload(marker), "w": torch.zeros(2)}, path)
    probe = marker.with_name(marker.name + ".probe")
    torch.save({"model": Payload(probe)}, path.with_suffix(".probe"))
    torch.load(path.with_suffix(".probe"), weights_only=False)
    assert probe.exists(), "the payload must be live, or this test proves nothing"
    probe.unlink()
    path.with_suffix(".probe").unlink()
    return path


def cfg(model, split, out, **kw) -> TrainConfig:
    base = {"model": str(model), "data": {"split_dir": str(split)}, "out": str(out), "batch_size": 8,
            "max_steps": 4, "checkpoint_every": 2, "progress": False, "seed": 0}
    base.update(kw)
    return TrainConfig.model_validate(base)


def cli(argv: list[str], capsys) -> tuple[int, str]:
    from finetune.cli import main

    with pytest.raises(SystemExit) as e:
        main(argv)
    return e.value.code, capsys.readouterr().err


def hand_made_checkpoint(c: TrainConfig, model_dir: Path) -> Path:
    """A checkpoint as a killed run leaves it (a finished run removes its own)."""
    import torch

    from finetune.checkpoint import CKPT, rng_state, save_checkpoint
    from finetune.models import load_for_training
    from finetune.train import build_optimizer

    model, _ = load_for_training(str(model_dir), "classification", id2label={0: "neg", 1: "neu", 2: "pos"})
    opt = build_optimizer(model, c)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    out = Path(c.out)
    out.mkdir(parents=True)
    (out / "metrics.jsonl").write_text('{"step": 1, "split": "train", "loss": 1.0}\n')
    state = {"step": 2, "epoch": 0, "micro": 2, "tokens": 0, "train_s": 0.0, "best": None, "best_step": None,
             "bad_evals": 0, "last_eval": None, "stop": None, "world": 1,
             "config": c.model_dump(mode="json", exclude={"resume", "progress", "allow_pickle"})}
    save_checkpoint(out, model, opt, sched, state, [rng_state()])
    return out / CKPT


def test_payload_beside_a_checkpoint_is_never_read(tiny_bert, cls_split, tmp_path):
    c = cfg(tiny_bert, cls_split, tmp_path / "o")
    ckpt = hand_made_checkpoint(c, tiny_bert)
    marker = tmp_path / "PWNED"
    plant(ckpt / "state.pt", marker)  # what an older datavet loaded with weights_only=False
    res = run(c.model_copy(update={"resume": True}))
    assert res.steps == 4
    assert not marker.exists()


def test_payload_in_place_of_the_checkpoint_tensors_is_refused(tiny_bert, cls_split, tmp_path, capsys):
    c = cfg(tiny_bert, cls_split, tmp_path / "o")
    ckpt = hand_made_checkpoint(c, tiny_bert)
    marker = tmp_path / "PWNED"
    plant(ckpt / "tensors.safetensors", marker)
    code, err = cli(
        [
            "run",
            "--model",
            str(tiny_bert),
            "--data",
            str(cls_split),
            "--out",
            c.out,
            "--max-steps",
            "4",
            "--batch-size",
            "8",
            "--seed",
            "0",
            "--resume",
            "--no-progress",
            "checkpoint_every=2",
        ],
        capsys,
    )
    assert code == 2, err
    assert "not a readable safetensors file" in err and "drop --resume" in err
    assert "Traceback" not in err
    assert not marker.exists()


def test_legacy_pickled_checkpoint_is_refused_not_loaded(tiny_bert, cls_split, tmp_path):
    c = cfg(tiny_bert, cls_split, tmp_path / "o")
    ckpt = hand_made_checkpoint(c, tiny_bert)
    for name in ("tensors.safetensors", "state.json"):
        (ckpt / name).unlink()
    marker = tmp_path / "PWNED"
    plant(ckpt / "state.pt", marker)
    with pytest.raises(DatavetError, match="older datavet as a pickle") as e:
        run(c.model_copy(update={"resume": True}))
    assert "drop --resume" in e.value.fix
    assert not marker.exists()


def _pickle_only_model(src: Path, dst: Path, marker: Path | None) -> Path:
    """A copy of `src` whose weights are only pytorch_model.bin: a real one, or a payload."""
    shutil.copytree(src, dst)
    (dst / "model.safetensors").unlink()
    if marker is None:
        import torch
        from safetensors.torch import load_file

        torch.save(load_file(str(src / "model.safetensors")), dst / "pytorch_model.bin")
    else:
        plant(dst / "pytorch_model.bin", marker)
    return dst


def test_model_folder_with_only_a_pickle_is_refused(tiny_bert, cls_split, tmp_path, capsys):
    marker = tmp_path / "PWNED"
    model = _pickle_only_model(tiny_bert, tmp_path / "bin-model", marker)
    code, err = cli(["run", "--model", str(model), "--data", str(cls_split), "--out", str(tmp_path / "o"),
                     "--max-steps", "1", "--no-progress"], capsys)
    assert code == 2, err
    assert "pytorch_model.bin" in err and "safetensors" in err and "finetune convert-weights" in err
    assert "--allow-pickle" in err
    assert not (tmp_path / "o").exists()  # refused before any output

    from curate.dedup.semantic import embed
    from evalsuite.perplexity import load_causal_lm
    from finetune.models import load_for_inference

    for load in (lambda: load_for_inference(str(model), "classification", num_labels=3),
                 lambda: load_causal_lm(str(model)), lambda: embed(["some text"], model=str(model))):
        with pytest.raises(DatavetError, match="only as a pickle"):
            load()
    # converting reads tensors only: the payload is refused there too
    with pytest.raises(DatavetError, match="not a plain tensor file"):
        from common.weights import convert

        convert(model)
    assert not (model / "model.safetensors").exists()
    assert not marker.exists()


def test_adapter_folder_with_only_a_pickle_is_refused(tiny_bert, tmp_path):
    from finetune.models import load_for_inference

    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": str(tiny_bert)}))
    marker = tmp_path / "PWNED"
    plant(adapter / "adapter_model.bin", marker)
    with pytest.raises(DatavetError, match=r"adapter_model\.bin"):
        load_for_inference(str(adapter), "classification")
    assert not marker.exists()


def test_pickle_weights_load_when_the_user_opts_in_or_converts(
    tiny_bert, cls_split, tmp_path, capsys, monkeypatch
):
    model = _pickle_only_model(tiny_bert, tmp_path / "bin-model", None)
    res = run(
        cfg(model, cls_split, tmp_path / "opt-in", max_steps=1, checkpoint_every=None, allow_pickle=True)
    )
    assert res.steps == 1
    from common.weights import ALLOW_ENV, safe_weights

    monkeypatch.setenv(ALLOW_ENV, "1")
    assert safe_weights(model) == {}
    monkeypatch.delenv(ALLOW_ENV)

    code, err = cli(["convert-weights", str(model)], capsys)
    assert code == 0, err
    assert (model / "model.safetensors").exists()
    assert safe_weights(model) == {"use_safetensors": True}
    res = run(cfg(model, cls_split, tmp_path / "converted", max_steps=1, checkpoint_every=None))
    assert res.steps == 1


def test_no_package_module_unpickles():
    """No package module calls an unpickler, except `torch.load(..., weights_only=True)` (torch's restricted
    one, for `finetune convert-weights`). The Ray engine's shuffle values are MessagePack
    (tests/curate/test_ray_bag.py)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    hits = []
    for pkg in ("curate", "common", "finetune", "evalsuite", "schemas"):
        for path in sorted((root / pkg).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and isinstance(node.func.value, ast.Name)):
                    continue
                owner, name = node.func.value.id, node.func.attr
                restricted = any(k.arg == "weights_only" and getattr(k.value, "value", None) is True
                                 for k in node.keywords)
                if (owner in ("pickle", "dill", "joblib") and name in ("load", "loads", "Unpickler")) or (
                        owner == "torch" and name == "load" and not restricted):
                    hits.append(f"{path.relative_to(root)}:{owner}.{name}")
    assert hits == []
