"""SDP parsing/serialization and RFC 3264 offer/answer as the IVR answers calls."""

from __future__ import annotations

import pytest

from ivr.sip.sdp import NoCommonCodec, SdpError, SessionDescription, is_hold, make_offer, negotiate

LINPHONE_OFFER = (
    "v=0\r\n"
    "o=alice 2890 2891 IN IP4 192.0.2.5\r\n"
    "s=Talk\r\n"
    "i=a session we do not model\r\n"
    "c=IN IP4 192.0.2.5\r\n"
    "b=AS:80\r\n"
    "t=0 0\r\n"
    "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics\r\n"
    "m=audio 7078 RTP/AVP 96 97 8 0 101 98\r\n"
    "b=TIAS:64000\r\n"
    "a=rtpmap:96 opus/48000/2\r\n"
    "a=fmtp:96 useinbandfec=1\r\n"
    "a=rtpmap:97 speex/16000\r\n"
    "a=rtpmap:101 telephone-event/48000\r\n"
    "a=rtpmap:98 telephone-event/8000\r\n"
    "a=fmtp:98 0-16\r\n"
    "a=ptime:20\r\n"
    "a=rtcp-fb:* trr-int 1000\r\n"
    "x=an unknown line type\r\n"
)


def offer(formats: str = "0 8 101", *, extra: str = "", session: str = "", connection: str = "192.0.2.5",
          ip: str = "IP4") -> SessionDescription:
    return SessionDescription.parse(
        f"v=0\r\no=bob 1 1 IN {ip} {connection}\r\ns=-\r\nc=IN {ip} {connection}\r\nt=0 0\r\n{session}"
        f"m=audio 49170 RTP/AVP {formats}\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n{extra}")


def answer_lines(sdp: SessionDescription) -> list[str]:
    return sdp.serialize().split("\r\n")


def test_real_softphone_offer_with_unknown_lines_and_odd_telephone_event() -> None:
    answer = negotiate(SessionDescription.parse(LINPHONE_OFFER), "203.0.113.7", 40000,
                       session_id=99, session_version=1)
    # opus and speex are skipped; PCMA comes before PCMU in the caller's list.
    assert (answer.codec_pt, answer.codec_name) == (8, "PCMA")
    # telephone-event/48000 is not ours; the 8 kHz one at payload type 98 is, with flash offered.
    assert answer.dtmf_pt == 98
    assert answer.remote == ("192.0.2.5", 7078)
    assert answer_lines(answer.sdp) == [
        "v=0",
        "o=ivr 99 1 IN IP4 203.0.113.7",
        "s=ivr",
        "c=IN IP4 203.0.113.7",
        "t=0 0",
        "m=audio 40000 RTP/AVP 8 98",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:98 telephone-event/8000",
        "a=fmtp:98 0-16",
        "a=ptime:20",
        "a=sendrecv",
        "",
    ]


@pytest.mark.parametrize("formats, codecs, expected", [
    ("8 0 101", ("PCMU", "PCMA"), (8, "PCMA")),
    ("0 8 101", ("PCMU", "PCMA"), (0, "PCMU")),
    ("0 8 101", ("PCMA",), (8, "PCMA")),
    ("18 0", ("PCMU", "PCMA"), (0, "PCMU")),
])
def test_codec_is_chosen_in_the_callers_order_among_ours(formats: str, codecs: tuple[str, ...],
                                                          expected: tuple[int, str]) -> None:
    answer = negotiate(offer(formats), "10.0.0.1", 30000, codecs=codecs)
    assert (answer.codec_pt, answer.codec_name) == expected
    assert answer.sdp.media[0].formats[0] == str(expected[0])


def test_static_payload_types_need_no_rtpmap_and_lf_line_ends_are_accepted() -> None:
    text = "v=0\no=- 1 1 IN IP4 192.0.2.9\ns=-\nt=0 0\nm=audio 5004 RTP/AVP 8\nc=IN IP4 192.0.2.9\n"
    answer = negotiate(SessionDescription.parse(text.encode()), "10.0.0.1", 30000)
    assert (answer.codec_pt, answer.codec_name, answer.dtmf_pt) == (8, "PCMA", None)
    assert answer.remote == ("192.0.2.9", 5004)                 # media-level c=
    assert "telephone-event" not in answer.sdp.serialize()


def test_dynamic_payload_type_for_pcmu_is_kept() -> None:
    answer = negotiate(offer("96 101", extra="a=rtpmap:96 PCMU/8000\r\n"), "10.0.0.1", 30000)
    assert (answer.codec_pt, answer.codec_name) == (96, "PCMU")
    assert "a=rtpmap:96 PCMU/8000" in answer_lines(answer.sdp)


@pytest.mark.parametrize("formats, extra", [
    ("18 9", "a=rtpmap:18 G729/8000\r\na=rtpmap:9 G722/8000\r\n"),
    ("96", "a=rtpmap:96 opus/48000/2\r\n"),
    ("96", "a=rtpmap:96 PCMU/16000\r\n"),
])
def test_no_common_codec_is_an_sdp_error_for_488(formats: str, extra: str) -> None:
    with pytest.raises(NoCommonCodec):
        negotiate(offer(formats, extra=extra), "10.0.0.1", 30000)
    assert issubclass(NoCommonCodec, SdpError)


def test_srtp_audio_is_not_answered() -> None:
    text = offer("0").serialize().replace("RTP/AVP", "RTP/SAVP")
    with pytest.raises(NoCommonCodec):
        negotiate(SessionDescription.parse(text), "10.0.0.1", 30000)


def test_other_streams_are_refused_with_port_zero_in_the_same_positions() -> None:
    text = ("v=0\r\no=- 1 1 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 192.0.2.5\r\nt=0 0\r\n"
            "m=video 51372 RTP/AVP 31 32\r\na=rtpmap:31 H261/90000\r\n"
            "m=audio 0 RTP/AVP 0\r\n"                           # already refused by the caller
            "m=audio 49170 RTP/AVP 0\r\n"
            "m=application 9 UDP/BFCP *\r\n")
    answer = negotiate(SessionDescription.parse(text), "10.0.0.1", 30000)
    assert [(m.kind, m.port) for m in answer.sdp.media] == [("video", 0), ("audio", 0), ("audio", 30000),
                                                             ("application", 0)]
    assert answer.remote == ("192.0.2.5", 49170)
    reparsed = SessionDescription.parse(answer.sdp.serialize())
    assert [m.formats for m in reparsed.media] == [["31"], ["0"], ["0"], ["*"]]


@pytest.mark.parametrize("session, extra, connection, ours, theirs, remote", [
    ("", "", "192.0.2.5", "sendrecv", "sendrecv", ("192.0.2.5", 49170)),
    ("", "a=sendonly\r\n", "192.0.2.5", "recvonly", "sendonly", ("192.0.2.5", 49170)),
    ("", "a=recvonly\r\n", "192.0.2.5", "sendonly", "recvonly", ("192.0.2.5", 49170)),
    ("", "a=inactive\r\n", "192.0.2.5", "inactive", "inactive", ("192.0.2.5", 49170)),
    ("a=sendonly\r\n", "", "192.0.2.5", "recvonly", "sendonly", ("192.0.2.5", 49170)),
    ("a=sendonly\r\n", "a=sendrecv\r\n", "192.0.2.5", "sendrecv", "sendrecv", ("192.0.2.5", 49170)),
    ("", "", "0.0.0.0", "recvonly", "sendrecv", None),          # RFC 2543 hold
])
def test_direction_and_hold(session: str, extra: str, connection: str, ours: str, theirs: str, remote) -> None:
    sdp = offer("0", session=session, extra=extra, connection=connection)
    answer = negotiate(sdp, "10.0.0.1", 30000)
    assert (answer.direction, answer.remote_direction, answer.remote) == (ours, theirs, remote)
    assert f"a={ours}" in answer_lines(answer.sdp)
    assert is_hold(sdp) == (theirs in ("sendonly", "inactive") or connection == "0.0.0.0")


@pytest.mark.parametrize("extra, ptime", [
    ("", 20), ("a=ptime:30\r\n", 30), ("a=ptime:10\r\n", 10), ("a=ptime:25\r\n", 20),
    ("a=ptime:40\r\na=maxptime:30\r\n", 30), ("a=maxptime:10\r\n", 10), ("a=maxptime:120\r\n", 20),
])
def test_callers_ptime_is_reported_and_we_announce_20(extra: str, ptime: int) -> None:
    answer = negotiate(offer("0", extra=extra), "10.0.0.1", 30000)
    assert answer.ptime == ptime
    assert "a=ptime:20" in answer_lines(answer.sdp)


def test_telephone_event_only_at_8000_hz_and_range_echo() -> None:
    wideband = offer("0 100", extra="a=rtpmap:100 telephone-event/16000\r\n")
    assert negotiate(wideband, "10.0.0.1", 30000).dtmf_pt is None
    answer = negotiate(offer("0 101"), "10.0.0.1", 30000)
    assert answer.dtmf_pt == 101 and "a=fmtp:101 0-15" in answer_lines(answer.sdp)
    # telephone-event listed in rtpmap but not in the m= line is not offered.
    assert negotiate(offer("0"), "10.0.0.1", 30000).dtmf_pt is None


def test_ipv6_offer_and_answer() -> None:
    sdp = offer("0 101", connection="2001:db8::5", ip="IP6")
    answer = negotiate(sdp, "2001:db8::1", 30000, session_id=5, session_version=2)
    assert answer.remote == ("2001:db8::5", 49170)
    lines = answer_lines(answer.sdp)
    assert "o=ivr 5 2 IN IP6 2001:db8::1" in lines and "c=IN IP6 2001:db8::1" in lines
    held = offer("0", connection="::", ip="IP6")
    assert negotiate(held, "2001:db8::1", 30000).remote is None and is_hold(held)


def test_reinvite_answer_carries_the_new_session_version() -> None:
    first = negotiate(offer("0"), "10.0.0.1", 30000, session_id=42, session_version=1)
    second = negotiate(offer("0", extra="a=sendonly\r\n"), "10.0.0.1", 30000, session_id=42, session_version=2)
    assert first.sdp.origin == "ivr 42 1 IN IP4 10.0.0.1"
    assert second.sdp.origin == "ivr 42 2 IN IP4 10.0.0.1"


def test_make_offer_round_trips_through_parse_and_negotiate() -> None:
    ours = make_offer("10.0.0.1", 30000, codecs=("PCMA", "PCMU"), session_id=3)
    text = ours.serialize()
    assert "m=audio 30000 RTP/AVP 8 0 101\r\n" in text
    assert SessionDescription.parse(text) == ours
    answer = negotiate(SessionDescription.parse(text), "10.0.0.2", 40000)
    assert (answer.codec_name, answer.dtmf_pt, answer.remote) == ("PCMA", 101, ("10.0.0.1", 30000))
    assert not is_hold(ours) and is_hold(make_offer("10.0.0.1", 30000, direction="sendonly"))
    with pytest.raises(SdpError):
        make_offer("10.0.0.1", 30000, codecs=("G729",))


def test_parsed_fields() -> None:
    sdp = SessionDescription.parse(LINPHONE_OFFER)
    assert sdp.origin == "alice 2890 2891 IN IP4 192.0.2.5" and sdp.session_name == "Talk"
    audio = sdp.media[0]
    assert audio.formats == ["96", "97", "8", "0", "101", "98"]
    assert audio.rtpmap()[96] == ("opus", 48000) and audio.rtpmap()[0] == ("PCMU", 8000)
    assert audio.fmtp(96) == "useinbandfec=1" and audio.attribute("ptime") == "20"
    assert sdp.attributes[0][0] == "rtcp-xr"


@pytest.mark.parametrize("text", [
    b"", b"hello", b"o=x 1 1 IN IP4 1.2.3.4\r\n", b"v=1\r\no=x 1 1 IN IP4 1.2.3.4\r\n",
    b"v=0\r\ns=-\r\n",                                            # no origin
    b"v=0\r\no=x 1 1 IN IP4 1.2.3.4\r\nm=audio x RTP/AVP 0\r\n",  # port not a number
    b"v=0\r\no=x 1 1 IN IP4 1.2.3.4\r\nm=audio 70000 RTP/AVP 0\r\n",
    b"v=0\r\no=x 1 1 IN IP4 1.2.3.4\r\nm=audio\r\n",
    b"v=0\r\no=x 1 1 IN IP4 1.2.3.4\r\nc=IN IPX 1.2.3.4\r\n",
    b"v=0\r\no=x 1 1 IN IP4 1.2.3.4\r\nthis is not sdp\r\n",
])
def test_unparseable_sdp(text: bytes) -> None:
    with pytest.raises(SdpError):
        SessionDescription.parse(text)


def test_digits_other_than_ascii_are_not_numbers() -> None:
    with pytest.raises(SdpError):
        SessionDescription.parse("v=0\r\no=- 1 1 IN IP4 h\r\nm=audio \u00b2 RTP/AVP 0\r\n")
    offer = SessionDescription.parse("v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0 101\r\n"
                                     "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 \u00b2-16\r\n"
                                     "a=ptime:\u00b20\r\na=rtpmap:\u00b2 PCMA/8000\r\n")
    answer = negotiate(offer, "127.0.0.1", 30000)
    assert (answer.codec_name, answer.dtmf_pt, answer.ptime) == ("PCMU", 101, 20)
