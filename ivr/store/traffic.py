"""Writing records and answering votes, codes and SMS claims inside one database transaction.

All of it runs in the writer thread on a Session it passes in. Record writes are idempotent (see
`records`): `apply_records` is used both for fresh records and for replays from the spool. Consecutive
inserts of the same table go out as one executemany.

Votes: the UNIQUE constraint on (campaign, name, caller, window) decides, through INSERT ... ON CONFLICT
DO NOTHING, so two nodes sharing PostgreSQL cannot both accept. A refused vote answers the choice already
counted; a vote replayed from the spool that turns out to be a second vote is kept as a "rejected"
outcome, so the trade-off of accepting votes offline stays visible. Codes: a conditional UPDATE (... WHERE
redeemed_at IS NULL) redeems a code exactly once; its row count decides.

Money: a new inbound SMS and a call's end are charged in the same transaction (`charges`), priced by
the writer's `Pricing` (the node's operator prefix table, unless the SMSC link named the operator).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from . import outbox
from .charges import ASK_EVERY_TIME, Pricing, charge_call, charge_sms_in
from .connect import insert_ignore, insert_one
from .models import CallEventRow, CallRow, OutcomeRow, PromoCodeRow, SmsMessageRow, SmsSessionRow, VoteRow
from .outbox import OutboundSms
from .records import (CallAnswered, CallEnded, CallEvent, CallStarted, CodePoolLoad, CodeStatus, OutcomeRecord,
                      Record, VoteOutcome, VoteRecord, new_id)

CODE_CHUNK = 300        # codes per INSERT of an inline pool (3 values a row, under SQLite's 32,766)


def apply_records(session: Session, records: Sequence[Record], replay: bool = False,
                  pricing: Pricing = ASK_EVERY_TIME) -> list[Any]:
    """Write the records in order; the answer for each (see `apply`)."""
    answers: list[Any] = []
    for kind, run in groupby(records, type):
        group = list(run)
        if kind is CallStarted:
            insert_ignore(session, CallRow.__table__, [_call_row(r) for r in group])      # type: ignore[arg-type]
        elif kind is CallEvent:
            insert_ignore(session, CallEventRow.__table__, [_event_row(r) for r in group])  # type: ignore[arg-type]
        elif kind is OutcomeRecord:
            insert_ignore(session, OutcomeRow.__table__, [_outcome_row(r) for r in group])  # type: ignore[arg-type]
        else:
            answers.extend(apply(session, r, replay, pricing) for r in group)
            continue
        answers.extend(["committed"] * len(group))
    return answers


def apply(session: Session, record: Record, replay: bool = False, pricing: Pricing = ASK_EVERY_TIME) -> Any:
    """Write one record: "committed", or a VoteOutcome for a vote."""
    match record:
        case CallStarted() | CallEvent() | OutcomeRecord():
            return apply_records(session, [record], replay, pricing)[0]
        case CallAnswered():
            session.execute(update(CallRow).where(CallRow.call_id == record.call_id, CallRow.answered_at.is_(None))
                            .values(answered_at=record.at))
        case CallEnded():
            _end_call(session, record, pricing)
        case VoteRecord():
            return cast_vote(session, record, replay)
        case CodePoolLoad():
            load_codes(session, record.campaign_id, record.pool, record.codes)
    return "committed"


def cast_vote(session: Session, vote: VoteRecord, replay: bool = False) -> VoteOutcome:
    """Count the vote unless the caller voted in this window already (then: the choice counted)."""
    row = {c: getattr(vote, c) for c in ("id", "campaign_id", "name", "caller", "window_key", "choice",
                                          "channel", "call_id", "at")}
    if insert_one(session, VoteRow.__table__, row):                                   # type: ignore[arg-type]
        insert_ignore(session, OutcomeRow.__table__, [_vote_outcome(vote, "accepted")])  # type: ignore[arg-type]
        return VoteOutcome(True, None)
    counted = session.execute(select(VoteRow.id, VoteRow.choice).where(
        VoteRow.campaign_id == vote.campaign_id, VoteRow.name == vote.name, VoteRow.caller == vote.caller,
        VoteRow.window_key == vote.window_key)).one()
    if counted.id == vote.id:                     # this very vote, written before (a replay)
        return VoteOutcome(True, None)
    if replay:
        insert_ignore(session, OutcomeRow.__table__, [_vote_outcome(vote, "rejected")])  # type: ignore[arg-type]
    return VoteOutcome(False, counted.choice)


def redeem_code(session: Session, *, campaign_id: str, pool: str, code: str, caller: str, channel: str,
                call_id: str, at: datetime) -> CodeStatus:
    """"redeemed" the first time, "used" after, "invalid" when the pool has no such code."""
    result = session.execute(update(PromoCodeRow).where(
        PromoCodeRow.campaign_id == campaign_id, PromoCodeRow.pool == pool, PromoCodeRow.code == code,
        PromoCodeRow.redeemed_at.is_(None)).values(redeemed_by=caller, redeemed_at=at, call_id=call_id))
    if result.rowcount == 1:
        session.add(OutcomeRow(id=new_id(), call_id=call_id, campaign_id=campaign_id, caller=caller,
                               channel=channel, kind="code", name=pool, value=code, status="accepted", at=at))
        return "redeemed"
    known = session.scalar(select(PromoCodeRow.id).where(
        PromoCodeRow.campaign_id == campaign_id, PromoCodeRow.pool == pool, PromoCodeRow.code == code))
    return "used" if known is not None else "invalid"


def load_codes(session: Session, campaign_id: str, pool: str, codes: Sequence[str]) -> None:
    """Add the codes the pool does not have yet. Written out by hand as multi-row INSERT ... ON CONFLICT DO
    NOTHING in slices (as `code_pools` imports do): SQLAlchemy's per-row parameter work for a 100,000-code
    inline pool kept the GIL from the event loop long enough to delay the media clock; the driver takes a
    flat tuple of values with little Python work per row."""
    unique = sorted(set(codes))
    mark = "%s" if session.get_bind().dialect.name == "postgresql" else "?"
    table = PromoCodeRow.__tablename__
    cursor = session.connection().connection.cursor()
    try:
        for start in range(0, len(unique), CODE_CHUNK):
            part = unique[start:start + CODE_CHUNK]
            values = ",".join([f"({mark},{mark},{mark})"] * len(part))
            cursor.execute(f"INSERT INTO {table} (campaign_id, pool, code) VALUES {values} ON CONFLICT DO NOTHING",
                           [value for code in part for value in (campaign_id, pool, code)])
    finally:
        cursor.close()


CampaignOf = Callable[[str | None], str | None]        # the saved conversation's campaign → the message's


def sms_claim(session: Session, *, message_id: str, number: str, caller: str, text: str, at: datetime,
              caller_raw: str | None = None, campaign_id: str | CampaignOf | None = None,
              operator: str | None = None, pricing: Pricing = ASK_EVERY_TIME) -> tuple[bool, dict[str, Any] | None]:
    """Record an inbound SMS and charge it to its campaign: (False, None) when its id was seen before, else
    (True, the saved session). `campaign_id`: the campaign, or how to pick it from the campaign of the
    conversation saved with the caller (None: none). `operator`: the SMSC link's, when it came on one."""
    saved = session.scalar(select(SmsSessionRow).where(SmsSessionRow.number == number,
                                                       SmsSessionRow.caller == caller))
    row = {"message_id": message_id, "session_id": saved.session_id if saved else "", "direction": "in",
           "caller": caller, "caller_raw": caller_raw, "number": number, "text": text, "at": at}
    if not insert_one(session, SmsMessageRow.__table__, row):                          # type: ignore[arg-type]
        return False, None
    chosen = campaign_id(saved.campaign_id if saved else None) if callable(campaign_id) else campaign_id
    charge_sms_in(session, message_id=message_id, campaign_id=chosen, number=number, caller=caller, at=at,
                  operator=operator, pricing=pricing)
    if saved is None:
        return True, None
    return True, {"session_id": saved.session_id, "campaign_id": saved.campaign_id, "state": saved.state}


def sms_save(session: Session, *, session_id: str, number: str, caller: str, campaign_id: str,
             state: dict[str, Any] | None, replies: Sequence[OutboundSms], at: datetime,
             due_at: datetime | None, pricing: Pricing = ASK_EVERY_TIME) -> list[str]:
    """Keep the conversation's state (None: it ended) and when its reminder is due, and queue the replies
    (their states: "queued", or "blocked" for a sender who opted out), charged per part."""
    saved = session.scalar(select(SmsSessionRow).where(SmsSessionRow.number == number,
                                                       SmsSessionRow.caller == caller))
    if state is None:
        if saved is not None:
            session.delete(saved)
    elif saved is None:
        session.add(SmsSessionRow(session_id=session_id, number=number, caller=caller, campaign_id=campaign_id,
                                  state=state, updated_at=at, due_at=due_at))
    else:
        saved.session_id, saved.campaign_id, saved.state, saved.updated_at = session_id, campaign_id, state, at
        saved.due_at = due_at
    return outbox.enqueue(session, replies, at, pricing)

def sms_due(session: Session, *, now: datetime, limit: int) -> list[dict[str, Any]]:
    """Claim conversations whose reminder is due (each once, whichever node asks first)."""
    claimed = []
    for row in session.scalars(select(SmsSessionRow).where(SmsSessionRow.due_at <= now)
                               .order_by(SmsSessionRow.due_at).limit(limit)):
        taken = session.execute(update(SmsSessionRow).where(SmsSessionRow.id == row.id,
                                                            SmsSessionRow.due_at == row.due_at).values(due_at=None))
        if taken.rowcount == 1:
            claimed.append({"session_id": row.session_id, "number": row.number, "caller": row.caller,
                            "campaign_id": row.campaign_id, "state": row.state})
    return claimed

def _end_call(session: Session, ended: CallEnded, pricing: Pricing) -> None:
    call = session.execute(select(CallRow.started_at, CallRow.answered_at, CallRow.campaign_id, CallRow.number,
                                  CallRow.caller, CallRow.channel).where(CallRow.call_id == ended.call_id)).first()
    if call is None:
        return
    session.execute(update(CallRow).where(CallRow.call_id == ended.call_id).values(
        ended_at=ended.at, duration=max(0.0, (ended.at - call.started_at).total_seconds()),
        disposition=ended.disposition, cause=ended.cause, path=list(ended.path),
        last_node=ended.path[-1] if ended.path else None))
    if call.channel == "voice":
        charge_call(session, call_id=ended.call_id, campaign_id=call.campaign_id or None, number=call.number,
                    caller=call.caller, answered_at=call.answered_at, ended_at=ended.at, pricing=pricing)


def _call_row(r: CallStarted) -> dict[str, Any]:
    return {"call_id": r.call_id, "channel": r.channel, "caller": r.caller, "caller_raw": r.caller_raw,
            "number": r.number, "campaign_id": r.campaign_id, "version": r.version, "started_at": r.at,
            "direction": r.direction}


def _event_row(r: CallEvent) -> dict[str, Any]:
    data = json.loads(json.dumps(r.data, default=str))       # what JSON cannot hold becomes text
    return {"id": r.id, "call_id": r.call_id, "seq": r.seq, "at": r.at, "kind": r.kind, "data": data}


def _outcome_row(r: OutcomeRecord) -> dict[str, Any]:
    return {"id": r.id, "call_id": r.call_id, "campaign_id": r.campaign_id, "caller": r.caller,
            "channel": r.channel, "kind": r.kind, "name": r.name, "value": r.value, "status": "accepted",
            "at": r.at}


def _vote_outcome(v: VoteRecord, status: str) -> dict[str, Any]:
    return {"id": v.id, "call_id": v.call_id, "campaign_id": v.campaign_id, "caller": v.caller,
            "channel": v.channel, "kind": "vote", "name": v.name, "value": v.choice, "status": status, "at": v.at}
