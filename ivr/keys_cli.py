"""`ivr keys create | list | revoke`: API keys for the HTTP API, straight in the store's database.

`create` makes the tenant when it is new and prints the key alone on its last line (the only time it
is shown; the store keeps its hash). Every command prints only once its transaction has committed, so a
key that is shown is a key that exists.
"""

from __future__ import annotations

import argparse
import functools

from sqlalchemy.orm import Session

from ivr.store import accounts
from ivr.store.audit import Actor
from ivr.store.errors import StoreError
from ivr.store_command import DEFAULT_DB, run_in_store


def add_arguments(subparsers: argparse._SubParsersAction) -> None:
    """Register `ivr keys ...`."""
    keys = subparsers.add_parser("keys", help="API keys: create, list, revoke")
    sub = keys.add_subparsers(dest="keys_command", required=True)
    p = sub.add_parser("create", help="a new key for a tenant (created if new); prints the key last")
    p.add_argument("--tenant", required=True, help="the tenant's name")
    p.add_argument("--role", required=True, choices=accounts.ROLES)
    p.add_argument("--db", default=DEFAULT_DB, help="store URL (as ivr serve)")
    p.set_defaults(handler=lambda a: _run(a.db, create, a.tenant, a.role))
    p = sub.add_parser("list", help="a tenant's keys (ids and roles, never the keys)")
    p.add_argument("--tenant", required=True)
    p.add_argument("--db", default=DEFAULT_DB)
    p.set_defaults(handler=lambda a: _run(a.db, list_keys, a.tenant))
    p = sub.add_parser("revoke", help="revoke a key by its id (see list)")
    p.add_argument("key_id", metavar="ID")
    p.add_argument("--db", default=DEFAULT_DB)
    p.set_defaults(handler=lambda a: _run(a.db, revoke, a.key_id))


def _actor() -> Actor:
    """The audit log's name for a change made here: the command line, by the OS user running it."""
    return Actor.command_line()


def create(session: Session, tenant_name: str, role: str) -> list[str]:
    lines = []
    tenant = accounts.tenant_by_name(session, tenant_name)
    if tenant is None:
        tenant = accounts.create_tenant(session, tenant_name, _actor())
        lines.append(f"tenant {tenant.name} created ({tenant.id})")
    key = accounts.create_api_key(session, tenant.id, role, _actor())
    return [*lines, f"{role} key for tenant {tenant.name} ({tenant.id}); keep it, it is not shown again:", key]


def list_keys(session: Session, tenant_name: str) -> list[str]:
    tenant = accounts.tenant_by_name(session, tenant_name)
    if tenant is None:
        raise StoreError(f"no tenant named {tenant_name!r}")
    lines = []
    for key in accounts.api_keys(session, tenant.id):
        state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
        lines.append(f"{key.id}  {key.role:<8}  created {key.created_at:%Y-%m-%d %H:%M}  {state}")
    return lines


def revoke(session: Session, key_id: str) -> list[str]:
    accounts.revoke_api_key(session, None, key_id, _actor())
    return [f"key {key_id} revoked"]


_run = functools.partial(run_in_store, "keys")
