"""Tables of the statistics store (SQLAlchemy 2). The same schema on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class CallRow(Base):
    """One voice call or SMS session."""

    __tablename__ = "calls"
    call_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
    caller: Mapped[str] = mapped_column(String(64), index=True)
    number: Mapped[str] = mapped_column(String(32), index=True)
    campaign_id: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration: Mapped[float | None] = mapped_column(Float)
    disposition: Mapped[str | None] = mapped_column(String(32), index=True)
    cause: Mapped[str | None] = mapped_column(String(64))
    path: Mapped[list | None] = mapped_column(JSON)


class CallEventRow(Base):
    """The timeline of a call: node entered, prompt, keys, results..."""

    __tablename__ = "call_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(255), ForeignKey("calls.call_id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict] = mapped_column(JSON)
    __table_args__ = (Index("ix_call_events_call", "call_id", "seq"),)


class OutcomeRow(Base):
    """What a caller achieved: a vote, a survey answer, a redeemed code."""

    __tablename__ = "outcomes"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)          # UUID: replays are idempotent
    call_id: Mapped[str] = mapped_column(String(255), index=True)
    campaign_id: Mapped[str] = mapped_column(String(64), index=True)
    caller: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VoteRow(Base):
    """One vote per caller per campaign, vote name and window, enforced by the database."""

    __tablename__ = "votes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    caller: Mapped[str] = mapped_column(String(64))
    window_key: Mapped[str] = mapped_column(String(32))
    choice: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(8))
    call_id: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (UniqueConstraint("campaign_id", "name", "caller", "window_key", name="uq_one_vote"),)


class PromoCodeRow(Base):
    """A promo code of a pool; single use enforced by a conditional update."""

    __tablename__ = "promo_codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(String(64))
    pool: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64))
    redeemed_by: Mapped[str | None] = mapped_column(String(64))
    redeemed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    call_id: Mapped[str | None] = mapped_column(String(255))
    __table_args__ = (UniqueConstraint("campaign_id", "pool", "code", name="uq_code"),)


class SmsSessionRow(Base):
    """An SMS conversation in progress: the flow's state between messages."""

    __tablename__ = "sms_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(32))
    caller: Mapped[str] = mapped_column(String(64))
    campaign_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (UniqueConstraint("number", "caller", name="uq_sms_session"),)


class SmsMessageRow(Base):
    """Every SMS in and out; an inbound message id is processed once."""

    __tablename__ = "sms_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    direction: Mapped[str] = mapped_column(String(4))
    caller: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
