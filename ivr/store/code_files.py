"""Reading a file of promo codes: one code a line, or CSV; gzip accepted; every line numbered.

`read_batches(stream, fmt, size)` yields `Batch`es of up to `size` codes with their line numbers, the lines
that are not codes (`Problem`s, counted and listed with their line) and how far into the file it is (for
progress). The stream is read a line at a time: a file of ten million codes never sits in memory.

* gzip is recognised by its first bytes (1f 8b), whatever the file is called;
* `fmt` "lines": the whole line is the code; "csv": the column named code (a header row naming one of
  HEADER_NAMES), else the first; "auto" looks at the first line: with a `,`, `;` or tab it is CSV;
* a code is 1 to 64 letters, digits, `-` and `_` (CODE), around it spaces are ignored, blank lines are
  skipped; text that is not UTF-8, a missing column or anything else on a line is a problem of that line;
* a header line (one naming a code column, or `code` alone) is not a code.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

FORMATS = ("auto", "lines", "csv")
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
DELIMITERS = (",", ";", "\t")
HEADER_NAMES = ("code", "codes", "promo_code", "promocode", "код", "коды", "коди")
SHOWN = 80                      # characters of a bad line kept for the report
GZIP_MAGIC = b"\x1f\x8b"

# What the import report says of a line (one place, for a message catalogue to take over).
MESSAGES = {
    "not_utf8": "not UTF-8 text",
    "not_code": "not a code (1 to 64 letters, digits, - and _)",
    "no_column": "no column {column}",
    "bad_csv": "not a CSV line",
    "duplicate": "duplicate of a code already in the pool or earlier in the file",
}


class CodeFileError(ValueError):
    """A file that cannot be read as codes at all (a damaged gzip stream, an unknown format)."""


@dataclass(frozen=True)
class Problem:
    line: int
    kind: str                   # malformed | duplicate
    message: str
    text: str

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "kind": self.kind, "message": self.message, "text": self.text}


@dataclass
class Batch:
    codes: list[tuple[int, str]] = field(default_factory=list)    # (line number, code)
    problems: list[Problem] = field(default_factory=list)         # malformed lines of this batch
    lines: int = 0                                                # the last line number read
    bytes_read: int = 0                                           # of the file as stored (compressed)


def is_gzip(head: bytes) -> bool:
    return head[:2] == GZIP_MAGIC


def read_batches(raw: BinaryIO, fmt: str = "auto", size: int = 10_000) -> Iterator[Batch]:
    """The codes of a file in batches of `size` (see the module docstring)."""
    if fmt not in FORMATS:
        raise CodeFileError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    head = raw.read(2)
    raw.seek(0)
    stream: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb") if is_gzip(head) else raw   # type: ignore[assignment]
    reader = _LineReader(fmt)
    batch = Batch()
    number = 0
    try:
        for number, data in enumerate(stream, start=1):
            reader.read(number, data, batch)
            if len(batch.codes) >= size:
                batch.lines, batch.bytes_read = number, raw.tell()
                yield batch
                batch = Batch()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise CodeFileError(f"the file cannot be read after line {number}: {exc}") from None
    batch.lines, batch.bytes_read = number, raw.tell()
    yield batch


class _LineReader:
    """Turns each line into a code or a problem, learning the format from the first line."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.delimiter: str | None = None
        self.column = 0
        self.started = False

    def read(self, number: int, data: bytes, batch: Batch) -> None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            batch.problems.append(_malformed(number, MESSAGES["not_utf8"], data.decode("utf-8", "replace")))
            return
        if not self.started:
            text = text.lstrip("\ufeff")
        text = text.strip()
        if not text:
            return
        if not self.started:
            self.started = True
            if self._header(text):
                return
        cell = self._cell(number, text, batch)
        if cell is None:
            return
        if CODE.fullmatch(cell):
            batch.codes.append((number, cell))
        else:
            batch.problems.append(_malformed(number, MESSAGES["not_code"], text))

    def _header(self, first: str) -> bool:
        """Learn the format from the first line; True when it is a header, not a code."""
        if self.fmt == "csv" or (self.fmt == "auto" and any(d in first for d in DELIMITERS)):
            self.delimiter = next((d for d in DELIMITERS if d in first), ",")
        cells = self._split(first) if self.delimiter else [first]
        names = [(cell or "").strip().strip('"').lower() for cell in cells or []]
        for i, name in enumerate(names):
            if name in HEADER_NAMES:
                self.column = i
                return True
        return False

    def _split(self, text: str) -> list[str] | None:
        assert self.delimiter is not None
        if '"' not in text:
            return text.split(self.delimiter)
        try:
            rows = list(csv.reader([text], delimiter=self.delimiter, strict=True))
        except csv.Error:
            return None
        return rows[0] if len(rows) == 1 else None

    def _cell(self, number: int, text: str, batch: Batch) -> str | None:
        if self.delimiter is None:
            return text
        cells = self._split(text)
        if cells is None:
            batch.problems.append(_malformed(number, MESSAGES["bad_csv"], text))
            return None
        if self.column >= len(cells):
            batch.problems.append(_malformed(number, MESSAGES["no_column"].format(column=self.column + 1), text))
            return None
        return cells[self.column].strip()


def _malformed(number: int, message: str, text: str) -> Problem:
    return Problem(number, "malformed", message, text[:SHOWN])


def duplicate(number: int, code: str) -> Problem:
    return Problem(number, "duplicate", MESSAGES["duplicate"], code)
