"""Charges: one row per billable event, written in the transaction of the event it prices.

Each function prices its event by the tariff in force when it happened (`tariffs.tariff_for`, rated by
`rating`) and inserts one `charges` row keyed by the event: "sms-in:MESSAGE-ID", "call:CALL-ID",
"sms-out:MESSAGE-ID", "fee:NUMBER:YYYY-MM:TENANT-ID". The UNIQUE event key decides with INSERT ... ON
CONFLICT DO NOTHING, so the same SMS id twice, a spool replayed after an outage or a call end retried
is charged once, by whichever writer of whichever node comes first. Nothing is written for events no
tariff makes billable (subscriber pays, no tariff, a campaign the database does not know).

Where each is called:
- `charge_sms_in`: inside `traffic.sms_claim`, once the message is new (the claim's transaction);
- `charge_call`: inside the writer's CallEnded handling (`traffic`), from the call's answer to its end;
- `charge_sms_out`: by whoever queues an outbound SMS, inside the transaction that inserts it;
- `charge_fees`: a periodic job on any node (`Store.charge_fees`), for every month of every lease.

The operator of a subscriber comes from the SMSC link when the caller knows it (`operator`), else from
the node's prefix table (`operators`), else it is "unknown".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.numbering.operators import UKRAINE, OperatorTable

from .connect import insert_one
from .models import CampaignRow, ChargeRow, NumberLeaseRow, NumberRow
from .money import day_start, local_day, month_of, next_month
from .rating import Priced, Tariff, price_call, price_fee, price_sms_in, price_sms_out
from .tariffs import tariff_for

PriceOf = Callable[[Tariff, str], Priced | None]          # (tariff, operator) → the event priced, or None


def charge_sms_in(session: Session, *, message_id: str, campaign_id: str | None, number: str, caller: str,
                  at: datetime, operator: str | None = None, operators: OperatorTable = UKRAINE) -> bool:
    """Charge an inbound SMS (premium or business-paid); True when a charge was written now."""
    return _charge(session, f"sms-in:{message_id}", campaign_id, number, "sms", at,
                   operator or operators.operator_of(caller), lambda t, op: price_sms_in(t, op))


def charge_call(session: Session, *, call_id: str, campaign_id: str | None, number: str, caller: str,
                answered_at: datetime | None, ended_at: datetime, operators: OperatorTable = UKRAINE) -> bool:
    """Charge a call that ended (premium or business-paid, per call or per started step of a minute)."""
    talked = None if answered_at is None else max(timedelta(0), ended_at - answered_at)
    return _charge(session, f"call:{call_id}", campaign_id, number, "voice", ended_at,
                   operators.operator_of(caller), lambda t, op: price_call(t, op, talked))


def charge_sms_out(session: Session, *, message_id: str, campaign_id: str | None, number: str, recipient: str,
                   parts: int, at: datetime, operator: str | None = None,
                   operators: OperatorTable = UKRAINE) -> bool:
    """Charge an outbound SMS of `parts` parts to the tenant of its campaign (no campaign: the tenant
    leasing the number that day). Call it in the transaction that queues the message; `message_id` is
    the outbox row's id, so queueing it again charges nothing more."""
    return _charge(session, f"sms-out:{message_id}", campaign_id, number, "sms", at,
                   operator or operators.operator_of(recipient), lambda t, _op: price_sms_out(t, parts))


def charge_fees(session: Session, now: datetime) -> int:
    """Charge every lease its monthly fee for each month it ran in, up to this one (a month's fee is
    due in full once the lease has begun in it); the number of fees charged now."""
    this_month, today = month_of(now), local_day(now)
    done = set(session.scalars(select(ChargeRow.event_key).where(ChargeRow.item == "monthly_fee")))
    charged = 0
    for lease, fee, currency in session.execute(
            select(NumberLeaseRow, NumberRow.monthly_fee, NumberRow.currency).join(NumberRow)
            .where(NumberLeaseRow.starts_on <= today, NumberRow.monthly_fee > 0)):
        last = min(this_month, lease.ends_on.replace(day=1)) if lease.ends_on else this_month
        month = lease.starts_on.replace(day=1)
        while month <= last:
            key = fee_key(lease.number, month, lease.tenant_id)
            if key not in done:
                done.add(key)
                row = _row(key, price_fee(fee), day_start(max(month, lease.starts_on)), lease.tenant_id, None,
                           lease.number, "", lease.channels, None, currency)
                charged += insert_one(session, ChargeRow.__table__, row)         # type: ignore[arg-type]
            month = next_month(month)
    return charged


def fee_key(number: str, month: date, tenant_id: str) -> str:
    return f"fee:{number}:{month:%Y-%m}:{tenant_id}"


def _charge(session: Session, key: str, campaign_id: str | None, number: str, channel: str, at: datetime,
            operator: str, price: PriceOf) -> bool:
    tenant_id = _tenant_of(session, campaign_id, number, at)
    if tenant_id is None:
        return False
    tariff = tariff_for(session, tenant_id, campaign_id, number, channel, at)
    priced = price(tariff, operator) if tariff is not None else None
    if tariff is None or priced is None:
        return False
    return insert_one(session, ChargeRow.__table__,                                 # type: ignore[arg-type]
                      _row(key, priced, at, tenant_id, campaign_id, number, operator, channel, tariff.id,
                           tariff.currency))


def _tenant_of(session: Session, campaign_id: str | None, number: str, at: datetime) -> str | None:
    if campaign_id:
        return session.scalar(select(CampaignRow.tenant_id).where(CampaignRow.id == campaign_id))
    day = local_day(at)
    return session.scalar(select(NumberLeaseRow.tenant_id).where(
        NumberLeaseRow.number == number, NumberLeaseRow.starts_on <= day,
        (NumberLeaseRow.ends_on.is_(None)) | (NumberLeaseRow.ends_on >= day)))


def _row(key: str, priced: Priced, at: datetime, tenant_id: str, campaign_id: str | None, number: str,
         operator: str, channel: str, tariff_id: int | None, currency: str) -> dict[str, object]:
    return {"event_key": key, "item": priced.item, "at": at, "tenant_id": tenant_id, "campaign_id": campaign_id or None,
            "number": number, "operator": operator, "channel": channel, "tariff_id": tariff_id,
            "quantity": priced.quantity, "unit": priced.unit, "amount": priced.amount, "revenue": priced.revenue,
            "share": priced.share, "currency": currency}

