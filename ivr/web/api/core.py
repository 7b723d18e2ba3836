"""What every API handler shares: the route table entry, errors as JSON, API-key auth, bodies, scoping.

Every path under /api/ but the SMS gateway's webhook (which has its own token, see `ivr.web.sms`)
needs `Authorization: Bearer KEY` (401 without a valid, unrevoked key); each route names the roles it serves (403 for the others; admin may use every
route and sees every tenant). Errors are always JSON `{"error": "..."}`; unexpected ones are logged
and answered 500 without details. Request bodies are limited to MAX_BODY bytes (413).

Error messages are `ivr.i18n` messages, written in the language of the request (`?lang=uk|ru|en`, else its
`Accept-Language`, else English) with a `Content-Language` header; JSON keys never change.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ivr.i18n import Message, language_of, localize, message_of, t, verbatim
from ivr.store import Actor, Conflict, Forbidden, KeyOwner, NotFound, StoreError, StoreUnavailable

if TYPE_CHECKING:
    from ivr.engine.view import EngineView
    from ivr.store import Store

log = logging.getLogger("ivr.api")

MAX_BODY = 1024 * 1024
PUBLIC = ("/api/sms/inbound", "/api/sms/receipts")   # the SMS gateway's webhooks (its own token, not a person's key)
ROLES = ("business", "operator", "admin")
ROLE_NAMES = {"business": t("business"), "operator": t("operator"), "admin": t("administrator")}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ENGINE = web.AppKey("api_engine", object)
STORE = web.AppKey("api_store", object)
ROUTE_ROLES = web.AppKey("api_route_roles", dict)
ROUTE_LIMITS = web.AppKey("api_route_limits", dict)
LIVE_CLOSING = web.AppKey("api_live_closing", asyncio.Event)
LIVE_SECONDS = 2.0          # an SSE update at least this often


@dataclass(frozen=True)
class Route:
    """One endpoint: the route table is also the OpenAPI document's source."""

    method: str
    path: str
    handler: Handler
    roles: tuple[str, ...]               # admin is always allowed as well
    summary: str
    body: dict[str, Any] | None = None   # JSON Schema of a JSON body; {"dialplan": True} for campaign text
    response: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    status: int = 200
    media: str = "application/json"      # of the success response
    query: tuple[str, ...] = ()
    max_body: int = MAX_BODY             # bytes (413 above)
    upload: tuple[str, ...] = ()         # media types of a raw body (e.g. audio) instead of JSON
    errors: tuple[tuple[int, str], ...] = ()   # answers other than success worth documenting: (status, why)

    @property
    def name(self) -> str:
        return self.handler.__name__


class ApiError(Exception):
    """An answer other than success: status, message (`t(...)`, translated for the reader) and extra JSON
    fields (messages in them are translated too)."""

    def __init__(self, status: int, message: Message | str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.extra = extra


@dataclass(frozen=True)
class Principal:
    """Who is calling: the tenant, role and id of the API key."""

    tenant_id: str
    role: str
    key_id: str

    @property
    def admin(self) -> bool:
        return self.role == "admin"

    @property
    def scope(self) -> str | None:
        """The tenant whose data the caller may read (None: every tenant)."""
        return None if self.admin else self.tenant_id

    @property
    def actor(self) -> Actor:
        """Who the audit log names for the caller's changes."""
        return Actor(self.role, self.key_id, self.tenant_id)


PRINCIPAL = "ivr_principal"


# aiohttp's own refusals (no such route, wrong method...) in words we translate
HTTP_MESSAGES = {404: t("no such endpoint"), 405: t("this endpoint does not take that method"),
                 413: t("the request body is too large")}


def error(request: web.Request, status: int, message: Message | str, **extra: Any) -> web.Response:
    """The JSON error answer in the request's language."""
    language = request_language(request)
    return web.json_response(localize({"error": message, **extra}, language), status=status,
                             headers={"Content-Language": language})


def request_language(request: web.Request) -> str:
    """The language to answer in: `?lang=`, else Accept-Language, else English."""
    return language_of(request.query, request.headers)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """JSON errors for /api/ paths, never a stack trace."""
    if not request.path.startswith("/api/"):
        return await handler(request)
    try:
        return await handler(request)
    except ApiError as exc:
        return error(request, exc.status, exc.message, **exc.extra)
    except NotFound as exc:
        return error(request, 404, message_of(exc))
    except Forbidden as exc:
        return error(request, 403, message_of(exc))
    except Conflict as exc:
        return error(request, 409, message_of(exc))
    except StoreUnavailable:
        return error(request, 503, t("the database is unreachable; try again shortly"))
    except StoreError as exc:
        return error(request, 400, message_of(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error(request, exc.status, HTTP_MESSAGES.get(exc.status, verbatim(exc.reason)))
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return error(request, 500, t("internal error"))


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bearer API key → Principal; 401 without a valid key, 403 when the route does not serve the role;
    413 for a body over the route's limit (MAX_BODY unless it says otherwise) on any path under /api/."""
    if not request.path.startswith("/api/"):
        return await handler(request)
    limit = body_limit(request)
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, t("request body larger than {limit} bytes", limit=limit))
    if request.path in PUBLIC:
        return await handler(request)
    key = bearer(request)
    owner: KeyOwner | None = None
    if key:
        owner = await store_of(request).verify_api_key(key)
    if owner is None:
        raise ApiError(401, t("missing, unknown or revoked API key"), hint=t("send Authorization: Bearer KEY"))
    principal = Principal(owner.tenant_id, owner.role, owner.key_id)
    request[PRINCIPAL] = principal
    roles = request.app[ROUTE_ROLES].get(request.match_info.route.name)
    if roles is not None and not principal.admin and principal.role not in roles:
        raise ApiError(403, t("the {role} role may not use this endpoint", role=ROLE_NAMES[principal.role]))
    return await handler(request)


def bearer(request: web.Request) -> str:
    """The token of an `Authorization: Bearer TOKEN` header ("" without one)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def bearer_is(request: web.Request, token: str | None) -> bool:
    """True when the request carries `token` as its Bearer token (compared in constant time); False
    when no token is configured."""
    return bool(token) and hmac.compare_digest(bearer(request).encode(), token.encode())


def principal_of(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def engine_of(request: web.Request) -> "EngineView":
    return request.app[ENGINE]                                   # type: ignore[return-value]


def store_of(request: web.Request) -> "Store":
    return request.app[STORE]                                    # type: ignore[return-value]


async def owned_campaign(request: web.Request, campaign_id: str) -> str:
    """The id of the tenant owning the campaign; 404 when unknown or another tenant's."""
    owner = await store_of(request).campaign_owner(campaign_id)
    principal = principal_of(request)
    if owner is None or not principal.admin and owner != principal.tenant_id:
        raise ApiError(404, t("no campaign {campaign!r}", campaign=campaign_id))
    return owner


async def acting_tenant(request: web.Request) -> str:
    """The tenant a request acts for: the key's own, or (turnkey work) the one an administrator names with
    `?tenant=` (its id or name; 404 when there is none). 403 when another role names another tenant."""
    principal = principal_of(request)
    named = request.query.get("tenant", "").strip()
    if not named or named == principal.tenant_id:
        return principal.tenant_id
    if not principal.admin:
        raise ApiError(403, t("only an administrator may act for another tenant (?tenant=)"))
    for tenant in await store_of(request).tenants():
        if named in (tenant.id, tenant.name):
            return tenant.id
    raise ApiError(404, t("no tenant {tenant!r}", tenant=named))


def body_limit(request: web.Request) -> int:
    """The largest body the request's route takes."""
    return request.app[ROUTE_LIMITS].get(request.match_info.route.name, MAX_BODY)


async def read_body(request: web.Request) -> bytes:
    """The body, at most the route's limit (413)."""
    limit = body_limit(request)
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, t("request body larger than {limit} bytes", limit=limit))
    data = bytearray()
    async for chunk in request.content.iter_chunked(65536):
        data += chunk
        if len(data) > limit:
            raise ApiError(413, t("request body larger than {limit} bytes", limit=limit))
    return bytes(data)


async def read_text(request: web.Request) -> str:
    """The body as UTF-8 text (413 over the route's limit)."""
    data = await read_body(request)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, t("request body is not UTF-8 text")) from None


async def read_json(request: web.Request) -> dict[str, Any]:
    """A JSON object body (400 otherwise)."""
    text = await read_text(request)
    try:
        body = json.loads(text) if text.strip() else {}
    except ValueError:
        raise ApiError(400, t("request body must be JSON")) from None
    if not isinstance(body, dict):
        raise ApiError(400, t("request body must be a JSON object"))
    return body


def query_time(request: web.Request, name: str) -> datetime | None:
    """An ISO 8601 time from the query string (UTC when it names no zone); 400 when it is not one."""
    text = request.query.get(name)
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, t("{name} must be an ISO 8601 time, e.g. 2026-01-31T12:00:00Z", name=name)) from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


async def event_stream(request: web.Request, event: str, produce: Callable[[], Awaitable[Any]],
                       poll: float) -> web.StreamResponse:
    """Server-Sent Events: `event` with `produce()`'s JSON at once, then whenever it changes (looked at every
    `poll` seconds) and at least every LIVE_SECONDS, until the client leaves or the node shuts down."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(request)
    closing = request.app[LIVE_CLOSING]
    loop = asyncio.get_running_loop()
    last, sent_at = "", 0.0
    try:
        while not closing.is_set():
            data = json.dumps(await produce())
            if data != last or loop.time() - sent_at >= LIVE_SECONDS:
                await response.write(f"event: {event}\ndata: {data}\n\n".encode())
                last, sent_at = data, loop.time()
            try:
                await asyncio.wait_for(closing.wait(), poll)
            except TimeoutError:
                pass
    except ConnectionError:                       # the client went away
        pass
    return response


def setup(app: web.Application, engine: "EngineView", store: "Store", routes: list[Route]) -> None:
    """Mount the routes with their auth and error handling."""
    app[ENGINE] = engine
    app[STORE] = store
    app[ROUTE_ROLES] = {route.name: route.roles for route in routes}
    app[ROUTE_LIMITS] = {route.name: route.max_body for route in routes}
    app.middlewares.extend([errors_middleware, auth_middleware])
    for route in routes:
        app.router.add_route(route.method, route.path, route.handler, name=route.name)
