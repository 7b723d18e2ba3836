"""Admin endpoints: tenants and their API keys; erasing a person's number."""

from __future__ import annotations

import re

from aiohttp import web

from ivr.i18n import t
from ivr.store.accounts import ROLES

from .core import ApiError, principal_of, read_json, store_of


async def list_tenants(request: web.Request) -> web.Response:
    """Every tenant."""
    return web.json_response([{"id": t.id, "name": t.name, "created_at": t.created_at.isoformat()}
                              for t in await store_of(request).tenants()])


async def create_tenant(request: web.Request) -> web.Response:
    """A new tenant (409 when the name is taken)."""
    name = (await read_json(request)).get("name")
    if not isinstance(name, str) or not name.strip():
        raise ApiError(400, t('body must be {{"name": "..."}}'))
    tenant = await store_of(request).create_tenant(name, principal_of(request).actor)
    return web.json_response({"id": tenant.id, "name": tenant.name, "created_at": tenant.created_at.isoformat()},
                             status=201)


async def list_keys(request: web.Request) -> web.Response:
    """The tenant's API keys (never the keys themselves)."""
    keys = await store_of(request).api_keys(request.match_info["tenant_id"])
    return web.json_response([{"id": k.id, "role": k.role, "created_at": k.created_at.isoformat(),
                               "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None} for k in keys])


async def create_key(request: web.Request) -> web.Response:
    """A new API key for the tenant, shown this once."""
    role = (await read_json(request)).get("role")
    if role not in ROLES:
        raise ApiError(400, t('body must be {{"role": ...}} with one of {roles}', roles=", ".join(ROLES)))
    key = await store_of(request).create_api_key(request.match_info["tenant_id"], role, principal_of(request).actor)
    return web.json_response({"id": key.split("_")[1], "role": role, "key": key}, status=201)


async def revoke_key(request: web.Request) -> web.Response:
    """Revoke an API key at once."""
    await store_of(request).revoke_api_key(None, request.match_info["key_id"], principal_of(request).actor)
    return web.Response(status=204)


async def erase_number(request: web.Request) -> web.Response:
    """Replace a person's number by a pseudonym in every call, message and outcome (tallies unchanged)."""
    number = (await read_json(request)).get("number")
    if not isinstance(number, str) or not re.fullmatch(r"\+?[0-9]{3,20}", number.strip()):
        raise ApiError(400, t('body must be {{"number": "+380501234567"}} (digits, + first for E.164)'))
    changed = await store_of(request).erase_number(number.strip())
    return web.json_response({"number": number.strip(), "changed": changed})
