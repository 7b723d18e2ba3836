"""PostgreSQL for the store tests: 127.0.0.1:5432, user postgres, database `test`, one fresh schema per test.

Unreachable server: the tests are skipped, unless IVR_TEST_PG is set (CI), in which case they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

PG_HOST, PG_PORT, PG_USER, PG_DB = "127.0.0.1", 5432, "postgres", "test"


@dataclass(frozen=True)
class Postgres:
    schema: str

    def url(self, port: int = PG_PORT) -> str:
        """A store URL for this test's schema (through another port: a proxy)."""
        return (f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{port}/{PG_DB}"
                f"?options=-csearch_path%3D{self.schema}")


def _connect() -> psycopg.Connection:
    return psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_DB, connect_timeout=3,
                           autocommit=True)


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    try:
        admin = _connect()
    except psycopg.Error as exc:
        reason = f"PostgreSQL on {PG_HOST}:{PG_PORT} (database {PG_DB!r}) is unreachable: {exc}"
        if os.environ.get("IVR_TEST_PG"):
            pytest.fail(f"IVR_TEST_PG is set but {reason}")
        pytest.skip(f"{reason} (set IVR_TEST_PG=1 to make this a failure)")
    schema = f"ivr_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield Postgres(schema)
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
