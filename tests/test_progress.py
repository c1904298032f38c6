"""common.progress: plain lines (count, percent, rate, ETA, stats) on stderr when not on a terminal, nothing
on stdout in any mode, nothing at all when off."""

from __future__ import annotations

import pytest

from common.progress import PREFIX, Progress, progress_mode, track


def test_plain_lines_when_stderr_is_not_a_terminal(monkeypatch, capsys):
    monkeypatch.delenv("DATAVET_PROGRESS", raising=False)
    monkeypatch.setenv("DATAVET_PROGRESS_EVERY", "0")  # every update prints: the test sees them all
    assert progress_mode() == "plain"  # pytest captures stderr: not a terminal
    with Progress("train", 4, unit="steps") as p:
        for step in range(1, 5):
            p.update(step, loss=1.0 / step)
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert out == "" and all(line.startswith(PREFIX) for line in lines)
    assert lines[0].startswith(f"{PREFIX} train 0/4 (0%)")
    assert (
        "train 2/4 (50%)" in lines[2]
        and "steps/s" in lines[2]
        and "ETA" in lines[2]
        and "loss 0.5" in lines[2]
    )
    assert "train 4/4 (100%)" in lines[-1] and "ETA" not in lines[-1]


def test_without_a_total_lines_still_count(monkeypatch, capsys):
    monkeypatch.setenv("DATAVET_PROGRESS", "plain")
    monkeypatch.setenv("DATAVET_PROGRESS_EVERY", "0")
    assert list(track(iter("abc"), "read", unit="rows")) == ["a", "b", "c"]
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{PREFIX} read 0 elapsed 0s" and err[-1].endswith("done") and "read 3 " in err[-1]


@pytest.mark.parametrize("mode", ["off", "rich"])
def test_off_prints_nothing_and_rich_keeps_stdout_clean(mode, monkeypatch, capsys):
    monkeypatch.setenv("DATAVET_PROGRESS", mode)
    with Progress("outer", 2) as outer:
        for _ in range(2):
            assert sum(track(range(3), "inner")) == 3
            outer.advance()
    out, err = capsys.readouterr()
    assert out == ""
    assert (err == "") if mode == "off" else ("outer" in err and PREFIX not in err)


def test_disabled_progress_is_silent_whatever_the_mode(monkeypatch, capsys):
    monkeypatch.setenv("DATAVET_PROGRESS", "plain")
    with Progress("train", 3, enabled=False) as p:
        p.update(3)
    assert capsys.readouterr() == ("", "")
