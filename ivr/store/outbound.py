"""The SQL of outbound campaigns: the campaign, its audience, and the queue of attempts that lives here.

Each number of the audience is one row (`outbound_contacts`, UNIQUE per campaign) that goes queued →
calling (claimed by one node) → queued again for a retry, or done with its result. A claim is taken in
one writing transaction: on PostgreSQL the candidate rows are locked with SELECT … FOR UPDATE SKIP LOCKED,
so two nodes never take the same row; on SQLite the transaction begins IMMEDIATE (one writer at a time).
The block list (`outbox.is_blocked`) and a withdrawn consent are checked in that same transaction: such a
number is never called, it is done as `opted_out`.

A claim is never handed out again: a number whose attempt was claimed by a node that died (its claim ran
out, or the node restarted under the same name) is done as `failed` with the outcome "interrupted" rather
than called a second time, since the call may have been answered.

Pacing per campaign holds across nodes: a claim runs with the campaign's row locked, takes no more numbers
than the campaign's free concurrent calls (its rows being called, on every node), and gives each number its
start time, 1/rate after the previous one (`next_slot_at`, kept on the row): the nodes start them then.

Voice with SMS fallback (`voice_sms`): each number is called first (its row's `channel` is voice); once its
calls are over without an answer (busy, no_answer or failed after the last attempt), the row is queued again
on the SMS channel and the SMS broadcaster sends it the campaign's text.

Retries: busy, no_answer and failed are queued again after `retry_seconds`, doubling per attempt, until
`max_attempts`. Claims are only taken in the allowed hours of the audience's time zone.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.orm import Session

from ivr.i18n import t

from .connect import insert_ignore
from .contacts import NO, YES
from .errors import Conflict, NotFound
from .models import CampaignRow, OutboundContactRow, OutboundRow, OutcomeRow
from .outbox import is_blocked

CHANNELS = ("voice", "sms", "voice_sms")   # voice_sms: a call, then an SMS to whom no call reached
FALLBACK_AFTER = ("busy", "no_answer", "failed")
RESULTS = ("answered", "busy", "no_answer", "failed", "opted_out", "completed", "sent")
RETRIED = ("busy", "no_answer", "failed")
STATES = ("draft", "running", "paused", "done", "cancelled")
INTERRUPTED = "interrupted"
MAX_AUDIENCE = 100_000


class OutboundNotFound(NotFound):
    """No such outbound campaign (or flow campaign) for this tenant."""


class OutboundConflict(Conflict):
    """A change the outbound campaign's state does not allow (over, not started, audience too large)."""


@dataclass(frozen=True)
class Outbound:
    """An outbound campaign as the API shows it."""

    id: str
    tenant_id: str
    campaign_id: str
    name: str
    channel: str
    number: str
    text: str | None
    state: str
    rate: float
    concurrent: int
    time_zone: str
    hours_start: int
    hours_end: int
    max_attempts: int
    retry_seconds: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "campaign_id": self.campaign_id, "name": self.name, "channel": self.channel,
                "number": self.number, "text": self.text, "state": self.state, "rate": self.rate,
                "concurrent": self.concurrent, "time_zone": self.time_zone,
                "hours": [_hhmm(self.hours_start), _hhmm(self.hours_end)], "max_attempts": self.max_attempts,
                "retry_seconds": self.retry_seconds, "created_at": self.created_at.isoformat(),
                "started_at": self.started_at.isoformat() if self.started_at else None,
                "finished_at": self.finished_at.isoformat() if self.finished_at else None}


@dataclass(frozen=True)
class Settings:
    """What a business chooses for a new outbound campaign."""

    campaign_id: str
    name: str
    channel: str
    number: str
    text: str | None = None
    rate: float = 1.0
    concurrent: int = 10
    time_zone: str = "Europe/Kyiv"
    hours_start: int = 9 * 60
    hours_end: int = 21 * 60
    max_attempts: int = 3
    retry_seconds: int = 600


@dataclass(frozen=True)
class Claimed:
    """One attempt a node now makes: whom, with which variables, for which campaign."""

    contact_id: int
    outbound_id: str
    recipient: str
    variables: dict[str, Any]
    attempt: int
    start_at: datetime                       # when to place it: the campaign's pace, shared by every node


@dataclass(frozen=True)
class Progress:
    """Where a campaign is: numbers in total, done, still to do, per result, and an estimate of the time left."""

    total: int
    done: int
    queued: int
    calling: int
    cancelled: int
    results: dict[str, int]
    eta_seconds: float | None

    def as_json(self) -> dict[str, Any]:
        return {"total": self.total, "done": self.done, "queued": self.queued, "calling": self.calling,
                "cancelled": self.cancelled, "results": self.results, "eta_seconds": self.eta_seconds}


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _view(row: OutboundRow) -> Outbound:
    return Outbound(row.id, row.tenant_id, row.campaign_id, row.name, row.channel, row.number, row.text, row.state,
                    row.rate, row.concurrent, row.time_zone, row.hours_start, row.hours_end, row.max_attempts,
                    row.retry_seconds, row.created_at, row.started_at, row.finished_at)


def _owned(session: Session, tenant_id: str | None, outbound_id: str, lock: bool = False) -> OutboundRow:
    query = select(OutboundRow).where(OutboundRow.id == outbound_id)
    if tenant_id is not None:
        query = query.where(OutboundRow.tenant_id == tenant_id)
    row = session.scalars(query.with_for_update() if lock else query).first()
    if row is None:
        raise OutboundNotFound(t("no outbound campaign {id}", id=outbound_id))
    return row


def create(session: Session, tenant_id: str, settings: Settings, at: datetime) -> Outbound:
    """A new outbound campaign (draft) of the tenant; its flow campaign must be the tenant's."""
    owner = session.scalar(select(CampaignRow.tenant_id).where(CampaignRow.id == settings.campaign_id))
    if owner != tenant_id:
        raise OutboundNotFound(t("no campaign {id}", id=settings.campaign_id))
    row = OutboundRow(id=secrets.token_hex(8), tenant_id=tenant_id, campaign_id=settings.campaign_id,
                      name=settings.name, channel=settings.channel, number=settings.number, text=settings.text,
                      state="draft", rate=settings.rate, concurrent=settings.concurrent, time_zone=settings.time_zone,
                      hours_start=settings.hours_start, hours_end=settings.hours_end,
                      max_attempts=settings.max_attempts, retry_seconds=settings.retry_seconds, next_slot_at=None,
                      created_at=at,
                      started_at=None, finished_at=None, updated_at=at)
    session.add(row)
    session.flush()
    return _view(row)


def get(session: Session, tenant_id: str | None, outbound_id: str) -> Outbound:
    return _view(_owned(session, tenant_id, outbound_id))


def listing(session: Session, tenant_id: str | None) -> list[Outbound]:
    query = select(OutboundRow).order_by(OutboundRow.created_at.desc())
    if tenant_id is not None:
        query = query.where(OutboundRow.tenant_id == tenant_id)
    return [_view(row) for row in session.scalars(query)]


def add_audience(session: Session, tenant_id: str, outbound_id: str,
                 contacts: Sequence[tuple[str, dict[str, Any]]], at: datetime) -> int:
    """Add numbers (E.164) with their variables to a campaign not yet over; a number already in it is kept
    as it was. Returns how many were added."""
    row = _owned(session, tenant_id, outbound_id, lock=True)
    if row.state in ("done", "cancelled"):
        raise OutboundConflict(t("the outbound campaign is over"))
    before = _count(session, outbound_id)
    if before + len(contacts) > MAX_AUDIENCE:
        raise OutboundConflict(t("an audience holds at most {n} numbers", n=MAX_AUDIENCE))
    insert_ignore(session, OutboundContactRow.__table__,                             # type: ignore[arg-type]
                  [{"outbound_id": outbound_id, "recipient": number, "variables": variables, "state": "queued",
                    "channel": "sms" if row.channel == "sms" else "voice",
                    "result": None, "outcome": None, "attempts": 0, "next_attempt_at": at, "claimed_by": None,
                    "claimed_until": None, "call_id": None, "updated_at": at} for number, variables in contacts])
    return _count(session, outbound_id) - before


def _count(session: Session, outbound_id: str) -> int:
    return session.scalar(select(func.count()).select_from(OutboundContactRow)
                          .where(OutboundContactRow.outbound_id == outbound_id)) or 0


MOVES = {"start": ({"draft"}, "running"), "pause": ({"running"}, "paused"), "resume": ({"paused"}, "running"),
         "cancel": ({"draft", "running", "paused"}, "cancelled")}


def control(session: Session, tenant_id: str | None, outbound_id: str, action: str, at: datetime) -> Outbound:
    """start, pause, resume or cancel. Cancelling leaves the calls in progress to finish; the numbers not yet
    called are cancelled."""
    row = _owned(session, tenant_id, outbound_id, lock=True)
    allowed, target = MOVES[action]
    if row.state not in allowed:
        raise OutboundConflict(t("cannot {action} an outbound campaign that is {state}", action=action,
                                 state=row.state))
    if action == "start" and _count(session, outbound_id) == 0:
        raise OutboundConflict(t("the audience is empty"))
    row.state, row.updated_at = target, at
    if action == "start":
        row.started_at = at
    if action == "cancel":
        row.finished_at = at
        session.execute(update(OutboundContactRow).where(OutboundContactRow.outbound_id == outbound_id,
                                                         OutboundContactRow.state == "queued")
                        .values(state="cancelled", next_attempt_at=None, updated_at=at))
    return _view(row)


def running(session: Session, channel: str) -> list[Outbound]:
    """The campaigns of a channel being worked on now (every node reads this to know what to claim)."""
    channels = (channel, "voice_sms")
    return [_view(row) for row in session.scalars(select(OutboundRow).where(
        OutboundRow.state == "running", OutboundRow.channel.in_(channels)).order_by(OutboundRow.started_at))]


def in_hours(row: Outbound | OutboundRow, now: datetime) -> bool:
    """Whether `now` is in the allowed hours of the audience's time zone (start < end; else across midnight)."""
    local = now.astimezone(ZoneInfo(row.time_zone))
    minute = local.hour * 60 + local.minute
    if row.hours_start <= row.hours_end:
        return row.hours_start <= minute < row.hours_end
    return minute >= row.hours_start or minute < row.hours_end


def claim(session: Session, *, outbound_id: str, node: str, now: datetime, limit: int,
          lease: float, channel: str | None = None) -> list[Claimed]:
    """Up to `limit` due numbers of a running campaign in its allowed hours, each handed to this node only
    (see the module docstring); numbers on the block list or whose consent was withdrawn are done as
    opted_out instead."""
    row = session.scalars(select(OutboundRow).where(OutboundRow.id == outbound_id).with_for_update()).first()
    if row is None or row.state != "running" or limit <= 0 or not in_hours(row, now):
        return []
    _expire(session, outbound_id, now)
    calling = session.scalar(select(func.count()).select_from(OutboundContactRow).where(
        OutboundContactRow.outbound_id == outbound_id, OutboundContactRow.state == "calling")) or 0
    limit = min(limit, row.concurrent - calling)
    if limit <= 0:
        return []
    rows = list(session.scalars(select(OutboundContactRow).where(
        OutboundContactRow.outbound_id == outbound_id, OutboundContactRow.state == "queued",
        OutboundContactRow.channel == (channel or ("sms" if row.channel == "sms" else "voice")),
        OutboundContactRow.next_attempt_at <= now).order_by(OutboundContactRow.next_attempt_at, OutboundContactRow.id)
        .limit(limit).with_for_update(skip_locked=True)))
    withdrawn = _withdrawn(session, row.tenant_id, [r.recipient for r in rows])
    claimed: list[Claimed] = []
    until = now + timedelta(seconds=lease)
    interval = timedelta(seconds=1.0 / row.rate)
    slot = max(row.next_slot_at or now, now)
    for contact in rows:
        contact.updated_at = now
        if contact.recipient in withdrawn or is_blocked(session, row.number, contact.recipient):
            contact.state, contact.result, contact.next_attempt_at = "done", "opted_out", None
            continue
        contact.state, contact.claimed_by, contact.claimed_until = "calling", node, until
        contact.attempts += 1
        claimed.append(Claimed(contact.id, outbound_id, contact.recipient, dict(contact.variables), contact.attempts,
                               slot))
        slot += interval
    if claimed:
        row.next_slot_at = slot
    else:
        _maybe_done(session, row, now)
    return claimed


def _withdrawn(session: Session, tenant_id: str, numbers: list[str]) -> set[str]:
    """Of `numbers`, those whose latest consent answer in the tenant's campaigns is a no."""
    if not numbers:
        return set()
    latest: dict[str, str] = {}
    for caller, value in session.execute(select(OutcomeRow.caller, OutcomeRow.value).where(
            OutcomeRow.kind == "consent", OutcomeRow.caller.in_(numbers),
            OutcomeRow.campaign_id.in_(select(CampaignRow.id).where(CampaignRow.tenant_id == tenant_id)))
            .order_by(OutcomeRow.at)):
        word = value.strip().lower()
        if word in YES or word in NO:
            latest[caller] = word
    return {caller for caller, word in latest.items() if word in NO}


def _expire(session: Session, outbound_id: str, now: datetime) -> None:
    """Claims that ran out (their node died): done as failed/interrupted, never handed out again."""
    session.execute(update(OutboundContactRow).where(
        OutboundContactRow.outbound_id == outbound_id, OutboundContactRow.state == "calling",
        OutboundContactRow.claimed_until < now).values(state="done", result="failed", outcome=INTERRUPTED,
                                                       claimed_by=None, claimed_until=None, updated_at=now))


def release(session: Session, *, node: str, now: datetime) -> int:
    """A node starting again under its name: the attempts its previous life left claimed are done as
    failed/interrupted (they may have been answered: nobody is called twice)."""
    return session.execute(update(OutboundContactRow).where(
        OutboundContactRow.claimed_by == node, OutboundContactRow.state == "calling").values(
        state="done", result="failed", outcome=INTERRUPTED, claimed_by=None, claimed_until=None,
        updated_at=now)).rowcount


def give_back(session: Session, *, contact_id: int, node: str, at: datetime) -> bool:
    """A claimed number this node did not call after all (the campaign stopped, the node drains): queued
    again as it was."""
    return session.execute(update(OutboundContactRow).where(
        OutboundContactRow.id == contact_id, OutboundContactRow.state == "calling",
        OutboundContactRow.claimed_by == node).values(
        state="queued", attempts=OutboundContactRow.attempts - 1, claimed_by=None, claimed_until=None,
        updated_at=at)).rowcount == 1


@dataclass(frozen=True)
class Finished:
    """An attempt's result, as `finish` takes it."""

    contact_id: int
    result: str
    outcome: str | None
    call_id: str | None


def finish_many(session: Session, *, node: str, results: Sequence[Finished], at: datetime) -> list[str | None]:
    """Several attempts' results in one transaction (a tick's worth: one commit, not one per call)."""
    return [finish(session, contact_id=r.contact_id, node=node, result=r.result, outcome=r.outcome,
                   call_id=r.call_id, at=at) for r in results]


def finish(session: Session, *, contact_id: int, node: str, result: str, outcome: str | None,
           call_id: str | None, at: datetime) -> str | None:
    """The result of an attempt this node claimed: done, or queued again for a retry (busy, no_answer,
    failed, under the campaign's maximum, unless it was cancelled meanwhile). The contact's state now, or
    None when the claim was no longer this node's."""
    contact = session.get(OutboundContactRow, contact_id)
    if contact is None or contact.state != "calling" or contact.claimed_by != node:
        return None
    row = session.get(OutboundRow, contact.outbound_id)
    assert row is not None
    contact.result, contact.outcome, contact.call_id = result, (outcome or None) and outcome[:128], call_id
    contact.claimed_by = contact.claimed_until = None
    contact.updated_at = at
    retry = result in RETRIED and outcome != INTERRUPTED and contact.attempts < row.max_attempts
    if retry and row.state in ("running", "paused"):
        contact.state = "queued"
        contact.next_attempt_at = at + timedelta(seconds=row.retry_seconds * 2 ** (contact.attempts - 1))
    elif (row.channel == "voice_sms" and contact.channel == "voice" and result in FALLBACK_AFTER
          and outcome != INTERRUPTED and row.state in ("running", "paused")):
        contact.state, contact.channel, contact.next_attempt_at = "queued", "sms", at    # not reached: an SMS
        contact.outcome = f"sms after {result}"
    else:
        contact.state, contact.next_attempt_at = "done", None
        _maybe_done(session, row, at)
    return contact.state


def _maybe_done(session: Session, row: OutboundRow, at: datetime) -> None:
    """A running campaign with no number left to call or in a call is done."""
    if row.state != "running":
        return
    left = session.scalar(select(func.count()).select_from(OutboundContactRow).where(
        OutboundContactRow.outbound_id == row.id, OutboundContactRow.state.in_(("queued", "calling"))))
    if not left:
        row.state, row.finished_at, row.updated_at = "done", at, at


def progress(session: Session, tenant_id: str | None, outbound_id: str, now: datetime) -> Progress:
    """Counts per state and result; the time left estimated from the pace so far (else from the rate)."""
    row = _owned(session, tenant_id, outbound_id)
    states: dict[str, int] = {}
    results: dict[str, int] = {result: 0 for result in RESULTS}
    for state, result, n in session.execute(
            select(OutboundContactRow.state, OutboundContactRow.result, func.count())
            .where(OutboundContactRow.outbound_id == outbound_id)
            .group_by(OutboundContactRow.state, OutboundContactRow.result)):
        states[state] = states.get(state, 0) + n
        if state == "done" and result is not None:
            results[result] = results.get(result, 0) + n
    total = sum(states.values())
    done = states.get("done", 0)
    left = states.get("queued", 0) + states.get("calling", 0)
    eta: float | None = None
    if row.state in ("running", "paused") and left:
        elapsed = (now - row.started_at).total_seconds() if row.started_at else 0.0
        pace = done / elapsed if done and elapsed > 0 else row.rate
        eta = round(left / min(pace, row.rate), 1)
    elif row.state in ("running", "paused"):
        eta = 0.0
    return Progress(total, done, states.get("queued", 0), states.get("calling", 0), states.get("cancelled", 0),
                    results, eta)


@dataclass(frozen=True)
class ContactResult:
    """One number's result, a line of the results CSV."""

    number: str
    state: str
    result: str | None
    outcome: str | None
    attempts: int
    call_id: str | None
    updated_at: datetime

    @staticmethod
    def columns() -> list[str]:
        return ["number", "state", "result", "outcome", "attempts", "call_id", "updated_at"]

    def cells(self) -> list[str]:
        return [self.number, self.state, self.result or "", self.outcome or "", str(self.attempts), self.call_id or "",
                self.updated_at.isoformat()]


def results(session: Session, tenant_id: str | None, outbound_id: str) -> list[ContactResult]:
    _owned(session, tenant_id, outbound_id)
    return [ContactResult(c.recipient, c.state, c.result, c.outcome, c.attempts, c.call_id, c.updated_at)
            for c in session.scalars(select(OutboundContactRow).where(OutboundContactRow.outbound_id == outbound_id)
                                     .order_by(OutboundContactRow.id))]


@dataclass(frozen=True)
class PeriodResults:
    """An outbound campaign in a report period: its numbers done by the period's end of all it holds, and of
    those done in the period how many per result; of those completed, how many per outcome (the flow's end)."""

    id: str
    name: str
    channel: str
    total: int
    done: int
    results: dict[str, int]
    outcomes: dict[str, int]


def period_results(session: Session, campaign_id: str, since: datetime, until: datetime) -> list[PeriodResults]:
    """The outbound campaigns of a flow campaign in [since, until), oldest first, in one query: those created
    before `until` and not over before `since` (or over, yet with a number done in the period: a call that
    outlived the cancel). A number's row is written last when it is done, so its `updated_at` is then."""
    contact = OutboundContactRow
    done_by = and_(contact.state == "done", contact.updated_at < until)
    in_period = and_(done_by, contact.updated_at >= since)
    query = (select(OutboundRow.id, OutboundRow.name, OutboundRow.channel, OutboundRow.finished_at, contact.result,
                    contact.outcome, func.count(contact.id), func.sum(case((done_by, 1), else_=0)),
                    func.sum(case((in_period, 1), else_=0)))
             .outerjoin(contact, contact.outbound_id == OutboundRow.id)
             .where(OutboundRow.campaign_id == campaign_id, OutboundRow.created_at < until)
             .group_by(OutboundRow.id, OutboundRow.name, OutboundRow.channel, OutboundRow.finished_at,
                       OutboundRow.created_at, contact.result, contact.outcome)
             .order_by(OutboundRow.created_at, OutboundRow.id))
    found: dict[str, tuple[str, str, datetime | None]] = {}
    totals: dict[str, list[int]] = {}
    results: dict[str, dict[str, int]] = {}
    outcomes: dict[str, dict[str, int]] = {}
    for oid, name, channel, finished_at, result, outcome, count, done, lately in session.execute(query):
        found.setdefault(oid, (name, channel, finished_at))
        total = totals.setdefault(oid, [0, 0])
        total[0] += count
        total[1] += int(done or 0)
        per_result, per_outcome = results.setdefault(oid, {}), outcomes.setdefault(oid, {})
        if lately:
            per_result[result] = per_result.get(result, 0) + int(lately)
            if result == "completed" and outcome:
                per_outcome[outcome] = per_outcome.get(outcome, 0) + int(lately)
    return [PeriodResults(oid, name, channel, totals[oid][0], totals[oid][1], results[oid], outcomes[oid])
            for oid, (name, channel, finished_at) in found.items()
            if finished_at is None or finished_at >= since or results[oid]]

