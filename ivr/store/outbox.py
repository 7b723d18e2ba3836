"""The SQL of outbound SMS: queueing (with the block list checked in the same transaction), claims per
node, the parts each SMSC accepted, delivery receipts, retries, and the block list itself.

A message goes queued → (claimed by one node) → accepted once every part is accepted by the SMSC →
delivered / undeliverable / expired / rejected by its receipts; "failed" when it could not be handed
over at all (no route, too many attempts), "blocked" when the recipient opted out before it was queued,
"returned" when it went back in the HTTP gateway's answer (nothing to send).
A claim is a conditional UPDATE (… WHERE claimed_until IS NULL OR claimed_until < now), so of two nodes
sharing PostgreSQL exactly one gets each message; a claim runs out after its lease.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from .charges import ASK_EVERY_TIME, Pricing, charge_sms_out
from .connect import insert_ignore, insert_one
from .models import SmsOptOutRow, SmsOutboxRow, SmsPartRow
from .records import new_id

FINAL_STATES = ("delivered", "undeliverable", "expired", "rejected", "failed", "blocked", "returned")
RESPONSE_ROUTE = "response"                 # handed back in the HTTP gateway's answer: nothing to send
FAILED_BY_RECEIPT = ("undeliverable", "expired", "rejected")
UNBLOCKED_KINDS = ("optout", "optin")       # the confirmation of STOP reaches the sender once


@dataclass(frozen=True)
class OutboundSms:
    """A message to queue (`id` is its stable id from now on)."""

    number: str
    recipient: str
    text: str
    kind: str
    route: str
    encoding: str
    parts: int
    reference: int
    campaign_id: str | None = None
    session_id: str | None = None
    id: str = field(default_factory=new_id)


@dataclass(frozen=True)
class ClaimedSms:
    """A message this node now sends: what it is, and the parts already accepted (a resend after a drop
    sends the others only)."""

    id: str
    number: str
    recipient: str
    text: str
    kind: str
    route: str
    parts: int
    reference: int
    attempts: int
    campaign_id: str | None
    sent: dict[int, str]                     # part number → SMSC id


def enqueue(session: Session, messages: Sequence[OutboundSms], at: datetime,
            pricing: Pricing = ASK_EVERY_TIME) -> list[str]:
    """Queue the messages; each one's state ("queued", or "blocked" when its recipient opted out). Each
    message that goes out (queued, or returned to the HTTP gateway to send) is charged per part in the
    same transaction, keyed by its id (`charges.charge_sms_out`). Queueing is idempotent by id: a message
    whose id is in the outbox already is not queued (nor charged) again, and its state now is returned
    (notices keyed by what they announce go out once however often they are asked for)."""
    states = []
    for m in messages:
        blocked = m.kind not in UNBLOCKED_KINDS and is_blocked(session, m.number, m.recipient)
        state = "blocked" if blocked else "returned" if m.route == RESPONSE_ROUTE else "queued"
        row = {"id": m.id, "number": m.number, "recipient": m.recipient, "text": m.text, "campaign_id": m.campaign_id,
               "session_id": m.session_id, "kind": m.kind, "route": m.route, "link": None, "encoding": m.encoding,
               "parts": m.parts, "reference": m.reference, "state": state, "attempts": 0,
               "error": "opted out" if blocked else None, "next_attempt_at": at if state == "queued" else None,
               "claimed_by": None, "claimed_until": None, "created_at": at, "updated_at": at}
        if not insert_one(session, SmsOutboxRow.__table__, row):                # type: ignore[arg-type]
            states.append(session.scalar(select(SmsOutboxRow.state).where(SmsOutboxRow.id == m.id)))
            continue
        if state != "blocked":
            charge_sms_out(session, message_id=m.id, campaign_id=m.campaign_id, number=m.number, recipient=m.recipient,
                           parts=m.parts, at=at, pricing=pricing)
        states.append(state)
    return states


def claim(session: Session, *, node: str, routes: Sequence[str], now: datetime, lease: float,
          limit: int) -> list[ClaimedSms]:
    """Due messages of these routes, each handed to this node only, until `lease` seconds from now: one
    conditional UPDATE over the candidates (a row another node took meanwhile no longer matches it), then
    the rows this claim's stamp marks."""
    free = or_(SmsOutboxRow.claimed_until.is_(None), SmsOutboxRow.claimed_until < now)
    candidates = list(session.scalars(select(SmsOutboxRow.id).where(
        SmsOutboxRow.state == "queued", SmsOutboxRow.route.in_(list(routes)), SmsOutboxRow.next_attempt_at <= now,
        free).order_by(SmsOutboxRow.next_attempt_at).limit(limit)))
    if not candidates:
        return []
    stamp = now + timedelta(seconds=lease)
    session.execute(update(SmsOutboxRow).where(SmsOutboxRow.id.in_(candidates), SmsOutboxRow.state == "queued", free)
                    .values(claimed_by=node, claimed_until=stamp))
    rows = session.scalars(select(SmsOutboxRow).where(SmsOutboxRow.id.in_(candidates), SmsOutboxRow.claimed_by == node,
                                                      SmsOutboxRow.claimed_until == stamp)
                           .order_by(SmsOutboxRow.next_attempt_at)).all()
    sent: dict[str, dict[int, str]] = {}
    for message_id, seq, smsc_id in session.execute(select(SmsPartRow.message_id, SmsPartRow.seq, SmsPartRow.smsc_id)
                                                    .where(SmsPartRow.message_id.in_(candidates))):
        sent.setdefault(message_id, {})[seq] = smsc_id
    return [ClaimedSms(row.id, row.number, row.recipient, row.text, row.kind, row.route, row.parts, row.reference,
                       row.attempts, row.campaign_id, sent.get(row.id, {})) for row in rows]


@dataclass(frozen=True)
class SentPart:
    """Part `seq` (1-based) accepted by the SMSC of `link` under its id `smsc_id`."""

    seq: int
    link: str
    smsc_id: str


def finish(session: Session, *, message_id: str, parts: Sequence[SentPart], state: str, at: datetime,
           link: str | None = None, error: str | None = None, retry_at: datetime | None = None,
           count: bool = True) -> None:
    """What one attempt at the message did, in one transaction: the parts the SMSC accepted, then the
    message handed over ("accepted"), refused for good ("rejected", "failed"), or back in the queue until
    `retry_at` ("queued"; an attempt is counted unless the link was merely down)."""
    insert_ignore(session, SmsPartRow.__table__,                                       # type: ignore[arg-type]
                  [{"message_id": message_id, "seq": p.seq, "link": p.link, "smsc_id": p.smsc_id, "state": "accepted",
                    "submitted_at": at, "done_at": None} for p in parts])
    values: dict[str, Any] = {"error": error[:255] if error else None, "updated_at": at, "claimed_by": None,
                              "claimed_until": None}
    if state == "queued":
        values["next_attempt_at"] = retry_at or at
        if count:
            values["attempts"] = SmsOutboxRow.attempts + 1
    else:
        values.update(state=state, next_attempt_at=None)
    if link is not None:
        values["link"] = link
    session.execute(update(SmsOutboxRow).where(SmsOutboxRow.id == message_id, SmsOutboxRow.state == "queued")
                    .values(**values))


def release(session: Session, *, node: str) -> int:
    """Give back the claims of a node that stops (its messages are due again at once)."""
    return session.execute(update(SmsOutboxRow).where(SmsOutboxRow.claimed_by == node, SmsOutboxRow.state == "queued")
                           .values(claimed_by=None, claimed_until=None)).rowcount


def receipt(session: Session, *, link: str | None, smsc_id: str, state: str, at: datetime,
            error: str | None = None) -> tuple[str, str] | None:
    """A delivery receipt for the part the SMSC knows as `smsc_id` (on `link`; None: any link, or our own id
    for the HTTP gateway): (message id, the message's state now), or None when no part has that id (yet)."""
    query = select(SmsPartRow).where(SmsPartRow.smsc_id == smsc_id)
    if link is not None:
        query = query.where(SmsPartRow.link == link)
    part = session.scalars(query.order_by(SmsPartRow.submitted_at.desc()).limit(1)).first()
    if part is None:
        return None
    if part.state not in FINAL_STATES:
        part.state = state
        if state in FINAL_STATES:
            part.done_at = at
    message = session.get(SmsOutboxRow, part.message_id)
    if message is None:
        return None
    states = [s for (s,) in session.execute(select(SmsPartRow.state).where(SmsPartRow.message_id == message.id))]
    failed = next((s for s in states if s in FAILED_BY_RECEIPT), None)
    if failed is not None:
        new = failed
    elif len(states) == message.parts and all(s == "delivered" for s in states):
        new = "delivered"
    else:
        new = message.state
    if message.state not in FINAL_STATES and new != message.state:
        message.state, message.updated_at = new, at
        if error:
            message.error = error[:255]
    return message.id, message.state


def opt_out(session: Session, *, number: str, caller: str, word: str, at: datetime) -> bool:
    """Put the caller on the number's block list; False when already there."""
    return insert_one(session, SmsOptOutRow.__table__, {"number": number, "caller": caller,  # type: ignore[arg-type]
                                                        "word": word[:32], "at": at})


def opt_in(session: Session, *, number: str, caller: str) -> bool:
    """Take the caller off the number's block list; False when not on it."""
    return session.execute(delete(SmsOptOutRow).where(SmsOptOutRow.number == number,
                                                      SmsOptOutRow.caller == caller)).rowcount == 1


def is_blocked(session: Session, number: str, caller: str) -> bool:
    return session.get(SmsOptOutRow, (number, caller)) is not None
