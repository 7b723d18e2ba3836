"""The called side of outbound calls: Kamailio as the carrier trunk (digest auth on every new INVITE,
Record-Route) in front of SIPp phones, one SIPp UAS per behaviour, picked by the called number's last
digit:

  ...1  answers, and 1.5 s after the ACK presses 1 (RFC 4733), then waits for our BYE
  ...2  answers and hangs up 1 s later
  ...3  busy (486)
  ...4  rings and never answers (our ring timeout CANCELs it)

Each phone logs every INVITE it gets (SIPp's own clock in ms, the called number, the Call-ID) in its
`-log_file`; `Phones.invites()` reads them back, so a test sees what reached the phones, not what the
engine says it sent.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .conftest import free_port
from .sipp_keys import write_key_pcap

REALM = "carrier.test"
USER, PASSWORD = "ivr", "trunk-secret"
BEHAVIOURS = {"1": "keys", "2": "hangup", "3": "busy", "4": "never"}

KAMAILIO_CFG = """#!KAMAILIO
debug=2
log_stderror=yes
children=2
listen=udp:127.0.0.1:{port}
auto_aliases=no
disable_tcp=yes

loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "auth.so"

modparam("tm", "fr_timer", 3000)
modparam("tm", "fr_inv_timer", 60000)
modparam("rr", "enable_full_lr", 1)

request_route {{
	if (!mf_process_maxfwd_header("10")) {{
		sl_send_reply("483", "Too Many Hops");
		exit;
	}}
	if (has_totag()) {{
		if (loose_route()) {{
			t_relay();
			exit;
		}}
		if (is_method("ACK") && t_check_trans()) {{
			t_relay();
		}}
		exit;
	}}
	if (is_method("CANCEL")) {{
		if (t_check_trans()) {{
			t_relay();
		}}
		exit;
	}}
	if (is_method("ACK")) {{
		exit;
	}}
	if (!is_method("INVITE")) {{
		sl_send_reply("405", "Method Not Allowed");
		exit;
	}}
	if (!pv_proxy_authenticate("{realm}", "{password}", "0")) {{
		proxy_challenge("{realm}", "1");
		exit;
	}}
	if ($au != "{user}") {{
		sl_send_reply("403", "Forbidden");
		exit;
	}}
	consume_credentials();
	xlog("L_INFO", "trunk: INVITE $rU from $fU (PAI $ai)\\n");
	record_route();
{routes}
	sl_send_reply("404", "No Such Phone");
	exit;
}}
"""

ROUTE = """	if ($rU =~ "{digit}$$") {{
		$du = "sip:127.0.0.1:{port}";
		t_relay();
		exit;
	}}
"""

_LOG_INVITE = """    <action>
      <ereg regexp="INVITE sip:([^@]+)@" search_in="msg" check_it="true" assign_to="all,user"/>
      <ereg regexp="CSeq: ([0-9]+)" search_in="msg" check_it="true" assign_to="cseq,cseqno"/>
      <log message="[clock_tick] [$user] [call_id] [$all] [$cseq]"/>
    </action>"""

_HEAD = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="{name}">
  <recv request="INVITE" rrs="true">
""" + _LOG_INVITE + """
  </recv>
"""

_RESPONSE = """  <send{retrans}>
    <![CDATA[
      SIP/2.0 {status}
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
{body}
    ]]>
  </send>
"""

_NO_BODY = "      Content-Length: 0\n"
_SDP = """      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=phone 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
"""

_ACK = """  <recv request="ACK">
    <action>
      <ereg regexp="&lt;.*" search_in="hdr" header="From:" check_it="true" assign_to="ackfrom"/>
      <ereg regexp="&lt;.*" search_in="hdr" header="To:" check_it="true" assign_to="ackto"/>
    </action>
  </recv>
"""

_OK_TO_BYE = """  <recv request="BYE" timeout="40000"/>
  <send>
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

_THEIR_BYE = """  <pause milliseconds="1000"/>
  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$ackto]
      To: [$ackfrom]
      [routes]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Contact: <sip:[local_ip]:[local_port]>
      Content-Length: 0
    ]]>
  </send>
  <recv response="200"/>
  <nop><action><log message="unused [$cseqno] [$ackfrom]"/></action></nop>
</scenario>
"""

_CANCELLED = """  <recv request="CANCEL" timeout="120000"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
  <send>
    <![CDATA[
      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      CSeq: [$cseqno] INVITE
      Content-Length: 0
    ]]>
  </send>
  <recv request="ACK"/>
</scenario>
"""


def scenario(behaviour: str, workdir: Path) -> str:
    """The SIPp UAS scenario of one behaviour."""
    ringing = _RESPONSE.format(retrans="", status="180 Ringing", body=_NO_BODY)
    answer = _RESPONSE.format(retrans=' retrans="500"', status="200 OK", body=_SDP)
    head = _HEAD.format(name=f"phone: {behaviour}")
    unused = '  <nop><action><log message="unused [$cseqno] [$ackfrom] [$ackto]"/></action></nop>\n'
    if behaviour == "keys":
        pcap = write_key_pcap(workdir / "press1.pcap", "1", 0)
        return (head + ringing + answer + _ACK + '  <pause milliseconds="1500"/>\n'
                f'  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>\n' + unused + _OK_TO_BYE)
    if behaviour == "hangup":
        return head + ringing + answer + _ACK + _THEIR_BYE
    if behaviour == "busy":
        busy = _RESPONSE.format(retrans="", status="486 Busy Here", body=_NO_BODY)
        return (head + busy + '  <recv request="ACK"/>\n'
                '  <nop><action><log message="unused [$cseqno]"/></action></nop>\n</scenario>\n')
    assert behaviour == "never"
    return head + ringing + _CANCELLED


@dataclass
class Phones:
    """Kamailio (the trunk) and the SIPp phones behind it, running until `stop`."""

    workdir: Path
    trunk_port: int = 0
    procs: list[subprocess.Popen] = field(default_factory=list)
    logs: dict[str, Path] = field(default_factory=dict)

    @property
    def trunk(self) -> str:
        return f"sip:127.0.0.1:{self.trunk_port}"

    def engine_args(self, *extra: str) -> tuple[str, ...]:
        """The `ivr serve` options that send calls out through this trunk with its credentials."""
        return ("--outbound-trunk", self.trunk, "--outbound-domain", REALM, "--register-user", USER,
                "--register-password", PASSWORD, *extra)

    def start(self) -> "Phones":
        sipp, kamailio = shutil.which("sipp"), shutil.which("kamailio")
        assert sipp and kamailio, "SIPp and Kamailio (Debian packages) are needed: run scripts/bootstrap"
        routes = ""
        for digit, behaviour in BEHAVIOURS.items():
            folder = self.workdir / behaviour
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / "uas.xml"
            path.write_text(scenario(behaviour, folder))
            port = free_port()
            self.logs[behaviour] = folder / "invites.log"
            self.procs.append(subprocess.Popen(
                [sipp, "-sf", str(path), "-i", "127.0.0.1", "-p", str(port), "-mp", str(free_port()),
                 "-trace_logs", "-log_file", str(self.logs[behaviour]), "-trace_err",
                 "-error_file", str(folder / "errors.log"), "-nostdin", "-timeout", "900s", "-max_recv_loops", "10000"],
                cwd=folder, stdout=subprocess.DEVNULL, stderr=open(folder / "sipp.stderr", "w")))
            routes += ROUTE.format(digit=digit, port=port)
        self.trunk_port = free_port()
        (self.workdir / "kamailio-run").mkdir(exist_ok=True)
        config = self.workdir / "kamailio.cfg"
        config.write_text(KAMAILIO_CFG.format(port=self.trunk_port, realm=REALM, password=PASSWORD, user=USER,
                                              routes=routes))
        self.procs.append(subprocess.Popen([kamailio, "-f", str(config), "-DD", "-E", "-m", "64", "-M", "8",
                                            "-Y", str(self.workdir / "kamailio-run")],
                                           stdout=subprocess.DEVNULL, stderr=open(self.workdir / "kamailio.log", "w")))
        time.sleep(1.0)
        if any(proc.poll() is not None for proc in self.procs):
            self.stop()                                   # no peer left running behind a failed start
            raise AssertionError(self.diagnostics())
        return self

    def invites(self, behaviour: str | None = None) -> list[tuple[int, str, str]]:
        """(SIPp clock ms, called number, Call-ID) of each INVITE (each initial one: a call) the phones got."""
        out = []
        for name, path in self.logs.items():
            if behaviour is not None and name != behaviour or not path.exists():
                continue
            for line in path.read_text(errors="replace").splitlines():
                parts = line.split()
                if len(parts) >= 3 and parts[0].isdigit():
                    out.append((int(parts[0]), parts[1], parts[2]))
        seen: dict[str, tuple[int, str, str]] = {}
        for invite in sorted(out):
            seen.setdefault(invite[2], invite)        # a call's re-sent INVITE is the same call
        return sorted(seen.values())

    def diagnostics(self) -> str:
        texts = []
        logs = [self.workdir / "kamailio.log", *self.workdir.glob("*/errors.log"), *self.workdir.glob("*/sipp.stderr")]
        for path in logs:
            if path.exists():
                texts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-2000:]}")
        return "\n".join(texts)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
