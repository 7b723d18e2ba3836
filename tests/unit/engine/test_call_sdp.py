"""One call's offer/answer state (`CallSdp`), whichever side offers first."""

from __future__ import annotations

import pytest

from ivr.engine.call_sdp import CallSdp
from ivr.sip import sdp

PHONE = ("v=0\r\no=phone 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
         "m=audio 4000 RTP/AVP 8 96\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:96 telephone-event/8000\r\n{direction}")


def phone(direction: str = "") -> bytes:
    return PHONE.format(direction=f"a={direction}\r\n" if direction else "").encode()


def origin(description: sdp.SessionDescription) -> tuple[str, str]:
    _, session_id, version, *_ = description.origin.split()
    return session_id, version


def test_answers_then_offers_with_one_session_id_and_a_growing_version() -> None:
    call = CallSdp("198.51.100.1", 20000, session_id=4242)
    first = call.answer(sdp.SessionDescription.parse(phone()))
    assert (first.codec_name, first.dtmf_pt, first.remote) == ("PCMA", 96, ("192.0.2.10", 4000))
    assert call.media == (8, 96, ("192.0.2.10", 4000)) and call.local is first.sdp
    refresh = call.make_offer()                                   # a re-INVITE without SDP: the call's codec
    assert [name for _, name, _ in refresh.media[0].payloads()] == ["PCMA", "telephone-event"]
    assert call.awaiting_answer and call.local is refresh
    held = call.take_answer(phone("sendonly"))
    assert held.direction == "recvonly" and not call.awaiting_answer
    assert [origin(d) for d in (first.sdp, refresh)] == [("4242", "1"), ("4242", "2")]


def test_a_delayed_offer_has_no_media_until_the_answer() -> None:
    call = CallSdp("198.51.100.1", 20000, session_id=1)
    offer = call.make_offer()
    assert [name for _, name, _ in offer.media[0].payloads()] == ["PCMU", "PCMA", "telephone-event"]
    assert call.media == (0, 101, None)
    call.take_answer(phone())
    assert call.media == (8, 96, ("192.0.2.10", 4000))


@pytest.mark.parametrize("answer", [b"", b"  \r\n", b"not sdp",
                                    b"v=0\r\no=x 1 1 IN IP4 192.0.2.10\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\n"])
def test_an_unusable_answer_is_refused_and_nothing_changes(answer: bytes) -> None:
    call = CallSdp("198.51.100.1", 20000, session_id=1)
    call.make_offer()
    with pytest.raises(sdp.SdpError):
        call.take_answer(answer)
    assert call.current is None and not call.awaiting_answer


def test_an_answer_without_our_offer_is_refused() -> None:
    with pytest.raises(sdp.SdpError, match="no offer of ours"):
        CallSdp("198.51.100.1", 20000, session_id=1).take_answer(phone())
