"""Configs: extra="forbid", YAML loading, `key.sub=value` overrides, every problem in one message."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field

from schemas.configs.base import StrictModel, apply_overrides, load_config, parse_override
from schemas.configs.load import LoadConfig
from schemas.errors import ConfigError


class _Train(StrictModel):
    lr: float = 1e-4
    epochs: int = Field(1, ge=1)
    modules: list[str] = Field(default_factory=lambda: ["q"])


class _Cfg(StrictModel):
    name: str = "run"
    train: _Train = Field(default_factory=_Train)


def test_parse_override_parses_yaml_values() -> None:
    assert parse_override("train.lr=2e-5") == (["train", "lr"], 2e-5)
    assert parse_override("train.modules=[q,v]") == (["train", "modules"], ["q", "v"])
    assert parse_override("flag=true") == (["flag"], True)
    assert parse_override("name=") == (["name"], None)


@pytest.mark.parametrize("bad", ["no_equals", "=3"])
def test_parse_override_rejects_malformed(bad: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_override(bad)
    assert e.value.fix and "train.lr=2e-5" in e.value.fix


def test_apply_overrides_does_not_mutate_input() -> None:
    base = {"train": {"lr": 1}}
    out = apply_overrides(base, ["train.epochs=3", "name=x"])
    assert out == {"train": {"lr": 1, "epochs": 3}, "name": "x"}
    assert base == {"train": {"lr": 1}}


def test_load_config_from_yaml_with_overrides(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("name: a\ntrain:\n  lr: 0.001\n", encoding="utf-8")
    cfg = load_config(_Cfg, p, ["train.epochs=4"])
    assert (cfg.name, cfg.train.lr, cfg.train.epochs) == ("a", 0.001, 4)


def test_all_errors_collected_in_one_message(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("nmae: a\ntrain:\n  lr: fast\n  epochs: 0\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(_Cfg, p, ["train.extra=1"])
    err = e.value
    assert err.message == f"{p} has 4 problems"
    text = "\n".join(err.details)
    assert "nmae: unknown key" in text and "train.extra: unknown key" in text
    assert "train.lr:" in text and "'fast'" in text
    assert "train.epochs:" in text
    assert err.fix and err.exit_code == 2


@pytest.mark.parametrize(("content", "needle"), [("a: [", "not valid YAML"), ("- 1\n- 2\n", "mapping")])
def test_bad_yaml_files(tmp_path: Path, content: str, needle: str) -> None:
    p = tmp_path / "c.yaml"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=needle):
        load_config(_Cfg, p)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist") as e:
        load_config(_Cfg, tmp_path / "nope.yaml")
    assert e.value.fix


def test_load_config_forbids_unknown_fields_and_checks_limit() -> None:
    with pytest.raises(Exception, match="extra"):
        LoadConfig(path="x", textfield="t")
    with pytest.raises(Exception, match="greater than or equal to 1"):
        LoadConfig(path="x", limit=0)
    cfg = LoadConfig(path="x", kind="chat")
    assert cfg.kind.value == "chat" and cfg.format == "auto"
