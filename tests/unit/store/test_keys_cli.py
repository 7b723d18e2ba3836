"""`ivr keys` on a real SQLite file: the key printed works, and a key is printed only once it is stored."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from ivr.cli import main

from .support import opened


def keys(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["keys", *argv])
    out, err = capsys.readouterr()
    return code, out, err


async def owner(url: str, spool: Path, key: str) -> tuple[str, str] | None:
    async with opened(url, spool) as store:
        return await store.verify_api_key(key)


def test_create_prints_a_stored_key_on_its_last_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'ivr.db'}"
    code, out, _ = keys(capsys, "create", "--tenant", "acme", "--role", "operator", "--db", url)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("tenant acme created") and lines[-1].startswith("ivr_")
    found = asyncio.run(owner(url, tmp_path / "spool", lines[-1]))
    assert found is not None and found[1] == "operator"
    code, out, _ = keys(capsys, "list", "--tenant", "acme", "--db", url)
    assert code == 0 and len(out.splitlines()) == 1 and "operator" in out and "active" in out


def test_no_key_is_printed_when_the_commit_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The key's row is written when the transaction commits; the database refuses it there."""
    db = tmp_path / "ivr.db"
    url = f"sqlite:///{db}"
    assert keys(capsys, "list", "--tenant", "nobody", "--db", url)[0] == 1      # migrates the new file
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TRIGGER frozen BEFORE INSERT ON api_keys "
                     "BEGIN SELECT RAISE(ABORT, 'keys are frozen'); END")
    code, out, err = keys(capsys, "create", "--tenant", "acme", "--role", "business", "--db", url)
    assert (code, out) == (1, "")
    assert err.startswith("keys: ") and "keys are frozen" in err
    with sqlite3.connect(db) as conn:                      # the whole transaction was rolled back
        assert conn.execute("SELECT count(*) FROM tenants").fetchone() == (0,)
