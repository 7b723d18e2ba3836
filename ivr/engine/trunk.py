"""Registration with a carrier trunk: this node's binding at the carrier's registrar, kept fresh.

`TrunkRegistration` sends what the sans-I/O `sip.register.Registration` asks for through the node's user
agent (digest authentication, refreshes before expiry, retries after failures) and removes the binding
when the node stops. The engine polls it from the media clock (`POLL_TICKS`); nothing here runs a timer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ivr.sip.message import Request, Response, parse_uri
from ivr.sip.register import Registration, RegistrationConfig, RegistrationState
from ivr.sip.ua import UserAgent

from .config import EngineConfig

log = logging.getLogger("ivr.engine")

POLL_TICKS = 50            # media clock ticks between looks at the refresh time (one second)


def registration_config(config: EngineConfig, contact_host: str, contact_port: int,
                        user_agent: str | None) -> RegistrationConfig:
    """Where and as whom `--register` registers, with our Contact."""
    assert config.register is not None
    registrar = parse_uri(config.register)
    user = config.register_user or "ivr"
    return RegistrationConfig(registrar=config.register, aor=config.register_aor or f"sip:{user}@{registrar.host}",
                              username=user, password=config.register_password, contact_host=contact_host,
                              contact_port=contact_port, expires=config.register_expires, user_agent=user_agent)


class TrunkRegistration:
    """One registration, sent through `ua`; `flush` writes what the UA has to send."""

    def __init__(self, ua: UserAgent, config: RegistrationConfig, flush: Callable[[], None]) -> None:
        self.ua = ua
        self.registration = Registration(config)
        self._flush = flush

    @property
    def state(self) -> RegistrationState:
        return self.registration.state

    def start(self, now: float) -> None:
        self._send(self.registration.start(now), now)

    def poll(self, now: float) -> None:
        """Refresh or retry when due."""
        requests = self.registration.poll(now)
        if requests:
            self._send(requests, now)

    def stop(self, now: float) -> None:
        """Remove our binding (when registered)."""
        if self.registration.state is RegistrationState.REGISTERED:
            self._send(self.registration.stop(now), now)

    def _send(self, requests: list[Request], now: float) -> None:
        for request in requests:
            self.ua.send_request(request, self.registration.config.destination, now, self._on_result)
        self._flush()

    def _on_result(self, response: Response | None, now: float) -> None:
        registration = self.registration
        if response is None:
            registration.on_timeout(now)
        else:
            self._send(registration.receive(response, now), now)
        log.info("registration with %s: %s %s", registration.config.registrar, registration.state.value,
                 registration.reason)
