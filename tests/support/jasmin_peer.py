"""Jasmin as the SMSC of the SMPP tests: one jasmind per test session, in the venv scripts/bootstrap
makes (.jasmin-venv), with every file under a temporary folder, its own ports, its own RabbitMQ virtual
host (made and removed with rabbitmqctl; the broker itself is the machine's and is never stopped) and
a Redis database of its own. It is configured through its own console, jcli (telnet).

Behind Jasmin stands `OperatorNetwork`, the mobile network's side: a small SMSC (smpp34's server) that
Jasmin's client connector binds to. Messages we submit to Jasmin reach it; what it sends (messages from
handsets, delivery receipts) Jasmin forwards to us. So every PDU our engine sends or reads is Jasmin's.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import smpp34

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".jasmin-venv" / "bin" / "python"
TXAMQP_SPEC = "txamqp/specs/standard/amqp0-9-1.stripped.xml"
USER, PASSWORD = "ivr", "ivrpw1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Jcli:
    """A session of Jasmin's telnet console: each command's output, up to the next prompt."""

    def __init__(self, port: int, timeout: float = 15.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""
        self._until(b"\n")                    # the banner; the first prompt comes after the first command
        time.sleep(0.2)
        self.buffer = b""

    def run(self, *commands: str) -> str:
        out = []
        for command in commands:
            self.sock.sendall(command.encode() + b"\r\n")
            out.append(self._until(b"jcli : ", b"> ").decode(errors="replace"))
        return "".join(out)

    def close(self) -> None:
        self.sock.close()

    def _until(self, *ends: bytes) -> bytes:
        while not any(self.buffer.endswith(end) for end in ends):
            data = self.sock.recv(65536)
            if not data:
                raise EOFError(self.buffer.decode(errors="replace"))
            self.buffer += data
        out, self.buffer = self.buffer, b""
        return out


@dataclass
class Received:
    """A submit_sm that reached the mobile network."""

    source: str
    destination: str
    data_coding: int
    esm_class: int
    short_message: bytes
    message_id: str


@dataclass
class OperatorNetwork:
    """The far side of Jasmin's client connector, in a thread with its own event loop."""

    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    sessions: list[Any] = field(default_factory=list)
    _count: int = 0

    def start(self) -> None:
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.call(self._serve_started())

    def call(self, coroutine: Any, timeout: float = 30.0) -> Any:
        future: Future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout)

    def wait_bound(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.sessions:
            if time.monotonic() > deadline:
                raise TimeoutError("Jasmin's connector did not bind to the operator network")
            time.sleep(0.1)

    def deliver(self, source: str, destination: str, short_message: bytes, data_coding: int = 0,
                esm_class: int = 0, tlvs: list[Any] | None = None) -> int:
        """A deliver_sm to Jasmin (a handset's message, or a receipt); its command status."""
        async def send() -> int:
            resp = await self.sessions[-1].deliver_sm(destination, short_message, source_addr=source,
                                                      data_coding=data_coding, esm_class=esm_class, tlvs=tlvs or [])
            return resp.command_status
        return self.call(send())

    def receipt(self, part: Received, stat: str = "DELIVRD") -> int:
        text = (f"id:{part.message_id} sub:001 dlvrd:{'001' if stat == 'DELIVRD' else '000'} "
                f"submit date:2611250930 done date:2611250931 stat:{stat} err:000 text:").encode()
        return self.deliver(part.destination, part.source, text, esm_class=0x04)

    async def _serve_started(self) -> None:
        self.server = smpp34.Server(host="127.0.0.1", port=self.port, system_id="NET")
        await self.server.start()
        asyncio.ensure_future(self._serve())

    async def _serve(self) -> None:
        while True:
            event = await self.server.next()
            if isinstance(event, smpp34.Esme):
                self.sessions.append(event)
            elif isinstance(event, smpp34.SubmitSmEvent):
                self._count += 1
                message_id = f"net{self._count:06d}"
                event.accept(message_id=message_id)
                self.received.append(Received(event.source_addr, event.destination_addr, event.data_coding,
                                              event.esm_class, bytes(event.short_message), message_id))


class Jasmin:
    """One jasmind for the session (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.smpp_port, self.jcli_port = free_port(), free_port()
        self.vhost = f"ivr-test-{secrets.token_hex(4)}"
        self.network = OperatorNetwork()
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        if not PYTHON.exists():
            raise RuntimeError("Jasmin is not installed: run scripts/bootstrap (it makes .jasmin-venv)")
        self._vhost("add_vhost", self.vhost)
        self._vhost("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        self.network.start()
        config = self.folder / "etc" / "jasmin.cfg"
        (self.folder / "etc" / "store").mkdir(parents=True, exist_ok=True)
        (self.folder / "log").mkdir(exist_ok=True)
        spec = next((ROOT / ".jasmin-venv" / "lib").glob(f"python*/site-packages/{TXAMQP_SPEC}"))
        sections = {
            "smpp-server": {"port": self.smpp_port, "bind": "127.0.0.1", "log_level": "WARNING"},
            "smpp-server-pb": {"port": free_port(), "bind": "127.0.0.1"},
            "router": {"port": free_port(), "bind": "127.0.0.1"},
            "client-management": {"port": free_port(), "bind": "127.0.0.1"},
            "http-api": {"port": free_port(), "bind": "127.0.0.1"},
            "jcli": {"port": self.jcli_port, "bind": "127.0.0.1", "authentication": "False"},
            "interceptor": {"port": free_port()},
            "redis-client": {"dbid": 13},
            "amqp-broker": {"vhost": self.vhost, "spec": spec},
        }
        sections["smpp-server-pb-client"] = {"port": sections["smpp-server-pb"]["port"]}
        config.write_text("".join(f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()) + "\n"
                                  for name, values in sections.items()))
        env = {**os.environ, "ROOT_PATH": str(self.folder), "LOG_PATH": str(self.folder / "log"),
               "CONFIG_PATH": str(self.folder / "etc"), "STORE_PATH": str(self.folder / "etc" / "store"),
               "IVR_JASMIN_LOCK": str(self.folder / "jasmind")}
        self.proc = subprocess.Popen(
            [str(PYTHON), str(Path(__file__).with_name("jasmin_launch.py")), "-c", str(config),
             "--enable-dlr-thrower", "--enable-dlr-lookup"], cwd=self.folder, env=env,
            stdout=open(self.folder / "jasmind.out", "w"), stderr=subprocess.STDOUT)
        self._wait_port(self.jcli_port)
        self.jcli(
            "group -a", "gid ivr", "ok",
            "user -a", f"username {USER}", f"password {PASSWORD}", f"uid {USER}", "gid ivr", "ok",
            "smppccm -a", "cid net", "host 127.0.0.1", f"port {self.network.port}", "username jasmin",
            "password net", "submit_throughput 0", "ok",
            "smppccm -1 net",
            "morouter -a", "type DefaultRoute", f"connector smpps({USER})", "ok",
            "mtrouter -a", "type DefaultRoute", "connector smppc(net)", "rate 0", "ok")
        self.network.wait_bound()

    def jcli(self, *commands: str) -> str:
        console = Jcli(self.jcli_port)
        try:
            return console.run(*commands)
        finally:
            console.close()

    def add_user(self, uid: str, password: str, number: str) -> None:
        """Another ESME account; messages to the short number `number` go to it (the rest to ours)."""
        self.jcli("user -a", f"username {uid}", f"password {password}", f"uid {uid}", "gid ivr", "ok",
                  "filter -a", "type DestinationAddrFilter", f"fid to{number}", f"destination_addr ^{number}$", "ok",
                  "morouter -a", "type StaticMORoute", "order 10", f"filters to{number}", f"connector smpps({uid})",
                  "ok")

    def throughput(self, per_second: int | None) -> None:
        """Jasmin's own limit on our submits (beyond it: ESME_RTHROTTLED); None lifts it."""
        self.jcli("user -u ivr", f"mt_messaging_cred quota smpps_throughput {per_second or 'ND'}", "ok")

    def drop_bind(self) -> str:
        """Jasmin unbinds our engine, as an SMSC restarting would."""
        return self.jcli(f"user --smpp-unbind={USER}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            self._vhost("delete_vhost", self.vhost)
        except (subprocess.SubprocessError, OSError) as exc:        # the broker keeps an empty vhost
            print(f"jasmin: virtual host {self.vhost} not deleted: {exc}", file=sys.stderr)

    def log(self, name: str = "messages.log") -> str:
        path = self.folder / "log" / name
        return path.read_text(errors="replace") if path.exists() else ""

    def _wait_port(self, port: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"jasmind exited: {(self.folder / 'jasmind.out').read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"jasmind did not open port {port}")

    @staticmethod
    def _vhost(*args: str) -> None:
        subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)
