"""pyVoIP (an independent Python SIP/RTP phone) placing one call to an engine on loopback."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from typing import Any


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        return udp.getsockname()[1]


PHONE = "380441230001"        # pyVoIP's user: a number, so its calls may vote and redeem codes


@contextlib.contextmanager
def pyvoip_call(sip_port: int, number: str, answer_within: float = 15.0) -> Iterator[Any]:
    """A pyVoIP phone (it registers first: the engine needs --accept-register) calling `number`; yields
    the answered call (`call.state`, `read_audio`, `write_audio`), and stops the phone after."""
    from pyVoIP.VoIP import CallState, VoIPPhone

    port = _free_port()
    phone = VoIPPhone("127.0.0.1", sip_port, PHONE, "secret", myIP="127.0.0.1",
                      sipPort=port, rtpPortLow=port + 2, rtpPortHigh=port + 40)
    try:
        phone.start()
        call = phone.call(number)
        deadline = time.monotonic() + answer_within
        while call.state != CallState.ANSWERED and time.monotonic() < deadline:
            time.sleep(0.05)
        assert call.state == CallState.ANSWERED, f"the engine did not answer {number} within {answer_within} s"
        yield call
    finally:
        phone.stop()


def talking(call: Any) -> bool:
    """Whether the call is still up (neither side hung up)."""
    from pyVoIP.VoIP import CallState

    return call.state == CallState.ANSWERED
