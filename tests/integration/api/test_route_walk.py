"""Every route of the API table, walked: no key is 401, an oversize body is 413, and an internal error
is JSON without a traceback. (Roles and tenant isolation per route: test_access.py.)"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest

from ivr.engine.config import EngineConfig
from ivr.store.db import Store
from ivr.web.api import ROUTES
from ivr.web.api.core import MAX_BODY
from ivr.web.app import create_app

from ..conftest import loopback_site, start_engine
from .conftest import Api, make_key

pytestmark = pytest.mark.integration

ROUTE_IDS = [f"{route.method} {route.path}" for route in ROUTES]


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    engine = start_engine(tmp_path_factory.mktemp("walk"))
    yield SimpleNamespace(engine=engine, api=Api(engine), admin=make_key(engine, "ops", "admin"))
    engine.stop()


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_every_route_is_401_without_a_valid_key(node, route) -> None:
    for headers in ({}, {"Authorization": "Bearer ivr_000000000000_" + "x" * 40}):
        reply = node.api(route.method, concrete(route.path), headers=dict(headers), json_body={})
        assert reply.status == 401, (route.path, reply.status, reply.body)
        assert reply.headers["Content-Type"].startswith("application/json")
        assert set(reply.json()) == {"error", "hint"}


def test_the_sms_gateway_path_is_401_without_its_token(node) -> None:
    body = {"from": "+15550001", "to": "3838", "text": "1", "message_id": "forged"}
    for headers in ({}, {"Authorization": f"Bearer {node.admin}"}, {"Authorization": "Bearer guess"}):
        reply = node.api("POST", "/api/sms/inbound", headers=dict(headers), json_body=body)
        assert reply.status == 401 and set(reply.json()) == {"error", "hint"}, reply.body


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_every_route_is_413_for_a_body_over_the_limit(node, route) -> None:
    reply = node.api(route.method, concrete(route.path), node.admin, text=b"{" + b" " * route.max_body + b"}",
                     content_type=route.upload[0] if route.upload else "application/json")
    assert reply.status == 413, (route.path, reply.status, reply.body[:200])
    assert reply.json() == {"error": f"request body larger than {route.max_body} bytes"}


def test_only_uploads_take_more_than_the_default_limit() -> None:
    assert {route.name for route in ROUTES if route.max_body != MAX_BODY} == {"upload_recording", "import_codes",
                                                                             "upload_pack", "put_word", "upload_audience"}


def test_a_chunked_body_over_the_limit_is_413_too(node) -> None:
    async def chunks():
        for _ in range(MAX_BODY // 65536 + 2):
            yield b"#" * 65536

    async def send() -> tuple[int, dict]:
        async with aiohttp.ClientSession() as session:
            async with session.post(node.api.base + "/api/dialplans/validate", data=chunks(),
                                    headers={"Authorization": f"Bearer {node.admin}",
                                             "Content-Type": "application/yaml"}) as response:
                return response.status, await response.json()
    assert asyncio.run(send()) == (413, {"error": f"request body larger than {MAX_BODY} bytes"})


def test_an_internal_error_is_json_without_a_traceback(tmp_path: Path) -> None:
    """A node whose engine is broken (no call table): the handler fails, the client learns nothing of it."""
    async def run() -> tuple[int, str, bytes]:
        store = await Store.open(f"sqlite:///{tmp_path / 'ivr.db'}", tmp_path / "spool")
        try:
            tenant = await store.create_tenant("ops")
            key = await store.create_api_key(tenant.id, "admin")
            app = create_app(SimpleNamespace(campaigns=None, services=None, identity=EngineConfig().identity,
                                             imports_dir=tmp_path / "code-imports"), store)
            async with loopback_site(app) as port, aiohttp.ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{port}/api/calls/active",
                                       headers={"Authorization": f"Bearer {key}"}) as response:
                    return response.status, response.content_type, await response.read()
        finally:
            await store.close()
    status, content_type, body = asyncio.run(run())
    assert (status, content_type) == (500, "application/json")
    assert body == b'{"error": "internal error"}'
