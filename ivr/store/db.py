"""The store: one writer thread owns the database connection; the event loop never waits on it.

Fire-and-forget records (call start/end, timeline events) are queued and written in batches, in
order. Votes, codes and outcomes are acknowledged: the caller awaits the database's answer (the
unique constraints decide), so the engine only tells a caller "counted" once it is committed.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import create_engine, event, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import Base, CallEventRow, CallRow, OutcomeRow, PromoCodeRow, SmsMessageRow, SmsSessionRow, VoteRow

log = logging.getLogger(__name__)

BATCH = 500


class StoreError(RuntimeError):
    """The store cannot do what was asked."""


@dataclass
class StoreStats:
    written: int = 0
    failures: int = 0


def make_engine(url: str) -> Engine:
    """SQLAlchemy engine for a store URL (SQLite gets WAL, a busy timeout and foreign keys)."""
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _: Any) -> None:
            cursor = conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
        return engine
    return create_engine(url, pool_pre_ping=True)


def window_key(window: str, at: datetime) -> str:
    if window == "day":
        return at.strftime("%Y-%m-%d")
    if window == "hour":
        return at.strftime("%Y-%m-%dT%H")
    return "campaign"


class Store:
    """The statistics store of one engine node."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.stats = StoreStats()
        self._queue: queue.Queue[tuple[Callable[[Session], Any], asyncio.Future | None] | None] = queue.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="ivr-store", daemon=True)
        self._seq: dict[str, int] = {}

    @classmethod
    async def open(cls, url: str, spool_dir: str | Path | None = None) -> "Store":
        engine = make_engine(url)
        await asyncio.to_thread(Base.metadata.create_all, engine)
        store = cls(engine)
        store._loop = asyncio.get_running_loop()
        store._thread.start()
        return store

    async def close(self) -> None:
        self._queue.put(None)
        await asyncio.to_thread(self._thread.join, 30)
        self.engine.dispose()

    def gauges(self) -> dict[str, float]:
        return {"store_queue_depth": float(self._queue.qsize()), "store_rows_written": float(self.stats.written)}

    # -- the writer thread ----------------------------------------------------------------------

    def _run(self) -> None:
        stop = False
        while not stop:
            item = self._queue.get()
            batch = [item]
            while len(batch) < BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            jobs = []
            for job in batch:
                if job is None:
                    stop = True
                else:
                    jobs.append(job)
            self._write(jobs)

    def _write(self, jobs: list) -> None:
        plain = [fn for fn, fut in jobs if fut is None]
        if plain:
            try:
                self._write_in_order(plain)
            except Exception:
                # One bad record must not take the batch with it: write them one by one.
                for fn in plain:
                    try:
                        self._write_in_order([fn])
                    except Exception:
                        self.stats.failures += 1
                        log.exception("store: could not write a record")
        for fn, fut in jobs:
            if fut is None:
                continue
            try:
                with Session(self.engine) as session, session.begin():
                    result = fn(session)
                self.stats.written += 1
                self._resolve(fut, result, None)
            except Exception as exc:
                self.stats.failures += 1
                self._resolve(fut, None, exc)

    def _write_in_order(self, fns: list[Callable[[Session], Any]]) -> None:
        with Session(self.engine) as session, session.begin():
            for fn in fns:
                fn(session)
                session.flush()                  # keep the queue's order (calls before their events)
        self.stats.written += len(fns)

    def _resolve(self, fut: asyncio.Future, result: Any, exc: BaseException | None) -> None:
        assert self._loop is not None

        def done() -> None:
            if fut.cancelled():
                return
            if exc is not None:
                fut.set_exception(exc)
            else:
                fut.set_result(result)
        self._loop.call_soon_threadsafe(done)

    def _enqueue(self, fn: Callable[[Session], Any]) -> None:
        self._queue.put((fn, None))

    async def _ask(self, fn: Callable[[Session], Any]) -> Any:
        assert self._loop is not None
        fut = self._loop.create_future()
        self._queue.put((fn, fut))
        return await fut

    # -- records --------------------------------------------------------------------------------

    def call_started(self, *, call_id: str, caller: str, number: str, campaign_id: str, channel: str,
                     at: datetime) -> None:
        self._seq[call_id] = 0
        self._enqueue(lambda s: s.merge(CallRow(call_id=call_id, caller=caller, number=number,
                                                campaign_id=campaign_id, channel=channel, started_at=at)))

    def event(self, call_id: str, kind: str, data: dict[str, Any], at: datetime) -> None:
        seq = self._seq.get(call_id, 0) + 1
        self._seq[call_id] = seq
        self._enqueue(lambda s: s.add(CallEventRow(call_id=call_id, seq=seq, at=at, kind=kind, data=data)))

    def call_answered(self, call_id: str, at: datetime) -> None:
        self._enqueue(lambda s: s.execute(update(CallRow).where(CallRow.call_id == call_id).values(answered_at=at)))

    def call_ended(self, *, call_id: str, at: datetime, disposition: str, cause: str, path: list[str]) -> None:
        self._seq.pop(call_id, None)

        def write(s: Session) -> None:
            row = s.get(CallRow, call_id)
            if row is None:
                return
            started = row.started_at if row.started_at.tzinfo else row.started_at.replace(tzinfo=timezone.utc)
            row.ended_at, row.disposition, row.cause, row.path = at, disposition, cause, path
            row.duration = (at - started).total_seconds()
        self._enqueue(write)

    # -- acknowledged outcomes ------------------------------------------------------------------

    async def record_outcome(self, *, call_id: str, campaign_id: str, caller: str, channel: str, kind: str,
                             name: str, value: str, at: datetime | None = None) -> None:
        row = OutcomeRow(id=str(uuid.uuid4()), call_id=call_id, campaign_id=campaign_id, caller=caller,
                         channel=channel, kind=kind, name=name, value=value, at=at or _now())
        await self._ask(lambda s: s.add(row))

    async def cast_vote(self, *, campaign_id: str, name: str, caller: str, choice: str, window: str,
                        channel: str, call_id: str) -> tuple[bool, str | None]:
        """(accepted, previous choice). One vote per caller and window, decided by the database."""
        at = _now()
        key = window_key(window, at)

        def vote(s: Session) -> tuple[bool, str | None]:
            try:
                with s.begin_nested():
                    s.add(VoteRow(campaign_id=campaign_id, name=name, caller=caller, window_key=key,
                                  choice=choice, channel=channel, call_id=call_id, at=at))
            except IntegrityError:
                previous = s.scalar(select(VoteRow.choice).where(
                    VoteRow.campaign_id == campaign_id, VoteRow.name == name, VoteRow.caller == caller,
                    VoteRow.window_key == key))
                return False, previous
            s.add(OutcomeRow(id=str(uuid.uuid4()), call_id=call_id, campaign_id=campaign_id, caller=caller,
                             channel=channel, kind="vote", name=name, value=choice, at=at))
            return True, None
        return await self._ask(vote)

    async def redeem_code(self, *, campaign_id: str, pool: str, code: str, caller: str, channel: str,
                          call_id: str) -> str:
        """redeemed | used | invalid; single use decided by a conditional update."""
        at = _now()

        def redeem(s: Session) -> str:
            result = s.execute(update(PromoCodeRow).where(
                PromoCodeRow.campaign_id == campaign_id, PromoCodeRow.pool == pool, PromoCodeRow.code == code,
                PromoCodeRow.redeemed_at.is_(None)).values(redeemed_by=caller, redeemed_at=at, call_id=call_id))
            if result.rowcount == 1:
                s.add(OutcomeRow(id=str(uuid.uuid4()), call_id=call_id, campaign_id=campaign_id, caller=caller,
                                 channel=channel, kind="code", name=pool, value=code, at=at))
                return "redeemed"
            exists = s.scalar(select(PromoCodeRow.id).where(
                PromoCodeRow.campaign_id == campaign_id, PromoCodeRow.pool == pool, PromoCodeRow.code == code))
            return "used" if exists is not None else "invalid"
        return await self._ask(redeem)

    async def load_code_pool(self, campaign_id: str, pool: str, codes: list[str]) -> None:
        """Add the codes not yet known (idempotent)."""
        def load(s: Session) -> None:
            known = set(s.scalars(select(PromoCodeRow.code).where(
                PromoCodeRow.campaign_id == campaign_id, PromoCodeRow.pool == pool)))
            s.add_all(PromoCodeRow(campaign_id=campaign_id, pool=pool, code=c) for c in set(codes) - known)
        await self._ask(load)

    # -- SMS conversations ----------------------------------------------------------------------

    async def sms_claim(self, *, message_id: str, number: str, caller: str, text: str
                        ) -> tuple[bool, dict[str, Any] | None]:
        """Record an inbound SMS; (new, saved session) — new is False when the id was seen before."""
        at = _now()

        def claim(s: Session) -> tuple[bool, dict[str, Any] | None]:
            row = s.scalar(select(SmsSessionRow).where(SmsSessionRow.number == number, SmsSessionRow.caller == caller))
            try:
                with s.begin_nested():
                    s.add(SmsMessageRow(message_id=message_id, session_id=row.session_id if row else "",
                                        direction="in", caller=caller, number=number, text=text, at=at))
            except IntegrityError:
                return False, None
            if row is None:
                return True, None
            return True, {"session_id": row.session_id, "campaign_id": row.campaign_id, "state": row.state}
        return await self._ask(claim)

    async def sms_save(self, *, session_id: str, number: str, caller: str, campaign_id: str,
                       state: dict[str, Any] | None, replies: list[str]) -> None:
        """Keep the conversation's state (None: it ended) and the replies sent."""
        at = _now()

        def save(s: Session) -> None:
            row = s.scalar(select(SmsSessionRow).where(SmsSessionRow.number == number, SmsSessionRow.caller == caller))
            if state is None:
                if row is not None:
                    s.delete(row)
            elif row is None:
                s.add(SmsSessionRow(session_id=session_id, number=number, caller=caller, campaign_id=campaign_id,
                                    state=state, updated_at=at))
            else:
                row.session_id, row.campaign_id, row.state, row.updated_at = session_id, campaign_id, state, at
            s.add_all(SmsMessageRow(message_id=None, session_id=session_id, direction="out", caller=caller,
                                    number=number, text=text, at=at) for text in replies)
        await self._ask(save)

    async def sessions_today(self, campaign_id: str, caller: str, exclude: str | None = None) -> int:
        """Calls and SMS conversations of `caller` in a campaign since midnight (UTC)."""
        midnight = _now().replace(hour=0, minute=0, second=0, microsecond=0)

        def count(s: Session) -> int:
            query = select(func.count()).select_from(CallRow).where(
                CallRow.campaign_id == campaign_id, CallRow.caller == caller, CallRow.started_at >= midnight)
            if exclude is not None:
                query = query.where(CallRow.call_id != exclude)
            return int(s.scalar(query) or 0)
        return await self._ask(count)

    # -- reading --------------------------------------------------------------------------------

    async def query(self, fn: Callable[[Session], Any]) -> Any:
        """Run a read in the writer thread (after everything queued before it)."""
        return await self._ask(fn)


def _now() -> datetime:
    return datetime.now(timezone.utc)
