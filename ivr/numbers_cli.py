"""`ivr numbers add | lease | end-lease | list | free`: the provider's number inventory, straight in the store's
database (as the admin API does it). Tenants are named as in `ivr keys`; days are YYYY-MM-DD of the billing
calendar (Kyiv); fees are amounts such as 2500.00, without VAT. Every command prints only once its
transaction has committed.
"""

from __future__ import annotations

import argparse
import functools
from datetime import date, datetime, timezone

from sqlalchemy.orm import Session

from ivr.store import accounts, inventory
from ivr.store.errors import NotFound, StoreError
from ivr.store.inventory import CLASSES, NUMBER_CHANNELS, InventoryNumber, Lease
from ivr.store.money import format_amount, local_day, parse_amount, parse_day
from ivr.store.audit import Actor
from ivr.store_command import DEFAULT_DB, run_in_store


def add_arguments(subparsers: argparse._SubParsersAction) -> None:
    """Register `ivr numbers ...`."""
    numbers = subparsers.add_parser("numbers", help="the number inventory: add, lease, end-lease, list, free")
    sub = numbers.add_subparsers(dest="numbers_command", required=True)
    p = sub.add_parser("add", help="add a number of 3 or 4 digits to the inventory")
    p.add_argument("number")
    p.add_argument("--class", dest="number_class", choices=CLASSES, default="regular")
    p.add_argument("--channels", choices=NUMBER_CHANNELS, default="both")
    p.add_argument("--fee", default="0", help="monthly fee without VAT, e.g. 2500.00")
    p.add_argument("--db", default=DEFAULT_DB, help="store URL (as ivr serve)")
    p.set_defaults(handler=lambda a: _run(a.db, add, a.number, a.number_class, a.channels, a.fee))
    p = sub.add_parser("lease", help="lease a number to a tenant from a day")
    p.add_argument("number")
    p.add_argument("--tenant", required=True, help="the tenant's name")
    p.add_argument("--from", dest="starts_on", required=True, metavar="YYYY-MM-DD", help="first day")
    p.add_argument("--until", dest="ends_on", metavar="YYYY-MM-DD", help="last day (default: until ended)")
    p.add_argument("--channels", choices=NUMBER_CHANNELS, help="default: every channel the number carries")
    p.add_argument("--db", default=DEFAULT_DB)
    p.set_defaults(handler=lambda a: _run(a.db, lease, a.number, a.tenant, a.starts_on, a.ends_on, a.channels))
    p = sub.add_parser("end-lease", help="end the number's lease (today's, else the next) on a day, its last")
    p.add_argument("number")
    p.add_argument("--on", dest="ends_on", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--db", default=DEFAULT_DB)
    p.set_defaults(handler=lambda a: _run(a.db, end_lease, a.number, a.ends_on))
    p = sub.add_parser("list", help="every number with its lease today (or a tenant's numbers)")
    p.add_argument("--tenant", help="only this tenant's numbers")
    p.add_argument("--db", default=DEFAULT_DB)
    p.set_defaults(handler=lambda a: _run(a.db, list_numbers, a.tenant))
    p = sub.add_parser("free", help="the numbers no tenant leases today")
    p.add_argument("--db", default=DEFAULT_DB)
    p.set_defaults(handler=lambda a: _run(a.db, free))


_run = functools.partial(run_in_store, "numbers")


def add(session: Session, number: str, number_class: str, channels: str, fee: str) -> list[str]:
    added = inventory.add_number(session, number, number_class, channels, parse_amount(fee, "--fee"),
                                 actor=Actor.command_line())
    return [f"number {added.number} added: {_describe(added, {})}"]


def lease(session: Session, number: str, tenant_name: str, starts_on: str, ends_on: str | None,
          channels: str | None) -> list[str]:
    tenant = _tenant(session, tenant_name)
    made = inventory.lease_number(session, number, tenant.id, parse_day(starts_on, "--from"), channels,
                                  parse_day(ends_on, "--until") if ends_on else None, Actor.command_line())
    return [f"number {made.number} leased to {tenant.name}: {_period(made)} (lease {made.id})"]


def end_lease(session: Session, number: str, ends_on: str) -> list[str]:
    current = inventory.current_lease(session, number, _today())
    if current is None:
        raise NotFound(f"number {number} has no lease today or to come")
    ended = inventory.end_lease(session, current.id, parse_day(ends_on, "--on"), _today(), Actor.command_line())
    return [f"lease {ended.id} of number {ended.number}: {_period(ended)}"]


def list_numbers(session: Session, tenant_name: str | None) -> list[str]:
    names = {t.id: t.name for t in accounts.tenants(session)}
    if tenant_name is not None:
        tenant = _tenant(session, tenant_name)
        return [f"{n.number:<5} {n.number_class:<8} {format_amount(n.monthly_fee):>10} a month  {_period(n.lease)}"
                f"  {n.campaign_id or '(no campaign)'}" for n in inventory.tenant_numbers(session, tenant.id, _today())]
    return [f"{n.number:<5} {_describe(n, names)}" for n in inventory.inventory(session, "all", _today())]


def free(session: Session) -> list[str]:
    return [f"{n.number:<5} {_describe(n, {})}" for n in inventory.inventory(session, "free", _today())]


def _describe(n: InventoryNumber, names: dict[str, str]) -> str:
    text = f"{n.number_class:<8} {n.channels:<5} {format_amount(n.monthly_fee):>10} {n.currency} a month"
    if n.lease is not None and names:
        text += f"  {names.get(n.lease.tenant_id, n.lease.tenant_id)}: {_period(n.lease)}"
    return text


def _period(lease: Lease) -> str:
    return f"{lease.channels} from {lease.starts_on} " + (f"to {lease.ends_on}" if lease.ends_on else "until ended")


def _tenant(session: Session, name: str) -> accounts.Tenant:
    tenant = accounts.tenant_by_name(session, name)
    if tenant is None:
        raise StoreError(f"no tenant named {name!r}")
    return tenant


def _today() -> date:
    return local_day(datetime.now(timezone.utc))
