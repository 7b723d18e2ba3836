"""Tariffs as stored: set by the provider's admins, read by the tenant, looked up for every charge.

A tariff is for one channel of one of the tenant's numbers, or of one of its campaigns; the campaign's
wins over the number's. Setting a tariff ends the ones of the same number or campaign and channel when
it begins: old rows get `valid_until` and stay, so every charge keeps naming the tariff it was priced
by, and an event replayed from the spool later is priced by the tariff in force when it happened.

A change takes effect no sooner than LEAD (10 s) after it is made (a tariff may also be set to begin
later). That is what makes pricing exact while changes commit: an event stamped before the change is
committed can never fall after its start. It also lets each writer keep what it looked up for a few
seconds (`TariffBook`, CACHE_SECONDS < LEAD), so an inbound SMS costs no extra query to price.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from ivr.i18n import t

from . import audit
from .audit import Action, Actor
from .errors import NotFound
from .inventory import check_claim
from .models import CampaignRow, TariffRow, TenantRow
from .money import local_day
from .rating import Tariff, TariffError, check_tariff

FIELDS = ("tenant_id", "number", "campaign_id", "channel", "kind", "unit", "price", "cost", "outbound_cost",
          "increment", "shares", "currency", "valid_from", "valid_until")
LEAD = timedelta(seconds=10)            # a tariff change takes effect this long after it is made, or later
CACHE_SECONDS = 3.0                     # how long a writer keeps the tariffs it looked up (< LEAD, clock skew)
CACHE_ENTRIES = 10_000


def set_tariff(session: Session, tariff: Tariff, now: datetime | None = None, actor: Actor | None = None) -> Tariff:
    """Put the tariff in force from `tariff.valid_from` (None: from now + LEAD; never sooner), ending there
    the tariffs of the same number or campaign and channel (those that would begin later are cancelled).
    `now`: the clock once the tenant's row is locked, unless given (tests)."""
    check_tariff(tariff)
    if session.get(TenantRow, tariff.tenant_id, with_for_update=True) is None:     # one change at a time
        raise NotFound(t("no tenant {tenant!r}", tenant=tariff.tenant_id))
    starts = _start(tariff.valid_from, now or _now())
    if tariff.campaign_id is not None:
        owner = session.scalar(select(CampaignRow.tenant_id).where(CampaignRow.id == tariff.campaign_id))
        if owner != tariff.tenant_id:
            raise NotFound(t("the tenant has no campaign {campaign!r}", campaign=tariff.campaign_id))
    else:
        check_claim(session, tariff.tenant_id, tariff.number or "", tariff.channel, local_day(starts))
    for old in session.scalars(select(TariffRow).where(_same_scope(tariff), or_(
            TariffRow.valid_until.is_(None), TariffRow.valid_until > starts))):
        old.valid_until = max(starts, old.valid_from)
    row = TariffRow(**{name: getattr(tariff, name) for name in FIELDS if name not in ("valid_from", "valid_until")},
                    valid_from=starts, valid_until=None)
    row.shares = dict(tariff.shares or {})
    session.add(row)
    session.flush()
    audit.record(session, actor, Action.TARIFF_SET, tariff.tenant_id, f"tariff {row.id}", {
        "number": row.number, "campaign_id": row.campaign_id, "channel": row.channel, "kind": row.kind,
        "unit": row.unit, "price": row.price, "cost": row.cost, "outbound_cost": row.outbound_cost,
        "increment": row.increment, "shares": row.shares, "valid_from": starts.isoformat()})
    return _tariff(row)


def end_tariff(session: Session, tariff_id: int, tenant_id: str | None, now: datetime | None = None,
               actor: Actor | None = None) -> Tariff:
    """Take a tariff out of force LEAD from now (its traffic is then not charged)."""
    row = session.get(TariffRow, tariff_id, with_for_update=True)
    if row is None or tenant_id is not None and row.tenant_id != tenant_id:
        raise NotFound(t("no tariff {tariff}", tariff=tariff_id))
    ends = max((now or _now()) + LEAD, row.valid_from)
    if row.valid_until is None or row.valid_until > ends:
        row.valid_until = ends
        audit.record(session, actor, Action.TARIFF_ENDED, row.tenant_id, f"tariff {row.id}",
                     {"valid_until": ends.isoformat()})
    return _tariff(row)


def tariffs(session: Session, tenant_id: str | None, at: datetime | None) -> list[Tariff]:
    """The tenant's tariffs (None: every tenant's): those in force at `at` or to begin after it, or every
    one ever (at None)."""
    query = select(TariffRow).order_by(TariffRow.tenant_id, TariffRow.campaign_id, TariffRow.number,
                                       TariffRow.channel, TariffRow.valid_from)
    if tenant_id is not None:
        query = query.where(TariffRow.tenant_id == tenant_id)
    if at is not None:
        query = query.where(or_(TariffRow.valid_until.is_(None), TariffRow.valid_until > at),
                            or_(TariffRow.valid_until.is_(None), TariffRow.valid_until > TariffRow.valid_from))
    return [_tariff(r) for r in session.scalars(query)]


class TariffBook:
    """The tariffs a writer prices events with, each scope looked up once and kept `seconds` (0: always
    asked). Exact: a copy is younger than LEAD, and no change can take effect sooner after it commits.
    Not thread-safe: one per writer thread."""

    def __init__(self, seconds: float = 0.0) -> None:
        if seconds >= LEAD.total_seconds() / 2:
            raise ValueError(f"a tariff copy must be kept less than {LEAD.total_seconds() / 2} s")
        self.seconds = seconds
        self._kept: dict[tuple[str, ...], tuple[float, str | None, list[Tariff]]] = {}

    def campaign(self, session: Session, campaign_id: str, number: str, channel: str,
                 at: datetime) -> tuple[str | None, Tariff | None]:
        """(the campaign's tenant, the tariff in force at `at` for its traffic on `number`: the campaign's,
        else the number's, else None); (None, None) when the database does not know the campaign."""
        def look() -> tuple[str | None, list[Tariff]]:
            rows = session.execute(CAMPAIGN_TARIFFS, {"campaign_id": campaign_id, "number": number,
                                                      "channel": channel}).all()
            return (rows[0].owner if rows else None), [_tariff_of(r) for r in rows if r.id is not None]
        owner, found = self._get(("campaign", campaign_id, number, channel), look)
        return owner, _in_force(found, at)

    def number(self, session: Session, tenant_id: str, number: str, channel: str, at: datetime) -> Tariff | None:
        """The tariff in force at `at` for the tenant's traffic on `number` outside any campaign."""
        def look() -> tuple[str | None, list[Tariff]]:
            rows = session.execute(NUMBER_TARIFFS, {"tenant_id": tenant_id, "number": number,
                                                    "channel": channel}).all()
            return tenant_id, [_tariff_of(r) for r in rows]
        return _in_force(self._get(("number", tenant_id, number, channel), look)[1], at)

    def _get(self, key: tuple[str, ...], look: Any) -> tuple[str | None, list[Tariff]]:
        now = time.monotonic()
        kept = self._kept.get(key)
        if kept is not None and kept[0] > now:
            return kept[1], kept[2]
        owner, found = look()
        if self.seconds > 0:
            if len(self._kept) >= CACHE_ENTRIES:
                self._kept.clear()
            self._kept[key] = (now + self.seconds, owner, found)
        return owner, found


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _start(requested: datetime | None, now: datetime) -> datetime:
    if requested is None:
        return now + LEAD
    if requested < now + LEAD:
        raise TariffError(t("a tariff takes effect at the earliest {seconds} s after it is set",
                            seconds=int(LEAD.total_seconds())))
    return requested


def _in_force(found: list[Tariff], at: datetime) -> Tariff | None:
    """Of the tariffs of a scope, the one in force at `at` (a campaign's before a number's)."""
    live = [t for t in found if t.valid_from is not None and t.valid_from <= at
            and (t.valid_until is None or at < t.valid_until)]
    return min(live, key=lambda t: t.campaign_id is None, default=None)


def _same_scope(t: Tariff) -> object:
    if t.campaign_id is not None:
        return and_(TariffRow.campaign_id == t.campaign_id, TariffRow.channel == t.channel)
    return and_(TariffRow.tenant_id == t.tenant_id, TariffRow.number == t.number, TariffRow.channel == t.channel)


def _tariff(row: TariffRow) -> Tariff:
    return replace(Tariff(**{name: getattr(row, name) for name in FIELDS}), id=row.id, shares=dict(row.shares))


def _tariff_of(row: Any) -> Tariff:
    """A Tariff from a row of the tariffs table's columns (Core, not ORM)."""
    return Tariff(**{name: getattr(row, name) for name in FIELDS}, id=row.id)


# Built once: they run for every priced event.
TARIFFS = TariffRow.__table__
CAMPAIGNS = CampaignRow.__table__
NUMBER_TARIFFS = select(TARIFFS).where(TARIFFS.c.channel == bindparam("channel"),
                                       TARIFFS.c.tenant_id == bindparam("tenant_id"),
                                       TARIFFS.c.number == bindparam("number"))
CAMPAIGN_TARIFFS = (
    select(CAMPAIGNS.c.tenant_id.label("owner"), TARIFFS).select_from(CAMPAIGNS)
    .outerjoin(TARIFFS, and_(TARIFFS.c.channel == bindparam("channel"), or_(
        TARIFFS.c.campaign_id == CAMPAIGNS.c.id,
        and_(TARIFFS.c.tenant_id == CAMPAIGNS.c.tenant_id, TARIFFS.c.number == bindparam("number")))))
    .where(CAMPAIGNS.c.id == bindparam("campaign_id")))
