"""Alembic environment: always online, on the connection `ivr.store.migrate.upgrade` hands over."""

from __future__ import annotations

from alembic import context

from ivr.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the store migrations through ivr.store.migrate.upgrade(engine)")
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
