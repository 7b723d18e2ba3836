"""Transaction layer with a fake clock: RFC 3261 timers E, F, G, H, I, J, K and RFC 6026 Accepted."""

from __future__ import annotations

import pytest

from ivr.sip.message import Request, Response, make_response, parse_message
from ivr.sip.transaction import (
    Endpoint, Event, IncomingAck, IncomingRequest, IncomingResponse, Send, Timers, TransactionLayer,
    TransactionTimeout, response_destination,
)

from .sipkit import CALLER, invite, sip_request

T = Timers()                      # T1 0.5 s, T2 4 s, T4 5 s
TCP_CALLER = Endpoint("TCP", "127.0.0.1", 40001)
SERVER = Endpoint("UDP", "127.0.0.1", 5080)


def parse(data: bytes) -> Request | Response:
    return parse_message(data)


def status_of(send: Send) -> int:
    message = parse(send.data)
    assert isinstance(message, Response)
    return message.status


class Clock:
    """Drives a TransactionLayer like the I/O loop does: poll at every deadline, record the wire."""

    def __init__(self, layer: TransactionLayer) -> None:
        self.layer = layer
        self.now = 0.0
        self.sent: list[tuple[float, Send]] = []
        self.events: list[tuple[float, Event]] = []

    def receive(self, data: bytes, source: Endpoint = CALLER) -> list[Event]:
        events = self.layer.receive(parse(data), source, self.now)
        self._collect()
        return events

    def advance_to(self, end: float) -> None:
        while (deadline := self.layer.next_deadline()) is not None and deadline <= end:
            self.now = max(self.now, deadline)
            self.events += [(self.now, e) for e in self.layer.poll(self.now)]
            self._collect()
        self.now = end

    def send_request(self, request: Request, dest: Endpoint) -> tuple:
        key = self.layer.send_request(request, dest, self.now)
        self._collect()
        return key

    def respond(self, event: IncomingRequest, status: int) -> None:
        self.layer.respond(event.key, make_response(event.request, status, to_tag="uas"), self.now)
        self._collect()

    def _collect(self) -> None:
        self.sent += [(self.now, s) for s in self.layer.drain()]

    def take_sent(self) -> list[tuple[float, Send]]:
        sent, self.sent = self.sent, []
        return sent


def start_invite(source: Endpoint = CALLER, **kwargs: object) -> tuple[Clock, IncomingRequest]:
    clock = Clock(TransactionLayer(T))
    events = clock.receive(invite(**kwargs), source)
    assert len(events) == 1 and isinstance(events[0], IncomingRequest)
    return clock, events[0]


def gaps(times: list[float]) -> list[float]:
    return [round(b - a, 6) for a, b in zip(times, times[1:])]


ACK_2XX = sip_request("ACK", branch="z9hG4bK-ack-1", to_tag="uas")
ACK_ERROR = sip_request("ACK", to_tag="uas")            # same branch as the INVITE


# --- INVITE server transaction ---------------------------------------------------------------------

def test_invite_gets_an_immediate_100_trying_without_to_tag() -> None:
    clock, event = start_invite()
    [(at, trying)] = clock.take_sent()
    response = parse(trying.data)
    assert at == 0.0 and isinstance(response, Response)
    assert (response.status, response.call_id, response.to_addr.tag) == (100, "call-1@127.0.0.1", None)
    assert trying.dest == CALLER
    assert event.request.method == "INVITE" and clock.layer.stats.requests == 1


def test_retransmitted_invite_is_absorbed_and_answered_with_the_last_response() -> None:
    clock, event = start_invite()
    clock.take_sent()
    assert clock.receive(invite()) == []
    assert [status_of(s) for _, s in clock.take_sent()] == [100]
    clock.respond(event, 180)
    clock.take_sent()
    assert clock.receive(invite()) == []
    assert [status_of(s) for _, s in clock.take_sent()] == [180]
    assert clock.layer.stats.retransmissions_absorbed == 2
    assert clock.layer.stats.requests == 1


def test_2xx_retransmitted_with_doubling_interval_capped_at_t2_until_ack() -> None:
    clock, event = start_invite()
    clock.take_sent()
    clock.respond(event, 200)
    clock.advance_to(20.0)
    times = [at for at, _ in clock.take_sent()]
    assert times[0] == 0.0
    assert gaps(times) == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]     # T1, 2T1, 4T1, then T2
    assert clock.receive(ACK_2XX) != []
    assert clock.take_sent() == []
    clock.advance_to(100.0)
    assert clock.take_sent() == [] and clock.events == []     # no Timer G, no Timer H after the ACK
    assert clock.layer.active == 0


def test_retransmitted_invite_in_accepted_state_gets_the_200_again() -> None:
    clock, event = start_invite()
    clock.respond(event, 200)
    clock.take_sent()
    assert clock.receive(invite()) == []
    assert [status_of(s) for _, s in clock.take_sent()] == [200]


def test_ack_for_2xx_is_passed_up_once_per_ack() -> None:
    clock, event = start_invite()
    clock.respond(event, 200)
    [ack] = clock.receive(ACK_2XX)
    assert isinstance(ack, IncomingAck) and ack.to_2xx
    [again] = clock.receive(ACK_2XX)                  # a retransmitted ACK is the dialog's business
    assert isinstance(again, IncomingAck) and again.to_2xx


def test_no_ack_for_2xx_times_out_at_64_t1() -> None:
    clock, event = start_invite()
    clock.respond(event, 200)
    clock.advance_to(64 * T.t1 - 0.01)
    assert clock.events == []
    clock.advance_to(64 * T.t1)
    [(at, timeout)] = clock.events
    assert at == 32.0
    assert isinstance(timeout, TransactionTimeout) and timeout.no_ack and timeout.key == event.key
    assert clock.layer.stats.timeouts == 1
    clock.take_sent()
    clock.advance_to(100.0)
    assert clock.take_sent() == [] and clock.layer.active == 0


def test_2xx_is_retransmitted_even_over_tcp() -> None:
    clock, event = start_invite(source=TCP_CALLER)
    clock.respond(event, 200)
    clock.advance_to(2.0)
    assert [at for at, _ in clock.take_sent()] == [0.0, 0.0, 0.5, 1.5]       # 100, 200, retransmissions
    assert all(s.dest == TCP_CALLER for _, s in clock.sent)


def test_error_response_retransmitted_until_ack_on_the_same_branch_then_timer_i() -> None:
    clock, event = start_invite()
    clock.take_sent()
    clock.respond(event, 486)
    clock.advance_to(3.6)
    sent = clock.take_sent()
    assert [status_of(s) for _, s in sent] == [486, 486, 486, 486]
    assert gaps([at for at, _ in sent]) == [0.5, 1.0, 2.0]
    [ack] = clock.receive(ACK_ERROR)
    assert isinstance(ack, IncomingAck) and not ack.to_2xx
    assert clock.receive(ACK_ERROR) == []                 # retransmitted ACK absorbed (confirmed)
    assert clock.receive(invite()) == []                  # late INVITE retransmission absorbed
    clock.take_sent()
    clock.advance_to(3.6 + T.t4 - 0.01)
    assert clock.take_sent() == [] and clock.layer.active == 1
    clock.advance_to(3.6 + T.t4)
    assert clock.layer.active == 0 and clock.events == []  # Timer I ends it, nothing to report


def test_retransmitted_invite_after_error_gets_the_error_again() -> None:
    clock, event = start_invite()
    clock.respond(event, 603)
    clock.take_sent()
    clock.receive(invite())
    assert [status_of(s) for _, s in clock.take_sent()] == [603]


def test_error_response_without_ack_ends_at_timer_h_without_a_no_ack_event() -> None:
    clock, event = start_invite()
    clock.respond(event, 404)
    clock.advance_to(64 * T.t1)
    assert clock.layer.active == 0
    assert clock.events == []
    assert max(at for at, _ in clock.sent) < 32.0


def test_error_response_over_tcp_is_not_retransmitted_and_ack_ends_it_at_once() -> None:
    clock, event = start_invite(source=TCP_CALLER)
    clock.respond(event, 486)
    clock.advance_to(10.0)
    assert [status_of(s) for _, s in clock.take_sent()] == [100, 486]
    clock.receive(ACK_ERROR, TCP_CALLER)
    clock.advance_to(10.0)
    assert clock.layer.active == 0


def test_respond_after_final_response_is_ignored() -> None:
    clock, event = start_invite()
    clock.respond(event, 486)
    clock.take_sent()
    clock.respond(event, 200)
    assert clock.take_sent() == []


def test_cancel_finds_its_invite() -> None:
    clock, event = start_invite()
    cancel = parse(sip_request("CANCEL"))
    assert isinstance(cancel, Request)
    assert clock.layer.find_invite(cancel) == event.key
    assert clock.layer.is_pending(event.key)
    other = parse(sip_request("CANCEL", branch="z9hG4bK-other"))
    assert isinstance(other, Request) and clock.layer.find_invite(other) is None
    clock.respond(event, 200)
    assert not clock.layer.is_pending(event.key)


def test_rfc2543_peer_without_magic_cookie_is_matched_on_call_identity() -> None:
    clock, event = start_invite(branch="oldstyle-1")
    assert clock.receive(invite(branch="oldstyle-1")) == []           # retransmission absorbed
    cancel = parse(sip_request("CANCEL", branch="oldstyle-1"))
    assert isinstance(cancel, Request) and clock.layer.find_invite(cancel) == event.key
    clock.respond(event, 486)
    [ack] = clock.receive(sip_request("ACK", branch="oldstyle-1", to_tag="uas"))
    assert isinstance(ack, IncomingAck) and not ack.to_2xx


def test_server_transactions_are_keyed_by_sent_by_too() -> None:
    clock, _ = start_invite()
    events = clock.receive(invite(via="SIP/2.0/UDP 10.9.9.9:5070;rport"))     # same branch, other host
    assert len(events) == 1 and isinstance(events[0], IncomingRequest)


# --- non-INVITE server transaction ------------------------------------------------------------------

def test_non_invite_gets_no_100_and_retransmissions_get_the_last_response() -> None:
    clock = Clock(TransactionLayer(T))
    [event] = clock.receive(sip_request("OPTIONS"))
    assert isinstance(event, IncomingRequest)
    assert clock.receive(sip_request("OPTIONS")) == []       # still trying: absorbed, nothing to send
    assert clock.take_sent() == []
    clock.respond(event, 200)
    assert clock.receive(sip_request("OPTIONS")) == []
    assert [status_of(s) for _, s in clock.take_sent()] == [200, 200]
    clock.advance_to(30.0)
    assert clock.take_sent() == []                            # final non-INVITE answers are not repeated


def test_timer_j_keeps_absorbing_for_64_t1_over_udp() -> None:
    clock = Clock(TransactionLayer(T))
    [event] = clock.receive(sip_request("OPTIONS"))
    clock.respond(event, 200)
    clock.advance_to(64 * T.t1 - 0.01)
    assert clock.receive(sip_request("OPTIONS")) == [] and clock.layer.active == 1
    clock.advance_to(64 * T.t1)
    assert clock.layer.active == 0
    assert len(clock.receive(sip_request("OPTIONS"))) == 1     # now it is a new request


def test_timer_j_is_zero_over_tcp() -> None:
    clock = Clock(TransactionLayer(T))
    [event] = clock.receive(sip_request("OPTIONS"), TCP_CALLER)
    clock.respond(event, 200)
    clock.advance_to(clock.now)
    assert clock.layer.active == 0


# --- non-INVITE client transaction ------------------------------------------------------------------

def bye(branch: str = "z9hG4bK-bye-1") -> Request:
    request = parse(sip_request("BYE", branch=branch, to_tag="alice-tag", cseq=2,
                                via="SIP/2.0/UDP 127.0.0.1:5080;rport"))
    assert isinstance(request, Request)
    return request


def bye_response(status: int, branch: str = "z9hG4bK-bye-1") -> bytes:
    return make_response(bye(branch), status, to_tag="alice-tag").serialize()


def test_client_retransmits_with_timer_e_and_times_out_with_timer_f() -> None:
    clock = Clock(TransactionLayer(T))
    key = clock.send_request(bye(), SERVER)
    clock.advance_to(40.0)
    times = [at for at, s in clock.take_sent()]
    assert gaps(times)[:5] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert max(gaps(times)) == T.t2
    assert times[-1] < 32.0
    [(at, timeout)] = clock.events
    assert at == 32.0 and isinstance(timeout, TransactionTimeout)
    assert (timeout.key, timeout.no_ack, timeout.request.cseq) == (key, False, (2, "BYE"))
    assert clock.layer.active == 0 and clock.layer.stats.timeouts == 1


def test_client_does_not_retransmit_over_tcp_but_still_times_out() -> None:
    clock = Clock(TransactionLayer(T))
    clock.send_request(bye(), Endpoint("TCP", "127.0.0.1", 5080))
    clock.advance_to(40.0)
    assert [at for at, _ in clock.take_sent()] == [0.0]
    assert [at for at, _ in clock.events] == [32.0]


def test_provisional_response_moves_retransmissions_to_t2() -> None:
    clock = Clock(TransactionLayer(T))
    key = clock.send_request(bye(), SERVER)
    clock.advance_to(0.7)                                    # one retransmission at 0.5
    [provisional] = clock.receive(bye_response(100))
    assert isinstance(provisional, IncomingResponse) and provisional.key == key
    clock.advance_to(12.0)
    times = [at for at, _ in clock.take_sent()]
    assert times == [0.0, 0.5, 1.5, 5.5, 9.5]                 # next was due at 1.5, then every T2


def test_final_response_stops_everything_and_retransmissions_are_absorbed() -> None:
    clock = Clock(TransactionLayer(T))
    key = clock.send_request(bye(), SERVER)
    clock.advance_to(0.6)
    [final] = clock.receive(bye_response(200))
    assert isinstance(final, IncomingResponse) and final.response.status == 200
    assert final.key == key and final.request.method == "BYE"
    assert clock.receive(bye_response(200)) == []             # retransmission absorbed (Timer K)
    clock.take_sent()
    clock.advance_to(0.6 + T.t4)
    assert clock.take_sent() == [] and clock.events == []
    assert clock.layer.active == 0
    assert clock.receive(bye_response(200)) == []             # after Timer K: a stray
    assert clock.layer.stats.stray_responses == 1


def test_stray_responses_are_counted() -> None:
    clock = Clock(TransactionLayer(T))
    clock.send_request(bye(), SERVER)
    assert clock.receive(bye_response(200, branch="z9hG4bK-unknown")) == []
    options_answer = make_response(bye(), 200).serialize().replace(b"2 BYE", b"2 OPTIONS")
    assert clock.receive(options_answer) == []                # right branch, wrong method
    assert clock.layer.stats.stray_responses == 2
    clock.advance_to(0.5)
    assert len(clock.take_sent()) == 2                        # the BYE is still being retransmitted


# --- where responses go --------------------------------------------------------------------------------

@pytest.mark.parametrize("via, source, expected", [
    ("SIP/2.0/UDP 127.0.0.1:5070;rport;branch=z9hG4bK-1", ("UDP", "10.1.1.1", 40000), ("UDP", "10.1.1.1", 40000)),
    ("SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1", ("UDP", "10.1.1.1", 40000), ("UDP", "10.1.1.1", 5070)),
    ("SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-1", ("UDP", "10.1.1.1", 40000), ("UDP", "10.1.1.1", 5060)),
    ("SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK-1", ("TCP", "10.1.1.1", 40000), ("TCP", "10.1.1.1", 40000)),
])
def test_response_destination(via: str, source: tuple[str, str, int], expected: tuple[str, str, int]) -> None:
    request = parse(invite().replace(b"Via: SIP/2.0/UDP 127.0.0.1:5070;rport;branch=z9hG4bK-inv-1",
                                     f"Via: {via}".encode()))
    assert isinstance(request, Request)
    assert response_destination(request, Endpoint(*source)) == Endpoint(*expected)


def test_next_deadline_is_the_earliest_timer_of_the_live_transactions_throughout_a_busy_mix() -> None:
    # many calls in every state at once (the timers live in a heap; this checks it against a walk)
    layer = TransactionLayer()
    clock = Clock(layer)

    def earliest() -> float | None:
        live = [*layer._servers.values(), *layer._clients.values()]
        times = [t for tx in live for t in (tx.retransmit_at, tx.expire_at) if t is not None]
        return min(times, default=None)

    for n in range(60):
        clock.now = n * 0.37
        (offer,) = clock.receive(invite(call_id=f"c{n}", branch=f"z9hG4bK-i{n}"))
        assert isinstance(offer, IncomingRequest)
        clock.respond(offer, (200, 486, 180)[n % 3])
        if n % 4 == 0:
            (bye,) = clock.receive(sip_request("BYE", call_id=f"c{n}", branch=f"z9hG4bK-b{n}", cseq=2))
            assert isinstance(bye, IncomingRequest)
            clock.respond(bye, 200)
        if n % 5 == 0:
            clock.send_request(parse(sip_request("OPTIONS", call_id=f"o{n}", branch=f"z9hG4bK-o{n}",
                                                 via="SIP/2.0/UDP 127.0.0.1:5080")), SERVER)
        if n % 6 == 0:
            clock.receive(sip_request("ACK", call_id=f"c{n}", branch=f"z9hG4bK-i{n}"))
        assert layer.next_deadline() == earliest()
    for end in (25.0, 30.0, 40.0, 60.0):
        while (deadline := layer.next_deadline()) is not None and deadline <= end:
            assert deadline == earliest()
            clock.now = deadline
            layer.poll(clock.now)
        assert layer.next_deadline() == earliest()
    assert layer.next_deadline() is None and layer.active == 20        # 180 only: waiting for a final answer
