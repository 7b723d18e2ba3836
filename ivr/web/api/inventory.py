"""Admin endpoints of the number inventory: add numbers, change or remove them, lease them to tenants and
end leases; leases are readable by the tenant they belong to. Amounts are strings ("2500.00")."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ivr.i18n import t

from ivr.store.inventory import InventoryNumber
from ivr.store.money import format_amount, parse_amount, parse_day

from .business import lease_json
from .core import ApiError, engine_of, principal_of, read_json, store_of

STATES = ("all", "free", "leased")


async def list_inventory(request: web.Request) -> web.Response:
    """The provider's numbers (?state=free|leased|all, on ?day=YYYY-MM-DD, default today) with the lease
    of that day (else the next one)."""
    state = request.query.get("state", "all")
    if state not in STATES:
        raise ApiError(400, t("state must be one of {states}", states=", ".join(STATES)))
    day = parse_day(request.query["day"], "day") if request.query.get("day") else None
    return web.json_response([inventory_json(n) for n in await store_of(request).inventory(state, day)])


async def add_number(request: web.Request) -> web.Response:
    """Add a number of 3 or 4 digits: {number, class, channels, monthly_fee_without_vat} (409: there already)."""
    body = await read_json(request)
    number = body.get("number")
    if not isinstance(number, str):
        raise ApiError(400, t('number must be a string such as "3838"'))
    added = await store_of(request).add_number(number, _text(body, "class", "regular"),
                                               _text(body, "channels", "both"),
                                               parse_amount(body.get("monthly_fee_without_vat", "0"),
                                                            "monthly_fee_without_vat"),
                                               principal_of(request).actor)
    return web.json_response(inventory_json(added), status=201)


async def update_number(request: web.Request) -> web.Response:
    """Change a number's class, channels or monthly fee (fees charged already stay as they were)."""
    body = await read_json(request)
    fee = body.get("monthly_fee_without_vat")
    changed = await store_of(request).update_number(
        request.match_info["number"], number_class=_text(body, "class", None), channels=_text(body, "channels", None),
        monthly_fee=None if fee is None else parse_amount(fee, "monthly_fee_without_vat"),
        actor=principal_of(request).actor)
    return web.json_response(inventory_json(changed))


async def remove_number(request: web.Request) -> web.Response:
    """Take a number that was never leased out of the inventory (409 once it has leases)."""
    await store_of(request).remove_number(request.match_info["number"], principal_of(request).actor)
    return web.Response(status=204)


async def lease_number(request: web.Request) -> web.Response:
    """Lease a number to a tenant: {tenant_id, starts_on, ends_on?, channels?} (409 when a lease overlaps)."""
    body = await read_json(request)
    tenant_id = body.get("tenant_id")
    if not isinstance(tenant_id, str):
        raise ApiError(400, t("tenant_id must be the id of a tenant"))
    ends_on = body.get("ends_on")
    lease = await store_of(request).lease_number(
        request.match_info["number"], tenant_id, parse_day(body.get("starts_on"), "starts_on"),
        _text(body, "channels", None), None if ends_on is None else parse_day(ends_on, "ends_on"),
        principal_of(request).actor)
    await _refresh(request)
    return web.json_response(lease_json(lease), status=201)


async def end_lease(request: web.Request) -> web.Response:
    """End a lease on {ends_on} (its last day)."""
    body = await read_json(request)
    lease_id = request.match_info["lease_id"]
    if not (lease_id.isascii() and lease_id.isdigit()):
        raise ApiError(404, t("no lease {lease}", lease=lease_id))
    lease = await store_of(request).end_lease(int(lease_id), parse_day(body.get("ends_on"), "ends_on"),
                                              principal_of(request).actor)
    await _refresh(request)
    return web.json_response(lease_json(lease))


async def list_leases(request: web.Request) -> web.Response:
    """Leases, oldest first: the caller's tenant's (admin: every tenant's, or ?tenant=ID's), of ?number=."""
    principal = principal_of(request)
    tenant_id = (request.query.get("tenant") or None) if principal.admin else principal.tenant_id
    leases = await store_of(request).leases(tenant_id, request.query.get("number") or None)
    return web.json_response([lease_json(lease) for lease in leases])


def inventory_json(n: InventoryNumber) -> dict[str, Any]:
    return {"number": n.number, "class": n.number_class, "channels": n.channels,
            "monthly_fee_without_vat": format_amount(n.monthly_fee), "currency": n.currency,
            "added_at": n.added_at.isoformat(), "lease": lease_json(n.lease) if n.lease else None}


def _text(body: dict[str, Any], name: str, default: str | None) -> Any:
    value = body.get(name, default)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, t("{name} must be a string", name=name))
    return value


async def _refresh(request: web.Request) -> None:
    """A lease changed: this node routes by it at once (the others within their poll)."""
    await engine_of(request).refresh()
