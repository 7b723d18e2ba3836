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
- `charge_sms_out`: inside `outbox.enqueue`, for every message queued to be sent;
- `charge_fees`: a periodic job on any node (`Store.charge_fees`), for every month of every lease.

What prices an event is a `Pricing`: the node's operator prefix table (the operator of a subscriber
comes from the SMSC link when the caller knows it, `operator`, else from the table, else it is
"unknown") and the writer's `TariffBook`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.numbering.operators import UKRAINE, OperatorTable

from .connect import insert_ignore, insert_one
from .models import ChargeRow, NumberLeaseRow, NumberRow
from .money import day_start, local_day, month_of, next_month
from .rating import Priced, Tariff, price_call, price_fee, price_sms_in, price_sms_out
from .tariffs import TariffBook

PriceOf = Callable[[Tariff, str], Priced | None]          # (tariff, operator) → the event priced, or None


class ChargeBatch:
    """The charges priced during one writer transaction, inserted together just before it commits: one
    statement for all of them instead of one each (the UNIQUE event key still decides which are new).
    Belongs to the writer thread, which empties it at the start of each transaction."""

    def __init__(self) -> None:
        self.rows: list[dict[str, object]] = []

    def clear(self) -> None:
        self.rows.clear()

    def write(self, session: Session) -> None:
        insert_ignore(session, ChargeRow.__table__, self.rows)                    # type: ignore[arg-type]
        self.rows.clear()


@dataclass(frozen=True)
class Pricing:
    """What events are priced with: the operator prefix table and the tariffs (the writer's book keeps
    them a few seconds; the default asks the database every time), and where charges go: the writer's
    batch, else straight into the table."""

    operators: OperatorTable = UKRAINE
    book: TariffBook = field(default_factory=TariffBook)
    batch: ChargeBatch | None = None

    def operator_of(self, subscriber: str, link_operator: str | None = None) -> str:
        return link_operator or self.operators.operator_of(subscriber)


ASK_EVERY_TIME = Pricing()


def charge_sms_in(session: Session, *, message_id: str, campaign_id: str | None, number: str, caller: str,
                  at: datetime, operator: str | None = None, pricing: Pricing = ASK_EVERY_TIME) -> bool:
    """Charge an inbound SMS (premium or business-paid); True when it is billable and its charge was written
    now (or goes into the writer's batch of this transaction, where a charge with its key is skipped)."""
    return _charge(session, pricing, f"sms-in:{message_id}", campaign_id, number, "sms", at,
                   pricing.operator_of(caller, operator), lambda t, op: price_sms_in(t, op))


def charge_call(session: Session, *, call_id: str, campaign_id: str | None, number: str, caller: str,
                answered_at: datetime | None, ended_at: datetime, pricing: Pricing = ASK_EVERY_TIME) -> bool:
    """Charge a call that ended (premium or business-paid, per call or per started step of a minute)."""
    talked = None if answered_at is None else max(timedelta(0), ended_at - answered_at)
    return _charge(session, pricing, f"call:{call_id}", campaign_id, number, "voice", ended_at,
                   pricing.operator_of(caller), lambda t, op: price_call(t, op, talked))


def charge_sms_out(session: Session, *, message_id: str, campaign_id: str | None, number: str, recipient: str,
                   parts: int, at: datetime, operator: str | None = None,
                   pricing: Pricing = ASK_EVERY_TIME) -> bool:
    """Charge an outbound SMS of `parts` parts to the tenant of its campaign (no campaign: the tenant
    leasing the number that day). Call it in the transaction that queues the message; `message_id` is
    the outbox row's id, so queueing it again charges nothing more."""
    return _charge(session, pricing, f"sms-out:{message_id}", campaign_id, number, "sms", at,
                   pricing.operator_of(recipient, operator), lambda t, _op: price_sms_out(t, parts))


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


def _charge(session: Session, pricing: Pricing, key: str, campaign_id: str | None, number: str, channel: str,
            at: datetime, operator: str, price: PriceOf) -> bool:
    if campaign_id:
        tenant_id, tariff = pricing.book.campaign(session, campaign_id, number, channel, at)
    else:
        tenant_id = _lessee(session, number, at)
        tariff = pricing.book.number(session, tenant_id, number, channel, at) if tenant_id is not None else None
    priced = price(tariff, operator) if tariff is not None else None
    if tenant_id is None or tariff is None or priced is None:
        return False
    row = _row(key, priced, at, tenant_id, campaign_id, number, operator, channel, tariff.id, tariff.currency)
    if pricing.batch is not None:
        pricing.batch.rows.append(row)
        return True
    return insert_one(session, ChargeRow.__table__, row)                            # type: ignore[arg-type]


def _lessee(session: Session, number: str, at: datetime) -> str | None:
    """The tenant leasing the number on the day of `at`."""
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

