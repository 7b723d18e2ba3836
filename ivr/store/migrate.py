"""Schema migrations, run from code: `upgrade(engine)` is `alembic upgrade head` on the store's database.

The Alembic scripts live in `ivr/store/migrations` (inside the package, so they ship with it); there is
no alembic.ini. On PostgreSQL an advisory lock serialises nodes that start at the same time; on SQLite
the migration runs in an IMMEDIATE transaction, which does the same.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine

from .connect import writing

MIGRATIONS = Path(__file__).parent / "migrations"
LOCK_KEY = 0x1F7_5702E          # pg_advisory_xact_lock key of the store's migrations


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    """The newest schema revision."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return revision


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema (no-op when it is there already)."""
    config = _config()
    with writing(engine).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
