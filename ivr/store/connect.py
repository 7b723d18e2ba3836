"""Connecting to the store's database, and the few things that differ between SQLite and PostgreSQL.

SQLite (`sqlite:///path/to/ivr.db`): the parent folder is created; WAL journal, `synchronous=FULL` (a
commit is durable when it returns: acknowledged outcomes rely on it), a busy timeout, foreign keys on.
Transactions are begun explicitly (the pysqlite driver would otherwise delay BEGIN and break SAVEPOINTs);
a writing transaction begins IMMEDIATE so it waits for the write lock up front instead of failing when
it upgrades a read lock.

PostgreSQL (`postgresql+psycopg://user@host/db`): short connect timeout, TCP keepalives and a TCP user
timeout, so a vanished server turns into an error in seconds rather than a hung writer thread. Options
given in the URL win over these defaults.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from sqlalchemy import Table, create_engine, event, make_url
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from ivr.i18n import t

from .errors import StoreError

WRITE = {"ivr_write": True}      # execution option: this transaction will write (SQLite: BEGIN IMMEDIATE)

PG_DEFAULTS = {"connect_timeout": 3, "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
               "keepalives_count": 2, "tcp_user_timeout": 5000}


def make_engine(url: str, sqlite_busy_timeout: float = 5.0) -> Engine:
    """A SQLAlchemy engine for a store URL (sqlite or postgresql+psycopg)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        else:
            raise StoreError(t("the SQLite store needs a file: sqlite:///path/to/ivr.db"))
        engine = create_engine(parsed, connect_args={"timeout": sqlite_busy_timeout, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if backend == "postgresql":
        defaults = {k: v for k, v in PG_DEFAULTS.items() if k not in parsed.query}
        return create_engine(parsed, pool_pre_ping=True, connect_args=defaults)
    raise StoreError(t("unsupported store URL {url!r}: use sqlite:///FILE or postgresql+psycopg://...",
                       url=parsed.render_as_string(hide_password=True)))


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None            # BEGIN is ours to send (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("ivr_write") else "BEGIN")


def writing(engine: Engine) -> Engine:
    """The engine to use for transactions that write."""
    return engine.execution_options(**WRITE)


def is_transient(exc: BaseException) -> bool:
    """True when the failure is the database being unreachable, slow or locked (worth retrying later),
    False when the request itself is at fault (constraint, bad value) and would fail again."""
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(exc, (OperationalError, InterfaceError))
    return isinstance(exc, (PoolTimeout, OSError, TimeoutError))


@functools.cache
def _statement(dialect: str, table: Table, returning: bool) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING [RETURNING the key], built once per dialect and table (building
    it for every row costs more than running it; statements are immutable, so callers may extend it)."""
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table).on_conflict_do_nothing()
    return statement.returning(*table.primary_key.columns) if returning else statement


def insert_skipping(session: Session, table: Table, returning: bool = False) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING in the session's dialect (rows violating a unique constraint are skipped)."""
    return _statement(session.get_bind().dialect.name, table, returning)


def insert_ignore(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT the rows, skipping those that violate a unique constraint (replays are idempotent)."""
    if rows:
        session.execute(insert_skipping(session, table), rows)


def insert_one(session: Session, table: Table, row: dict[str, Any]) -> bool:
    """INSERT one row unless it violates a unique constraint; True when it was inserted.
    (RETURNING tells, where rowcount does not: psycopg under SQLAlchemy 2.1 reports -1 for it.)"""
    return session.execute(insert_skipping(session, table, returning=True), row).first() is not None
