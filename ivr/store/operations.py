"""Reads for the operator's node page: traffic per minute (calls by campaign, SMS in and out) and the
latest failed webhooks, from every node sharing the store.

`tenant_id` scopes as in `queries` (None: every tenant): calls through their campaign, SMS through the
short number they were sent to (the tenant's numbers), failures through their call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import CallEventRow, CallRow, ShortNumberRow, SmsMessageRow, SmsOutboxRow
from .queries import CallFilter, call_conditions, inbound_per_minute, minute_of, minute_start, outbound_per_minute

FAILURE_KINDS = ("webhook_result", "notify_result")      # timeline events of effects that call a URL


@dataclass(frozen=True)
class WebhookFailure:
    at: datetime
    call_id: str
    campaign_id: str
    channel: str
    node: str | None
    status: int | None
    error: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "call_id": self.call_id, "campaign_id": self.campaign_id,
                "channel": self.channel, "node": self.node, "status": self.status, "error": self.error}


def calls_per_minute_by_campaign(session: Session, tenant_id: str | None, since: datetime, until: datetime
                                 ) -> dict[str, list[tuple[datetime, int]]]:
    """Voice calls started in each minute of [since, until), by campaign (minutes without calls left out)."""
    minute = minute_of(session, CallRow.started_at)
    conditions = call_conditions(tenant_id, CallFilter(channel="voice", since=since, until=until))
    out: dict[str, list[tuple[datetime, int]]] = {}
    for campaign_id, m, count in session.execute(
            select(CallRow.campaign_id, minute.label("minute"), func.count()).where(*conditions)
            .group_by(CallRow.campaign_id, "minute").order_by(CallRow.campaign_id, "minute")):
        out.setdefault(campaign_id, []).append((minute_start(m), count))
    return out


def sms_per_minute(session: Session, tenant_id: str | None, since: datetime, until: datetime
                   ) -> list[tuple[datetime, int, int]]:
    """(minute, received, sent) for each minute of [since, until) with messages (index `ix_sms_messages_at`)."""
    received_where, sent_where = [], []
    if tenant_id is not None:
        numbers = select(ShortNumberRow.number).where(ShortNumberRow.tenant_id == tenant_id)
        received_where.append(SmsMessageRow.number.in_(numbers))
        sent_where.append(SmsOutboxRow.number.in_(numbers))
    received = inbound_per_minute(session, since, until, *received_where)
    sent = outbound_per_minute(session, since, until, *sent_where)
    return [(at, received.get(at, 0), sent.get(at, 0)) for at in sorted(received.keys() | sent.keys())]


def webhook_failures(session: Session, tenant_id: str | None, since: datetime, limit: int = 20
                     ) -> list[WebhookFailure]:
    """The latest webhooks (and notify webhooks) that failed after their retries, newest first
    (index `ix_call_events_kind_at`)."""
    query = (select(CallEventRow.at, CallEventRow.call_id, CallRow.campaign_id, CallRow.channel, CallEventRow.data)
             .join(CallRow, CallRow.call_id == CallEventRow.call_id)
             .where(CallEventRow.kind.in_(FAILURE_KINDS), CallEventRow.at >= since,
                    CallEventRow.data["ok"].as_boolean().is_(False), *call_conditions(tenant_id, CallFilter()))
             .order_by(CallEventRow.at.desc()).limit(limit))
    return [WebhookFailure(at, call_id, campaign_id, channel, data.get("node"), data.get("status"), data.get("error"))
            for at, call_id, campaign_id, channel, data in session.execute(query)]
