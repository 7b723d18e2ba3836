"""The obvious Python alternative, measured side by side: a minimal pyVoIP app that answers every call
and plays the benchmark prompt until the caller hangs up.

pyVoIP is a phone, not a server: it registers with its `server` and sends every SIP response there.
Here the server is the benchmark's SIPp (`--peer`) and registration is skipped. pyVoIP rings for one
second before its call callback runs, so its calls are answered about a second after the INVITE.

    python bench/pyvoip_app.py --sip 127.0.0.1:5080 --peer 127.0.0.1:5090 --prompt prompt.pcm
"""

from __future__ import annotations

import argparse
import audioop
import signal
import threading
import time
import warnings
from pathlib import Path


def to_pyvoip(pcm16: bytes) -> bytes:
    """pyVoIP takes 8-bit unsigned linear audio at 8 kHz (it does the G.711 itself)."""
    return audioop.bias(audioop.lin2lin(pcm16, 2, 1), 1, 128)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sip", required=True, help="HOST:PORT to listen on")
    parser.add_argument("--peer", required=True, help="HOST:PORT of the caller (pyVoIP answers there)")
    parser.add_argument("--prompt", required=True, type=Path, help="16-bit linear 8 kHz mono PCM to play")
    parser.add_argument("--rtp-ports", default="40000-44000")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from pyVoIP.VoIP import CallState, InvalidStateError, VoIPPhone

    prompt = to_pyvoip(args.prompt.read_bytes())
    host, port = args.sip.rsplit(":", 1)
    peer_host, peer_port = args.peer.rsplit(":", 1)
    low, high = (int(p) for p in args.rtp_ports.split("-"))

    def on_call(call) -> None:
        try:
            call.answer()
            call.write_audio(prompt)
            while call.state == CallState.ANSWERED:
                time.sleep(0.1)
        except InvalidStateError:
            pass                                   # the caller hung up while ringing

    phone = VoIPPhone(peer_host, int(peer_port), "bench", "bench", myIP=host, callCallback=on_call,
                      sipPort=int(port), rtpPortLow=low, rtpPortHigh=high)
    phone.sip.register = lambda: True              # no registrar: the caller reaches us directly
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    phone.start()
    print("ready", flush=True)
    stop.wait()
    phone.stop()


if __name__ == "__main__":
    main()
