"""Reads for the UI and the API: tallies, traffic per minute, drop-off, call log and call detail.

Plain functions of a Session (the Store runs them in its reader threads and awaits them). Every one
takes `tenant_id` first: a tenant sees only the calls and outcomes of its own campaigns (campaigns the
database knows, see `services`); None means every tenant (operators, the node itself). Results are frozen
dataclasses; `row()` gives a CSV-friendly dict (times in ISO 8601). `calls_after`/`outcomes_after` page
by key (time, id) for exports of any size.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, exists, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from ivr.i18n import t

from . import code_pools
from .errors import NotFound
from .models import CallEventRow, CallRow, CampaignRow, OutcomeRow, PromoCodeRow, SmsMessageRow, SmsOutboxRow, VoteRow


@dataclass(frozen=True)
class CallFilter:
    """Which calls to list; None matches everything. `since` inclusive, `until` exclusive."""

    number: str | None = None
    caller: str | None = None
    campaign_id: str | None = None
    channel: str | None = None
    disposition: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class CsvRow:
    """Mixin: the dataclass as a flat dict for csv.DictWriter."""

    def row(self) -> dict[str, str | int | float | None]:
        out: dict[str, str | int | float | None] = {}
        for f in fields(self):                                   # type: ignore[arg-type]
            value = getattr(self, f.name)
            out[f.name] = value.isoformat() if isinstance(value, datetime) else value
        return out


@dataclass(frozen=True)
class CallSummary(CsvRow):
    call_id: str
    channel: str
    caller: str                      # normalised: E.164, "anonymous", or the sender's name
    caller_raw: str | None           # what the network sent
    number: str
    campaign_id: str
    version: int | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration: float | None
    disposition: str | None
    cause: str | None
    last_node: str | None
    direction: str                   # inbound, or outbound for a call an outbound campaign placed


@dataclass(frozen=True)
class OutcomeView(CsvRow):
    id: str
    call_id: str
    campaign_id: str
    caller: str
    channel: str
    kind: str
    name: str
    value: str
    status: str
    at: datetime


@dataclass(frozen=True)
class EventView:
    at: datetime
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True)
class MessageView(CsvRow):
    """An outbound SMS of a session (or sent from a call): its state, parts and where it went."""

    id: str
    recipient: str
    text: str
    kind: str
    state: str
    parts: int
    encoding: str
    link: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class CallDetail:
    call: CallSummary
    path: list[str]
    events: list[EventView]
    outcomes: list[OutcomeView]
    messages: list[MessageView] = field(default_factory=list)


@dataclass(frozen=True)
class PoolTally:
    codes: int
    redeemed: int


@dataclass(frozen=True)
class IssuedTally:
    codes: int
    issued: int


@dataclass(frozen=True)
class Tallies:
    """votes[name][choice], answers[question][answer]: counts; codes[pool]: size and redeemed by the campaign;
    issued[pool]: size and codes the campaign handed out."""

    votes: dict[str, dict[str, int]]
    answers: dict[str, dict[str, int]]
    codes: dict[str, PoolTally]
    issued: dict[str, IssuedTally] = field(default_factory=dict)


SUMMARY_COLUMNS = [getattr(CallRow, f.name) for f in fields(CallSummary)]
OUTCOME_COLUMNS = [getattr(OutcomeRow, f.name) for f in fields(OutcomeView)]
MESSAGE_COLUMNS = [getattr(SmsOutboxRow, f.name) for f in fields(MessageView)]


def tallies(session: Session, tenant_id: str | None, campaign_id: str, redeem_pools: tuple[str, ...] = (),
            issue_pools: tuple[str, ...] = ()) -> Tallies:
    """The campaign's totals; the tenant's named pools it redeems from and issues from are listed from the
    start (before any code was redeemed or handed out)."""
    check_campaign(session, tenant_id, campaign_id)
    votes: dict[str, dict[str, int]] = {}
    for name, choice, count in session.execute(
            select(VoteRow.name, VoteRow.choice, func.count()).where(VoteRow.campaign_id == campaign_id)
            .group_by(VoteRow.name, VoteRow.choice)):
        votes.setdefault(name, {})[choice] = count
    answers: dict[str, dict[str, int]] = {}
    for name, value, count in session.execute(
            select(OutcomeRow.name, OutcomeRow.value, func.count())
            .where(OutcomeRow.campaign_id == campaign_id, OutcomeRow.kind == "answer", OutcomeRow.status == "accepted")
            .group_by(OutcomeRow.name, OutcomeRow.value)):
        answers.setdefault(name, {})[value] = count
    codes = {pool: PoolTally(total, redeemed or 0) for pool, total, redeemed in session.execute(
        select(PromoCodeRow.pool, func.count(), func.count(PromoCodeRow.redeemed_at))
        .where(PromoCodeRow.campaign_id == campaign_id).group_by(PromoCodeRow.pool))}
    counts = code_pools.redeemed_by_campaign(session, campaign_id)
    redeem = {name for kind, name in counts if kind == "code" and name not in codes} | set(redeem_pools)
    issue = {name for kind, name in counts if kind == "issued"} | set(issue_pools)
    owner = session.scalar(select(CampaignRow.tenant_id).where(CampaignRow.id == campaign_id))
    sizes = {p.name: p.codes for p in code_pools.pools(session, owner, sorted(redeem | issue))} if owner else {}
    codes |= {name: PoolTally(sizes.get(name, 0), counts.get(("code", name), 0)) for name in sorted(redeem)}
    issued = {name: IssuedTally(sizes.get(name, 0), counts.get(("issued", name), 0)) for name in sorted(issue)}
    return Tallies(votes, answers, codes, issued)


def calls_per_minute(session: Session, tenant_id: str | None, since: datetime, until: datetime,
                     campaign_id: str | None = None, channel: str | None = None) -> list[tuple[datetime, int]]:
    """Calls (of one channel, or both) started in each minute of [since, until) that had any (UTC minutes,
    oldest first)."""
    minute = minute_of(session, CallRow.started_at)
    conditions = call_conditions(tenant_id, CallFilter(campaign_id=campaign_id, channel=channel, since=since,
                                                       until=until))
    rows = session.execute(select(minute.label("minute"), func.count()).where(*conditions)
                           .group_by("minute").order_by("minute"))
    return [(minute_start(m), count) for m, count in rows]


def minute_of(session: Session, column: InstrumentedAttribute[datetime]) -> ColumnElement[str]:
    """The UTC minute of a time column as text, "2026-01-31T12:05" (`minute_start` reads it back)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI')
    return func.strftime("%Y-%m-%dT%H:%M", column)


def minute_start(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}:00+00:00")


def messages_per_minute(session: Session, numbers: list[str], since: datetime, until: datetime
                        ) -> list[tuple[datetime, int]]:
    """SMS messages in and out on these short numbers in each minute of [since, until) that had any."""
    received = inbound_per_minute(session, since, until, SmsMessageRow.number.in_(numbers))
    sent = outbound_per_minute(session, since, until, SmsOutboxRow.number.in_(numbers))
    return sorted((at, received.get(at, 0) + sent.get(at, 0)) for at in received.keys() | sent.keys())


def inbound_per_minute(session: Session, since: datetime, until: datetime, *where: ColumnElement[bool]
                       ) -> dict[datetime, int]:
    """Messages received (`sms_messages`, one row each) per minute of [since, until) that had any."""
    minute = minute_of(session, SmsMessageRow.at)
    rows = session.execute(select(minute.label("minute"), func.count()).where(
        SmsMessageRow.direction == "in", SmsMessageRow.at >= since, SmsMessageRow.at < until, *where)
        .group_by("minute"))
    return {minute_start(m): count for m, count in rows}


def outbound_per_minute(session: Session, since: datetime, until: datetime, *where: ColumnElement[bool]
                        ) -> dict[datetime, int]:
    """Messages sent or queued (the outbox; never those kept back for an opt-out) per minute of [since,
    until) that had any, by the time they were queued."""
    minute = minute_of(session, SmsOutboxRow.created_at)
    rows = session.execute(select(minute.label("minute"), func.count()).where(
        SmsOutboxRow.state != "blocked", SmsOutboxRow.created_at >= since, SmsOutboxRow.created_at < until, *where)
        .group_by("minute"))
    return {minute_start(m): count for m, count in rows}


def drop_off(session: Session, tenant_id: str | None, campaign_id: str, since: datetime | None = None,
             until: datetime | None = None, extra: Sequence[ColumnElement[bool]] = ()) -> dict[str | None, int]:
    """Ended calls whose flow never reached an end, counted by the last node they were in (None: none);
    `extra` narrows the calls further (a version, a channel)."""
    check_campaign(session, tenant_id, campaign_id)
    reached_end = exists().where(CallEventRow.call_id == CallRow.call_id, CallEventRow.kind == "end")
    conditions = call_conditions(None, CallFilter(campaign_id=campaign_id, since=since, until=until))
    rows = session.execute(select(CallRow.last_node, func.count())
                           .where(*conditions, *extra, CallRow.ended_at.is_not(None), ~reached_end)
                           .group_by(CallRow.last_node))
    return {node: count for node, count in rows}


def call_log(session: Session, tenant_id: str | None, filters: CallFilter = CallFilter(), limit: int = 50,
             offset: int = 0) -> list[CallSummary]:
    """Calls matching the filters, newest first."""
    query = (select(*SUMMARY_COLUMNS).where(*call_conditions(tenant_id, filters))
             .order_by(CallRow.started_at.desc(), CallRow.call_id.desc()).limit(limit).offset(offset))
    return [CallSummary(*row) for row in session.execute(query)]


def count_calls(session: Session, tenant_id: str | None, filters: CallFilter = CallFilter()) -> int:
    return session.scalar(select(func.count()).select_from(CallRow).where(*call_conditions(tenant_id, filters))) or 0


def calls_after(session: Session, tenant_id: str | None, filters: CallFilter, after: tuple[datetime, str] | None,
                limit: int) -> list[CallSummary]:
    """Up to `limit` calls after the key (started_at, call_id), oldest first: one page of an export."""
    query = select(*SUMMARY_COLUMNS).where(*call_conditions(tenant_id, filters))
    query = _after(query, CallRow.started_at, CallRow.call_id, after)
    return [CallSummary(*row) for row in session.execute(query.limit(limit))]


def outcomes_after(session: Session, tenant_id: str | None, campaign_id: str | None,
                   after: tuple[datetime, str] | None, limit: int) -> list[OutcomeView]:
    """Up to `limit` outcomes after the key (at, id), oldest first; all campaigns when campaign_id is None."""
    query = select(*OUTCOME_COLUMNS)
    if campaign_id is not None:
        check_campaign(session, tenant_id, campaign_id)
        query = query.where(OutcomeRow.campaign_id == campaign_id)
    elif tenant_id is not None:
        query = query.where(owned(OutcomeRow.campaign_id, tenant_id))
    query = _after(query, OutcomeRow.at, OutcomeRow.id, after)
    return [OutcomeView(*row) for row in session.execute(query.limit(limit))]


def call_detail(session: Session, tenant_id: str | None, call_id: str) -> CallDetail | None:
    """A call with its timeline and outcomes; None when unknown (or another tenant's)."""
    conditions = call_conditions(tenant_id, CallFilter())
    row = session.execute(select(*SUMMARY_COLUMNS, CallRow.path).where(CallRow.call_id == call_id, *conditions)).first()
    if row is None:
        return None
    events = [EventView(*e) for e in session.execute(
        select(CallEventRow.at, CallEventRow.kind, CallEventRow.data).where(CallEventRow.call_id == call_id)
        .order_by(CallEventRow.at, CallEventRow.seq))]
    outcomes = [OutcomeView(*o) for o in session.execute(
        select(*OUTCOME_COLUMNS).where(OutcomeRow.call_id == call_id).order_by(OutcomeRow.at, OutcomeRow.id))]
    messages = [MessageView(*m) for m in session.execute(
        select(*MESSAGE_COLUMNS).where(SmsOutboxRow.session_id == call_id)
        .order_by(SmsOutboxRow.created_at, SmsOutboxRow.id))]
    return CallDetail(CallSummary(*row[:-1]), list(row[-1] or []), events, outcomes, messages)


def recording_call(session: Session, tenant_id: str | None, recording_id: str) -> str | None:
    """The call whose timeline reports the voice message `recording_id` (None: none of the tenant's)."""
    query = (select(CallEventRow.call_id, CallEventRow.data)
             .where(CallEventRow.kind == "record_result",
                    cast(CallEventRow.data, String).contains(json.dumps(recording_id)),
                    CallEventRow.call_id.in_(select(CallRow.call_id).where(*call_conditions(tenant_id, CallFilter())))))
    for call_id, data in session.execute(query):
        if data.get("recording_id") == recording_id:
            return call_id
    return None


def owned(column: InstrumentedAttribute[str], tenant_id: str) -> ColumnElement[bool]:
    return column.in_(select(CampaignRow.id).where(CampaignRow.tenant_id == tenant_id))


def check_campaign(session: Session, tenant_id: str | None, campaign_id: str) -> None:
    """NotFound unless the campaign is the tenant's (any campaign for None)."""
    if tenant_id is not None and session.scalar(select(CampaignRow.tenant_id).where(
            CampaignRow.id == campaign_id)) != tenant_id:
        raise NotFound(t("no campaign {campaign!r}", campaign=campaign_id))


def call_conditions(tenant_id: str | None, f: CallFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if tenant_id is not None:
        conditions.append(owned(CallRow.campaign_id, tenant_id))
    for column, value in ((CallRow.number, f.number), (CallRow.caller, f.caller),
                          (CallRow.campaign_id, f.campaign_id), (CallRow.channel, f.channel),
                          (CallRow.disposition, f.disposition)):
        if value is not None:
            conditions.append(column == value)
    if f.since is not None:
        conditions.append(CallRow.started_at >= f.since)
    if f.until is not None:
        conditions.append(CallRow.started_at < f.until)
    return conditions


def _after(query: Select[Any], time_column: InstrumentedAttribute[datetime], id_column: InstrumentedAttribute[str],
           after: tuple[datetime, str] | None) -> Select[Any]:
    if after is not None:
        query = query.where(or_(time_column > after[0], and_(time_column == after[0], id_column > after[1])))
    return query.order_by(time_column, id_column)


def sessions_since(session: Session, campaign_id: str, caller: str, since: datetime, exclude: str | None) -> int:
    """Calls and SMS conversations of `caller` in a campaign started at or after `since`."""
    query = select(func.count()).select_from(CallRow).where(
        CallRow.campaign_id == campaign_id, CallRow.caller == caller, CallRow.started_at >= since)
    if exclude is not None:
        query = query.where(CallRow.call_id != exclude)
    return int(session.scalar(query) or 0)


def last_vote(session: Session, campaign_id: str, caller: str, names: list[str]) -> str | None:
    """The choice of the caller's latest vote under one of these vote names (any channel), or None."""
    return session.scalar(select(VoteRow.choice).where(
        VoteRow.campaign_id == campaign_id, VoteRow.name.in_(names), VoteRow.caller == caller)
        .order_by(VoteRow.at.desc()).limit(1))
