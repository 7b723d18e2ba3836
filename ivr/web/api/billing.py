"""Money endpoints: tariffs (set by admins, read by their tenant), monthly statements (JSON and CSV), every
tenant's month for admins, and a campaign's revenue and cost day by day.

Amounts are decimal strings ("12.50") in JSON, exact decimals in CSV, never floats; each field says
whether VAT is in it (`price_with_vat`, `cost_without_vat`...). Months are YYYY-MM and days YYYY-MM-DD
of the billing calendar (Kyiv).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import asdict
from datetime import date, datetime, timezone
from typing import Any

from aiohttp import web

from ivr.i18n import t

from ivr.store.money import (CURRENCY, VAT_BP, decimal_amount, format_amount, format_percent, local_day,
                             next_month, parse_amount, parse_day, parse_month, parse_percent)
from ivr.store.rating import CHANNELS, UNITS, Tariff
from ivr.store.statements import CampaignDay, Statement, StatementLine, Totals

from .business import stream_csv
from .core import ApiError, owned_campaign, principal_of, read_json, store_of

LINE_COLUMNS = ["month", "number", "campaign_id", "item", "operator", "channel", "tariff_id", "unit", "events",
                "quantity", "amount_without_vat", "revenue_with_vat", "share_without_vat"]
DAY_COLUMNS = ["day", "events", "revenue_with_vat", "cost_without_vat", "share_without_vat"]
MAX_DAYS = 366


# -- tariffs --------------------------------------------------------------------------------------------

async def list_tariffs(request: web.Request) -> web.Response:
    """Tariffs in force or to come (?all=1: every one ever): the caller's tenant's (admin: every tenant's, or
    ?tenant=ID's)."""
    in_force = request.query.get("all", "") not in ("1", "true", "yes")
    found = await store_of(request).tariffs(_tenant(request, required=False), in_force)
    return web.json_response([tariff_json(t) for t in found])


async def set_tariff(request: web.Request) -> web.Response:
    """Put a tariff in force from its `valid_from` (ISO time; default and earliest: 10 s from now), replacing
    the one of the same number or campaign and channel there."""
    body = await read_json(request)
    channel = body.get("channel")
    if channel not in CHANNELS:
        raise ApiError(400, t("channel must be one of {channels}", channels=", ".join(CHANNELS)))
    shares = body.get("shares", {})
    if not isinstance(shares, dict):
        raise ApiError(400, t('shares must be an object such as {{"kyivstar": "45", "*": "40"}}'))
    for name in ("tenant_id", "number", "campaign_id", "kind", "unit"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise ApiError(400, t("{name} must be a string", name=name))
    increment = body.get("increment_seconds", 60)
    if not isinstance(increment, int) or isinstance(increment, bool):
        raise ApiError(400, t("increment_seconds must be a whole number of seconds (60: per started minute)"))
    tariff = Tariff(
        tenant_id=body.get("tenant_id") or "", channel=channel, kind=body.get("kind") or "",
        unit=body.get("unit") or UNITS[channel][-1], number=body.get("number"), campaign_id=body.get("campaign_id"),
        price=_amount(body, "price_with_vat"), cost=_amount(body, "cost_without_vat"),
        outbound_cost=_amount(body, "outbound_cost_without_vat"), increment=increment,
        shares={str(op): parse_percent(value, f"shares.{op}") for op, value in shares.items()},
        valid_from=_time(body.get("valid_from"), "valid_from"))
    if tariff.campaign_id is not None:
        await owned_campaign(request, tariff.campaign_id)
    made = await store_of(request).set_tariff(tariff, principal_of(request).actor)
    return web.json_response(tariff_json(made), status=201)


async def end_tariff(request: web.Request) -> web.Response:
    """Take a tariff out of force 10 s from now (its traffic is then not charged)."""
    tariff_id = request.match_info["tariff_id"]
    if not (tariff_id.isascii() and tariff_id.isdigit()):
        raise ApiError(404, t("no tariff {tariff}", tariff=tariff_id))
    ended = await store_of(request).end_tariff(int(tariff_id), actor=principal_of(request).actor)
    return web.json_response(tariff_json(ended))


def tariff_json(t: Tariff) -> dict[str, Any]:
    vat = VAT_BP[t.currency]
    return {"id": t.id, "tenant_id": t.tenant_id, "number": t.number, "campaign_id": t.campaign_id,
            "channel": t.channel, "kind": t.kind, "unit": t.unit, "price_with_vat": format_amount(t.price),
            "cost_without_vat": format_amount(t.cost), "outbound_cost_without_vat": format_amount(t.outbound_cost),
            "increment_seconds": t.increment, "shares": {op: format_percent(bp) for op, bp in (t.shares or {}).items()},
            "currency": t.currency, "vat_percent": format_percent(vat),
            "valid_from": t.valid_from.isoformat() if t.valid_from else None,
            "valid_until": t.valid_until.isoformat() if t.valid_until else None}


# -- statements -------------------------------------------------------------------------------------------

async def statement(request: web.Request) -> web.Response:
    """A tenant's statement for ?month=YYYY-MM (default this month): fees + usage − revenue share, a line per
    number, campaign, item, operator and tariff."""
    month = _month(request)
    return web.json_response(statement_json(await store_of(request).statement(_tenant(request), month)))


async def statement_csv(request: web.Request) -> web.StreamResponse:
    """The statement's lines as CSV, then its totals as lines of their own."""
    month = _month(request)
    found = await store_of(request).statement(_tenant(request), month)

    async def rows() -> AsyncIterator[dict[str, Any]]:
        for line in found.lines:
            yield {"month": f"{month:%Y-%m}", **_line(line, decimal_amount)}
        t = found.totals
        vat = f"vat {format_percent(VAT_BP[found.currency])}%"
        for item, amount, revenue, share in (("total", t.charges, t.revenue, t.share), (vat, t.vat, None, None),
                                             ("total with vat", t.charges_with_vat, None, None),
                                             ("balance (total - share)", t.balance, None, None)):
            yield {"month": f"{month:%Y-%m}", "item": item, "amount_without_vat": decimal_amount(amount),
                   "revenue_with_vat": None if revenue is None else decimal_amount(revenue),
                   "share_without_vat": None if share is None else decimal_amount(share)}
    return await stream_csv(request, f"statement-{month:%Y-%m}.csv", LINE_COLUMNS, rows())


async def month_overview(request: web.Request) -> web.Response:
    """Every tenant's totals for ?month=YYYY-MM (admin)."""
    month = _month(request)
    totals = await store_of(request).month_totals(month)
    names = {t.id: t.name for t in await store_of(request).tenants()}
    return web.json_response({"month": f"{month:%Y-%m}", "currency": CURRENCY, "tenants": [
        {"tenant_id": tenant_id, "tenant": names.get(tenant_id), **totals_json(t)}
        for tenant_id, t in sorted(totals.items(), key=lambda item: names.get(item[0], item[0]))]})


def statement_json(s: Statement) -> dict[str, Any]:
    return {"tenant_id": s.tenant_id, "month": f"{s.month:%Y-%m}", "currency": s.currency,
            "vat_percent": format_percent(VAT_BP[s.currency]),
            "lines": [_line(line, format_amount) for line in s.lines],
            "totals": totals_json(s.totals)}


def totals_json(t: Totals) -> dict[str, str]:
    return {"fees_without_vat": format_amount(t.fees), "usage_without_vat": format_amount(t.usage),
            "charges_without_vat": format_amount(t.charges), "vat": format_amount(t.vat),
            "charges_with_vat": format_amount(t.charges_with_vat), "revenue_with_vat": format_amount(t.revenue),
            "share_without_vat": format_amount(t.share), "balance_without_vat": format_amount(t.balance)}


def _line(line: StatementLine, money: Callable[[int], Any]) -> dict[str, Any]:
    """A statement line's fields, its amounts written by `money` under names that say what VAT is in them."""
    cells = asdict(line)
    for name, column in (("amount", "amount_without_vat"), ("revenue", "revenue_with_vat"),
                         ("share", "share_without_vat")):
        cells[column] = money(cells.pop(name))
    return cells


# -- a campaign's money by day ------------------------------------------------------------------------------

async def campaign_money(request: web.Request) -> web.Response:
    """The campaign's revenue, cost and share each day from ?since= to ?until= (YYYY-MM-DD, until excluded;
    default this month)."""
    campaign_id, first, until, found = await _campaign_days(request)
    return web.json_response({
        "campaign_id": campaign_id, "since": first.isoformat(), "until": until.isoformat(), "currency": CURRENCY,
        "days": [_day_json(d) for d in found],
        "totals": {"events": sum(d.events for d in found),
                   "revenue_with_vat": format_amount(sum(d.revenue for d in found)),
                   "cost_without_vat": format_amount(sum(d.cost for d in found)),
                   "share_without_vat": format_amount(sum(d.share for d in found))}})


async def campaign_money_csv(request: web.Request) -> web.StreamResponse:
    """The same as CSV."""
    campaign_id, first, until, found = await _campaign_days(request)

    async def rows() -> AsyncIterator[dict[str, Any]]:
        for d in found:
            yield {"day": d.day.isoformat(), "events": d.events, "revenue_with_vat": decimal_amount(d.revenue),
                   "cost_without_vat": decimal_amount(d.cost), "share_without_vat": decimal_amount(d.share)}
    return await stream_csv(request, f"{campaign_id}-money-{first}-{until}.csv", DAY_COLUMNS, rows())


async def _campaign_days(request: web.Request) -> tuple[str, date, date, list[CampaignDay]]:
    campaign_id = request.match_info["campaign_id"]
    tenant_id = await owned_campaign(request, campaign_id)
    this_month = local_day(datetime.now(timezone.utc)).replace(day=1)
    first = parse_day(request.query["since"], "since") if request.query.get("since") else this_month
    until = parse_day(request.query["until"], "until") if request.query.get("until") else next_month(first)
    if not 0 < (until - first).days <= MAX_DAYS:
        raise ApiError(400, t("until must be after since, at most {days} days later", days=MAX_DAYS))
    return campaign_id, first, until, await store_of(request).campaign_days(tenant_id, campaign_id, first, until)


def _day_json(d: CampaignDay) -> dict[str, Any]:
    return {"day": d.day.isoformat(), "events": d.events, "revenue_with_vat": format_amount(d.revenue),
            "cost_without_vat": format_amount(d.cost), "share_without_vat": format_amount(d.share)}


# -- helpers ----------------------------------------------------------------------------------------------

def _tenant(request: web.Request, required: bool = True) -> str | None:
    """The tenant asked about: the caller's own, or for an admin ?tenant=ID (required when `required`)."""
    principal = principal_of(request)
    if not principal.admin:
        return principal.tenant_id
    tenant_id = request.query.get("tenant") or None
    if tenant_id is None and required:
        raise ApiError(400, t("name the tenant: ?tenant=ID"))
    return tenant_id


def _month(request: web.Request) -> date:
    text = request.query.get("month")
    return parse_month(text) if text else local_day(datetime.now(timezone.utc)).replace(day=1)


def _time(value: Any, name: str) -> datetime | None:
    """An ISO 8601 time (UTC when it has no offset), or None."""
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None
    except ValueError:
        at = None
    if at is None:
        raise ApiError(400, t("{name} must be an ISO 8601 time, e.g. 2026-04-01T00:00:00+03:00", name=name))
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def _amount(body: dict[str, Any], name: str) -> int:
    return parse_amount(body[name], name) if body.get(name) is not None else 0
