"""What goes in and out of a flow session: input events, actions, and timeline entries.

Channels feed input events (the caller's keys, speech or text, a timeout, a hang-up, or the result of
an effect) and carry out actions (say, listen, store, vote, redeem or issue a code, call a webhook, ...). All are plain
dataclasses so they can be logged, compared in tests and turned into JSON with `dataclasses.asdict`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# -- input events: from the caller -------------------------------------------------------------


@dataclass
class Digits:
    """A complete key entry (the channel collects keys as the `ListenSpec` says)."""

    digits: str


@dataclass
class Speech:
    text: str
    confidence: float


@dataclass
class Text:
    """An SMS message."""

    text: str


@dataclass
class NoInput:
    """The caller said or sent nothing before the listen timeout (SMS: the reminder delay)."""


@dataclass
class Hangup:
    pass


# -- input events: results of effects ----------------------------------------------------------


@dataclass
class VoteResult:
    accepted: bool
    previous: str | None = None
    unavailable: bool = False            # the store could not check the vote: it is not counted
    pending: bool = False                # kept to be checked later (the vote node has a `pending` exit)


@dataclass
class CodeResult:
    status: str                          # redeemed | used | invalid | unavailable


@dataclass
class IssueResult:
    status: str                          # issued | again (the caller's code from before) | exhausted | unavailable
    code: str | None = None


@dataclass
class WebhookResult:
    ok: bool
    status: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None             # why it failed (shown in the call timeline)


@dataclass
class NotifyResult:
    ok: bool


@dataclass
class RecordResult:
    ok: bool
    recording_id: str | None = None
    duration: float = 0.0


@dataclass
class TransferResult:
    ok: bool


@dataclass
class RoutingResult:
    """The routing server's answer: the next node to run, or None when it could not be asked."""

    node: dict[str, Any] | None


InputEvent = (Digits | Speech | Text | NoInput | Hangup | VoteResult | CodeResult | IssueResult | WebhookResult
              | NotifyResult | RecordResult | TransferResult | RoutingResult)

# -- actions -----------------------------------------------------------------------------------


@dataclass
class Prompt:
    """One thing to say: rendered text (templates applied) and/or a recording (on a call the recording
    plays instead of the text), in the voice settings of the campaign or of its node."""

    text: str | None
    audio: str | None
    language: str
    voice: str | None = None
    engine: str | None = None
    rate: float = 1.0


@dataclass
class ListenSpec:
    """How to wait for the caller. On SMS `timeout` is the delay before a reminder."""

    mode: str = "dtmf"                   # dtmf | speech | both
    max_digits: int | None = None
    min_digits: int = 1
    finish_key: str | None = None
    timeout: float = 5.0
    inter_digit_timeout: float = 3.0
    grammar: list[str] = field(default_factory=list)
    pattern: str | None = None
    barge_in: bool = True
    confidence: float = 0.5
    end_silence: float | None = None     # speech: seconds of quiet that end the answer (None: the engine's)
    max_speech: float | None = None      # speech: the longest answer in seconds (None: the engine's)


@dataclass
class Say:
    parts: list[Prompt]
    barge_in: bool = True


@dataclass
class Listen:
    spec: ListenSpec


@dataclass
class StoreOutcome:
    """A result to keep (fire and forget for the flow, but the runtime must make it durable)."""

    kind: str
    name: str
    value: str


@dataclass
class CastVote:
    name: str
    choice: str
    window: str                          # campaign | day | hour
    defer: bool = False                  # may be kept unchecked while the store is down (node has `pending`)


@dataclass
class RedeemCode:
    pool: str
    code: str
    named: bool = False                  # a pool of the tenant (imported), not one of the campaign file's


@dataclass(frozen=True)
class IssuedSms:
    """The SMS taking an issued code to a caller on a call: from short number `sender`, its text rendered around
    where the code goes (known only once issued)."""

    sender: str
    pieces: tuple[str, ...]

    def text(self, code: str) -> str:
        return code.join(self.pieces)


@dataclass
class IssueCode:
    """Hand the caller a code of the tenant's pool, the same one every time they ask (on calls, with `sms`: and
    send it to the caller by SMS, once)."""

    pool: str
    sms: IssuedSms | None = None


@dataclass
class CallWebhook:
    url: str
    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    timeout: float
    retries: int


@dataclass
class Notify:
    method: str                          # webhook | email | sms
    target: str                          # URL, e-mail address, "caller" or a phone number
    subject: str
    text: str
    sender: str = ""                     # sms: the short number it is sent from


@dataclass
class StartRecording:
    max_seconds: float
    beep: bool
    name: str


@dataclass
class Transfer:
    target: str


@dataclass
class RouteRequest:
    """Routing mode: POST the session's state to the business's URL; the answer is the next node."""

    url: str
    state: dict[str, Any]
    timeout: float
    headers: dict[str, str]


@dataclass
class End:
    """The last action: the channel hangs up or closes the conversation."""

    reason: str


Action = (Say | Listen | StoreOutcome | CastVote | RedeemCode | IssueCode | CallWebhook | Notify | StartRecording
          | Transfer | RouteRequest | End)
# Actions the runtime performs and answers with a result event.
EFFECTS = (CastVote, RedeemCode, IssueCode, CallWebhook, Notify, StartRecording, Transfer, RouteRequest)


@dataclass
class TimelineEvent:
    """One step of a session, for the call timeline (`kind` such as node, prompt, input, match, end)."""

    kind: str
    data: dict[str, Any]
