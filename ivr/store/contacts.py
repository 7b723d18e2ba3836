"""A business's contact base, and erasing one person's number on request.

The contact base is read from the traffic itself: every number that called or texted the tenant's
campaigns (one campaign's, or all), with when it was first and last seen, the campaigns, its marketing
consent (the latest outcome of kind "consent": yes/так/да/true/1 given, no/ні/нет/false/0 withdrawn) and
whether it opted out of SMS on any number it used. Numbers whose consent is withdrawn are left out.

Erasure replaces a number by a pseudonym ("erased:" and random hex, the same in every table, so
one-vote-per-caller and every tally stay as they were) in calls, outcomes, votes, codes, SMS messages and
the outbox, and deletes its SMS conversations in progress. The block list keeps the number: erasing must
not subscribe someone again (the suppression list is the one record kept, to honour the opt-out).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from .models import (CallRow, CampaignRow, OutcomeRow, PromoCodeRow, SmsMessageRow, SmsOptOutRow, SmsOutboxRow,
                     SmsSessionRow, VoteRow)
from .queries import CsvRow

YES = ("yes", "y", "так", "да", "true", "1", "agree", "згоден", "згодна", "согласен")
NO = ("no", "n", "ні", "нет", "false", "0")
ERASED = "erased:"


@dataclass(frozen=True)
class Contact(CsvRow):
    number: str
    first_seen: datetime
    last_seen: datetime
    campaigns: str                     # campaign ids, space-separated
    consent: str | None                # "yes", "no" or None (never asked)
    consent_at: datetime | None
    opted_out: bool


def contacts(session: Session, tenant_id: str | None, campaign_id: str | None) -> list[Contact]:
    """The contact base (see the module docstring), ordered by number."""
    calls = select(CallRow.caller, CallRow.campaign_id, CallRow.number, CallRow.started_at).where(
        ~CallRow.caller.startswith(ERASED))
    if campaign_id is not None:
        calls = calls.where(CallRow.campaign_id == campaign_id)
    if tenant_id is not None:
        calls = calls.where(CallRow.campaign_id.in_(select(CampaignRow.id).where(CampaignRow.tenant_id == tenant_id)))
    seen: dict[str, dict[str, Any]] = {}
    for caller, campaign, number, at in session.execute(calls):
        entry = seen.setdefault(caller, {"first": at, "last": at, "campaigns": set(), "numbers": set()})
        entry["first"], entry["last"] = min(entry["first"], at), max(entry["last"], at)
        entry["campaigns"].add(campaign)
        entry["numbers"].add(number)
    if not seen:
        return []
    consent: dict[str, tuple[str, datetime]] = {}
    query = select(OutcomeRow.caller, OutcomeRow.value, OutcomeRow.at).where(
        OutcomeRow.kind == "consent", OutcomeRow.caller.in_(list(seen)))
    if campaign_id is not None:
        query = query.where(OutcomeRow.campaign_id == campaign_id)
    for caller, value, at in session.execute(query.order_by(OutcomeRow.at)):
        word = value.strip().lower()
        if word in YES or word in NO:
            consent[caller] = ("yes" if word in YES else "no", at)
    optouts = {(number, caller) for number, caller in session.execute(
        select(SmsOptOutRow.number, SmsOptOutRow.caller).where(SmsOptOutRow.caller.in_(list(seen))))}
    out = []
    for caller in sorted(seen):
        entry = seen[caller]
        given = consent.get(caller)
        if given is not None and given[0] == "no":
            continue
        out.append(Contact(caller, entry["first"], entry["last"], " ".join(sorted(entry["campaigns"])),
                           given[0] if given else None, given[1] if given else None,
                           any((number, caller) in optouts for number in entry["numbers"])))
    return out


def erase(session: Session, number: str) -> dict[str, int]:
    """Replace `number` everywhere by one pseudonym; rows changed per table (all 0: an unknown number)."""
    pseudonym = ERASED + secrets.token_hex(8)
    changed = {}
    for name, column in (("calls", CallRow.caller), ("outcomes", OutcomeRow.caller), ("votes", VoteRow.caller),
                         ("promo_codes", PromoCodeRow.redeemed_by), ("sms_messages", SmsMessageRow.caller),
                         ("sms_outbox", SmsOutboxRow.recipient)):
        changed[name] = session.execute(update(column.class_).where(column == number)
                                        .values({column.key: pseudonym})).rowcount
    changed["sms_sessions"] = session.execute(delete(SmsSessionRow).where(SmsSessionRow.caller == number)).rowcount
    changed["kept_on_block_list"] = int(session.scalar(select(func.count()).select_from(SmsOptOutRow)
                                                       .where(SmsOptOutRow.caller == number)) or 0)
    return changed
