"""Encodings: UTF-8, UTF-8 with BOM, CRLF, and the reported cp1252/latin-1 fallback."""

from __future__ import annotations

import pytest

from curate import load
from curate.errors import DataUsageError
from curate.io.encoding import decode_bytes, decode_one, split_lines

ROWS = '{"text": "naïve café", "label": "a"}\n{"text": "second", "label": "b"}\n'


def test_utf8_plain() -> None:
    d = decode_bytes(ROWS.encode("utf-8"))
    assert (d.encoding, d.note, d.fallback_lines) == ("utf-8", None, 0)


def test_bom_is_stripped_and_reported_as_utf8_sig(write_bytes) -> None:
    d = load(write_bytes("bom.jsonl", b"\xef\xbb\xbf" + ROWS.encode("utf-8")))
    assert d.summary.encoding == "utf-8-sig" and d.summary.rows_loaded == 2
    assert d.records[0]["text"] == "naïve café"


def test_crlf_lines(write_bytes) -> None:
    d = load(write_bytes("crlf.jsonl", ROWS.replace("\n", "\r\n").encode("utf-8")))
    assert d.summary.rows_loaded == 2 and d.records[1]["text"] == "second"
    c = load(write_bytes("crlf.csv", b"text,label\r\nhello,a\r\nbye,b\r\n"))
    assert [r["label"] for r in c.records] == ["a", "b"]


def test_bare_cr_inside_a_line_is_content_not_a_row_break() -> None:
    assert split_lines(b"a\rb\nc") == [b"a\rb\n", b"c"]


def test_whole_file_cp1252_fallback_is_reported(write_bytes) -> None:
    data = ROWS.encode("cp1252") + '{"text": "quote \u201cthis\u201d", "label": "c"}\n'.encode("cp1252")
    d = load(write_bytes("legacy.jsonl", data))
    assert d.summary.encoding == "cp1252" and "not UTF-8" in d.summary.encoding_note
    assert d.records[0]["text"] == "naïve café" and d.records[2]["text"] == "quote \u201cthis\u201d"


def test_mixed_file_counts_fallback_lines(write_bytes) -> None:
    data = ROWS.encode("utf-8") + '{"text": "déjà", "label": "c"}\n'.encode("latin-1")
    d = load(write_bytes("mixed.jsonl", data))
    assert d.summary.encoding == "utf-8"
    assert d.summary.encoding_note.startswith("1 line(s) were not valid UTF-8")
    assert d.records[2]["text"] == "déjà"


def test_cp1252_undefined_bytes_fall_back_to_latin1() -> None:
    assert decode_one(b"x\x81y") == ("x\x81y", "cp1252")


def test_forced_encoding_quarantines_lines_that_do_not_decode(write_bytes) -> None:
    p = write_bytes(
        "f.jsonl", b'{"text": "ok", "label": "a"}\n' + '{"text": "é", "label": "a"}\n'.encode("latin-1")
    )
    d = load(p, encoding="ascii")
    assert d.summary.encoding == "ascii" and d.summary.rows_read == 2
    assert [q.reason for q in d.quarantine] == ["undecodable_line"]
    assert "1 line(s) are not valid ascii" in d.summary.encoding_note
    with pytest.raises(DataUsageError, match="unknown encoding") as e:
        load(p, encoding="no-such-codec")
    assert "--encoding" in e.value.fix
