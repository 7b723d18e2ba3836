"""Tables of the statistics store (SQLAlchemy 2): the same schema on SQLite and PostgreSQL.

Business side: tenants, their API keys (hashed), campaigns (with their lifecycle: live since, paused,
ending, archived), immutable dialplan versions (the active one is `campaigns.active_version`, so there is
at most one) and short numbers pointed at campaigns. Money side: the provider's number inventory, leases
of numbers to tenants, tariffs, and charges (one per billable event, its event key UNIQUE, so a replayed
event is charged once); amounts are integers of the minor unit (kopiykas), never floats (see `money`).
Code pools: a tenant's named pools of promo codes (`code_pools`), the
imports that fill them (`code_imports`) and their codes (`pool_codes`; a code counts only once its import
is committed). Draws: a frozen list of a campaign's entries with its SHA-256 (`draws`, `draw_entries`) and
the winners drawn from it (`draw_winners`). Traffic side: calls (voice
calls and SMS sessions alike), their timeline (call_events), outcomes, votes (one per caller and window:
a UNIQUE constraint decides), promo codes (single use: a conditional UPDATE decides), SMS sessions and
messages; and the audit log (who changed what: uploads, activations, keys, tenants, numbers). Traffic
rows name their campaign by id without a foreign key: campaigns may come from files on the node rather
than from the database, and records must be writable in any order after an outage.

Every time is stored in UTC and read back timezone-aware on both databases (`UtcDateTime`).
Schema changes go through Alembic (`ivr/store/migrations`); the tests compare both.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (JSON, BigInteger, Date, DateTime, Dialect, Float, ForeignKey, Index, Integer, MetaData,
                        String, Text, TypeDecorator, UniqueConstraint, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite keeps naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps UTC times only")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class TenantRow(Base):
    """A business running campaigns."""

    __tablename__ = "tenants"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiKeyRow(Base):
    """An API key: `id` is the public part of the key, only the SHA-256 of the whole key is kept."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(32), ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CampaignRow(Base):
    """A campaign owned by a tenant; `active_version` is the dialplan version in service. Lifecycle: `live_at`
    (first put in service), `paused_at` (paused now), `ends_at` (closes then), `archived_at` (out of service
    for good; its results stay)."""

    __tablename__ = "campaigns"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(32), ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    active_version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    live_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DialplanVersionRow(Base):
    """One saved dialplan of a campaign; rows are never updated."""

    __tablename__ = "dialplan_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(String(64), ForeignKey("campaigns.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(8))
    source_text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    name: Mapped[str | None] = mapped_column(String(200))                  # the file's name and numbers, kept
    voice_numbers: Mapped[list[str] | None] = mapped_column(JSON)          # so listings never parse sources
    sms_numbers: Mapped[list[str] | None] = mapped_column(JSON)
    __table_args__ = (UniqueConstraint("campaign_id", "version"),)


class ShortNumberRow(Base):
    """A short number a tenant leases, pointed at one of its campaigns (None: at none)."""

    __tablename__ = "short_numbers"
    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(32), ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[str | None] = mapped_column(String(64), ForeignKey("campaigns.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime)


class NumberRow(Base):
    """A short number of the provider's inventory: class (regular/golden), the channels it carries
    (sms, voice or both) and its monthly fee (minor units, VAT excluded)."""

    __tablename__ = "numbers"
    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    number_class: Mapped[str] = mapped_column("class", String(8))
    channels: Mapped[str] = mapped_column(String(8))
    monthly_fee: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)


class NumberLeaseRow(Base):
    """A number leased to a tenant from `starts_on` to `ends_on` (both included; None: until ended), on
    some of its channels. Leases of one number never overlap (checked under the number's row lock)."""

    __tablename__ = "number_leases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), ForeignKey("numbers.number"))
    tenant_id: Mapped[str] = mapped_column(String(32), ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    channels: Mapped[str] = mapped_column(String(8))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (Index(None, "number", "starts_on"),)


class TariffRow(Base):
    """How a tenant's traffic on one channel is priced, for one number or one campaign (the campaign's
    wins). Rows are never changed but for `valid_until`, set when a newer tariff replaces this one, so
    every charge names the tariff it was priced by. Prices with VAT, costs without (minor units)."""

    __tablename__ = "tariffs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(32), ForeignKey("tenants.id", ondelete="CASCADE"))
    number: Mapped[str | None] = mapped_column(String(32))
    campaign_id: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))            # subscriber_pays, business_pays, premium
    unit: Mapped[str] = mapped_column(String(8))             # message, call, minute
    price: Mapped[int] = mapped_column(BigInteger)           # premium: per unit, VAT included
    cost: Mapped[int] = mapped_column(BigInteger)            # business_pays: per unit, VAT excluded
    outbound_cost: Mapped[int] = mapped_column(BigInteger)   # per outbound SMS part, VAT excluded
    increment: Mapped[int] = mapped_column(Integer)          # per minute: seconds billed at a time
    shares: Mapped[dict[str, int]] = mapped_column(JSON)     # operator ("*": others) → basis points
    currency: Mapped[str] = mapped_column(String(3))
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (Index(None, "tenant_id", "number", "channel"), Index(None, "campaign_id", "channel"))


class ChargeRow(Base):
    """One billable event priced: what the tenant owes (`amount`, VAT excluded), what the subscriber
    paid (`revenue`, premium, VAT included) and the tenant's part of it (`share`, VAT excluded)."""

    __tablename__ = "charges"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_key: Mapped[str] = mapped_column(String(300), unique=True)
    item: Mapped[str] = mapped_column(String(24))            # monthly_fee, sms_premium, call_business_paid...
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    tenant_id: Mapped[str] = mapped_column(String(32))
    campaign_id: Mapped[str | None] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(32))
    operator: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(8))
    tariff_id: Mapped[int | None] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(8))             # message, part, call, second, month
    amount: Mapped[int] = mapped_column(BigInteger)
    revenue: Mapped[int] = mapped_column(BigInteger)
    share: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    __table_args__ = (Index(None, "tenant_id", "at"), Index(None, "campaign_id", "at"))


class CallRow(Base):
    """One voice call or SMS session."""

    __tablename__ = "calls"
    call_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
    caller: Mapped[str] = mapped_column(String(64), index=True)       # normalised (E.164, or "anonymous", ...)
    caller_raw: Mapped[str | None] = mapped_column(String(128))       # what the network sent
    number: Mapped[str] = mapped_column(String(32), index=True)
    campaign_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    duration: Mapped[float | None] = mapped_column(Float)
    disposition: Mapped[str | None] = mapped_column(String(32))
    cause: Mapped[str | None] = mapped_column(String(64))
    path: Mapped[list[str] | None] = mapped_column(JSON)
    last_node: Mapped[str | None] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(8), server_default="inbound")   # inbound | outbound
    __table_args__ = (Index(None, "campaign_id", "started_at"),)


class CallEventRow(Base):
    """One step of a call's timeline: node entered, prompt played, keys or speech, webhook result..."""

    __tablename__ = "call_events"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    call_id: Mapped[str] = mapped_column(String(255))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    __table_args__ = (Index(None, "call_id", "at", "seq"), Index(None, "kind", "call_id"), Index(None, "kind", "at"))


class OutcomeRow(Base):
    """What a caller achieved: a vote, a survey answer, a redeemed code ("rejected": a replayed duplicate)."""

    __tablename__ = "outcomes"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    call_id: Mapped[str] = mapped_column(String(255), index=True)
    campaign_id: Mapped[str] = mapped_column(String(64))
    caller: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (Index(None, "campaign_id", "kind", "name"),)


class VoteRow(Base):
    """An accepted vote: one per campaign, vote name, caller and window, whatever the channel or node."""

    __tablename__ = "votes"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    caller: Mapped[str] = mapped_column(String(64))
    window_key: Mapped[str] = mapped_column(String(32))
    choice: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(8))
    call_id: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (UniqueConstraint("campaign_id", "name", "caller", "window_key"),)


class PromoCodeRow(Base):
    """A promo code of a pool; `redeemed_at` is set once, by a conditional UPDATE."""

    __tablename__ = "promo_codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(String(64))
    pool: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64))
    redeemed_by: Mapped[str | None] = mapped_column(String(64))
    redeemed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    call_id: Mapped[str | None] = mapped_column(String(255))
    __table_args__ = (UniqueConstraint("campaign_id", "pool", "code"),)


class SmsSessionRow(Base):
    """An SMS conversation in progress: the flow's state between messages."""

    __tablename__ = "sms_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(32))
    caller: Mapped[str] = mapped_column(String(64))
    campaign_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)   # when the reminder is due
    __table_args__ = (UniqueConstraint("number", "caller"),)


class SmsMessageRow(Base):
    """Every SMS in and out; an inbound message id is processed once."""

    __tablename__ = "sms_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    direction: Mapped[str] = mapped_column(String(4))
    caller: Mapped[str] = mapped_column(String(64))                   # normalised
    caller_raw: Mapped[str | None] = mapped_column(String(128))       # the sender as the gateway gave it
    number: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class SmsOutboxRow(Base):
    """One mobile-terminated SMS, with a stable id, from queued to its final state (the outbox and the
    log at once). `parts` is what operators charge for. A node claims a due message (`claimed_by` until
    `claimed_until`) before sending it, so nodes sharing the database send each message once; a claim
    left by a node that died runs out and another node sends the message."""

    __tablename__ = "sms_outbox"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    number: Mapped[str] = mapped_column(String(32))              # the short number it is sent from
    recipient: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    campaign_id: Mapped[str | None] = mapped_column(String(64))
    session_id: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))                # reply | reminder | notify | optout | optin
    route: Mapped[str] = mapped_column(String(8))                # smpp | http
    link: Mapped[str | None] = mapped_column(String(64))         # the operator link that took it
    encoding: Mapped[str] = mapped_column(String(8))             # gsm7 | ucs2
    parts: Mapped[int] = mapped_column(Integer)
    reference: Mapped[int] = mapped_column(Integer)              # concatenation reference of its parts
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(255))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (Index(None, "state", "next_attempt_at"), Index(None, "campaign_id", "created_at"))


class SmsPartRow(Base):
    """One submitted part of an outbound SMS: the SMSC's id for it (receipts name it) and its state."""

    __tablename__ = "sms_parts"
    message_id: Mapped[str] = mapped_column(String(32), ForeignKey("sms_outbox.id", ondelete="CASCADE"),
                                            primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    link: Mapped[str] = mapped_column(String(64))
    smsc_id: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16))
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (Index(None, "link", "smsc_id"),)


class SmsOptOutRow(Base):
    """A sender on a short number's block list (they sent STOP), until they send START."""

    __tablename__ = "sms_optouts"
    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    caller: Mapped[str] = mapped_column(String(64), primary_key=True)
    word: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReportRunRow(Base):
    """A campaign report sent (or being sent) for the period ending at `period_end`: claimed once."""

    __tablename__ = "report_runs"
    campaign_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    period_end: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CodePoolRow(Base):
    """A tenant's named pool of promo codes; `codes` grows in the transaction that commits an import (codes
    redeemed and handed out are counted on their indexes: no row every caller's transaction must lock)."""

    __tablename__ = "code_pools"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(32), ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    codes: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)


class CodeImportRow(Base):
    """One file imported into a pool: running, then committed (its codes count) or failed (they never did,
    and are deleted). Progress and the first problems (line numbers) are kept as it goes."""

    __tablename__ = "code_imports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pool_id: Mapped[int] = mapped_column(Integer, ForeignKey("code_pools.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(255))
    bytes_total: Mapped[int] = mapped_column(Integer, default=0)
    bytes_read: Mapped[int] = mapped_column(Integer, default=0)
    lines: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    malformed: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PoolCodeRow(Base):
    """A code of a pool. Redeemed once (a conditional UPDATE on `redeemed_at`), or issued once to one caller
    (UNIQUE pool and `issued_to`). No foreign keys: ten million rows are inserted as fast as they can be. The
    partial index holds only redeemed codes (it costs an import nothing) and counts them."""

    __tablename__ = "pool_codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pool_id: Mapped[int] = mapped_column(Integer)
    import_id: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(64))
    redeemed_by: Mapped[str | None] = mapped_column(String(64))
    redeemed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    call_id: Mapped[str | None] = mapped_column(String(255))
    issued_to: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (UniqueConstraint("pool_id", "code"), UniqueConstraint("pool_id", "issued_to"),
                      Index("ix_pool_codes_redeemed", "pool_id", sqlite_where=text("redeemed_at IS NOT NULL"),
                            postgresql_where=text("redeemed_at IS NOT NULL")))


class DrawRow(Base):
    """A winner draw of a campaign: its entries frozen (their SHA-256 published), then drawn with a seed."""

    __tablename__ = "draws"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(64), ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    entries: Mapped[int] = mapped_column(Integer)
    callers: Mapped[int] = mapped_column(Integer)
    entries_sha256: Mapped[str] = mapped_column(String(64))
    frozen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    winners_wanted: Mapped[int | None] = mapped_column(Integer)
    seed: Mapped[str | None] = mapped_column(Text)
    drawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DrawEntryRow(Base):
    """One entry of a frozen draw, numbered from 1 in the canonical order (time, then outcome id)."""

    __tablename__ = "draw_entries"
    draw_id: Mapped[str] = mapped_column(String(32), ForeignKey("draws.id", ondelete="CASCADE"), primary_key=True)
    entry: Mapped[int] = mapped_column(Integer, primary_key=True)
    caller: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    outcome_id: Mapped[str] = mapped_column(String(32))


class DrawWinnerRow(Base):
    """A winner of a draw: its place (1 first) and the entry that won."""

    __tablename__ = "draw_winners"
    draw_id: Mapped[str] = mapped_column(String(32), ForeignKey("draws.id", ondelete="CASCADE"), primary_key=True)
    place: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry: Mapped[int] = mapped_column(Integer)
    caller: Mapped[str] = mapped_column(String(64))
class AuditRow(Base):
    """One change made through the API or the command line, written in the change's own transaction.
    Who: the API key's id, tenant and role (`cli`/`node` with no key for the command line and the node
    itself). Rows are only ever added; tenants are named by id without a foreign key, so the record
    outlives them."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor_key_id: Mapped[str | None] = mapped_column(String(16))
    actor_tenant_id: Mapped[str | None] = mapped_column(String(32))
    actor_role: Mapped[str] = mapped_column(String(16))
    actor_name: Mapped[str | None] = mapped_column(String(64))     # the OS user of a command-line change
    action: Mapped[str] = mapped_column(String(32))
    tenant_id: Mapped[str | None] = mapped_column(String(32), index=True)    # whose data changed
    target: Mapped[str] = mapped_column(String(255))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class OutboundRow(Base):
    """An outbound campaign: a flow (voice) or a text (SMS) sent from a short number to an audience, at a
    pace (`rate` started per second, `concurrent` at once), in allowed hours of the audience's time zone
    (`hours_start`..`hours_end`, minutes after midnight), with retries (`max_attempts`, back-off from
    `retry_seconds` doubling). State: draft → running ⇄ paused → done | cancelled."""

    __tablename__ = "outbound_campaigns"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(32), ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(8))              # voice | sms
    number: Mapped[str] = mapped_column(String(32))              # the short number: caller id, SMS sender
    text: Mapped[str | None] = mapped_column(Text)               # SMS: the message, with {{contact.*}}
    state: Mapped[str] = mapped_column(String(16))
    rate: Mapped[float] = mapped_column(Float)
    concurrent: Mapped[int] = mapped_column(Integer)
    time_zone: Mapped[str] = mapped_column(String(64))
    hours_start: Mapped[int] = mapped_column(Integer)
    hours_end: Mapped[int] = mapped_column(Integer)
    max_attempts: Mapped[int] = mapped_column(Integer)
    retry_seconds: Mapped[int] = mapped_column(Integer)
    next_slot_at: Mapped[datetime | None] = mapped_column(UtcDateTime)   # the next call's start, every node's
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OutboundContactRow(Base):
    """One number of an outbound campaign's audience and its place in the queue of attempts: queued (due at
    `next_attempt_at`) → calling (claimed by one node) → queued again for a retry, or done with its `result`
    (answered, busy, no_answer, failed, opted_out, completed) and the flow's `outcome`; cancelled with the
    campaign. One row per number (UNIQUE), so an audience never holds a number twice."""

    __tablename__ = "outbound_contacts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    outbound_id: Mapped[str] = mapped_column(String(32), ForeignKey("outbound_campaigns.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(64))
    variables: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(8))                # voice | sms (a voice_sms campaign's fallback)
    result: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    call_id: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (UniqueConstraint("outbound_id", "recipient"),
                      Index(None, "outbound_id", "state", "next_attempt_at"))
