"""What the charges add up to: a tenant's monthly statement, a campaign's money day by day, and the
totals a campaign report shows.

A statement is fees + usage − revenue share, with one line per number, campaign, item, operator and
tariff (so each line is its events' quantity at one price): what the tenant owes (`amount`, VAT
excluded), what subscribers paid (`revenue`, VAT included) and the tenant's share of it (VAT excluded).
Totals add VAT to what the tenant owes (`vat`, `charges_with_vat`); `balance` = charges − share, both
without VAT (positive: the tenant pays; negative: the provider pays the tenant). Months and days are
those of the billing calendar (Kyiv, see `money`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.i18n import t

from .models import CampaignRow, ChargeRow
from .errors import NotFound
from .money import CURRENCY, day_start, days, local_day, next_month, vat_on

LINE_KEY = (ChargeRow.number, ChargeRow.campaign_id, ChargeRow.item, ChargeRow.operator, ChargeRow.channel,
            ChargeRow.tariff_id, ChargeRow.unit)
SUMS = (func.count(), func.sum(ChargeRow.quantity), func.sum(ChargeRow.amount), func.sum(ChargeRow.revenue),
        func.sum(ChargeRow.share))


@dataclass(frozen=True)
class StatementLine:
    number: str
    campaign_id: str | None
    item: str
    operator: str
    channel: str
    tariff_id: int | None
    unit: str
    events: int
    quantity: int
    amount: int
    revenue: int
    share: int


@dataclass(frozen=True)
class Totals:
    fees: int
    usage: int
    revenue: int
    share: int

    @property
    def charges(self) -> int:
        return self.fees + self.usage

    @property
    def vat(self) -> int:
        return vat_on(self.charges)

    @property
    def charges_with_vat(self) -> int:
        return self.charges + self.vat

    @property
    def balance(self) -> int:
        return self.charges - self.share


@dataclass(frozen=True)
class Statement:
    tenant_id: str
    month: date
    currency: str
    lines: list[StatementLine]
    totals: Totals


@dataclass(frozen=True)
class CampaignDay:
    day: date
    events: int
    revenue: int
    cost: int
    share: int


def tenant_statement(session: Session, tenant_id: str, month: date) -> Statement:
    """The tenant's statement for the month starting on `month` (its first day)."""
    since, until = day_start(month), day_start(next_month(month))
    rows = session.execute(select(*LINE_KEY, *SUMS).where(
        ChargeRow.tenant_id == tenant_id, ChargeRow.at >= since, ChargeRow.at < until)
        .group_by(*LINE_KEY))
    lines = sorted((StatementLine(*key, int(n), int(q), int(a), int(r), int(s)) for *key, n, q, a, r, s in rows),
                   key=lambda l: (l.number, l.item != "monthly_fee", l.campaign_id or "", l.item, l.operator,
                                  l.tariff_id or 0))
    fees = sum(l.amount for l in lines if l.item == "monthly_fee")
    totals = Totals(fees, sum(l.amount for l in lines) - fees, sum(l.revenue for l in lines),
                    sum(l.share for l in lines))
    return Statement(tenant_id, month, CURRENCY, lines, totals)


def month_totals(session: Session, month: date) -> dict[str, Totals]:
    """Every tenant's totals for the month (tenants without charges are left out)."""
    since, until = day_start(month), day_start(next_month(month))
    fee = func.sum(ChargeRow.amount).filter(ChargeRow.item == "monthly_fee")
    rows = session.execute(select(ChargeRow.tenant_id, fee, func.sum(ChargeRow.amount), func.sum(ChargeRow.revenue),
                                  func.sum(ChargeRow.share))
                           .where(ChargeRow.at >= since, ChargeRow.at < until).group_by(ChargeRow.tenant_id))
    return {t: Totals(int(f or 0), int(a) - int(f or 0), int(r), int(s)) for t, f, a, r, s in rows}


def campaign_days(session: Session, tenant_id: str | None, campaign_id: str, first: date,
                  until: date) -> list[CampaignDay]:
    """The campaign's events, revenue, cost and share on each day from `first` up to `until`."""
    owner = session.scalar(select(CampaignRow.tenant_id).where(CampaignRow.id == campaign_id))
    if owner is None or tenant_id is not None and owner != tenant_id:
        raise NotFound(t("no campaign {campaign!r}", campaign=campaign_id))
    out = []
    for day in days(first, until):
        n, amount, revenue, share = session.execute(select(
            func.count(), func.sum(ChargeRow.amount), func.sum(ChargeRow.revenue), func.sum(ChargeRow.share))
            .where(ChargeRow.campaign_id == campaign_id, ChargeRow.at >= day_start(day),
                   ChargeRow.at < day_start(day + timedelta(days=1)))).one()
        out.append(CampaignDay(day, int(n), int(revenue or 0), int(amount or 0), int(share or 0)))
    return out


def campaign_totals(session: Session, campaign_id: str, until: datetime | None = None) -> CampaignDay | None:
    """Everything charged for the campaign so far (`day` is the first charge's), None when nothing."""
    query = select(func.count(), func.sum(ChargeRow.amount), func.sum(ChargeRow.revenue),
                   func.sum(ChargeRow.share), func.min(ChargeRow.at)).where(ChargeRow.campaign_id == campaign_id)
    if until is not None:
        query = query.where(ChargeRow.at < until)
    n, amount, revenue, share, first = session.execute(query).one()
    if not n:
        return None
    return CampaignDay(local_day(first), int(n), int(revenue or 0), int(amount or 0), int(share or 0))
