"""Issue 9 items 3, 5, 6, 9, 10 and issue 11 item 7: each planted input shaped like the reported failure.

Every row is accounted for (`rows_read == loaded + quarantined`, one row per physical record); a bad row is
quarantined with its line and reason while the rest load; usage mistakes are exit 2 with a fix, never exit 3.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from curate import load
from curate.cli import main as curate_main
from curate.errors import DataUsageError


def _write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    p = tmp_path / name
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return p


def _reasons(d) -> dict[int | None, str]:
    return {q.line: q.reason for q in d.quarantine}


ROWS = "id,text,label\n" + "".join(f"{i},text {i},{'ab'[i % 2]}\n" for i in range(10))


# --- item 3: a stray quote or a bare CR never merges rows ------------------------------------------------

def test_unclosed_csv_quote_costs_one_row_not_five(tmp_path):
    d = load(_write(tmp_path, "d.csv", ROWS.replace("3,text 3", '3,"text 3')))
    assert d.summary.rows_read == 10 and d.summary.rows_loaded == 9
    assert _reasons(d) == {5: "unclosed_quote"}  # line 5 holds row 3 (line 1 is the header)
    assert [r["id"] for r in d.records] == ["0", "1", "2", "4", "5", "6", "7", "8", "9"]
    assert d.records[3]["text"] == "text 4"  # not swallowed into row 3's text


def test_unclosed_quote_closed_by_a_later_quote(tmp_path):
    data = ROWS.replace("3,text 3", '3,"text 3').replace("7,text 7", '7,"text" 7')
    d = load(_write(tmp_path, "d.csv", data))
    assert d.summary.rows_read == 10 and _reasons(d) == {5: "unclosed_quote"}
    assert {r["id"]: r["text"] for r in d.records}["7"] == "text 7"


def test_well_formed_multiline_fields_stay_one_row(tmp_path):
    d = load(_write(tmp_path, "d.csv", 'text,label\n"line one,\nline two",a\n"x ""quoted""\n",b\n'))
    assert d.summary.rows_read == 2 and d.summary.rows_quarantined == 0
    assert d.records[0]["text"] == "line one,\nline two" and d.records[1]["text"] == 'x "quoted"\n'


def test_field_count_mismatch_is_quarantined_per_line(tmp_path):
    d = load(_write(tmp_path, "d.csv", ROWS.replace("5,text 5,b", "5,text 5,b,extra")))
    assert d.summary.rows_read == 10 and _reasons(d) == {7: "wrong_field_count"}


def test_bare_cr_between_jsonl_records(tmp_path):
    d = load(_write(tmp_path, "d.jsonl", '{"text": "a", "label": "x"}\r{"text": "b", "label": "y"}\n'
                                         '{"text": "c", "label": "x"}\n'))
    assert d.summary.rows_read == 3 and [r["text"] for r in d.records] == ["a", "b", "c"]


def test_bare_cr_inside_an_unquoted_csv_field_is_content(tmp_path):
    d = load(_write(tmp_path, "d.csv", "text,label\na\rb,x\nc,y\n"))
    assert d.summary.rows_read == 2 and d.records[0]["text"] == "a\rb"


# --- item 5: one bad row never aborts the load ----------------------------------------------------------

def test_odd_values_are_quarantined_and_the_rest_load(tmp_path):
    lines = [
        '{"text": "ok", "label": "x"}',
        '{"text": "huge", "label": ' + "1" * 5000 + "}",
        '{"id": ' + "9" * 400 + ', "text": "long id", "label": "x"}',
        '{"text": "long label", "label": ' + "7" * 400 + "}",
        '{"text": "bad \\ud800 surrogate", "label": "x"}',
        '{"text": "pair \\ud83d\\ude00 ok", "label": "x"}',
    ]
    d = load(_write(tmp_path, "d.jsonl", "\n".join(lines) + "\n"))
    assert d.summary.rows_read == 6
    assert _reasons(d) == {2: "number_too_long", 5: "lone_surrogate"}
    assert {r["text"] for r in d.records} == {"ok", "long id", "long label", "pair 😀 ok"}
    assert next(r for r in d.records if r["text"] == "long label")["label"] == "7" * 400


def test_over_long_number_in_a_json_array_costs_one_item(tmp_path):
    d = load(
        _write(
            tmp_path, "d.json", '[{"text": "a", "label": ' + "1" * 5000 + '}, {"text": "b", "label": "x"}]'
        )
    )
    assert d.summary.rows_read == 2 and [q.reason for q in d.quarantine] == ["number_too_long"]


def test_cr_only_csv_loads(tmp_path):
    d = load(_write(tmp_path, "d.csv", ROWS.replace("\n", "\r")))
    assert d.summary.rows_read == 10 and d.summary.rows_quarantined == 0


def test_the_written_output_of_a_loaded_file_can_be_written(tmp_path, run_main):
    """Nothing that loads can break a writer later (lone surrogates would fail at UTF-8 encoding)."""
    data = _write(tmp_path, "d.jsonl", '{"text": "a\\udc00", "label": "x"}\n{"text": "b", "label": "y"}\n')
    assert run_main(curate_main, ["export", str(data), str(tmp_path / "o.jsonl")]) == 0
    assert json.loads((tmp_path / "o.quarantine.jsonl").read_text())["reason"] == "lone_surrogate"


# --- item 6: UTF-16/32 ------------------------------------------------------------------------------------

@pytest.mark.parametrize("codec", ["utf-16", "utf-32", "utf-16-be"])
def test_utf16_and_utf32_with_a_bom_are_detected(tmp_path, codec):
    text = '{"text": "héllo wörld", "label": "x"}\n{"text": "second", "label": "y"}\n'
    data = (b"\xfe\xff" + text.encode(codec)) if codec == "utf-16-be" else text.encode(codec)
    d = load(_write(tmp_path, "d.jsonl", data))
    assert d.summary.rows_loaded == 2 and d.records[0]["text"] == "héllo wörld"
    assert d.summary.encoding.startswith(codec[:6]) and "byte-order mark" in d.summary.encoding_note


def test_encoding_option_reads_utf16_without_a_bom(tmp_path, run_main, capsys):
    p = _write(tmp_path, "d.csv", "text,label\nhéllo,x\n".encode("utf-16-le"))
    d = load(p, encoding="utf-16-le")
    assert d.records[0]["text"] == "héllo" and d.summary.encoding == "utf-16-le"
    assert run_main(curate_main, ["check", str(p), "--encoding", "utf-16-le", "--fail-on", "never"]) == 0
    assert "utf-16-le" in capsys.readouterr().out


# --- item 9: silent load problems ------------------------------------------------------------------------

def test_missing_labels_are_quarantined_in_every_format(tmp_path):
    j = load(_write(tmp_path, "d.jsonl", '{"text": "a", "label": NaN}\n{"text": "b", "label": ""}\n'
                                         '{"text": "c", "label": "  "}\n{"text": "d", "label": Infinity}\n'
                                         '{"text": "e", "label": null}\n{"text": "f", "label": "x"}\n'))
    assert [q.reason for q in j.quarantine] == ["missing_label"] * 5 and j.summary.rows_loaded == 1
    c = load(_write(tmp_path, "d.csv", "text,label\na,NaN\nb,\nc,  \nd,inf\nf,x\n"))
    assert [q.reason for q in c.quarantine] == ["missing_label"] * 4 and [r["label"] for r in c.records] == [
        "x"
    ]


def test_duplicate_csv_columns_are_refused_by_name(tmp_path):
    with pytest.raises(DataUsageError, match="duplicate column names: 'text'"):
        load(_write(tmp_path, "d.csv", "text,label,text\na,b,c\n"))


def test_label_folder_names_what_it_skipped(tmp_path):
    for rel, body in (("pos/a.txt", "good"), ("neg/b.TXT", "upper-case suffix"), ("neg/c.md", "markdown"),
                      ("neg/deeper/d.txt", "nested"), ("README", "loose")):
        (tmp_path / "td" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "td" / rel).write_text(body)
    d = load(tmp_path / "td")
    assert sorted(r["text"] for r in d.records) == ["good", "upper-case suffix"]
    [note] = d.summary.notes
    assert "skipped 3" in note and "neg/c.md" in note and "neg/deeper/" in note and "README" in note


def test_explicit_id_equal_to_an_earlier_implicit_id_keeps_both_rows(tmp_path):
    d = load(_write(tmp_path, "d.jsonl", '{"text": "first", "label": "x"}\n{"text": "second", "label": "x"}\n'
                                         '{"id": "0", "text": "explicit zero", "label": "y"}\n'))
    assert d.summary.rows_quarantined == 0
    by_id = {r["id"]: r["text"] for r in d.records}
    assert by_id["0"] == "explicit zero"  # the input's own id wins over the made-up row number
    assert by_id["0~1"] == "first" and by_id["1"] == "second"
    assert any("'0'" in n and "'0~1'" in n for n in d.summary.notes)
    # two equal explicit ids are still a duplicate: the later row is quarantined
    dup = load(_write(tmp_path, "e.jsonl", '{"id": "k", "text": "a", "label": "x"}\n'
                                           '{"id": "k", "text": "b", "label": "x"}\n'))
    assert [(q.line, q.reason) for q in dup.quarantine] == [(2, "duplicate_id")]


@pytest.mark.timeout(60)  # before the fix the load blocked forever on the FIFO
def test_a_fifo_is_refused_instead_of_hanging(tmp_path):
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(DataUsageError, match="FIFO"):
        load(fifo)


# --- issue 11 item 7: one null rule, counts that describe what was used -----------------------------------

def test_null_text_is_the_same_in_every_format(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    j = load(_write(tmp_path, "d.jsonl", '{"text": null, "label": "x"}\n{"text": "", "label": "x"}\n'))
    c = load(_write(tmp_path, "d.csv", "text,label\n,x\n"))
    pq.write_table(pa.table({"text": [None], "label": ["x"]}), tmp_path / "d.parquet")
    p = load(tmp_path / "d.parquet")
    assert [r["text"] for r in j.records] == ["", ""]
    assert [r["text"] for r in c.records] == [""] and [r["text"] for r in p.records] == [""]
    assert not (j.quarantine or c.quarantine or p.quarantine)


def test_encoding_counts_describe_the_rows_used_under_a_limit(tmp_path):
    good = '{"text": "plain", "label": "x"}\n' * 3
    legacy = '{"text": "café", "label": "x"}\n'.encode("cp1252")
    data = good.encode() + legacy * 4 + '{"text": "é", "label": "y"}\n'.encode()
    p = _write(tmp_path, "d.jsonl", data)
    assert load(p).summary.encoding_note.startswith("4 line(s)")
    assert load(p, limit=3).summary.encoding_note is None
    assert load(p, limit=5).summary.encoding_note.startswith("2 line(s)")


# --- item 10: usage mistakes are exit 2 with a fix ---------------------------------------------------------

@pytest.mark.parametrize("body", [b"input:\n  path: d.jsonl\n1: 2\n", b"input:\n  path: caf\xe9.jsonl\n"])
def test_bad_yaml_configs_are_exit_2(tmp_path, run_main, capsys, body):
    cfg = _write(tmp_path, "c.yaml", body)
    assert run_main(curate_main, ["run", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "How to fix" in err and "internal error" not in err


def test_hub_id_fails_at_once_when_offline(monkeypatch):
    from common import models as registry
    from common.errors import ModelAssetError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(
        "socket.create_connection", lambda *a, **k: pytest.fail("no network probe when offline")
    )
    with pytest.raises(ModelAssetError, match="HF_HUB_OFFLINE") as e:
        registry.resolve_model("foo/bar")
    assert e.value.exit_code == 2 and "local" in e.value.fix


def test_hub_id_fails_at_once_without_a_connection(monkeypatch):
    from common import models as registry
    from common.errors import ModelAssetError

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)

    def unreachable(*a, **k):
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr("socket.create_connection", unreachable)
    with pytest.raises(ModelAssetError, match="cannot be reached"):
        registry.resolve_model("foo/bar")


def test_max_length_beyond_the_model_is_refused_before_weights_load(tmp_path, monkeypatch):
    from common import models as registry
    from common.errors import ModelAssetError

    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text('{"max_position_embeddings": 128}')  # no weights at all
    registry.check_max_length(str(tmp_path / "m"), 128)
    with pytest.raises(ModelAssetError, match="longer than the 128 positions") as e:
        registry.check_max_length(str(tmp_path / "m"), 4096)
    assert "--max-length 128" in e.value.fix


def test_perplexity_cli_checks_batch_size_and_max_length_first(tmp_path, run_main, capsys):
    from evalsuite.cli import main as eval_main

    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text('{"max_position_embeddings": 64}')
    data = _write(tmp_path, "d.jsonl", '{"text": "a", "label": "x"}\n')
    base = ["perplexity", "--model", str(tmp_path / "m"), "--data", str(data)]
    assert run_main(eval_main, [*base, "--batch-size", "0"]) == 2
    assert run_main(eval_main, [*base, "--max-length", "100"]) == 2
    assert "longer than the 64 positions" in capsys.readouterr().err


def test_perplexity_reports_the_rows_it_quarantined(tmp_path):
    """Item 9: the load summary (with quarantined rows and reasons) is printed before the model loads."""
    from typer.testing import CliRunner

    from evalsuite.cli import app

    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text('{"max_position_embeddings": 64}')  # no weights: fails later
    data = _write(
        tmp_path, "d.jsonl", '{"prompt": "p", "completion": "c"}\n{"prompt": "p2", "completion": " "}\n'
    )
    r = CliRunner().invoke(app, ["perplexity", "--model", str(tmp_path / "m"), "--data", str(data)])
    assert "rows quarantined" in r.output and "empty_completion: 1" in r.output
