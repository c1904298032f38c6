"""One reader of metrics.jsonl for resume, compare and cv: a torn last line is dropped, damage elsewhere is
named."""

from __future__ import annotations

import json

import pytest

from finetune.metrics_log import read_events, truncate_after
from schemas.errors import DatavetError

EVENTS = [{"step": s, "split": "train", "loss": 2.0 - s / 10} for s in (1, 2, 3, 4)]


def write(path, events, tail=""):
    path.write_text("".join(json.dumps(e) + "\n" for e in events) + tail, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "tail", ['{"step": 5, "spl', '{"step": 5, "split": "train", "loss": 1.', "\x00\x00", "[1, 2"]
)
def test_a_torn_last_line_is_dropped(tmp_path, tail):
    assert read_events(write(tmp_path / "m.jsonl", EVENTS, tail)) == EVENTS


def test_a_complete_last_line_without_newline_is_kept(tmp_path):
    p = tmp_path / "m.jsonl"
    p.write_text("\n".join(json.dumps(e) for e in EVENTS))
    assert read_events(p) == EVENTS


def test_a_bad_line_before_the_last_is_an_error_naming_it(tmp_path):
    p = tmp_path / "m.jsonl"
    p.write_text(json.dumps(EVENTS[0]) + "\n{oops\n" + json.dumps(EVENTS[1]) + "\n")
    with pytest.raises(DatavetError, match="line 2 is not a JSON object") as e:
        read_events(p)
    assert e.value.fix


def test_truncate_after_keeps_the_checkpointed_steps_and_drops_a_torn_line(tmp_path):
    p = write(tmp_path / "m.jsonl", EVENTS, '{"step": 5')
    assert truncate_after(p, 2) == 2
    assert p.read_text() == "".join(json.dumps(e) + "\n" for e in EVENTS[:2])


def test_cv_and_compare_read_a_torn_log(tmp_path):
    from evalsuite.compare import training_curve_charts
    from evalsuite.cv import training_curves

    d = tmp_path / "fold-0"
    d.mkdir()
    write(
        d / "metrics.jsonl", [*EVENTS, {"step": 4, "split": "val", "loss": 1.5}], '{"step": 5, "split": "tr'
    )
    train, val = training_curves([d])  # cv used to crash here with a JSONDecodeError (exit 3)
    assert train.x == [1, 2, 3, 4] and val.series == {"fold 0": [1.5]}
    loss = training_curve_charts(d / "metrics.jsonl")[0]
    assert loss.x == [1, 2, 3, 4] and loss.series["val loss"] == [None, None, None, 1.5]
