"""Prints JSON: how many SIP messages per second the sans-I/O core parses and answers on one core."""

from __future__ import annotations

import json
import time

from ivr.sip.transaction import Endpoint
from ivr.sip.ua import CallOffered, UAConfig, UserAgent

INVITE = ("INVITE sip:3838@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.9:5062;branch=z9hG4bK{n};rport\r\n"
          "From: <sip:+1555{n}@10.0.0.9>;tag=t{n}\r\nTo: <sip:3838@127.0.0.1>\r\nCall-ID: c{n}\r\n"
          "CSeq: 1 INVITE\r\nContact: <sip:c@10.0.0.9:5062>\r\nMax-Forwards: 70\r\n"
          "Content-Type: application/sdp\r\nContent-Length: 0\r\n\r\n")


def main(count: int = 20000) -> None:
    ua = UserAgent(UAConfig())
    peer = Endpoint("UDP", "10.0.0.9", 5062)
    messages = [INVITE.format(n=n).encode() for n in range(count)]
    start = time.perf_counter()
    for n, data in enumerate(messages):
        ua.receive(data, peer, n * 1e-4)
        for event in ua.drain_events():
            if isinstance(event, CallOffered):
                ua.reject(event.call, 486, now=n * 1e-4)
        ua.drain_outgoing()
    elapsed = time.perf_counter() - start
    print(json.dumps({"bench": "sip_invite_to_486", "messages": count, "seconds": round(elapsed, 3),
                      "per_second": round(count / elapsed)}))


if __name__ == "__main__":
    main()
