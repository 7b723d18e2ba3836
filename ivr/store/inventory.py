"""The provider's short numbers and their leases: what admins add and lease, what tenants may claim.

Plain functions of a Session (the Store runs them in its reader threads, writes in one transaction).
A number of the inventory has 3 or 4 digits, a class (regular or golden), the channels it carries and
a monthly fee. A lease gives it to one tenant from a day (`starts_on`) to a day (`ends_on`, included;
None until it is ended), on its channels or some of them. Leases of one number never overlap: each
lease change takes the number's row lock (SELECT ... FOR UPDATE on PostgreSQL; SQLite writes one
transaction at a time) before it looks. Days are days of the billing calendar (Kyiv, see `money`).

`check_claim` is the gate every claim goes through (campaign files uploaded or activated, a number
pointed at a campaign): the tenant must lease the number, on the channel, for today or a day to come.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from ivr.i18n import t

from . import audit
from .audit import Action, Actor
from .connect import insert_one
from .errors import Conflict, Forbidden, NotFound, StoreError
from .models import NumberLeaseRow, NumberRow, ShortNumberRow, TenantRow
from .money import CURRENCY, check_currency

CLASSES = ("regular", "golden")
NUMBER_CHANNELS = ("sms", "voice", "both")
INVENTORY_NUMBER = re.compile(r"[0-9]{3,4}")
FILE_NUMBER = re.compile(r"[0-9]{3,15}")       # what a campaign file may name (a trunk's longer number too)
MAX_FEE = 10_000_000                      # 100,000 UAH a month: a sanity bound
CHANNEL_WORDS = {"sms": t("SMS"), "voice": t("voice calls")}


@dataclass(frozen=True)
class Lease:
    id: int
    number: str
    tenant_id: str
    channels: str
    starts_on: date
    ends_on: date | None
    created_at: datetime

    def active_on(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)

    def carries(self, channel: str) -> bool:
        return channel in channels_of(self.channels)


@dataclass(frozen=True)
class InventoryNumber:
    """A number of the inventory with its lease of the day asked about (else the next one, else None)."""

    number: str
    number_class: str
    channels: str
    monthly_fee: int
    currency: str
    added_at: datetime
    lease: Lease | None


@dataclass(frozen=True)
class LeasedNumber:
    """A number as its tenant sees it: the lease, the fee, and the campaign it points at."""

    number: str
    number_class: str
    monthly_fee: int
    currency: str
    lease: Lease
    campaign_id: str | None


def channels_of(value: str) -> tuple[str, ...]:
    """"both" → ("sms", "voice")."""
    return ("sms", "voice") if value == "both" else (value,)


def add_number(session: Session, number: str, number_class: str, channels: str, monthly_fee: int,
               currency: str = CURRENCY, actor: Actor | None = None) -> InventoryNumber:
    """Put a number in the inventory (Conflict when it is there already)."""
    if not INVENTORY_NUMBER.fullmatch(number):
        raise StoreError(t("{number!r} is not a short number of 3 or 4 digits", number=number))
    _check_fields(number_class, channels, monthly_fee)
    row = {"number": number, "class": number_class, "channels": channels, "monthly_fee": monthly_fee,
           "currency": check_currency(currency), "added_at": _now()}
    if not insert_one(session, NumberRow.__table__, row):                          # type: ignore[arg-type]
        raise Conflict(t("number {number} is in the inventory already", number=number))
    audit.record(session, actor, Action.INVENTORY_ADDED, None, number,
                 {"class": number_class, "channels": channels, "monthly_fee": monthly_fee})
    return InventoryNumber(number, number_class, channels, monthly_fee, currency, row["added_at"], None)


def update_number(session: Session, number: str, *, number_class: str | None = None, channels: str | None = None,
                  monthly_fee: int | None = None, today: date, actor: Actor | None = None) -> InventoryNumber:
    """Change a number's class, channels or fee (fees already charged stay as they were)."""
    row = _number(session, number, lock=True)
    number_class = number_class or row.number_class
    channels = channels or row.channels
    monthly_fee = row.monthly_fee if monthly_fee is None else monthly_fee
    _check_fields(number_class, channels, monthly_fee)
    for lease in _leases(session, number=number, from_day=today):
        if not set(channels_of(lease.channels)) <= set(channels_of(channels)):
            raise Conflict(t("number {number} is leased on {channels} until {until}: it must keep those channels",
                             number=number, channels=lease.channels, until=lease.ends_on or t("further notice")))
    audit.record(session, actor, Action.INVENTORY_CHANGED, None, number, {
        "class": number_class, "channels": channels, "monthly_fee": monthly_fee,
        "previous": {"class": row.number_class, "channels": row.channels, "monthly_fee": row.monthly_fee}})
    row.number_class, row.channels, row.monthly_fee = number_class, channels, monthly_fee
    return _inventory_number(row, _lease_of_day(_leases(session, number=number, from_day=today), today))


def remove_number(session: Session, number: str, actor: Actor | None = None) -> None:
    """Take a number that was never leased out of the inventory (a mistake corrected)."""
    _number(session, number, lock=True)
    if _leases(session, number=number):
        raise Conflict(t("number {number} has leases: end them instead (its history stays)", number=number))
    audit.record(session, actor, Action.INVENTORY_REMOVED, None, number)
    session.execute(delete(NumberRow).where(NumberRow.number == number))


def inventory(session: Session, state: str, day: date) -> list[InventoryNumber]:
    """Numbers of the inventory ("all", "free" or "leased" on `day`), each with its lease of that day."""
    if state not in ("all", "free", "leased"):
        raise StoreError(t('state must be "all", "free" or "leased"'))
    by_number: dict[str, list[Lease]] = {}
    for lease in _leases(session, from_day=day):
        by_number.setdefault(lease.number, []).append(lease)
    out = []
    for row in session.scalars(select(NumberRow).order_by(NumberRow.number)):
        lease = _lease_of_day(by_number.get(row.number, []), day)
        leased = lease is not None and lease.active_on(day)
        if state == "all" or (state == "leased") == leased:
            out.append(_inventory_number(row, lease))
    return out


def lease_number(session: Session, number: str, tenant_id: str, starts_on: date, channels: str | None = None,
                 ends_on: date | None = None, actor: Actor | None = None) -> Lease:
    """Lease a number to a tenant from `starts_on` (Conflict when another lease overlaps)."""
    row = _number(session, number, lock=True)
    if session.get(TenantRow, tenant_id) is None:
        raise NotFound(t("no tenant {tenant!r}", tenant=tenant_id))
    channels = channels or row.channels
    if channels not in NUMBER_CHANNELS:
        raise StoreError(t("channels must be one of {channels}", channels=", ".join(NUMBER_CHANNELS)))
    if not set(channels_of(channels)) <= set(channels_of(row.channels)):
        raise StoreError(t("number {number} carries {channels} only", number=number, channels=row.channels))
    if ends_on is not None and ends_on < starts_on:
        raise StoreError(t("a lease cannot end before it starts"))
    _check_overlap(session, number, starts_on, ends_on, None)
    lease = NumberLeaseRow(number=number, tenant_id=tenant_id, channels=channels, starts_on=starts_on,
                           ends_on=ends_on, created_at=_now())
    session.add(lease)
    session.flush()
    audit.record(session, actor, Action.LEASE_CREATED, tenant_id, number, {
        "lease": lease.id, "channels": channels, "starts_on": starts_on.isoformat(),
        "ends_on": ends_on.isoformat() if ends_on else None})
    return _lease(lease)


def end_lease(session: Session, lease_id: int, ends_on: date, today: date, actor: Actor | None = None) -> Lease:
    """End a lease on `ends_on` (its last day); a lease ended in the past no longer points at a campaign."""
    row = session.get(NumberLeaseRow, lease_id)
    if row is None:
        raise NotFound(t("no lease {lease}", lease=lease_id))
    _number(session, row.number, lock=True)
    session.refresh(row)
    if ends_on < row.starts_on:
        raise StoreError(t("the lease starts on {day}: it cannot end before", day=row.starts_on))
    _check_overlap(session, row.number, row.starts_on, ends_on, row.id)
    audit.record(session, actor, Action.LEASE_ENDED, row.tenant_id, row.number, {
        "lease": row.id, "ends_on": ends_on.isoformat(),
        "previous": row.ends_on.isoformat() if row.ends_on else None})
    row.ends_on = ends_on
    if ends_on < today:
        session.execute(delete(ShortNumberRow).where(ShortNumberRow.number == row.number,
                                                     ShortNumberRow.tenant_id == row.tenant_id))
    return _lease(row)


def current_lease(session: Session, number: str, day: date) -> Lease | None:
    """The lease of the number on `day`, else its next one (None: neither)."""
    return _lease_of_day(_leases(session, number=number, from_day=day), day)


def leases(session: Session, tenant_id: str | None, number: str | None = None) -> list[Lease]:
    """Every lease (of one tenant, of one number), oldest first."""
    return _leases(session, tenant_id=tenant_id, number=number)


def tenant_numbers(session: Session, tenant_id: str | None, day: date) -> list[LeasedNumber]:
    """The numbers leased to the tenant (None: to anyone) on `day` or later, with their campaigns."""
    pointed = {(r.number, r.tenant_id): r.campaign_id for r in session.scalars(select(ShortNumberRow))}
    out = []
    for lease in _leases(session, tenant_id=tenant_id, from_day=day):
        row = session.get(NumberRow, lease.number)
        if row is not None:
            out.append(LeasedNumber(row.number, row.number_class, row.monthly_fee, row.currency, lease,
                                    pointed.get((lease.number, lease.tenant_id))))
    return sorted(out, key=lambda n: (n.number, n.lease.starts_on))


def check_claim(session: Session, tenant_id: str, number: str, channel: str | None, day: date) -> Lease:
    """The tenant's lease that lets it use the number on `channel` (None: on any) on `day` or later;
    Forbidden (not its number, or not on that channel) or Conflict (another tenant's) otherwise."""
    if session.get(NumberRow, number) is None:
        raise Forbidden(t("number {number} is not one of the provider's numbers: ask your provider for a number",
                           number=number))
    mine = [lease for lease in _leases(session, number=number, from_day=day) if lease.tenant_id == tenant_id]
    lease = _lease_of_day(mine, day)
    if lease is None:
        holder = current_lease(session, number, day)
        if holder is not None and holder.active_on(day):
            raise Conflict(t("number {number} is leased to another tenant", number=number))
        raise Forbidden(t("number {number} is not leased to you: ask your provider to lease it", number=number))
    if channel is not None and not lease.carries(channel):
        raise Forbidden(t("number {number} is leased to you for {leased} only, not for {asked}", number=number,
                          leased=CHANNEL_WORDS[lease.channels], asked=CHANNEL_WORDS[channel]))
    return lease


def ensure_leased(session: Session, tenant_id: str, number: str, channels: str, day: date,
                  actor: Actor | None = None) -> None:
    """The demo's numbers: put the number in the inventory (regular, no fee) when it is not, and lease it
    to the tenant from `day` unless it has a lease on that day or later (Conflict: another tenant's).
    The node's own files may name any number a campaign file may (3 to 15 digits)."""
    if not FILE_NUMBER.fullmatch(number):
        raise StoreError(t("{number!r} is not a number a campaign file may name", number=number))
    insert_one(session, NumberRow.__table__, {"number": number, "class": "regular",  # type: ignore[arg-type]
                                               "channels": channels, "monthly_fee": 0, "currency": CURRENCY,
                                               "added_at": _now()})
    _number(session, number, lock=True)
    lease = current_lease(session, number, day)
    if lease is None:
        lease_number(session, number, tenant_id, day, channels, actor=actor)
    elif lease.tenant_id != tenant_id:
        raise Conflict(t("number {number} is leased to another tenant", number=number))


def routable(session: Session, day: date) -> dict[str, Lease]:
    """The lease of every number leased on `day`: who may answer on it, on which channels."""
    return {lease.number: lease for lease in _leases(session, from_day=day) if lease.active_on(day)}


# -- helpers ----------------------------------------------------------------------------------------

def _check_fields(number_class: str, channels: str, monthly_fee: int) -> None:
    if number_class not in CLASSES:
        raise StoreError(t("class must be one of {classes}", classes=", ".join(CLASSES)))
    if channels not in NUMBER_CHANNELS:
        raise StoreError(t("channels must be one of {channels}", channels=", ".join(NUMBER_CHANNELS)))
    if not 0 <= monthly_fee <= MAX_FEE:
        raise StoreError(t("the monthly fee must be 0 to {most} {currency}", most=MAX_FEE // 100, currency=CURRENCY))


def _number(session: Session, number: str, lock: bool = False) -> NumberRow:
    row = session.get(NumberRow, number, with_for_update=lock)
    if row is None:
        raise NotFound(t("number {number} is not in the inventory", number=number))
    return row


def _check_overlap(session: Session, number: str, starts_on: date, ends_on: date | None, own: int | None) -> None:
    for lease in _leases(session, number=number):
        if lease.id == own:
            continue
        if (ends_on is None or lease.starts_on <= ends_on) and (lease.ends_on is None or starts_on <= lease.ends_on):
            raise Conflict(t("number {number} is leased from {first} to {last} (lease {lease})", number=number,
                             first=lease.starts_on, last=lease.ends_on, lease=lease.id) if lease.ends_on else
                           t("number {number} is leased from {first} with no end (lease {lease})", number=number,
                             first=lease.starts_on, lease=lease.id))


def _leases(session: Session, *, tenant_id: str | None = None, number: str | None = None,
            from_day: date | None = None) -> list[Lease]:
    query = select(NumberLeaseRow).order_by(NumberLeaseRow.number, NumberLeaseRow.starts_on)
    if tenant_id is not None:
        query = query.where(NumberLeaseRow.tenant_id == tenant_id)
    if number is not None:
        query = query.where(NumberLeaseRow.number == number)
    if from_day is not None:
        query = query.where(or_(NumberLeaseRow.ends_on.is_(None), NumberLeaseRow.ends_on >= from_day))
    return [_lease(r) for r in session.scalars(query)]


def _lease_of_day(leases: list[Lease], day: date) -> Lease | None:
    """Of leases not ended before `day`: the one on `day`, else the next to start."""
    ahead = sorted((lease for lease in leases if lease.ends_on is None or lease.ends_on >= day),
                   key=lambda lease: lease.starts_on)
    return next((lease for lease in ahead if lease.active_on(day)), ahead[0] if ahead else None)


def _lease(row: NumberLeaseRow) -> Lease:
    return Lease(row.id, row.number, row.tenant_id, row.channels, row.starts_on, row.ends_on, row.created_at)


def _inventory_number(row: NumberRow, lease: Lease | None) -> InventoryNumber:
    return InventoryNumber(row.number, row.number_class, row.channels, row.monthly_fee, row.currency, row.added_at,
                           lease)


def _now() -> datetime:
    return datetime.now(timezone.utc)
