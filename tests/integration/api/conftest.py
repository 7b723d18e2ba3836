"""Helpers for the HTTP API tests: keys made by `ivr keys create`, requests over real HTTP (aiohttp)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import aiohttp

from ..conftest import ROOT, EngineProcess, run_sipp, start_engine
from ..sipp_keys import key_scenario


def make_key(engine: EngineProcess, tenant: str, role: str) -> str:
    """A new key from the CLI, which prints it alone on its last line."""
    out = subprocess.run([sys.executable, "-m", "ivr.cli", "keys", "create", "--tenant", tenant, "--role", role,
                          "--db", engine.db_url], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.strip().splitlines()[-1]


def lease(engine: EngineProcess, tenant: str, number: str) -> None:
    """Put a number in the provider's inventory and lease it to the tenant (made if new) from 2025, as an
    administrator does with `ivr numbers`, so that the tenant's campaign files may name it."""
    for argv in (["keys", "create", "--tenant", tenant, "--role", "operator"], ["numbers", "add", number],
                 ["numbers", "lease", number, "--tenant", tenant, "--from", "2025-01-01"]):
        subprocess.run([sys.executable, "-m", "ivr.cli", *argv, "--db", engine.db_url], cwd=ROOT,
                       capture_output=True, text=True, timeout=60, check=True)


@contextmanager
def demo_node(tmp: Path) -> Iterator[tuple[EngineProcess, "Api", str, str]]:
    """An engine with the demo campaigns, its API, and a business and an operator key of tenant "demo"."""
    engine = start_engine(tmp)
    try:
        yield engine, Api(engine), make_key(engine, "demo", "business"), make_key(engine, "demo", "operator")
    finally:
        engine.stop()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Api:
    """Requests to an engine's HTTP API, each over a fresh aiohttp client session."""

    def __init__(self, engine: EngineProcess) -> None:
        self.base = f"http://127.0.0.1:{engine.http_port}"

    def __call__(self, method: str, path: str, key: str | None = None, *, json_body: Any = None,
                 text: str | bytes | None = None, content_type: str | None = None,
                 headers: dict[str, str] | None = None) -> Reply:
        return asyncio.run(self._request(method, path, key, json_body, text, content_type, headers or {}))

    async def _request(self, method: str, path: str, key: str | None, json_body: Any, text: str | bytes | None,
                       content_type: str | None, headers: dict[str, str]) -> Reply:
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        if content_type is not None:
            headers["Content-Type"] = content_type
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            async with session.request(method, self.base + path, json=json_body, data=text,
                                       headers=headers) as response:
                return Reply(response.status, dict(response.headers), await response.read())

    def events(self, path: str, key: str, until: Any, seen: list[dict[str, Any]], timeout: float = 30.0) -> None:
        """Read Server-Sent Events `results` into `seen` until `until(data)` is true."""
        async def read() -> None:
            async with aiohttp.ClientSession() as session:
                async with session.get(self.base + path, headers={"Authorization": f"Bearer {key}"}) as response:
                    assert response.status == 200 and response.content_type == "text/event-stream"
                    event = None
                    async for raw in response.content:
                        line = raw.decode().rstrip("\n")
                        if line.startswith("event: "):
                            event = line[7:]
                        elif line.startswith("data: ") and event == "results":
                            seen.append(json.loads(line[6:]))
                            if until(seen[-1]):
                                return
        asyncio.run(asyncio.wait_for(read(), timeout))


def vote_call(engine: EngineProcess, workdir: Path, caller: str, key: str, after: float = 2.0,
              service: str = "3838") -> None:
    """A real SIPp call pressing `key` `after` seconds after answer; asserts it completed."""
    workdir.mkdir(parents=True, exist_ok=True)
    scenario = key_scenario(workdir / "vote.xml", [(after, key)], caller=caller)
    result = run_sipp(engine.sip, scenario, service=service, timeout=60, workdir=workdir)
    assert result.successful == 1, result.output


class Background(threading.Thread):
    """A call placed while the test goes on; `join()` re-raises its failure."""

    def __init__(self, target: Any, *args: Any) -> None:
        super().__init__(daemon=True)
        self._call = (target, args)
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._call[0](*self._call[1])
        except BaseException as exc:          # handed to the test thread by join()
            self.error = exc

    def join(self, timeout: float | None = 90.0) -> None:
        super().join(timeout)
        assert not self.is_alive(), "the background call did not finish"
        if self.error is not None:
            raise self.error


def wait_for(check: Any, timeout: float = 10.0, interval: float = 0.2) -> Any:
    """Poll `check()` until it returns something true; that value (AssertionError on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s: {check}")
        time.sleep(interval)


class Gateway(ThreadingHTTPServer):
    """The operator's SMS gateway on loopback (`--sms-outbound`): keeps every message POSTed to it."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:                                    # noqa: N802 (http.server's name)
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
