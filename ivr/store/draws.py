"""Winner draws in the store: freezing a campaign's entries, then drawing once (algorithm: `ivr.flow.draw`).

Plain functions of a Session (the Store runs them in its reader threads). `freeze` reads the campaign's
entries (accepted outcomes matching the draw's rule, in canonical order) and keeps them numbered, with
their SHA-256, in the same transaction: outcomes that arrive later (a replay from a spool included) are
not in that draw. `save_winners` turns a frozen draw into a drawn one exactly once (a conditional UPDATE
on its state decides), with its seed and winners.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.orm import Session

from ivr.flow.draw import Entry, Winner, entries_sha256
from ivr.i18n import t

from . import audit, outbox
from .audit import Action, Actor
from .charges import ASK_EVERY_TIME, Pricing
from .errors import Conflict, NotFound
from .models import CampaignRow, DrawEntryRow, DrawRow, DrawWinnerRow, OutcomeRow
from .outbox import OutboundSms
from .queries import check_campaign

FROZEN, DRAWN = "frozen", "drawn"
INSERT_SLICE = 1000
PAGE = 5000


@dataclass(frozen=True)
class Rule:
    """What an entry of the campaign is: accepted outcomes of `kind` and `name` (and `value`, if given)."""

    kind: str                   # code | vote | answer | issued
    name: str
    value: str | None = None
    per_caller: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "value": self.value, "per_caller": self.per_caller}


@dataclass(frozen=True)
class Draw:
    id: str
    campaign_id: str
    state: str
    rule: dict[str, Any]
    entries: int
    callers: int
    entries_sha256: str
    frozen_at: datetime
    winners_wanted: int | None
    seed: str | None
    drawn_at: datetime | None
    winners: list[Winner]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "campaign_id": self.campaign_id, "state": self.state, "rule": self.rule,
                "entries": self.entries, "callers": self.callers, "entries_sha256": self.entries_sha256,
                "frozen_at": self.frozen_at.isoformat(), "winners_wanted": self.winners_wanted, "seed": self.seed,
                "drawn_at": self.drawn_at.isoformat() if self.drawn_at else None,
                "winners": [{"place": w.place, "entry": w.entry, "caller": w.caller} for w in self.winners]}


@dataclass(frozen=True)
class Notice:
    """A winner's message: its outbox id and state ("queued"; "blocked": opted out, not sent; later states
    when asked again)."""

    place: int
    caller: str
    message_id: str
    state: str

    def as_dict(self) -> dict[str, Any]:
        return {"place": self.place, "caller": self.caller, "message_id": self.message_id, "state": self.state}


def freeze(session: Session, tenant_id: str | None, campaign_id: str, rule: Rule, since: datetime | None,
           until: datetime | None, actor: Actor | None = None) -> Draw:
    """A new frozen draw of the campaign's entries made in [since, until)."""
    check_campaign(session, tenant_id, campaign_id)
    query = (select(OutcomeRow.id, OutcomeRow.caller, OutcomeRow.kind, OutcomeRow.name, OutcomeRow.value,
                    OutcomeRow.at)
             .where(OutcomeRow.campaign_id == campaign_id, OutcomeRow.kind == rule.kind, OutcomeRow.name == rule.name,
                    OutcomeRow.status == "accepted").order_by(OutcomeRow.at, OutcomeRow.id))
    if rule.value is not None:
        query = query.where(OutcomeRow.value == rule.value)
    if since is not None:
        query = query.where(OutcomeRow.at >= since)
    if until is not None:
        query = query.where(OutcomeRow.at < until)
    entries = [Entry(n, caller, kind, name, value, at.isoformat(), outcome_id)
               for n, (outcome_id, caller, kind, name, value, at) in enumerate(session.execute(query), start=1)]
    draw_id = secrets.token_hex(8)
    now = datetime.now(timezone.utc)
    session.add(DrawRow(id=draw_id, campaign_id=campaign_id, state=FROZEN,
                        rule={**rule.as_dict(), "since": since.isoformat() if since else None,
                              "until": until.isoformat() if until else None},
                        entries=len(entries), callers=len({e.caller for e in entries}),
                        entries_sha256=entries_sha256(entries), frozen_at=now))
    session.flush()
    for start in range(0, len(entries), INSERT_SLICE):
        session.execute(insert(DrawEntryRow), [
            {"draw_id": draw_id, "entry": e.entry, "caller": e.caller, "kind": e.kind, "name": e.name,
             "value": e.value, "at": datetime.fromisoformat(e.at), "outcome_id": e.outcome}
            for e in entries[start:start + INSERT_SLICE]])
    found = get(session, tenant_id, campaign_id, draw_id)
    audit.record(session, actor, Action.DRAW_FROZEN, _owner(session, campaign_id), campaign_id, {
        "draw": draw_id, "entries": found.entries, "entries_sha256": found.entries_sha256, "rule": found.rule})
    return found


def callers(session: Session, tenant_id: str | None, campaign_id: str, draw_id: str) -> tuple[list[str], Draw]:
    """The caller of each entry, in entry order, and the draw."""
    found = get(session, tenant_id, campaign_id, draw_id)
    return list(session.scalars(select(DrawEntryRow.caller).where(DrawEntryRow.draw_id == draw_id)
                                .order_by(DrawEntryRow.entry))), found


def save_winners(session: Session, tenant_id: str | None, campaign_id: str, draw_id: str, seed: str, wanted: int,
                 winners: list[Winner], actor: Actor | None = None) -> Draw:
    """Record the draw's seed and winners, once (Conflict when it was drawn already)."""
    get(session, tenant_id, campaign_id, draw_id)
    taken = session.execute(update(DrawRow).where(DrawRow.id == draw_id, DrawRow.state == FROZEN).values(
        state=DRAWN, seed=seed, winners_wanted=wanted, drawn_at=datetime.now(timezone.utc))).rowcount
    if taken != 1:
        raise Conflict(t("draw {draw} was drawn already: a draw is drawn once (freeze a new one)", draw=draw_id))
    if winners:
        session.execute(insert(DrawWinnerRow), [{"draw_id": draw_id, "place": w.place, "entry": w.entry,
                                                 "caller": w.caller} for w in winners])
    audit.record(session, actor, Action.DRAW_DRAWN, _owner(session, campaign_id), campaign_id, {
        "draw": draw_id, "seed": seed, "winners": [w.entry for w in winners]})
    return get(session, tenant_id, campaign_id, draw_id)


def notify(session: Session, tenant_id: str | None, campaign_id: str, draw_id: str,
           messages: list[tuple[Winner, OutboundSms]], at: datetime, pricing: Pricing = ASK_EVERY_TIME,
           actor: Actor | None = None) -> list[Notice]:
    """Queue each winner's message in the outbox, in one transaction; once per winner however often this is
    asked (each message's id is keyed by the draw and place: see `outbox.enqueue`). A winner who opted out of
    the number stays a winner; their message is kept "blocked" and never sent."""
    found = get(session, tenant_id, campaign_id, draw_id)
    if found.state != DRAWN:
        raise Conflict(t("draw {draw} is not drawn yet: draw its winners first", draw=draw_id))
    states = outbox.enqueue(session, [m for _, m in messages], at, pricing)
    notices = [Notice(w.place, w.caller, m.id, state) for (w, m), state in zip(messages, states)]
    audit.record(session, actor, Action.DRAW_NOTIFIED, _owner(session, campaign_id), campaign_id, {
        "draw": draw_id, "messages": {n.place: n.state for n in notices}})
    return notices


def get(session: Session, tenant_id: str | None, campaign_id: str, draw_id: str) -> Draw:
    check_campaign(session, tenant_id, campaign_id)
    row = session.get(DrawRow, draw_id)
    if row is None or row.campaign_id != campaign_id:
        raise NotFound(t("no draw {draw!r} of campaign {campaign!r}", draw=draw_id, campaign=campaign_id))
    won = [Winner(w.place, w.entry, w.caller) for w in session.scalars(
        select(DrawWinnerRow).where(DrawWinnerRow.draw_id == draw_id).order_by(DrawWinnerRow.place))]
    return _draw(row, won)


def listing(session: Session, tenant_id: str | None, campaign_id: str) -> list[Draw]:
    """The campaign's draws, newest first (winners left out: see `get`)."""
    check_campaign(session, tenant_id, campaign_id)
    rows = session.scalars(select(DrawRow).where(DrawRow.campaign_id == campaign_id)
                           .order_by(DrawRow.frozen_at.desc(), DrawRow.id))
    return [_draw(row, []) for row in rows]


def entries_page(session: Session, tenant_id: str | None, campaign_id: str, draw_id: str, after: int,
                 limit: int = PAGE) -> list[Entry]:
    """Entries after number `after`, in order (one page of an export)."""
    get(session, tenant_id, campaign_id, draw_id)
    rows = session.scalars(select(DrawEntryRow).where(DrawEntryRow.draw_id == draw_id, DrawEntryRow.entry > after)
                           .order_by(DrawEntryRow.entry).limit(limit))
    return [Entry(r.entry, r.caller, r.kind, r.name, r.value, r.at.isoformat(), r.outcome_id) for r in rows]


def winner_entries(session: Session, tenant_id: str | None, campaign_id: str, draw_id: str
                   ) -> list[tuple[Winner, Entry]]:
    """Each winner with the entry that won, by place."""
    get(session, tenant_id, campaign_id, draw_id)
    rows = session.execute(select(DrawWinnerRow, DrawEntryRow).join(DrawEntryRow, and_(
        DrawEntryRow.draw_id == DrawWinnerRow.draw_id, DrawEntryRow.entry == DrawWinnerRow.entry))
        .where(DrawWinnerRow.draw_id == draw_id).order_by(DrawWinnerRow.place))
    return [(Winner(w.place, w.entry, w.caller),
             Entry(e.entry, e.caller, e.kind, e.name, e.value, e.at.isoformat(), e.outcome_id)) for w, e in rows]


def _owner(session: Session, campaign_id: str) -> str | None:
    return session.scalar(select(CampaignRow.tenant_id).where(CampaignRow.id == campaign_id))


def _draw(row: DrawRow, won: list[Winner]) -> Draw:
    return Draw(row.id, row.campaign_id, row.state, dict(row.rule), row.entries, row.callers, row.entries_sha256,
                row.frozen_at, row.winners_wanted, row.seed, row.drawn_at, won)

