"""Tariffs as stored: set by the provider's admins, read by the tenant, looked up for every charge.

A tariff is for one channel of one of the tenant's numbers, or of one of its campaigns; the campaign's
wins over the number's. Setting a tariff replaces the one in force for the same number or campaign and
channel: the old row gets `valid_until` and stays, so every charge keeps naming the tariff it was priced
by, and an event replayed from the spool later is priced by the tariff in force when it happened.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from .errors import NotFound
from .inventory import check_claim
from .models import CampaignRow, TariffRow, TenantRow
from .money import local_day
from .rating import Tariff, check_tariff

FIELDS = ("tenant_id", "number", "campaign_id", "channel", "kind", "unit", "price", "cost", "outbound_cost",
          "increment", "shares", "currency", "valid_from", "valid_until")


def set_tariff(session: Session, tariff: Tariff, now: datetime) -> Tariff:
    """Put the tariff in force from now (replacing the one of the same number or campaign and channel)."""
    check_tariff(tariff)
    if session.get(TenantRow, tariff.tenant_id, with_for_update=True) is None:     # one change at a time
        raise NotFound(f"no tenant {tariff.tenant_id!r}")
    if tariff.campaign_id is not None:
        owner = session.scalar(select(CampaignRow.tenant_id).where(CampaignRow.id == tariff.campaign_id))
        if owner != tariff.tenant_id:
            raise NotFound(f"the tenant has no campaign {tariff.campaign_id!r}")
    else:
        check_claim(session, tariff.tenant_id, tariff.number or "", tariff.channel, local_day(now))
    session.execute(update(TariffRow).where(_same_scope(tariff), TariffRow.valid_until.is_(None))
                    .values(valid_until=now))
    row = TariffRow(**{name: getattr(tariff, name) for name in FIELDS if name not in ("valid_from", "valid_until")},
                    valid_from=now, valid_until=None)
    row.shares = dict(tariff.shares or {})
    session.add(row)
    session.flush()
    return _tariff(row)


def end_tariff(session: Session, tariff_id: int, tenant_id: str | None, now: datetime) -> Tariff:
    """Take a tariff out of force from now (its traffic is then not charged)."""
    row = session.get(TariffRow, tariff_id)
    if row is None or tenant_id is not None and row.tenant_id != tenant_id:
        raise NotFound(f"no tariff {tariff_id}")
    if row.valid_until is None:
        row.valid_until = now
    return _tariff(row)


def tariffs(session: Session, tenant_id: str | None, at: datetime | None) -> list[Tariff]:
    """The tenant's tariffs (None: every tenant's): those in force at `at`, or every one (at None)."""
    query = select(TariffRow).order_by(TariffRow.tenant_id, TariffRow.campaign_id, TariffRow.number,
                                       TariffRow.channel, TariffRow.valid_from)
    if tenant_id is not None:
        query = query.where(TariffRow.tenant_id == tenant_id)
    if at is not None:
        query = query.where(*_in_force(at))
    return [_tariff(r) for r in session.scalars(query)]


def tariff_for(session: Session, tenant_id: str, campaign_id: str | None, number: str, channel: str,
               at: datetime) -> Tariff | None:
    """The tariff pricing the tenant's traffic at `at`: its campaign's, else its number's, else None."""
    scope = and_(TariffRow.tenant_id == tenant_id, TariffRow.number == number)
    if campaign_id is not None:
        scope = or_(TariffRow.campaign_id == campaign_id, scope)
    rows = session.scalars(select(TariffRow).where(TariffRow.channel == channel, scope, *_in_force(at))).all()
    found = min(rows, key=lambda r: r.campaign_id is None, default=None)
    return _tariff(found) if found is not None else None


def _same_scope(t: Tariff) -> object:
    if t.campaign_id is not None:
        return and_(TariffRow.campaign_id == t.campaign_id, TariffRow.channel == t.channel)
    return and_(TariffRow.tenant_id == t.tenant_id, TariffRow.number == t.number, TariffRow.channel == t.channel)


def _in_force(at: datetime) -> list[object]:
    return [TariffRow.valid_from <= at, or_(TariffRow.valid_until.is_(None), TariffRow.valid_until > at)]


def _tariff(row: TariffRow) -> Tariff:
    return replace(Tariff(**{name: getattr(row, name) for name in FIELDS}), id=row.id, shares=dict(row.shares))
