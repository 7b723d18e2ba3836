"""Code pool endpoints: a tenant's named pools of promo codes and the files imported into them.

An import's body (one code a line or CSV, gzip accepted, up to MAX_IMPORT bytes) is streamed to a file in
the node's data folder a chunk at a time (written off the event loop), then imported by the store's import
worker; the answer (202) comes once the file is received, with the import's id. Its progress is the import's
row (`GET .../imports/{id}`, or `.../progress` as Server-Sent Events until it ends), whichever node asks.
Administrators act for a tenant with `?tenant=`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from ivr.flow.model import Campaign, named_pools
from ivr.flow.validate import Issue
from ivr.i18n import t, tn
from ivr.store.code_files import FORMATS
from ivr.store.code_pools import POOL_NAME

from .core import ENGINE, ApiError, acting_tenant, engine_of, principal_of, store_of

MAX_IMPORT = 1024 * 1024 * 1024          # bytes of one uploaded file (ten million codes take about 110 MB)
IMPORT_TYPES = ("text/plain", "text/csv", "application/csv", "application/gzip", "application/x-gzip",
                "application/octet-stream")
MAX_RUNNING = 2                          # imports of one tenant running at once (each holds its file on disk)
STALE_UPLOAD = 24 * 3600                 # s after which a left-behind upload file is removed at start
WRITE_BUFFER = 1024 * 1024               # bytes gathered before a write to disk (in a thread)
PROGRESS_POLL = 0.5                      # s between looks at a running import's row
FILENAME = re.compile(r"[^A-Za-z0-9._ -]+")
# What these endpoints refuse, in words.
MESSAGES = {
    "name": t("a pool name is 1 to 64 letters, digits, - and _, starting with a letter or digit"),
    "type": t("send the codes as one of {types}", types=", ".join(IMPORT_TYPES)),
    "format": t("format must be one of {formats}", formats=", ".join(FORMATS)),
    "empty": t("the body is empty: send the file of codes"),
    "too_large": t("the file is larger than {limit} bytes", limit=MAX_IMPORT),
    "import_id": t("the import id is a number"),
    "busy": tn("{n} import of your pools is running: wait for it to finish",
               "{n} imports of your pools are running: wait for one to finish", MAX_RUNNING),
    "no_pool": lambda pool: t('no code pool "{pool}" (import its codes first: POST /api/code-pools/{pool}/imports)',
                              pool=pool),
}


def _pool_name(request: web.Request) -> str:
    name = request.match_info["pool"]
    if not POOL_NAME.fullmatch(name):
        raise ApiError(400, MESSAGES["name"])
    return name


async def list_pools(request: web.Request) -> web.Response:
    """The tenant's code pools (an administrator without ?tenant=: every tenant's)."""
    principal = principal_of(request)
    tenant_id = None if principal.admin and not request.query.get("tenant") else await acting_tenant(request)
    return web.json_response([pool.as_dict() for pool in await store_of(request).code_pools(tenant_id)])


async def create_pool(request: web.Request) -> web.Response:
    """Make an empty pool (or answer the one of that name)."""
    pool = await store_of(request).create_pool(await acting_tenant(request), _pool_name(request),
                                               principal_of(request).actor)
    return web.json_response(pool.as_dict())


async def get_pool(request: web.Request) -> web.Response:
    """A pool with its latest imports, newest first."""
    tenant_id, name = await acting_tenant(request), _pool_name(request)
    store = store_of(request)
    pool = await store.code_pool(tenant_id, name)
    imports = await store.code_imports(tenant_id, name)
    return web.json_response({**pool.as_dict(), "imports": [_summary(i.as_dict()) for i in imports]})


async def import_codes(request: web.Request) -> web.Response:
    """Receive a file of codes and start importing it into the pool (made when new): 202 with the import."""
    tenant_id, name = await acting_tenant(request), _pool_name(request)
    if request.content_type not in IMPORT_TYPES:
        raise ApiError(415, MESSAGES["type"])
    fmt = request.query.get("format", "csv" if "csv" in request.content_type else "auto")
    if fmt not in FORMATS:
        raise ApiError(400, MESSAGES["format"])
    filename = FILENAME.sub("_", request.query.get("filename", "") or f"{name}.txt")[:200]
    if await store_of(request).running_imports(tenant_id) >= MAX_RUNNING:    # before a byte reaches the disk
        raise ApiError(429, MESSAGES["busy"])
    folder = engine_of(request).imports_dir
    path = await _receive(request, folder)
    try:
        import_id = await store_of(request).import_codes(tenant_id, name, path, filename, fmt,
                                                         principal_of(request).actor)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    found = await store_of(request).code_import(tenant_id, name, import_id)
    location = f"/api/code-pools/{name}/imports/{import_id}"
    return web.json_response(found.as_dict(), status=202, headers={"Location": location})


async def _receive(request: web.Request, folder: Path) -> Path:
    """The body, streamed into a new file of `folder` (written in a thread, a buffer at a time)."""
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    handle = await asyncio.to_thread(tempfile.NamedTemporaryFile, dir=folder, prefix="import-", delete=False)
    path = Path(handle.name)
    size = 0
    buffer = bytearray()
    try:
        async for chunk in request.content.iter_chunked(65536):
            size += len(chunk)
            if size > MAX_IMPORT:
                raise ApiError(413, MESSAGES["too_large"])
            buffer += chunk
            if len(buffer) >= WRITE_BUFFER:
                await asyncio.to_thread(handle.write, bytes(buffer))
                buffer.clear()
        await asyncio.to_thread(handle.write, bytes(buffer))
        await asyncio.to_thread(handle.close)
        if size == 0:
            raise ApiError(400, MESSAGES["empty"])
    except BaseException:
        handle.close()
        path.unlink(missing_ok=True)
        raise
    return path


async def remove_stale_uploads(app: web.Application) -> None:
    """At start: files of imports a crash left behind (older than STALE_UPLOAD; their imports were failed)."""
    folder = app[ENGINE].imports_dir                                        # type: ignore[attr-defined]

    def remove() -> None:
        if not folder.is_dir():
            return
        limit = time.time() - STALE_UPLOAD
        for path in folder.glob("import-*"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < limit:
                    path.unlink()
    await asyncio.to_thread(remove)


async def get_import(request: web.Request) -> web.Response:
    """An import: its state (running, committed, failed), progress, counts and the problems listed."""
    found = await _import(request)
    return web.json_response(found)


async def import_progress(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events `event: progress` (the import, as GET .../imports/{id}) on every change, until it
    ends (the last event has state committed or failed)."""
    found = await _import(request)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(request)
    last = ""
    try:
        while True:
            data = json.dumps(found)
            if data != last:
                await response.write(f"event: progress\ndata: {data}\n\n".encode())
                last = data
            if found["state"] != "running":
                break
            await asyncio.sleep(PROGRESS_POLL)
            found = await _import(request)
    except ConnectionError:
        pass
    return response


async def _import(request: web.Request) -> dict[str, Any]:
    tenant_id, name = await acting_tenant(request), _pool_name(request)
    text = request.match_info["import_id"]
    if not (text.isascii() and text.isdigit()):
        raise ApiError(400, MESSAGES["import_id"])
    principal = principal_of(request)
    scope = None if principal.admin and not request.query.get("tenant") else tenant_id
    return (await store_of(request).code_import(scope, name, int(text))).as_dict()


def _summary(found: dict[str, Any]) -> dict[str, Any]:
    """An import in a pool's list: without its problems."""
    return {key: value for key, value in found.items() if key != "problems"}


async def pool_issues(request: web.Request, campaign: Campaign, tenant_id: str) -> list[Issue]:
    """The named pools a campaign uses that its tenant does not have, on the path of each node."""
    redeem, issue = named_pools(campaign)
    wanted = set(redeem) | set(issue)
    if not wanted:
        return []
    have = {pool.name for pool in await store_of(request).code_pools(tenant_id, sorted(wanted))}
    return [Issue(f"nodes.{node_id}.pool", MESSAGES["no_pool"](node["pool"]))
            for node_id, node in campaign.nodes.items()
            if node.get("type") in ("code", "issue") and node["pool"] in wanted - have]

