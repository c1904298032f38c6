"""Decode input bytes: UTF-8 (with or without BOM) first, a reported legacy fallback second.

Rules, chosen so that no row is lost and no guess is silent:
- Lines are split on `\\n` only (keeping `\\r\\n`); a bare `\\r` inside a line is content, left for the
  normalizer. (Splitting on every Unicode line break turns one tweet into several rows.)
- A line that is valid UTF-8 is UTF-8.
- A line that is not is decoded as cp1252 (the Windows superset of latin-1 that spreadsheets write), with
  latin-1 for the five bytes cp1252 leaves undefined. The count of such lines is reported in the summary.
- A line whose fallback decoding is mostly control characters is binary, not text: it is quarantined
  (`undecodable_line`).
- A UTF-16 or UTF-32 byte-order mark selects that encoding for the whole file (and the summary says so).
- With `--encoding NAME` every line must decode strictly as NAME; lines that do not are quarantined. UTF-16
  and UTF-32 (which cannot be split into lines as bytes) are decoded as a whole.
- A file with bare CR line ends and no LF at all (old Mac files) is split on CR.
- The counts in the note describe the lines the load used (`note_for`), not the whole file under a limit.
"""

from __future__ import annotations

from dataclasses import dataclass

BOM = b"\xef\xbb\xbf"
# Checked in this order: the UTF-32 LE mark begins with the UTF-16 LE one.
WIDE_BOMS = ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
             (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_CONTROL = set(range(0, 32)) - {9, 10, 13}
BINARY_CONTROL_SHARE = 0.1


@dataclass
class Decoded:
    lines: list[str | None]          # None marks a line that could not be decoded
    raw_lines: list[bytes]
    encoding: str
    note: str | None = None
    fallback_lines: int = 0
    fallback_at: list[int] | None = None   # indices of the lines decoded by the cp1252 fallback
    binary_at: list[int] | None = None     # indices of binary lines
    forced_bad_at: list[int] | None = None  # indices of lines not valid in the --encoding given
    whole_file_fallback: bool = False

    @property
    def text(self) -> str:
        return "".join(line for line in self.lines if line is not None)

    def note_for(self, used: int | None) -> str | None:
        """The encoding note for the first `used` lines (all lines when None): counts describe what was
        used."""
        if used is None or used >= len(self.lines):
            return self.note
        scope = f" (in the {used:,} lines read)"
        if self.forced_bad_at is not None:
            bad = sum(i < used for i in self.forced_bad_at)
            return f"{bad} line(s) are not valid {self.encoding}{scope}" if bad else None
        if self.fallback_at is None:
            return self.note
        fallback = sum(i < used for i in self.fallback_at)
        binary = sum(i < used for i in self.binary_at or [])
        if self.whole_file_fallback and fallback:
            note = "the file is not UTF-8; decoded as cp1252/latin-1 (re-save it as UTF-8 to silence this)"
        elif fallback:
            note = f"{fallback} line(s) were not valid UTF-8 and were decoded as cp1252{scope}"
        else:
            note = None
        if binary:
            note = (
                note + "; " if note else ""
            ) + f"{binary} binary line(s) quarantined{scope if note is None else ''}"
        return note


def split_lines(data: bytes) -> list[bytes]:
    """Split on LF, keeping line ends; a file with CR line ends and no LF at all is split on CR."""
    sep = b"\r" if b"\n" not in data and b"\r" in data else b"\n"
    parts = data.split(sep)
    lines = [p + sep for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _split_text(text: str) -> list[str]:
    sep = "\r" if "\n" not in text and "\r" in text else "\n"
    parts = text.split(sep)
    lines = [p + sep for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _wide(data: bytes, encoding: str, note: str | None) -> Decoded:
    """Decode a whole UTF-16/32 file (its lines cannot be split as bytes)."""
    from curate.errors import DataUsageError

    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        raise DataUsageError(f"the file is not valid {encoding}: {e.reason} at byte {e.start}",
                             fix="check the --encoding, or re-save the file as UTF-8") from None
    text = text.removeprefix("\ufeff")
    lines = _split_text(text)
    return Decoded(list(lines), [ln.encode("utf-8", "surrogatepass") for ln in lines], encoding, note)


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
    if forced:
        import codecs

        try:
            name = codecs.lookup(forced).name
        except LookupError:
            from curate.errors import DataUsageError

            raise DataUsageError(
                f"unknown encoding {forced!r}",
                fix="drop --encoding to let datavet detect it, or name a Python codec",
            ) from None
        if name.startswith(("utf-16", "utf-32")):
            return _wide(data, forced, None)
    if not forced:
        for mark, wide in WIDE_BOMS:
            if data.startswith(mark):
                return _wide(
                    data[len(mark) :],
                    wide,
                    f"decoded as {wide.upper()} (the file starts with its byte-order mark)",
                )
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
        bad_at = [i for i, x in enumerate(out) if x is None]
        return Decoded(
            out,
            raw_lines,
            forced,
            f"{len(bad_at)} line(s) are not valid {forced}" if bad_at else None,
            forced_bad_at=bad_at,
        )
    try:
        data.decode("utf-8")
        return Decoded([ln.decode("utf-8") for ln in raw_lines], raw_lines, encoding)
    except UnicodeDecodeError:
        pass

    lines: list[str | None] = []
    fallback_at: list[int] = []
    binary_at: list[int] = []
    any_utf8_non_ascii = False
    for i, ln in enumerate(raw_lines):
        try:
            s = ln.decode("utf-8")
            any_utf8_non_ascii = any_utf8_non_ascii or not s.isascii()
            lines.append(s)
        except UnicodeDecodeError:
            s = legacy_decode(ln)
            if looks_binary(s.rstrip("\r\n")):
                lines.append(None)
                binary_at.append(i)
            else:
                lines.append(s)
                fallback_at.append(i)
    if any_utf8_non_ascii:
        enc, note = encoding, f"{len(fallback_at)} line(s) were not valid UTF-8 and were decoded as cp1252"
    else:
        enc, note = (
            "cp1252",
            "the file is not UTF-8; decoded as cp1252/latin-1 (re-save it as UTF-8 to silence this)",
        )
    if binary_at:
        note += f"; {len(binary_at)} binary line(s) quarantined"
    return Decoded(lines, raw_lines, enc, note, len(fallback_at), fallback_at, binary_at,
                   whole_file_fallback=not any_utf8_non_ascii)


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
