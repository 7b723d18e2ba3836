"""SDP parsing and the offer/answer rules the engine relies on."""

from __future__ import annotations

import pytest

from ivr.sip.sdp import NoCommonCodec, SdpError, SessionDescription, negotiate


def offer(formats: str, rtpmaps: str = "", extra: str = "", connection: str = "192.0.2.5") -> bytes:
    return (f"v=0\r\no=alice 1 1 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 {connection}\r\nt=0 0\r\n"
            f"m=audio 49170 RTP/AVP {formats}\r\n{rtpmaps}{extra}").encode()


def test_callers_codec_order_wins_and_dtmf_type_is_echoed() -> None:
    answer = negotiate(SessionDescription.parse(offer(
        "8 0 96", "a=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:96 telephone-event/8000\r\n")),
        "203.0.113.1", 20000, session_id=7, session_version=1)
    assert (answer.codec_pt, answer.codec_name, answer.dtmf_pt) == (8, "PCMA", 96)
    assert answer.remote == ("192.0.2.5", 49170)
    text = answer.sdp.serialize()
    assert "m=audio 20000 RTP/AVP 8 96\r\n" in text
    assert "c=IN IP4 203.0.113.1\r\n" in text and "a=ptime:20\r\n" in text
    assert "a=rtpmap:96 telephone-event/8000\r\n" in text and "a=sendrecv" in text
    reparsed = SessionDescription.parse(text)
    assert reparsed.media[0].port == 20000


def test_static_types_without_rtpmap_and_lf_line_endings() -> None:
    sdp = SessionDescription.parse(offer("0").replace(b"\r\n", b"\n"))
    answer = negotiate(sdp, "10.0.0.1", 30000)
    assert answer.codec_name == "PCMU" and answer.dtmf_pt is None


def test_no_common_codec() -> None:
    with pytest.raises(NoCommonCodec):
        negotiate(SessionDescription.parse(offer("18 9", "a=rtpmap:18 G729/8000\r\na=rtpmap:9 G722/8000\r\n")),
                  "10.0.0.1", 30000)


def test_video_is_refused_with_port_zero_and_audio_answered() -> None:
    text = offer("0") + b"m=video 49172 RTP/AVP 31\r\n"
    answer = negotiate(SessionDescription.parse(text), "10.0.0.1", 30000)
    assert [m.port for m in answer.sdp.media] == [30000, 0]


@pytest.mark.parametrize("attribute, connection, ours, remote", [
    ("a=sendonly\r\n", "192.0.2.5", "recvonly", ("192.0.2.5", 49170)),
    ("a=inactive\r\n", "192.0.2.5", "inactive", ("192.0.2.5", 49170)),
    ("", "0.0.0.0", "recvonly", None),
])
def test_hold_offers(attribute: str, connection: str, ours: str, remote) -> None:
    answer = negotiate(SessionDescription.parse(offer("0", extra=attribute, connection=connection)), "10.0.0.1", 1)
    assert answer.direction == ours and answer.remote == remote


def test_session_version_goes_into_origin() -> None:
    answer = negotiate(SessionDescription.parse(offer("0")), "10.0.0.1", 1, session_id=42, session_version=3)
    assert answer.sdp.origin == "ivr 42 3 IN IP4 10.0.0.1"


@pytest.mark.parametrize("text", [b"", b"hello", b"o=x\r\n", b"v=1\r\n", b"v=0\r\no=x\r\nm=audio x RTP/AVP 0\r\n"])
def test_bad_sdp(text: bytes) -> None:
    with pytest.raises(SdpError):
        SessionDescription.parse(text)
