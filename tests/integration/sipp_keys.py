"""Builds SIPp caller scenarios that press keys as RFC 4733 events and speak as G.711 μ-law audio, and
ones whose INVITE must be refused with a given status.

The digit pcaps shipped with SIPp all carry the same SSRC, sequence numbers and timestamp, so a key
pressed twice would look like a duplicate of the first press. Each press here gets its own pcap with
its own RTP timestamp and sequence numbers, as a real phone sends them. Speech is any 16-bit 8 kHz
PCM (our TTS in the tests), sent as 20 ms μ-law packets at the pace a phone sends them.
"""

from __future__ import annotations

import struct
from pathlib import Path

from ivr.media import g711

EVENT_CODES = {**{str(d): d for d in range(10)}, "*": 10, "#": 11, "A": 12, "B": 13, "C": 14, "D": 15}
SSRC = 0x1D2C3B4A


def write_key_pcap(path: Path, key: str, index: int, payload_type: int = 101, frames: int = 5) -> Path:
    """A pcap of one key press: `frames` 20 ms event packets, then the end packet three times."""
    return _write_pcap(path, _press(key, index, payload_type, frames))


def write_keys_pcap(path: Path, keys: str, apart: float = 0.35, payload_type: int = 101) -> Path:
    """A pcap of several key presses, one every `apart` seconds (a static scenario plays it at once)."""
    step = round(apart / 0.020)
    timed = [(n * step + i, packet) for n, key in enumerate(keys)
             for i, packet in enumerate(_press(key, n, payload_type))]
    return _write_pcap(path, [packet for _, packet in timed], [slot * 0.020 for slot, _ in timed])


def _press(key: str, index: int, payload_type: int = 101, frames: int = 5) -> list[bytes]:
    """The RTP packets of press number `index`: its own timestamp and sequence numbers."""
    timestamp = 16000 + index * 8000
    seq = 1000 + index * 20
    packets: list[bytes] = []
    for i in range(frames + 3):
        end = i >= frames
        duration = 160 * (min(i, frames - 1) + 1)
        rtp = struct.pack("!BBHII", 0x80, (0x80 if i == 0 else 0) | payload_type, seq + i, timestamp, SSRC)
        packets.append(rtp + struct.pack("!BBH", EVENT_CODES[key], (0x80 if end else 0) | 10, duration))
    return packets


def write_speech_pcap(path: Path, pcm: bytes, index: int) -> Path:
    """A pcap of speech: 16-bit 8 kHz PCM as 20 ms PCMU packets (its own SSRC per utterance)."""
    ulaw = g711.encode(g711.PCMU, pcm + b"\0" * (-len(pcm) % 320))
    packets = [struct.pack("!BBHII", 0x80, (0x80 if i == 0 else 0) | g711.PCMU, i, i * 160, SSRC + 1 + index)
               + ulaw[i * 160:(i + 1) * 160] for i in range(len(ulaw) // 160)]
    return _write_pcap(path, packets)


def _write_pcap(path: Path, rtp_packets: list[bytes], times: list[float] | None = None) -> Path:
    """RTP packets in a pcap file SIPp can play (Ethernet, IPv4, UDP on loopback), at `times` (seconds
    from the first; default 20 ms apart)."""
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for i, rtp in enumerate(rtp_packets):
        udp = struct.pack("!HHHH", 6000, 6000, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i % 65536, 0, 64, 17, 0,
                         bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])) + udp
        frame = b"\x00" * 12 + b"\x08\x00" + ip
        t = times[i] if times is not None else i * 0.020
        out += struct.pack("<IIII", int(t), int(round((t % 1) * 1e6)), len(frame), len(frame)) + frame
    path.write_bytes(out)
    return path

G711_AND_EVENTS = """0 8 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15"""

_INVITE = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="{name}">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[local_ip_type] [local_ip]
      t=0 0
      m=audio [auto_media_port] RTP/AVP {media}
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
"""

_ANSWERED = """  <recv response="200" rrs="true"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      [routes]
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
"""

_PRESS = """  <pause milliseconds="{pause}"/>
  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>
"""

_INFO = """  <pause milliseconds="{pause}"/>
  <send>
    <![CDATA[
      INFO [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 INFO
      [routes]
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: {content_type}
      Content-Length: [len]

{body}
    ]]>
  </send>
  <recv response="200"/>
"""

_FOOTER = """  <recv request="BYE" timeout="{bye_timeout}"/>
{log}  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
</scenario>
"""


def key_scenario(path: Path, presses: list[tuple[float, str | bytes]], *,
                 caller: str = "+15550000[call_number]", bye_timeout_ms: int = 60000,
                 log_bye: bool = False) -> Path:
    """Write a scenario: after the ACK, for each (pause seconds, keys or speech) wait, then press the keys
    (about 0.3 s apart) or start saying the speech (16-bit 8 kHz PCM; playing goes on during the next
    pause, so that pause must outlast it), then wait for the engine's BYE. With `log_bye`, each call
    whose BYE came (it heard its last prompt to the end) logs its caller number, one a line (SIPp's
    `-trace_logs -log_file FILE`). Returns `path`."""
    said = " ".join("(speech)" if isinstance(k, bytes) else k for _, k in presses).replace('"', "")
    body = _INVITE.format(name=f"caller presses {said}", caller=caller, media=G711_AND_EVENTS)
    body += _ANSWERED.format(caller=caller)
    index = 0
    for pause, keys in presses:
        if isinstance(keys, bytes):
            pcap = write_speech_pcap(path.with_name(f"{path.stem}_{index}.pcap"), keys, index)
            body += _PRESS.format(pause=int(pause * 1000), pcap=pcap)
            index += 1
            continue
        first = True
        for key in keys:
            pcap = write_key_pcap(path.with_name(f"{path.stem}_{index}.pcap"), key, index)
            body += _PRESS.format(pause=int(pause * 1000) if first else 350, pcap=pcap)
            first = False
            index += 1
    log = f'  <nop><action><log message="{caller}"/></action></nop>\n' if log_bye else ""
    body += _FOOTER.format(bye_timeout=bye_timeout_ms, log=log)
    path.write_text(body)
    return path


def info_key_scenario(path: Path, content_type: str, body: str, *, pause: float = 2.0,
                      caller: str = "+15550000[call_number]", bye_timeout_ms: int = 60000) -> Path:
    """Write a scenario pressing one key by SIP INFO `pause` seconds after the ACK (`body` of type
    `content_type`, e.g. application/dtmf-relay), which must get 200; then wait for the engine's BYE."""
    lines = "\n".join(f"      {line}" for line in body.splitlines())
    path.write_text(_INVITE.format(name=f"caller presses a key by INFO {content_type}", caller=caller,
                                   media=G711_AND_EVENTS)
                    + _ANSWERED.format(caller=caller)
                    + _INFO.format(pause=int(pause * 1000), caller=caller, content_type=content_type, body=lines)
                    + _FOOTER.format(bye_timeout=bye_timeout_ms, log=""))
    return path


_REFUSED = """  <recv response="{status}"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: sipp <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
</scenario>
"""


def refused_scenario(path: Path, status: int, *, media: str = G711_AND_EVENTS,
                     caller: str = "+15550000[call_number]") -> Path:
    """Write a scenario whose INVITE (offering `media`: the m= formats, then a= lines) must get the final
    response `status`, which it ACKs; any other answer fails the call. Returns `path`."""
    path.write_text(_INVITE.format(name=f"INVITE refused with {status}", caller=caller, media=media)
                    + _REFUSED.format(status=status, caller=caller))
    return path
