"""`ivr numbers` on a real SQLite file: numbers added, leased, listed, freed, and clear errors."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ivr.cli import main
from ivr.store.money import BILLING_ZONE


def numbers(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["numbers", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_numbers_are_added_leased_listed_and_ended(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'ivr.db'}"]
    today = datetime.now(BILLING_ZONE).date()
    assert main(["keys", "create", "--tenant", "acme", "--role", "business", *db]) == 0
    capsys.readouterr()
    assert numbers(capsys, "add", "3838", "--class", "golden", "--fee", "2500", *db) == (
        0, "number 3838 added: golden   both     2500.00 UAH a month\n", "")
    assert numbers(capsys, "add", "7777", "--channels", "sms", *db)[0] == 0
    code, out, err = numbers(capsys, "add", "38", *db)
    assert (code, out, err) == (1, "", "numbers: '38' is not a short number of 3 or 4 digits\n")
    assert numbers(capsys, "add", "3838", "--fee", "12.345", *db)[2].startswith("numbers: --fee must be a string")

    start = today - timedelta(days=2)
    code, out, _ = numbers(capsys, "lease", "3838", "--tenant", "acme", "--from", start.isoformat(), *db)
    assert code == 0 and out.startswith(f"number 3838 leased to acme: both from {start} until ended (lease ")
    code, _, err = numbers(capsys, "lease", "3838", "--tenant", "acme", "--from", today.isoformat(), *db)
    assert code == 1 and "is leased from" in err
    assert numbers(capsys, "lease", "7777", "--tenant", "nobody", "--from", "2025-01-01", *db)[2] == (
        "numbers: no tenant named 'nobody'\n")

    code, out, _ = numbers(capsys, "list", *db)
    assert out.splitlines() == [f"3838  golden   both     2500.00 UAH a month  acme: both from {start} until ended",
                                "7777  regular  sms         0.00 UAH a month"]
    assert numbers(capsys, "free", *db)[1] == "7777  regular  sms         0.00 UAH a month\n"
    code, out, _ = numbers(capsys, "list", "--tenant", "acme", *db)
    assert out == f"3838  golden      2500.00 a month  both from {start} until ended  (no campaign)\n"

    yesterday = today - timedelta(days=1)
    code, out, _ = numbers(capsys, "end-lease", "3838", "--on", yesterday.isoformat(), *db)
    assert code == 0 and out.endswith(f"of number 3838: both from {start} to {yesterday}\n")
    assert [line[:4] for line in numbers(capsys, "free", *db)[1].splitlines()] == ["3838", "7777"]
    assert numbers(capsys, "end-lease", "3838", "--on", today.isoformat(), *db)[2] == (
        "numbers: number 3838 has no lease today or to come\n")
