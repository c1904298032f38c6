"""Every loader: good input, and malformed input that is quarantined row by row with zero rows lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate import load
from curate.errors import DataUsageError
from curate.io.load import INFER_SAMPLE
from schemas.configs.load import LoadConfig


def _lossless(d, expected_rows: int) -> None:
    s = d.summary
    assert s.rows_read == expected_rows
    assert s.rows_read == s.rows_loaded + s.rows_quarantined == len(d.records) + len(d.quarantine)
    assert sum(s.quarantine_reasons.values()) == s.rows_quarantined


def _reasons(d) -> dict[int, str]:
    return {q.row: q.reason for q in d.quarantine}


# ---------------------------------------------------------------- JSONL

def test_jsonl_malformed_rows_are_quarantined(write_bytes) -> None:
    lines = [
        b'{"text": "good", "label": "a"}',
        b'{"text": "broken", "label": ',                 # malformed JSON
        b'{"text": "nul \\u0000 here", "label": "a"}',     # NUL character
        b'{"text": 17, "label": "a"}',                    # wrong type
        b'{"label": "a"}',                                # missing field
        b'[1, 2]',                                        # not an object
        b'{"text": ' + b"[" * 40 + b"]" * 40 + b', "label": "a"}',   # nested deeper than MAX_NESTING_DEPTH
        b'{"text": ' + b"[" * 5000 + b"]" * 5000 + b', "label": "a"}',  # deeper than the JSON parser allows
        b"\x00\x01\x02\x03\x04\x05\x06\xff",              # binary, undecodable
        b'{"id": "r0", "text": "dup id 1", "label": "a"}',
        b'{"id": "r0", "text": "dup id 2", "label": "a"}',
        b'{"text": "truncated", "la',                      # last line cut off, no newline
    ]
    p = write_bytes("bad.jsonl", b"\n".join(lines))
    d = load(p)
    _lossless(d, 12)
    assert [r["id"] for r in d.records] == ["0", "r0"]
    assert _reasons(d) == {1: "malformed_json", 2: "nul_character", 3: "wrong_type", 4: "missing_field",
                           5: "not_an_object", 6: "too_deeply_nested", 7: "too_deeply_nested",
                           8: "undecodable_line", 10: "duplicate_id", 11: "truncated_line"}
    q = {x.row: x for x in d.quarantine}
    assert (q[1].line, q[1].raw, q[1].source) == (2, '{"text": "broken", "label": ', str(p))
    assert "required field 'text' is missing" in q[4].message
    assert "got int" in q[3].message
    assert "line(s) quarantined" in (d.summary.encoding_note or "")


def test_jsonl_blank_lines_are_not_rows_and_line_numbers_stay_physical(write_bytes) -> None:
    p = write_bytes("b.jsonl", '\n{"text": "a", "label": "x"}\n\n   \n{"text": "b"}\n')
    d = load(p)
    _lossless(d, 2)
    assert d.quarantine[0].line == 5 and d.quarantine[0].row == 1 and d.quarantine[0].id == "1"


def test_chat_reasons_are_precise(write_bytes) -> None:
    def conv(*turns):
        return {"messages": [{"role": r, "content": c} for r, c in turns]}

    rows = [conv(("user", "q"), ("assistant", "a")), conv(("robot", "q"), ("assistant", "a")),
            conv(("assistant", "a"), ("user", "q")), conv(("user", "q"), ("assistant", "")),
            {"messages": "not a list"}, {"messages": [{"role": "user"}]}]
    p = write_bytes("chat.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    d = load(p)
    _lossless(d, 6)
    assert d.kind.value == "chat"
    assert _reasons(d) == {1: "unknown_role", 2: "bad_role_order", 3: "empty_assistant_turn", 4: "wrong_type",
                           5: "missing_field"}
    assert "'robot'" in d.quarantine[0].message


def test_alpaca_and_field_mapping_flags(write_bytes) -> None:
    p = write_bytes("a.jsonl", '{"instruction": "Add", "input": "1+1", "output": "2"}\n'
                               '{"instruction": "Hi", "output": "hello", "extra": 5}\n')
    d = load(p)
    assert d.kind.value == "completion"
    assert [(r["prompt"], r["completion"]) for r in d.records] == [("Add\n\n1+1", "2"), ("Hi", "hello")]
    assert d.records[1]["metadata"] == {"extra": 5}
    p = write_bytes("m.jsonl", '{"key": 9, "q": "why", "a": "because", "team": "x"}\n')
    d = load(p, prompt_field="q", completion_field="a", id_field="key", group_field="team")
    assert d.records == [{"id": "9", "prompt": "why", "completion": "because", "group": "x", "metadata": {}}]


def test_missing_column_is_a_usage_error_naming_the_columns(write_bytes) -> None:
    p = write_bytes("m.jsonl", '{"body": "x", "topic": "y"}\n')
    with pytest.raises(DataUsageError) as e:
        load(p, kind="classification")
    assert "columns found: body, topic" in e.value.details
    assert "--text-field" in e.value.fix and e.value.exit_code == 2
    with pytest.raises(DataUsageError, match="--text-field nope"):
        load(p, text_field="nope", label_field="topic")


def test_schemaless_kind_inference_sees_columns_beyond_the_first_row(write_bytes) -> None:
    # The first rows lack `label`; the kind and mapping come from the first INFER_SAMPLE parsed rows.
    rows = (
        ['{"text": "no label yet"}'] * 3 + ["{broken"] + ['{"text": "t", "label": "a"}'] * (INFER_SAMPLE + 5)
    )
    d = load(write_bytes("i.jsonl", "\n".join(rows) + "\n"))
    _lossless(d, len(rows))
    assert d.kind.value == "classification" and d.field_map == {"text": "text", "label": "label"}
    assert [q.row for q in d.quarantine] == [0, 1, 2, 3]
    assert [r["id"] for r in d.records][:2] == ["4", "5"]  # source order kept across the buffered rows


def test_limit_caps_rows_read(write_bytes) -> None:
    p = write_bytes("l.jsonl", "".join(json.dumps({"text": str(i), "label": "a"}) + "\n" for i in range(50)))
    d = load(p, limit=7)
    _lossless(d, 7)
    d = load(LoadConfig(path=str(p), limit=500))
    _lossless(d, 50)
    csv = write_bytes("l.csv", "text,label\n" + "".join(f"t{i},a\n" for i in range(20)))
    _lossless(load(csv, limit=3), 3)


def test_missing_path_and_empty_file(tmp_path: Path, write_bytes) -> None:
    with pytest.raises(DataUsageError, match="does not exist") as e:
        load(tmp_path / "nope.jsonl")
    assert "bundled:" in e.value.fix
    with pytest.raises(DataUsageError, match="holds no rows"):
        load(write_bytes("empty.jsonl", "\n\n"))
    with pytest.raises(DataUsageError, match="extension") as e:
        load(write_bytes("data.xyz", "a"))
    assert "--format" in e.value.fix


# ---------------------------------------------------------------- JSON array

def test_json_array_and_wrapped_array(write_bytes) -> None:
    rows = [{"text": "a", "label": "x"}, "a string", {"text": "b"}, {"text": "c", "label": 3}]
    d = load(write_bytes("a.json", json.dumps(rows)))
    _lossless(d, 4)
    assert _reasons(d) == {1: "not_an_object", 2: "missing_field"}
    assert d.records[1]["label"] == "3"
    d = load(write_bytes("w.json", json.dumps({"data": rows[:1]})))
    _lossless(d, 1)


def test_json_array_that_does_not_parse_is_a_usage_error_with_position(write_bytes) -> None:
    with pytest.raises(DataUsageError) as e:
        load(write_bytes("bad.json", '[\n{"text": "a", "label": "x"},\n{"text": oops}\n]'))
    assert "line 3" in e.value.message and e.value.fix


def test_json_extension_holding_json_lines(write_bytes) -> None:
    d = load(write_bytes("l.json", '{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}\n{bad\n'))
    _lossless(d, 3)
    assert d.summary.format == "jsonl" and _reasons(d) == {2: "malformed_json"}


# ---------------------------------------------------------------- CSV / TSV

def test_csv_malformed_rows_are_quarantined(write_bytes) -> None:
    data = (b'text,label,note\r\n'
            b'"multi\r\nline text",a,n\r\n'       # quoted newline: one row over two lines
            b'plain,b,n\r\n'
            b'too,many,fields,here\r\n'
            b'short\r\n'
            b'"nul\x00inside",a,n\r\n'
            b'last,b,n\r\n')
    d = load(write_bytes("b.csv", data))
    _lossless(d, 6)
    assert _reasons(d) == {2: "wrong_field_count", 3: "wrong_field_count", 4: "nul_character"}
    q = {x.row: x for x in d.quarantine}
    assert (q[2].line, q[2].raw) == (5, "too,many,fields,here")
    assert q[3].line == 6
    assert d.records[0]["text"] == "multi\r\nline text" and d.records[0]["metadata"] == {"note": "n"}
    assert d.summary.encoding == "utf-8"


def test_csv_undecodable_line_is_quarantined(write_bytes) -> None:
    d = load(write_bytes("u.csv", b"text,label\ngood,a\n\x00\x01\x02\x03\x04\xff\xfe,b\ncaf\xe9,c\n"))
    _lossless(d, 3)
    assert _reasons(d) == {1: "undecodable_line"}
    assert d.records[1]["text"] == "café"
    assert "cp1252" in d.summary.encoding_note


def test_tsv_and_missing_column(write_bytes) -> None:
    d = load(write_bytes("t.tsv", "sentence\tclass\nhello, world\tpos\nbad row\n"))
    _lossless(d, 2)
    assert d.records[0]["text"] == "hello, world" and _reasons(d) == {1: "wrong_field_count"}
    with pytest.raises(DataUsageError) as e:
        load(write_bytes("c.csv", "body,topic\nx,y\n"))
    assert "columns found: body, topic" in e.value.details
    with pytest.raises(DataUsageError, match="empty"):
        load(write_bytes("e.csv", ""))


# ---------------------------------------------------------------- Parquet

def test_parquet_rows_with_nulls_and_nul_are_quarantined(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": ["a", None, "b\x00", "c"], "label": [1, 2, None, 4],
                             "score": [0.5, 0.1, 0.2, 0.3]}), p)
    d = load(p)
    _lossless(d, 4)
    # issue 11 item 7: a null text is an empty text in every format (CSV cannot tell them apart)
    assert _reasons(d) == {2: "nul_character"}
    assert d.records[0] == {"id": "0", "text": "a", "label": "1", "group": None, "metadata": {"score": 0.5}}
    assert d.records[1]["text"] == "" and '"label": null' in d.quarantine[0].raw


def test_unreadable_parquet_is_a_usage_error(write_bytes) -> None:
    with pytest.raises(DataUsageError, match="not a readable Parquet file") as e:
        load(write_bytes("t.parquet", b"PAR1 this is not parquet"))
    assert e.value.fix


# ---------------------------------------------------------------- HF save_to_disk

def test_hf_folder_with_bad_rows(tmp_path: Path) -> None:
    from datasets import Dataset, DatasetDict

    ds = Dataset.from_dict({"text": ["a", None, "c"], "label": ["x", "y", ""]})
    DatasetDict({"train": ds, "test": ds.select([0])}).save_to_disk(str(tmp_path / "dd"))
    d = load(tmp_path / "dd")
    _lossless(d, 3)  # the train split
    assert d.summary.format == "hf" and _reasons(d) == {2: "missing_label"}
    assert d.records[1]["text"] == ""


def test_corrupt_hf_folder_is_a_usage_error(write_bytes) -> None:
    p = write_bytes("hf/state.json", "{not json")
    with pytest.raises(DataUsageError, match="save_to_disk") as e:
        load(p.parent)
    assert e.value.fix


# ---------------------------------------------------------------- folder of text files per label

def test_textdir_labels_binary_and_legacy_files(tmp_path: Path, write_bytes) -> None:
    write_bytes("td/pos/a.txt", "good film")
    write_bytes("td/pos/b.txt", b"caf\xe9 au lait")
    write_bytes("td/neg/c.txt", "\ufeffbad film")
    write_bytes("td/neg/d.txt", b"\x00\xff\x01\xfe\x02\x03\x04binary")  # not UTF-8, mostly control bytes
    write_bytes("td/neg/e.txt", "valid UTF-8 with a NUL \x00")
    d = load(tmp_path / "td")
    _lossless(d, 5)
    assert {r["id"]: r["label"] for r in d.records} == {"neg/c.txt": "neg", "pos/a.txt": "pos",
                                                         "pos/b.txt": "pos"}
    assert next(r["text"] for r in d.records if r["id"] == "pos/b.txt") == "café au lait"
    assert next(r["text"] for r in d.records if r["id"] == "neg/c.txt") == "bad film"  # BOM stripped
    assert (
        _reasons(d) == {1: "undecodable_file", 2: "nul_character"} and d.quarantine[0].source == "neg/d.txt"
    )
    assert "1 file(s)" in d.summary.encoding_note


def test_folder_of_nothing_useful_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataUsageError, match="neither"):
        load(tmp_path / "empty")
