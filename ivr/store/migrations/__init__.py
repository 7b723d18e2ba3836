"""Alembic migrations of the statistics store, run by `ivr.store.migrate.upgrade` (no alembic.ini)."""
