"""The business side of the store: tenants, API keys, campaigns, dialplan versions and short numbers.

Plain functions of a Session (the Store runs them in its reader threads). API keys look like
`ivr_<id>_<secret>`: the id (12 hex digits) finds the row, only the SHA-256 of the whole key is stored,
and the plain key is returned once, by `create_api_key`. Dialplan versions are numbered 1, 2, ... per
campaign and never change; saving the first version of an unknown campaign id creates the campaign for
the tenant. The active version is `campaigns.active_version`, so a campaign has at most one.

Lifecycle: a campaign is a draft until a version is first activated (`live_at`), then live; it may be
paused (and resumed), given an end (`ends_at`, after which it is ended), and archived once it no longer
runs (out of service for good, its short numbers freed). Only a draft may be deleted: nothing a campaign
collected is ever deleted.

Every change given an `actor` is written to the audit log in its own transaction (`audit`).

Short numbers: a tenant points the numbers it leases (`inventory`) at its campaigns; a campaign file's
numbers are checked when a version is saved or activated, by channel (Forbidden when the tenant does not
lease the number on that channel, Conflict when another tenant does or another campaign has it).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import NamedTuple

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ivr.i18n import Message, t

from . import audit
from .audit import Action, Actor
from .connect import insert_one
from .errors import Conflict, NotFound, StoreError
from .inventory import check_claim
from .models import ApiKeyRow, CallRow, CampaignRow, DialplanVersionRow, ReportRunRow, ShortNumberRow, TenantRow
from .money import local_day

ROLES = ("business", "operator", "admin")
FORMATS = ("yaml", "json")
KEY_PATTERN = re.compile(r"ivr_([0-9a-f]{12})_[A-Za-z0-9_-]{20,}")


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class ApiKey:
    """An API key as listed (never the key itself)."""

    id: str
    tenant_id: str
    role: str
    created_at: datetime
    revoked_at: datetime | None


class KeyOwner(NamedTuple):
    tenant_id: str
    role: str
    key_id: str


@dataclass(frozen=True)
class Lifecycle:
    """Where a campaign is in its life; `state(now)` names it."""

    live_at: datetime | None = None
    paused_at: datetime | None = None
    ends_at: datetime | None = None
    archived_at: datetime | None = None

    def state(self, now: datetime) -> str:
        if self.archived_at is not None:
            return "archived"
        if self.live_at is None:
            return "draft"
        if self.ends_at is not None and self.ends_at <= now:
            return "ended"
        return "paused" if self.paused_at is not None else "live"

    def as_dict(self, now: datetime) -> dict[str, str | None]:
        return {"state": self.state(now), **{name: value.isoformat() if value else None for name, value in (
            ("live_at", self.live_at), ("paused_at", self.paused_at), ("ends_at", self.ends_at),
            ("archived_at", self.archived_at))}}


@dataclass(frozen=True)
class Campaign:
    id: str
    tenant_id: str
    active_version: int | None
    created_at: datetime
    lifecycle: Lifecycle = Lifecycle()


@dataclass(frozen=True)
class DialplanVersion:
    campaign_id: str
    version: int
    format: str
    source_text: str
    sha256: str
    created_at: datetime
    active: bool


@dataclass(frozen=True)
class CampaignListing:
    """A campaign as listed: its current version's (the active one, else the latest) name and numbers, as
    stored with the version (None for versions saved before they were kept), and how many versions."""

    id: str
    tenant_id: str
    active_version: int | None
    versions: int
    name: str | None
    voice_numbers: list[str]
    sms_numbers: list[str]
    lifecycle: Lifecycle = Lifecycle()


@dataclass(frozen=True)
class ShortNumber:
    number: str
    tenant_id: str
    campaign_id: str | None
    assigned_at: datetime


def create_tenant(session: Session, name: str, actor: Actor | None = None) -> Tenant:
    name = name.strip()
    if not name:
        raise StoreError(t("a tenant needs a name"))
    row = {"id": secrets.token_hex(16), "name": name, "created_at": _now()}
    if not insert_one(session, TenantRow.__table__, row):                         # type: ignore[arg-type]
        raise Conflict(t("a tenant named {name!r} exists already", name=name))
    audit.record(session, actor, Action.TENANT_CREATED, row["id"], name)
    return Tenant(**row)


def tenant_by_name(session: Session, name: str) -> Tenant | None:
    row = session.scalar(select(TenantRow).where(TenantRow.name == name.strip()))
    return Tenant(row.id, row.name, row.created_at) if row else None


def tenants(session: Session) -> list[Tenant]:
    return [Tenant(r.id, r.name, r.created_at) for r in session.scalars(select(TenantRow).order_by(TenantRow.name))]


def create_api_key(session: Session, tenant_id: str, role: str, actor: Actor | None = None) -> str:
    """A new key for the tenant; the only time the plain key is seen."""
    if role not in ROLES:
        raise StoreError(t("unknown role {role!r}; expected one of {roles}", role=role, roles=", ".join(ROLES)))
    _tenant(session, tenant_id)
    key_id = secrets.token_hex(6)
    key = f"ivr_{key_id}_{secrets.token_urlsafe(32)}"
    session.add(ApiKeyRow(id=key_id, tenant_id=tenant_id, role=role, key_hash=_hash(key), created_at=_now()))
    audit.record(session, actor, Action.KEY_CREATED, tenant_id, key_id, {"role": role})
    return key


def verify_api_key(session: Session, key: str) -> KeyOwner | None:
    """Who the key belongs to, or None (unknown, revoked, or not a key)."""
    match = KEY_PATTERN.fullmatch(key.strip())
    if match is None:
        return None
    row = session.get(ApiKeyRow, match.group(1))
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, _hash(key.strip())):
        return None
    return KeyOwner(row.tenant_id, row.role, row.id)


def api_keys(session: Session, tenant_id: str) -> list[ApiKey]:
    rows = session.scalars(select(ApiKeyRow).where(ApiKeyRow.tenant_id == tenant_id).order_by(ApiKeyRow.created_at))
    return [ApiKey(r.id, r.tenant_id, r.role, r.created_at, r.revoked_at) for r in rows]


def revoke_api_key(session: Session, tenant_id: str | None, key_id: str, actor: Actor | None = None) -> None:
    """Revoke a key of the tenant (None: of any tenant)."""
    row = session.get(ApiKeyRow, key_id)
    if row is None or tenant_id is not None and row.tenant_id != tenant_id:
        raise NotFound(t("no API key {key!r}", key=key_id))
    if row.revoked_at is None:
        row.revoked_at = _now()
        audit.record(session, actor, Action.KEY_REVOKED, row.tenant_id, key_id, {"role": row.role})


def save_dialplan_version(session: Session, tenant_id: str, campaign_id: str, source_text: str, fmt: str,
                          claim: tuple[str, ...] = (), share: tuple[str, ...] = (), name: str | None = None,
                          voice_numbers: tuple[str, ...] = (), sms_numbers: tuple[str, ...] = (),
                          actor: Actor | None = None) -> int:
    """Keep a new version of the campaign's dialplan with its name and numbers (for listings); its number.
    The tenant must lease every number of `voice_numbers` and `sms_numbers` on that channel (Forbidden, or
    Conflict when another tenant does, and nothing saved). The short numbers in `claim` are assigned to
    the campaign in the same transaction (Conflict when one points at another of its campaigns); the
    numbers in `share` (SMS numbers the campaign answers by keyword) become the tenant's. The first
    problem in the file's order is the one told."""
    if fmt not in FORMATS:
        raise StoreError(t("unknown dialplan format {fmt!r}; expected one of {formats}", fmt=fmt,
                           formats=", ".join(FORMATS)))
    _tenant(session, tenant_id)
    insert_one(session, CampaignRow.__table__,                                     # type: ignore[arg-type]
               {"id": campaign_id, "tenant_id": tenant_id, "created_at": _now()})
    campaign = session.get(CampaignRow, campaign_id, with_for_update=True)      # one save at a time
    if campaign is None or campaign.tenant_id != tenant_id:
        raise Conflict(t("campaign id {campaign!r} is taken by another tenant", campaign=campaign_id))
    if campaign.archived_at is not None:
        raise Conflict(t("campaign {campaign!r} is archived", campaign=campaign_id))
    today = local_day(_now())
    for number in dict.fromkeys((*voice_numbers, *sms_numbers, *claim, *share)):   # the file's order
        channels = [c for c, listed in (("voice", voice_numbers), ("sms", sms_numbers)) if number in listed]
        for channel in channels or [None]:
            check_claim(session, tenant_id, number, channel, today)
        row = session.get(ShortNumberRow, number, with_for_update=True)
        if number in claim:
            if row is not None and row.tenant_id == tenant_id and row.campaign_id not in (None, campaign_id):
                raise Conflict(t("number {number} is used by another campaign ({campaign})", number=number, campaign=row.campaign_id))
            assign_number(session, tenant_id, number, campaign_id)
        elif number in share and (row is None or row.tenant_id != tenant_id):   # free, or left by an ended lease
            assign_number(session, tenant_id, number, None)
    version = (session.scalar(select(func.max(DialplanVersionRow.version))
                              .where(DialplanVersionRow.campaign_id == campaign_id)) or 0) + 1
    sha256 = hashlib.sha256(source_text.encode()).hexdigest()
    session.add(DialplanVersionRow(campaign_id=campaign_id, version=version, format=fmt, source_text=source_text,
                                   sha256=sha256, created_at=_now(),
                                   name=name, voice_numbers=list(voice_numbers), sms_numbers=list(sms_numbers)))
    audit.record(session, actor, Action.VERSION_UPLOADED, tenant_id, campaign_id,
                 {"version": version, "sha256": sha256, "numbers": list(claim)})
    return version


def check_leases(session: Session, tenant_id: str, voice_numbers: Sequence[str],
                 sms_numbers: Sequence[str]) -> None:
    """Forbidden when the tenant does not lease one of the numbers on its channel (today or from a day to
    come), Conflict when another tenant does."""
    today = local_day(_now())
    for channel, numbers in (("voice", voice_numbers), ("sms", sms_numbers)):
        for number in numbers:
            check_claim(session, tenant_id, number, channel, today)


def activate_version(session: Session, tenant_id: str, campaign_id: str, version: int,
                     actor: Actor | None = None) -> None:
    """Put a version in service; its numbers must still be leased to the tenant (as on saving)."""
    campaign = _campaign(session, tenant_id, campaign_id)
    row = session.scalar(select(DialplanVersionRow).where(DialplanVersionRow.campaign_id == campaign_id,
                                                          DialplanVersionRow.version == version))
    if row is None:
        raise NotFound(t("campaign {campaign!r} has no version {version}", campaign=campaign_id, version=version))
    if campaign.archived_at is not None:
        raise Conflict(t("campaign {campaign!r} is archived", campaign=campaign_id))
    check_leases(session, tenant_id, row.voice_numbers or [], row.sms_numbers or [])
    audit.record(session, actor, Action.VERSION_ACTIVATED, tenant_id, campaign_id,
                 {"version": version, "previous": campaign.active_version})
    campaign.active_version = version
    if campaign.live_at is None:
        campaign.live_at = _now()


def active_version(session: Session, tenant_id: str, campaign_id: str) -> DialplanVersion | None:
    campaign = _campaign(session, tenant_id, campaign_id)
    if campaign.active_version is None:
        return None
    row = session.scalar(select(DialplanVersionRow).where(DialplanVersionRow.campaign_id == campaign_id,
                                                          DialplanVersionRow.version == campaign.active_version))
    return _version(row, campaign.active_version) if row else None


def list_versions(session: Session, tenant_id: str, campaign_id: str) -> list[DialplanVersion]:
    campaign = _campaign(session, tenant_id, campaign_id)
    rows = session.scalars(select(DialplanVersionRow).where(DialplanVersionRow.campaign_id == campaign_id)
                           .order_by(DialplanVersionRow.version))
    return [_version(r, campaign.active_version) for r in rows]


def campaigns(session: Session, tenant_id: str | None) -> list[Campaign]:
    """The tenant's campaigns (None: every tenant's)."""
    query = select(CampaignRow).order_by(CampaignRow.id)
    rows = session.scalars(query if tenant_id is None else query.where(CampaignRow.tenant_id == tenant_id))
    return [Campaign(r.id, r.tenant_id, r.active_version, r.created_at, _lifecycle(r)) for r in rows]


def lifecycles(session: Session) -> dict[str, Lifecycle]:
    """The lifecycle of every campaign that is not a draft."""
    rows = session.scalars(select(CampaignRow).where(CampaignRow.live_at.is_not(None)))
    return {row.id: _lifecycle(row) for row in rows}


def pause(session: Session, tenant_id: str, campaign_id: str, actor: Actor | None = None) -> Lifecycle:
    """New calls and messages get the campaign's closed text until it is resumed."""
    row = _running(session, tenant_id, campaign_id, t("campaign {campaign!r} is archived and cannot be paused",
                                                      campaign=campaign_id))
    if row.paused_at is None:
        row.paused_at = _now()
        audit.record(session, actor, Action.CAMPAIGN_PAUSED, tenant_id, campaign_id)
    return _lifecycle(row)


def resume(session: Session, tenant_id: str, campaign_id: str, actor: Actor | None = None) -> Lifecycle:
    row = _running(session, tenant_id, campaign_id, t("campaign {campaign!r} is archived and cannot be resumed",
                                                      campaign=campaign_id))
    if row.paused_at is not None:
        row.paused_at = None
        audit.record(session, actor, Action.CAMPAIGN_RESUMED, tenant_id, campaign_id)
    return _lifecycle(row)


def end_at(session: Session, tenant_id: str, campaign_id: str, at: datetime | None,
           actor: Actor | None = None) -> Lifecycle:
    """The campaign closes at `at` (now or later; None: it has no end)."""
    row = _running(session, tenant_id, campaign_id, t("campaign {campaign!r} is archived and cannot be ended",
                                                      campaign=campaign_id))
    audit.record(session, actor, Action.CAMPAIGN_END_SET, tenant_id, campaign_id, {
        "ends_at": at.isoformat() if at else None, "previous": row.ends_at.isoformat() if row.ends_at else None})
    row.ends_at = at
    return _lifecycle(row)


def archive(session: Session, tenant_id: str, campaign_id: str, actor: Actor | None = None) -> Lifecycle:
    """Out of service for good (its results stay); its short numbers are freed. Only a paused or ended
    campaign (or a draft) is archived: a live one is paused or ended first."""
    row = _campaign(session, tenant_id, campaign_id, lock=True)
    lifecycle = _lifecycle(row)
    if lifecycle.state(_now()) == "live":
        raise Conflict(t("campaign {campaign!r} is live: pause or end it before archiving it", campaign=campaign_id))
    if row.archived_at is None:
        row.archived_at = _now()
        freed = session.execute(update(ShortNumberRow).where(ShortNumberRow.campaign_id == campaign_id)
                                .values(campaign_id=None).returning(ShortNumberRow.number)).scalars().all()
        audit.record(session, actor, Action.CAMPAIGN_ARCHIVED, tenant_id, campaign_id, {"numbers_freed": sorted(freed)})
    return _lifecycle(row)


def delete_draft(session: Session, tenant_id: str, campaign_id: str, actor: Actor | None = None) -> None:
    """Delete a campaign that never went live, with its versions (Conflict for any other)."""
    row = _campaign(session, tenant_id, campaign_id, lock=True)
    if row.live_at is not None or row.active_version is not None or session.scalar(
            select(CallRow.call_id).where(CallRow.campaign_id == campaign_id).limit(1)) is not None:
        raise Conflict(t("campaign {campaign!r} has been in service: archive it instead (results are kept)",
                         campaign=campaign_id))
    session.execute(update(ShortNumberRow).where(ShortNumberRow.campaign_id == campaign_id).values(campaign_id=None))
    audit.record(session, actor, Action.CAMPAIGN_DELETED, tenant_id, campaign_id)
    session.delete(row)


def _running(session: Session, tenant_id: str, campaign_id: str, archived: Message) -> CampaignRow:
    """The campaign's row, locked; Conflict with `archived` when it is archived, or when it is a draft."""
    row = _campaign(session, tenant_id, campaign_id, lock=True)
    if row.archived_at is not None:
        raise Conflict(archived)
    if row.live_at is None:
        raise Conflict(t("campaign {campaign!r} is a draft: put a version in service first", campaign=campaign_id))
    return row


def _lifecycle(row: CampaignRow) -> Lifecycle:
    return Lifecycle(row.live_at, row.paused_at, row.ends_at, row.archived_at)


def campaign_listing(session: Session, tenant_id: str | None) -> list[CampaignListing]:
    """The tenant's campaigns (None: every tenant's) with their current version's stored name and numbers,
    read without any source text."""
    query = select(CampaignRow).order_by(CampaignRow.id)
    campaigns = list(session.scalars(query if tenant_id is None else query.where(CampaignRow.tenant_id == tenant_id)))
    versions = select(DialplanVersionRow.campaign_id, DialplanVersionRow.version, DialplanVersionRow.name,
                      DialplanVersionRow.voice_numbers, DialplanVersionRow.sms_numbers)
    if tenant_id is not None:
        versions = versions.join(CampaignRow, CampaignRow.id == DialplanVersionRow.campaign_id).where(
            CampaignRow.tenant_id == tenant_id)
    by_campaign: dict[str, list] = {}
    for row in session.execute(versions.order_by(DialplanVersionRow.campaign_id, DialplanVersionRow.version)):
        by_campaign.setdefault(row.campaign_id, []).append(row)
    out = []
    for campaign in campaigns:
        rows = by_campaign.get(campaign.id, [])
        current = next((r for r in rows if r.version == campaign.active_version), rows[-1] if rows else None)
        out.append(CampaignListing(campaign.id, campaign.tenant_id, campaign.active_version, len(rows),
                                   current.name if current else None,
                                   list(current.voice_numbers or []) if current else [],
                                   list(current.sms_numbers or []) if current else [], _lifecycle(campaign)))
    return out


def assign_number(session: Session, tenant_id: str, number: str, campaign_id: str | None,
                  actor: Actor | None = None) -> ShortNumber:
    """Point a number the tenant leases (now or from a day to come) at one of its campaigns (None: at
    none); Forbidden when it does not lease it, Conflict when another tenant does."""
    _tenant(session, tenant_id)
    if campaign_id is not None and _campaign(session, tenant_id, campaign_id).archived_at is not None:
        raise Conflict(t("campaign {campaign!r} is archived", campaign=campaign_id))
    check_claim(session, tenant_id, number, None, local_day(_now()))
    insert_one(session, ShortNumberRow.__table__,                                  # type: ignore[arg-type]
               {"number": number, "tenant_id": tenant_id, "campaign_id": campaign_id, "assigned_at": _now()})
    row = session.get(ShortNumberRow, number, with_for_update=True)
    assert row is not None
    if row.tenant_id != tenant_id:                   # left by a lease that has ended since
        row.tenant_id, row.assigned_at = tenant_id, _now()
    audit.record(session, actor, Action.NUMBER_ASSIGNED, tenant_id, number,
                 {"campaign_id": campaign_id, "previous": row.campaign_id})
    row.campaign_id = campaign_id
    return ShortNumber(row.number, row.tenant_id, row.campaign_id, row.assigned_at)


def release_number(session: Session, tenant_id: str, number: str, actor: Actor | None = None) -> None:
    """Point the tenant's number at no campaign (its lease goes on: admins end leases)."""
    row = session.get(ShortNumberRow, number)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound(t("number {number} points at none of your campaigns", number=number))
    audit.record(session, actor, Action.NUMBER_RELEASED, tenant_id, number, {"campaign_id": row.campaign_id})
    session.delete(row)


def numbers(session: Session, tenant_id: str | None) -> list[ShortNumber]:
    """The tenant's short numbers (None: every tenant's)."""
    query = select(ShortNumberRow).order_by(ShortNumberRow.number)
    rows = session.scalars(query if tenant_id is None else query.where(ShortNumberRow.tenant_id == tenant_id))
    return [ShortNumber(r.number, r.tenant_id, r.campaign_id, r.assigned_at) for r in rows]


def campaign_owner(session: Session, campaign_id: str) -> str | None:
    """The id of the tenant owning the campaign; None when the database does not know it."""
    return session.scalar(select(CampaignRow.tenant_id).where(CampaignRow.id == campaign_id))


def active_versions(session: Session) -> list[tuple[str, DialplanVersion]]:
    """(tenant id, active version) of every campaign of every tenant that has one in service (archived
    campaigns have none)."""
    rows = session.execute(select(CampaignRow.tenant_id, DialplanVersionRow).join(
        CampaignRow, (CampaignRow.id == DialplanVersionRow.campaign_id)
        & (CampaignRow.active_version == DialplanVersionRow.version))
        .where(CampaignRow.archived_at.is_(None)).order_by(CampaignRow.id))
    return [(tenant_id, _version(row, row.version)) for tenant_id, row in rows]


def _tenant(session: Session, tenant_id: str) -> TenantRow:
    row = session.get(TenantRow, tenant_id)
    if row is None:
        raise NotFound(t("no tenant {tenant!r}", tenant=tenant_id))
    return row


def _campaign(session: Session, tenant_id: str, campaign_id: str, lock: bool = False) -> CampaignRow:
    row = session.get(CampaignRow, campaign_id, with_for_update=lock)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound(t("no campaign {campaign!r}", campaign=campaign_id))
    return row


def _version(row: DialplanVersionRow, active: int | None) -> DialplanVersion:
    return DialplanVersion(row.campaign_id, row.version, row.format, row.source_text, row.sha256, row.created_at,
                           row.version == active)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def claim_report(session: Session, campaign_id: str, period_end: datetime) -> bool:
    """True for the one caller (of every node) that is to send this campaign's report for this period."""
    return insert_one(session, ReportRunRow.__table__, {"campaign_id": campaign_id, "period_end": period_end,
                                                         "claimed_at": datetime.now(timezone.utc)})


def release_report(session: Session, campaign_id: str, period_end: datetime) -> None:
    """Give the claim back (the report could not be sent: it is tried again)."""
    session.execute(delete(ReportRunRow).where(ReportRunRow.campaign_id == campaign_id,
                                               ReportRunRow.period_end == period_end))
