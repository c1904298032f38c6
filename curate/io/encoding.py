"""Decode input bytes: UTF-8 (with or without BOM) first, a reported legacy fallback second.

Rules, chosen so that no row is lost and no guess is silent:
- Lines are split on `\\n` only (keeping `\\r\\n`); a bare `\\r` inside a line is content, left for the
  normalizer. (Splitting on every Unicode line break turns one tweet into several rows.)
- A line that is valid UTF-8 is UTF-8.
- A line that is not is decoded as cp1252 (the Windows superset of latin-1 that spreadsheets write), with
  latin-1 for the five bytes cp1252 leaves undefined. The count of such lines is reported in the summary.
- A line whose fallback decoding is mostly control characters is binary, not text: it is quarantined
  (`undecodable_line`).
- With `--encoding NAME` every line must decode strictly as NAME; lines that do not are quarantined.
"""

from __future__ import annotations

from dataclasses import dataclass

BOM = b"\xef\xbb\xbf"
_CONTROL = set(range(0, 32)) - {9, 10, 13}
BINARY_CONTROL_SHARE = 0.1


@dataclass
class Decoded:
    lines: list[str | None]          # None marks a line that could not be decoded
    raw_lines: list[bytes]
    encoding: str
    note: str | None = None
    fallback_lines: int = 0

    @property
    def text(self) -> str:
        return "".join(line for line in self.lines if line is not None)


def split_lines(data: bytes) -> list[bytes]:
    parts = data.split(b"\n")
    lines = [p + b"\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def legacy_decode(b: bytes) -> str:
    try:
        return b.decode("cp1252")
    except UnicodeDecodeError:
        return "".join(bytes([c]).decode("cp1252", errors="ignore") or chr(c) for c in b)


def looks_binary(text: str) -> bool:
    if "\x00" in text:
        return True
    n = len(text)
    return n > 0 and sum(ord(ch) in _CONTROL for ch in text) / n > BINARY_CONTROL_SHARE


def decode_bytes(data: bytes, forced: str | None = None) -> Decoded:
    """Split `data` into lines (keeping line ends) and decode them by the rules in the module docstring."""
    encoding = "utf-8"
    if data.startswith(BOM):
        data = data[len(BOM):]
        encoding = "utf-8-sig"
    raw_lines = split_lines(data)
    if forced:
        out: list[str | None] = []
        for ln in raw_lines:
            try:
                out.append(ln.decode(forced))
            except UnicodeDecodeError:
                out.append(None)
            except LookupError:
                from curate.errors import DataUsageError

                raise DataUsageError(f"unknown encoding {forced!r}",
                                     fix="drop --encoding to let datavet detect it, or name a Python codec") from None
        bad = out.count(None)
        return Decoded(out, raw_lines, forced, f"{bad} line(s) are not valid {forced}" if bad else None)
    try:
        data.decode("utf-8")
        return Decoded([ln.decode("utf-8") for ln in raw_lines], raw_lines, encoding)
    except UnicodeDecodeError:
        pass

    lines: list[str | None] = []
    fallback = binary = 0
    any_utf8_non_ascii = False
    for ln in raw_lines:
        try:
            s = ln.decode("utf-8")
            any_utf8_non_ascii = any_utf8_non_ascii or not s.isascii()
            lines.append(s)
        except UnicodeDecodeError:
            s = legacy_decode(ln)
            if looks_binary(s.rstrip("\r\n")):
                lines.append(None)
                binary += 1
            else:
                lines.append(s)
                fallback += 1
    if any_utf8_non_ascii:
        enc, note = encoding, f"{fallback} line(s) were not valid UTF-8 and were decoded as cp1252"
    else:
        enc, note = "cp1252", "the file is not UTF-8; decoded as cp1252/latin-1 (re-save it as UTF-8 to silence this)"
    if binary:
        note += f"; {binary} binary line(s) quarantined"
    return Decoded(lines, raw_lines, enc, note, fallback)


def decode_one(data: bytes) -> tuple[str | None, str]:
    """Decode a small whole file (one text-folder document). Returns (text or None, encoding)."""
    if data.startswith(BOM):
        data = data[len(BOM):]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    text = legacy_decode(data)
    return (None, "binary") if looks_binary(text) else (text, "cp1252")
