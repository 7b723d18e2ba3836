"""Engine settings, with the embedded defaults `ivr serve` runs with."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ivr.channels.caller_id import DEFAULT_REGION, IdentitySettings
from ivr.channels.smpp.config import SmscConfig
from ivr.numbering.operators import UKRAINE, OperatorTable
from ivr.sip.access import Network
from ivr.sip.ratelimit import DEFAULT_RATES, Rate
from ivr.speech.service import SpeechConfig


class ConfigError(ValueError):
    """A setting cannot be used (bad address, empty port range...)."""


UNKNOWN_NUMBER_TREATMENTS = ("announce", "reject")


def parse_hostport(text: str, default_port: int) -> tuple[str, int]:
    """'HOST:PORT', 'HOST', ':PORT' or '[v6]:PORT' → (host, port)."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest.removeprefix(":")
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host, port_text = text, ""
    host = host or "0.0.0.0"
    if port_text and not (port_text.isascii() and port_text.isdigit()):
        raise ConfigError(f"bad port in {text!r}")
    port = int(port_text) if port_text else default_port
    if not 0 <= port < 65536:
        raise ConfigError(f"port out of range in {text!r}")
    return host, port


@dataclass
class EngineConfig:
    """Everything `ivr serve` can be told."""

    sip_host: str = "0.0.0.0"
    sip_port: int = 5060
    sip_tcp: bool = True
    advertise_host: str | None = None        # address for Contact/SDP when binding 0.0.0.0
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    db_url: str = "sqlite:///var/ivr.db"
    data_dir: Path = Path("var")             # spool, recordings
    dialplans_dir: Path = Path("dialplans")
    prompts_dir: Path = Path("prompts/cache")
    recordings_dir: Path | None = None       # recordings businesses upload (default: DATA/prompt-recordings)
    voice_packs_dir: Path | None = None      # businesses' recorded words, one folder a pack (default: DATA/voice-packs)
    tts: dict[str, str] = field(default_factory=dict)    # language → TTS engine, over the built-in choice
    prompts_stale_after: float = 24 * 3600.0  # seconds before a cached prompt no campaign plays is deleted
    rtp_host: str | None = None              # defaults to the SIP host
    rtp_port_min: int = 20000
    rtp_port_max: int = 30000
    max_calls: int = 200
    unknown_numbers: str = "announce"        # no campaign on the number: "announce" (as if closed) or "reject" (404)
    max_calls_per_caller: int = 2            # concurrent calls from one caller number (0: no limit)
    max_setup_per_source: int = 20           # calls from one address not yet confirmed by ACK (0: no limit)
    sip_rates: dict[str, Rate] = field(default_factory=lambda: dict(DEFAULT_RATES))   # per source address
    allow_from: tuple[Network, ...] = ()     # SIP only from these networks (empty: from anywhere)
    region: str = DEFAULT_REGION             # national caller numbers are read as this country's
    trust_identity_from: tuple[Network, ...] = ()   # P-Asserted-Identity taken only from these networks
    max_setup: int = 0                       # calls waiting for their ACK, node-wide (0: a fifth of max_calls)
    ack_timeout: float = 8.0                 # seconds a call waits for the ACK of our 200 before it is ended
    tcp_idle: float = 60.0                   # seconds a SIP TCP connection without a call may stay silent
    drain_seconds: float = 60.0              # on SIGTERM, how long calls in progress may take to finish
    rtp_timeout: float = 30.0                # seconds without RTP before a call is ended
    max_call_seconds: float = 600.0
    inband_dtmf: bool = True
    ring_seconds: float = 0.0                # ring (180) this long before answering
    server_header: str | None = "ivr/0.1"    # Server / User-Agent header value (None: not sent)
    accept_register: bool = False            # answer REGISTER 200 (softphones in development/tests)
    register: str | None = None              # registrar URI of a carrier trunk (off by default)
    register_aor: str | None = None
    register_user: str | None = None
    register_password: str = ""
    register_expires: int = 3600
    outbound_trunk: str | None = None        # where calls out go (trunk or outbound proxy; default: the registrar)
    outbound_domain: str | None = None       # host of the called URI (default: the trunk's host)
    outbound_pai: bool = False               # add P-Asserted-Identity with the short number to calls out
    outbound_rate: float = 10.0              # calls out started per second over the trunk, all campaigns together
    outbound_concurrent: int = 50            # calls out in progress at once over the trunk
    outbound_ring_seconds: float = 30.0      # a call out not answered by then is cancelled (no answer)
    node_name: str | None = None             # this node's name in claims shared with other nodes (default: host:port)
    sms_outbound_url: str | None = None      # the HTTP gateway: outbound SMS are POSTed here
    sms_outbound_secret: str | None = None   # signs those POSTs (default: webhook_secret)
    smsc: SmscConfig | None = None           # SMPP operator links (`--smsc FILE`)
    sms_token: str | None = None             # the SMS gateway's Bearer token for /api/sms/inbound
    metrics_token: str | None = None         # Bearer token /metrics asks for (None: open)
    variables: dict[str, str] = field(default_factory=dict)   # override campaign variables (API URLs...)
    smtp_host: str | None = None             # mail relay for notify by e-mail
    smtp_port: int = 25
    smtp_from: str = "ivr@localhost"
    webhook_secret: str | None = None        # signs webhooks of campaigns without their own secret
    allow_private_webhooks: bool = False     # let campaigns call loopback, private and link-local addresses
    speech: SpeechConfig = field(default_factory=SpeechConfig)   # Vosk models, recognition workers
    operators: OperatorTable = UKRAINE       # mobile operators by number prefix, for charges

    @property
    def identity(self) -> IdentitySettings:
        """Whom the node takes a caller's identity from, and how it reads national numbers."""
        return IdentitySettings(self.region, self.trust_identity_from)

    @property
    def setup_limit(self) -> int:
        """Calls that may wait for their ACK at once, node-wide."""
        return self.max_setup or max(10, self.max_calls // 5)

    def __post_init__(self) -> None:
        if self.rtp_port_min >= self.rtp_port_max:
            raise ConfigError("empty RTP port range")
        if self.unknown_numbers not in UNKNOWN_NUMBER_TREATMENTS:
            raise ConfigError(f"unknown_numbers must be one of {', '.join(UNKNOWN_NUMBER_TREATMENTS)}")
        if self.max_calls < 1:
            raise ConfigError("max_calls must be at least 1")
        if self.max_calls_per_caller < 0 or self.max_setup_per_source < 0 or self.max_setup < 0:
            raise ConfigError("per-caller, per-source and set-up limits must be 0 (off or default) or more")
        if self.outbound_rate <= 0 or self.outbound_concurrent < 1 or self.outbound_ring_seconds <= 0:
            raise ConfigError("outbound rate, concurrent calls and ring time must be above 0")
        if self.ack_timeout <= 0 or self.tcp_idle <= 0:
            raise ConfigError("ack_timeout and tcp_idle must be above 0")
