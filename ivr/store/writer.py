"""The writer thread: the only place where the store writes traffic to the database.

The event loop hands over work through a thread-safe queue and never waits on the database:
  * records (`records.Record`) are fire-and-forget;
  * requests (`Request`) carry a `Ticket` whose asyncio future gets the answer.

The thread takes what is queued in FIFO order, as one batch: up to `batch_rows` items, waiting up to
`linger` seconds for more unless a request is waiting (requests never linger). A batch is one
transaction, so records of a call reach the database in the order they were made. When the transaction
fails because the database is unreachable, slow or locked (`connect.is_transient`), the writer goes
offline: the batch and everything after it go to the spool (records and spoolable requests; other
requests get their `offline` answer) until a probe, which also runs the migrations, reaches the database
again. Before writing anything new it then replays the spool, oldest first, so order per call holds
across an outage. A batch that fails for another reason is retried item by item; an item that still
fails is dropped, logged and counted (a record) or answered with a StoreError (a request).

The event loop does not wait for the thread forever either (see `db.Store`): when a request is not
answered in time it `abandon()`s its ticket and keeps the record in the spool itself. A ticket is taken
by the writer or abandoned by the loop, never both; if the writer took it first the loop waits a little
longer for the real answer, and records written twice that way are harmless (idempotent replays).

Events priced in a transaction (an inbound SMS, a call's end: see `charges`) collect their charges in the
writer's batch, inserted in one statement just before the transaction commits: with the event, or not
at all. The writer's tariff book keeps tariffs it looked up for a few seconds (exact: see `tariffs`).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ivr.i18n import t
from ivr.numbering.operators import UKRAINE, OperatorTable

from .charges import ChargeBatch, Pricing
from .connect import is_transient, writing
from .errors import SpoolError, StoreError
from .migrate import upgrade
from .records import RECORD_TYPES, Record
from .spool import Spool
from .tariffs import TariffBook
from .traffic import apply_records

log = logging.getLogger(__name__)

PENDING, TAKEN, ABANDONED = range(3)


class Ticket:
    """The answer to one request, handed from the writer thread to the event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[Any] = loop.create_future()
        self._state = PENDING
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Writer: claim the request; False when the loop has given up on it."""
        return self._move(TAKEN)

    def abandon(self) -> bool:
        """Loop: give up on the request; False when the writer is already working on it."""
        return self._move(ABANDONED)

    def answer(self, result: Any) -> None:
        """Set the answer (an exception instance is raised to the awaiting side)."""
        try:
            self.loop.call_soon_threadsafe(self._set, result)
        except RuntimeError:                              # the loop is closed: nobody is waiting
            pass

    def _move(self, state: int) -> bool:
        with self._lock:
            if self._state != PENDING:
                return False
            self._state = state
            return True

    def _set(self, result: Any) -> None:
        if self.future.done():
            return
        if isinstance(result, BaseException):
            self.future.set_exception(result)
        else:
            self.future.set_result(result)


@dataclass
class Request:
    """Work whose answer someone awaits.

    `run` does it inside the batch transaction and returns the answer. When the database is down, `spool`
    (if any) is kept in the spool and `spooled` is the answer; without `spool` the answer is `offline`.
    """

    run: Callable[[Session], Any]
    ticket: Ticket
    spool: Record | None = None
    spooled: Any = None
    offline: Any = None


Item = Record | Request
RECORDS = tuple(RECORD_TYPES.values())


@dataclass
class WriterStats:
    written: int = 0            # records and requests committed
    failures: int = 0           # items dropped or refused because they cannot be written
    transient_errors: int = 0   # batches that met an unreachable, slow or locked database
    spooled: int = 0            # records the writer put in the spool
    replayed: int = 0           # records written from the spool


@dataclass
class WriterOptions:
    batch_rows: int = 500
    linger: float = 0.05
    probe_min: float = 0.25
    probe_max: float = 5.0
    idle_wait: float = 0.5
    operators: OperatorTable = UKRAINE       # the operator of a subscriber, for charges
    tariff_cache: float = 0.0                # seconds the writer keeps a tariff it looked up (see tariffs)


class Writer:
    """Owns the database writes of one Store: a thread, its queue and the online/offline state."""

    def __init__(self, engine: Engine, spool: Spool, online: bool, options: WriterOptions) -> None:
        self.engine = engine
        self.spool = spool
        self.online = online
        self.options = options
        self.stats = WriterStats()
        self._charges = ChargeBatch()           # charges priced in the transaction being written
        self.pricing = Pricing(options.operators, TariffBook(options.tariff_cache), self._charges)
        self._write_engine = writing(engine)
        self._queue: queue.SimpleQueue[Item | None] = queue.SimpleQueue()
        self._probe_delay = options.probe_min
        self._next_probe = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="ivr-store-writer", daemon=True)

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    def start(self) -> None:
        self._thread.start()

    def submit(self, item: Item) -> None:
        self._queue.put(item)

    def stop(self, timeout: float) -> bool:
        """Write or spool what is queued, then end the thread; False if it did not end in time."""
        self._queue.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- the thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch, stopping = self._take()
            if not self.online and (stopping or time.monotonic() >= self._next_probe):
                self._probe()
            if self.online and self.spool.pending:
                self._replay()
            items = [i for i in batch if isinstance(i, RECORDS) or i.ticket.take()]
            if items:
                (self._write if self.online else self._divert)(items)

    def _take(self) -> tuple[list[Item], bool]:
        if not self.online:
            wait = max(0.0, self._next_probe - time.monotonic())
        else:
            wait = self.options.idle_wait
        try:
            first = self._queue.get(timeout=wait)
        except queue.Empty:
            return [], False
        if first is None:
            return [], True
        batch = [first]
        urgent = isinstance(first, Request)
        until = time.monotonic() + self.options.linger
        while len(batch) < self.options.batch_rows:
            try:
                item = self._queue.get_nowait() if urgent else self._queue.get(timeout=max(0.0, until - time.monotonic()))
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
            urgent = urgent or isinstance(item, Request)
        return batch, False

    def _write(self, items: list[Item]) -> None:
        try:
            answers = self._transaction(items)
        except Exception as exc:
            if is_transient(exc):
                self._go_offline(exc)
                self._divert(items)
                return
            log.warning("store: a batch of %d failed (%s); writing its items one by one", len(items), exc)
            for n, item in enumerate(items):
                if not self.online:
                    self._divert(items[n:])
                    return
                self._write_one(item)
            return
        self._answer(items, answers)

    def _write_one(self, item: Item) -> None:
        try:
            answers = self._transaction([item])
        except Exception as exc:
            if is_transient(exc):
                self._go_offline(exc)
                self._divert([item])
                return
            self.stats.failures += 1
            log.error("store: cannot write %s: %s", _describe(item), exc)
            if isinstance(item, Request):
                item.ticket.answer(StoreError(t("the store refused the request: {why}", why=str(exc))))
            return
        self._answer([item], answers)

    def _transaction(self, items: Sequence[Item]) -> list[Any]:
        answers: list[Any] = []
        with Session(self._write_engine) as session, session.begin():
            self._charges.clear()
            run: list[Record] = []
            for item in items:
                if isinstance(item, Request):
                    answers.extend(apply_records(session, run, pricing=self.pricing))
                    run = []
                    answers.append(item.run(session))
                else:
                    run.append(item)
            answers.extend(apply_records(session, run, pricing=self.pricing))
            self._charges.write(session)
        return answers

    def _answer(self, items: Sequence[Item], answers: Sequence[Any]) -> None:
        self.stats.written += len(items)
        for item, answer in zip(items, answers):
            if isinstance(item, Request):
                item.ticket.answer(answer)

    def _divert(self, items: Sequence[Item]) -> None:
        """The database is down: keep records and spoolable requests in the spool, answer the rest."""
        keep = [i.spool if isinstance(i, Request) else i for i in items]
        keep_records = [r for r in keep if r is not None]
        try:
            self.spool.append(keep_records)
        except SpoolError as exc:
            self.stats.failures += len(keep_records)
            log.critical("store: %d records lost: %s", len(keep_records), exc)
            for item in items:
                if isinstance(item, Request):
                    item.ticket.answer(exc if item.spool is not None else item.offline)
            return
        self.stats.spooled += len(keep_records)
        for item in items:
            if isinstance(item, Request):
                item.ticket.answer(item.spooled if item.spool is not None else item.offline)

    def _probe(self) -> None:
        try:
            upgrade(self.engine)
        except Exception as exc:
            self._probe_delay = min(self._probe_delay * 2, self.options.probe_max)
            self._next_probe = time.monotonic() + self._probe_delay
            log.debug("store: database still unreachable: %s", exc)
            return
        self.online = True
        self._probe_delay = self.options.probe_min
        log.warning("store: database reachable again; %d records in the spool", self.spool.pending)

    def _go_offline(self, exc: BaseException) -> None:
        self.stats.transient_errors += 1
        if self.online:
            log.warning("store: database unreachable (%s); keeping records in the spool", exc)
        self.online = False
        self._next_probe = time.monotonic() + self._probe_delay

    def _replay(self) -> None:
        for segment in self.spool.seal():
            batch: list[Record] = []
            for record in self.spool.read(segment):
                batch.append(record)
                if len(batch) >= self.options.batch_rows:
                    if not self._replay_batch(batch):
                        return
                    batch = []
            if batch and not self._replay_batch(batch):
                return
            self.spool.remove(segment)

    def _replay_batch(self, records: list[Record]) -> bool:
        """Write spooled records; False when the database went away meanwhile."""
        try:
            self._replay_transaction(records)
        except Exception as exc:
            if is_transient(exc):
                self._go_offline(exc)
                return False
            for record in records:
                try:
                    self._replay_transaction([record])
                except Exception as one:
                    if is_transient(one):
                        self._go_offline(one)
                        return False
                    self.stats.failures += 1
                    log.error("store: dropping spooled %s: %s", _describe(record), one)
        return True

    def _replay_transaction(self, records: list[Record]) -> None:
        with Session(self._write_engine) as session, session.begin():
            self._charges.clear()
            apply_records(session, records, replay=True, pricing=self.pricing)
            self._charges.write(session)
        self.stats.replayed += len(records)


def _describe(item: Item) -> str:
    record = item.spool if isinstance(item, Request) else item
    return f"{type(record).__name__} {getattr(record, 'id', '')}" if record is not None else "a request"
