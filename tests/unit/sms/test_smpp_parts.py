"""The pure parts of an operator link: reassembly, receipts, the prefix router, the --smsc file, and the
link's state machine (bind, drop, backoff, throttling, pace), driven without sockets."""

from __future__ import annotations

import asyncio

import pytest

from ivr.channels.sms_metrics import SmsMetrics

from ivr.channels.smpp import receipts
from ivr.channels.smpp.concat import Reassembler
from ivr.channels.smpp.config import SmscConfigError, load, parse
from ivr.channels.smpp.encoding import Segment
from ivr.channels.smpp.link import Inbound
from ivr.channels.smpp.receiver import (TLV_SAR_MSG_REF_NUM, TLV_SAR_SEGMENT_SEQNUM, TLV_SAR_TOTAL_SEGMENTS,
                                        SmppReceiver)
from ivr.channels.smpp.machine import THROTTLE_MAX, LinkMachine, LinkState, Pacer, TransitionError
from ivr.channels.smpp.router import NoRoute, Router

LINKS = {"vf": {"host": "h", "port": 2775, "system_id": "sid", "password_env": "PW"},
         "ks": {"host": "h", "port": 2776, "system_id": "sid"},
         "life": {"host": "h", "port": 2777, "system_id": "sid"}}
OPERATORS = {"vodafone": {"link": "vf", "prefixes": ["050", "066", "095", "099"]},
             "kyivstar": {"link": "ks", "prefixes": ["067", "068", "096", "097", "098"]},
             "lifecell": {"link": "life", "prefixes": ["063", "073", "093"]}}


def config(**extra):
    return parse({"links": LINKS, "operators": OPERATORS, **extra}, {"PW": "s3cret"})


def test_parts_in_any_order_make_one_message_once() -> None:
    r = Reassembler()
    assert r.add("l", "380501", "3838", Segment(5, 3, 2), "B", "p2", 0.0) is None
    assert r.add("l", "380501", "3838", Segment(5, 3, 3), "C", "p3", 0.1) is None
    assert r.add("l", "380999", "3838", Segment(5, 3, 1), "X", "q1", 0.1) is None    # another sender, same ref
    whole = r.add("l", "380501", "3838", Segment(5, 3, 1), "A", "p1", 0.2)
    assert whole is not None and (whole.text, whole.parts, whole.first_id, whole.link) == ("ABC", 3, "p2", "l")
    assert len(r) == 1
    assert r.add("l", "380501", "3838", None, "single", "s", 0.3).text == "single"


def test_a_long_message_missing_a_part_is_handed_on_after_the_hold() -> None:
    r = Reassembler(hold=60)
    r.add("l", "380501", "3838", Segment(1, 3, 1), "A", "p1", 0.0)
    r.add("l", "380501", "3838", Segment(1, 3, 3), "C", "p3", 1.0)
    assert r.expired(59.0) == []
    [late] = r.expired(60.0)
    assert (late.text, late.parts, late.complete, late.link) == ("AC", 2, False, "l") and len(r) == 0


def test_receipts_from_tlvs_and_from_the_text_format() -> None:
    text = b"id:7f3a sub:001 dlvrd:000 submit date:2611251000 done date:2611251001 stat:UNDELIV err:034 text:"
    assert receipts.parse(text, {}) == receipts.Receipt("7f3a", "undeliverable", "UNDELIV", "034")
    tlvs = {receipts.TLV_RECEIPTED_MESSAGE_ID: b"abc\x00", receipts.TLV_MESSAGE_STATE: b"\x02"}
    assert receipts.parse(b"id:other stat:EXPIRED", tlvs) == receipts.Receipt("abc", "delivered", "DELIVRD", None)
    assert receipts.parse(b"stat:REJECTD", {}) is None
    assert receipts.parse(b"id:1 stat:EXPIRED err:000", {}).state == "expired"
    assert receipts.is_receipt(0x04) and not receipts.is_receipt(0x40) and not receipts.is_receipt(0x00)


@pytest.mark.parametrize("number, link", [
    ("+380501234567", "vf"), ("380661234567", "vf"), ("0951234567", "vf"), ("00380991234567", "vf"),
    ("+380671234567", "ks"), ("0981234567", "ks"), ("+380631234567", "life"), ("0931234567", "life"),
    ("+380441234567", "vf"),                       # a landline: the fallback
])
def test_the_operator_prefix_table_in_national_and_international_form(number: str, link: str) -> None:
    assert Router(config(fallback="vf")).link_for(number) == link


def test_each_link_names_the_operator_it_carries_alone() -> None:
    assert config().link_operators() == {"vf": "vodafone", "ks": "kyivstar", "life": "lifecell"}
    shared = parse({"links": LINKS, "operators": {**OPERATORS, "3mob": {"link": "ks", "prefixes": ["091"]}}},
                   {"PW": "x"})
    assert shared.link_operators() == {"vf": "vodafone", "life": "lifecell"}     # ks carries two: neither


def test_no_route_without_a_fallback() -> None:
    with pytest.raises(NoRoute):
        Router(config()).link_for("+380441234567")


def test_the_password_comes_from_the_environment_and_is_never_shown() -> None:
    settings = config().links["vf"]
    assert settings.password == "s3cret" and "s3cret" not in repr(settings) and "s3cret" not in repr(config())


@pytest.mark.parametrize("change, message", [
    (lambda d: d["links"]["vf"].update(port="x"), "links.vf.port: expected a port number"),
    (lambda d: d["links"]["vf"].update(password_env="NOPE"), "links.vf.password_env: the environment has no NOPE"),
    (lambda d: d["links"]["vf"].update(bind="rx"), "links.vf.bind: expected one of transceiver, tx+rx"),
    (lambda d: d["links"]["vf"].update(throughput=0), "links.vf.throughput"),
    (lambda d: d["links"]["vf"].update(colour="red"), "links.vf.colour: unknown field"),
    (lambda d: d["operators"]["vodafone"].update(link="nope"), "operators.vodafone.link: no link 'nope'"),
    (lambda d: d["operators"]["vodafone"].update(prefixes=["05x"]), "operators.vodafone.prefixes"),
    (lambda d: d.update(fallback="nope"), "fallback: no link 'nope'"),
    (lambda d: d.update(links={}), "links: at least one link is needed"),
])
def test_bad_files_name_the_path_of_the_problem(change, message: str) -> None:
    data = {"links": {k: dict(v) for k, v in LINKS.items()},
            "operators": {k: dict(v) for k, v in OPERATORS.items()}}
    change(data)
    with pytest.raises(SmscConfigError, match=message.replace("(", r"\(").replace("+", r"\+")):
        parse(data, {"PW": "x"})


def test_a_file_is_read_with_its_name_in_errors(tmp_path) -> None:
    path = tmp_path / "smsc.yaml"
    path.write_text("links: {one: {host: h, port: 1, system_id: s}}\n")
    assert load(path, {}).fallback == "one"                  # a single link carries everything
    path.write_text("links: [\n")
    with pytest.raises(SmscConfigError, match="smsc.yaml: not valid YAML"):
        load(path, {})


def test_bind_drop_and_backoff() -> None:
    m = LinkMachine(reconnect_min=1, reconnect_max=8)
    assert m.connect_delay(0) == 0
    m.connecting(0)
    assert m.failed(0) == 1 and m.state is LinkState.DOWN and m.connect_delay(0.5) == 0.5
    delays = []
    for t in range(1, 6):
        m.connecting(t)
        delays.append(m.failed(t))
    assert delays == [2, 4, 8, 8, 8]
    m.connecting(100)
    m.bound(100)
    assert m.lost(200) == 1                                   # it stayed up long enough: from the start
    with pytest.raises(TransitionError):
        m.bound(201)
    m.close()
    assert m.state is LinkState.CLOSED


def test_throttling_pauses_without_compounding_answers_in_flight() -> None:
    m = LinkMachine()
    assert m.throttled(10.0) == 0.5
    assert m.throttled(10.1) == pytest.approx(0.4)          # answer to a submit already sent: no longer pause
    assert m.pause(10.2) == pytest.approx(0.3)
    assert m.throttled(10.6) == 1.0                           # throttled again after the pause: doubled
    t = 11.0
    for _ in range(6):                                        # throttled on and on: capped
        t += m.throttled(t)
    assert m.throttle_step == THROTTLE_MAX
    m.accepted()
    assert m.throttled(100.0) == 0.5


def test_the_pace_of_a_link() -> None:
    pacer = Pacer(rate=10, burst=1)
    assert [round(pacer.reserve(0.0), 3) for _ in range(3)] == [0.0, 0.1, 0.2]
    assert pacer.reserve(10.0) == 0.0


class Gateway:
    """Stands in for SmsGateway: records what the receiver hands on."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str, str, str]] = []
        self.operators: list[str | None] = []

    async def inbound(self, message_id: str, sender: str, number: str, text: str, route: str,
                      operator: str | None = None) -> None:
        self.messages.append((sender, number, text, route))
        self.operators.append(operator)


def test_the_receiver_joins_parts_named_by_sar_tlvs_and_by_udh() -> None:
    def sar(ref: int, total: int, seq: int) -> dict[int, bytes]:
        return {TLV_SAR_MSG_REF_NUM: ref.to_bytes(2, "big"), TLV_SAR_TOTAL_SEGMENTS: bytes([total]),
                TLV_SAR_SEGMENT_SEQNUM: bytes([seq])}

    async def run() -> Gateway:
        gateway, metrics = Gateway(), SmsMetrics()
        receiver = SmppReceiver(gateway, None, metrics, link_operators={"l": "kyivstar"})  # type: ignore[arg-type]
        await receiver(Inbound("l", "380501", "3838", 0, 8, "ний".encode("utf-16-be"), sar(513, 2, 2)))
        await receiver(Inbound("l", "380501", "3838", 0, 8, "Голос за Олену, вона чудова, дуже довгий текст ".encode(
            "utf-16-be"), sar(513, 2, 1)))
        await receiver(Inbound("l", "380502", "3838", 0x40, 0, bytes([5, 0, 3, 4, 2, 2]) + b" there", {}))
        await receiver(Inbound("l", "380502", "3838", 0x40, 0, bytes([5, 0, 3, 4, 2, 1]) + b"Hello", {}))
        await receiver(Inbound("l", "380503", "3838", 0, 0, b"", {0x0424: b"payload only"}))
        await receiver(Inbound("other", "380504", "3838", 0, 0, b"elsewhere", {}))
        assert metrics.inbound["smpp"] == 4
        return gateway
    gateway = asyncio.run(run())
    assert gateway.messages == [
        ("380501", "3838", "Голос за Олену, вона чудова, дуже довгий текст ний", "smpp"),
        ("380502", "3838", "Hello there", "smpp"), ("380503", "3838", "payload only", "smpp"),
        ("380504", "3838", "elsewhere", "smpp")]
    assert gateway.operators == ["kyivstar", "kyivstar", "kyivstar", None]     # the link's operator, for charges
