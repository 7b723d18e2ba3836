"""How sessions went through a campaign's flow: per node, per move between nodes, and where they left.

Read from the timeline: every node a session enters is a `node` event (`data.node`), written while the
call or SMS conversation goes on, so the counts are live. A move is a node event and the one before it
in the same session (window function LAG, on SQLite and PostgreSQL alike). Counts are of sessions, not
visits: a caller who goes round a menu twice counts once on each node and each move. The sessions are
picked on `calls` (campaign, version, channel, start time; index `ix_calls_campaign_id_started_at`) and
their node events found through `ix_call_events_kind_call_id`, so the cost follows the campaign's sessions
in the period, not the size of the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from .models import CallEventRow, CallRow
from .queries import CallFilter, call_conditions, check_campaign, drop_off

CHANNELS = ("voice", "sms")


@dataclass(frozen=True)
class FlowFilter:
    """Which sessions: one version (None: every version), one channel (None: both), started in [since, until)."""

    version: int | None = None
    channel: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class FlowCounts:
    sessions: int                           # sessions that started in the period
    reached: dict[str, int]                 # node id -> sessions that entered it
    moved: dict[tuple[str, str], int]       # (from, to) -> sessions that went straight from one to the other
    left: dict[str | None, int]             # ended sessions that never reached an end, by last node (None: none)
    ongoing: int                            # sessions not ended yet


def flow_counts(session: Session, tenant_id: str | None, campaign_id: str, f: FlowFilter = FlowFilter()
                ) -> FlowCounts:
    check_campaign(session, tenant_id, campaign_id)
    calls = _calls(campaign_id, f)
    picked = select(CallRow.call_id).where(*calls).scalar_subquery()
    node = CallEventRow.data["node"].as_string()
    steps = (select(CallEventRow.call_id.label("call_id"), node.label("node"),
                    func.lag(node).over(partition_by=CallEventRow.call_id,
                                        order_by=(CallEventRow.at, CallEventRow.seq)).label("previous"))
             .where(CallEventRow.kind == "node", CallEventRow.call_id.in_(picked)).subquery())
    reached = {n: c for n, c in session.execute(
        select(steps.c.node, func.count(func.distinct(steps.c.call_id))).group_by(steps.c.node)) if n is not None}
    moved = {(a, b): c for a, b, c in session.execute(
        select(steps.c.previous, steps.c.node, func.count(func.distinct(steps.c.call_id)))
        .where(steps.c.previous.is_not(None)).group_by(steps.c.previous, steps.c.node)) if b is not None}
    started, ended = session.execute(select(func.count(), func.count(CallRow.ended_at)).where(*calls)).one()
    left = drop_off(session, None, campaign_id, f.since, f.until, _narrowing(f))
    return FlowCounts(int(started), reached, moved, left, int(started) - int(ended))


def _narrowing(f: FlowFilter) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if f.version is not None:
        out.append(CallRow.version == f.version)
    if f.channel is not None:
        out.append(CallRow.channel == f.channel)
    return out


def _calls(campaign_id: str, f: FlowFilter) -> list[ColumnElement[bool]]:
    return [*call_conditions(None, CallFilter(campaign_id=campaign_id, since=f.since, until=f.until)), *_narrowing(f)]
