"""The obvious Python alternative, measured side by side: a minimal pyVoIP app that answers every call
and plays the benchmark prompt until the caller hangs up.

pyVoIP is a phone, not a server: it registers with its `server` and sends every SIP response there.
Here the server is the benchmark's SIPp (`--peer`) and registration is skipped. pyVoIP rings for one
second before its call callback runs, so its calls are answered about a second after the INVITE.

    python bench/pyvoip_app.py --sip 127.0.0.1:5080 --peer 127.0.0.1:5090 --prompt prompt.pcm

With `--keys-out FILE` it is the key-collecting app of the DTMF benchmark instead: each call collects
the caller's RFC 4733 keys (pyVoIP's own `get_dtmf`) until # or 30 s, appends "caller keys" to FILE
and hangs up.
"""

from __future__ import annotations

import argparse
import audioop
import signal
import sys
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
    parser.add_argument("--keys-out", type=Path, help="collect each call's keys into this file instead of playing")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from pyVoIP.VoIP import CallState, InvalidStateError, VoIPPhone

    prompt = to_pyvoip(args.prompt.read_bytes())
    host, port = args.sip.rsplit(":", 1)
    peer_host, peer_port = args.peer.rsplit(":", 1)
    low, high = (int(p) for p in args.rtp_ports.split("-"))

    written = threading.Lock()

    def play(call) -> None:
        call.write_audio(prompt)
        while call.state == CallState.ANSWERED:
            time.sleep(0.1)

    def collect(call) -> None:
        keys, deadline = "", time.monotonic() + 30
        while call.state == CallState.ANSWERED and not keys.endswith("#") and time.monotonic() < deadline:
            keys += call.get_dtmf(1)
            time.sleep(0.005)
        caller = call.request.headers["From"]["number"]
        with written, args.keys_out.open("a") as out:
            out.write(f"{caller} {keys.removesuffix('#')}\n")
        if call.state == CallState.ANSWERED:
            call.hangup()

    def on_call(call) -> None:
        try:
            call.answer()
            (collect if args.keys_out else play)(call)
        except InvalidStateError:
            pass                                   # the caller hung up while ringing
        except Exception as error:                 # pyVoIP runs this in its own thread: say why, don't vanish
            print(f"call failed: {error!r}", file=sys.stderr, flush=True)

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
