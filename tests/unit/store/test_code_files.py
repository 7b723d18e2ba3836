"""Reading files of codes: one a line or CSV (a header naming the column, or the first), gzip by its first
bytes, every problem on its own line number, batches of a set size."""

from __future__ import annotations

import gzip
import io

import pytest

from ivr.store.code_files import CodeFileError, read_batches


def read(data: bytes, fmt: str = "auto", size: int = 1000) -> tuple[list[tuple[int, str]], list[tuple[int, str]], int]:
    codes, problems, lines = [], [], 0
    for batch in read_batches(io.BytesIO(data), fmt, size):
        codes += batch.codes
        problems += [(p.line, p.message) for p in batch.problems]
        lines = batch.lines
    return codes, problems, lines


def test_lines_with_spaces_blanks_a_bom_and_windows_endings() -> None:
    codes, problems, lines = read("\ufeffA-1\r\n  B_2  \r\n\r\nC3\n".encode())
    assert codes == [(1, "A-1"), (2, "B_2"), (4, "C3")] and problems == [] and lines == 4


def test_what_is_not_a_code_is_a_problem_of_its_line() -> None:
    codes, problems, _ = read(b"OK1\nnot a code\n" + b"x" * 65 + b"\n-dash\n\xff\xfe\nOK2\n")
    assert codes == [(1, "OK1"), (6, "OK2")]
    assert problems == [(2, "not a code (1 to 64 letters, digits, - and _)"),
                        (3, "not a code (1 to 64 letters, digits, - and _)"),
                        (4, "not a code (1 to 64 letters, digits, - and _)"), (5, "not UTF-8 text")]


def test_csv_takes_the_column_its_header_names_or_the_first() -> None:
    named, problems, _ = read(b"shop;Code;date\nKyiv;K1;2026\nLviv;\"L;2\";2026\nOdesa\n")
    assert named == [(2, "K1")] and [line for line, _ in problems] == [3, 4]       # "L;2" is no code; no column 2
    first, _, _ = read(b"A1,2026-05-01\nB2,2026-05-02\n")
    assert first == [(1, "A1"), (2, "B2")]
    forced, _, _ = read(b"A1\nB2\n", fmt="csv")
    assert forced == [(1, "A1"), (2, "B2")]
    header_only, _, _ = read(b"code\nZ9\n")
    assert header_only == [(2, "Z9")]


def test_gzip_is_read_by_its_magic_and_batches_keep_line_numbers() -> None:
    text = "".join(f"G{n:05d}\n" for n in range(2500)).encode()
    batches = list(read_batches(io.BytesIO(gzip.compress(text)), "lines", 1000))
    assert [len(b.codes) for b in batches] == [1000, 1000, 500]
    assert batches[1].codes[0] == (1001, "G01000") and batches[-1].lines == 2500
    assert batches[-1].bytes_read == len(gzip.compress(text))


def test_a_damaged_gzip_stream_and_unknown_formats_are_errors() -> None:
    data = gzip.compress(b"A1\n" * 1000)
    with pytest.raises(CodeFileError, match="cannot be read"):
        read(data[:len(data) // 2])
    with pytest.raises(CodeFileError, match="unknown format"):
        read(b"A1\n", fmt="xml")
