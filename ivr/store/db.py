"""The statistics store of one engine node: every call and SMS session writes what happened here.

`await Store.open(url, spool_dir)` connects (SQLite file or PostgreSQL URL, see `connect`), runs the
migrations and starts the writer thread (`writer`). The asyncio side never touches the database:

* Records — `call_started`, `call_answered`, `call_ended`, `event` — are fire-and-forget: queued in
  microseconds, written in batches, in order, never raising. When the database is down they go to the
  spool (`spool`) and are replayed when it is back.
* Outcomes — `record_outcome` — are acknowledged: the await returns once the outcome is committed, or,
  when the database does not answer within `ack_deadline` (0.5 s), once it is appended and fsync'd to
  the spool ("committed" / "spooled"). kill -9 cannot lose an acknowledged outcome.
* Votes — `cast_vote` — answer whether the vote counts; the database's UNIQUE constraint decides, so
  nodes sharing PostgreSQL cannot both accept one caller. A vote is reported counted only once the
  database counted it: while it cannot be checked, StoreUnavailable (the flow's `unavailable` exit),
  unless the caller asked to `defer` ("accept now, de-duplicate later"): then it is spooled and answered
  `deferred`; on replay a second vote from the same caller is kept as a "rejected" outcome, not counted.
* Codes — `redeem_code` (a campaign's inline pool, or a `named` pool of its tenant), `issue_code` —
  cannot be checked offline: the answer is then "unavailable" and the flow takes its fallback.
  `load_code_pool` (inline pools) is idempotent and waits in the spool like an outcome.
* Deadlines of votes and codes follow the store's state: known down (the writer is offline), the answer
  comes within `ack_deadline`; reachable but slow (a long writer queue, a loaded machine), the check is
  waited for up to `check_timeout` (10 s), the latency at which it gives up.
* Named code pools are filled by imports (`import_codes`) that run in a worker thread of their own
  (`code_import.ImportWorkers`), batch by batch, visible only once committed; progress is in the store.
* Lifecycle (`pause`, `resume`, `end_at`, `archive`, `delete_draft`) and draws (`freeze_draw`,
  `draw_winners`, ...) run in the reader threads like the accounts.
* SMS sessions (`sms_claim`, `sms_save`) need the database: StoreUnavailable while it is down.
* Tenants, keys, versions, numbers (`accounts`) and reads (`queries`) run in a small pool of reader
  threads and raise StoreUnavailable while the database is down.

A node whose database is unreachable at start starts anyway, on the spool, and catches up later.
`await store.close()` writes (or spools) everything queued. `gauges()` gives the counters for /metrics.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ivr.i18n import t
from ivr.numbering.operators import UKRAINE, OperatorTable

from . import accounts, audit, charges, code_pools, contacts, draws, flow_counts, inventory, operations, outbox
from . import outbound
from . import queries, statements, tariffs, traffic
from .code_import import ImportWorkers
from .code_pools import CodeImport, Issued, Pool
from .draws import Draw, Notice, Rule
from .connect import is_transient, make_engine, writing
from .errors import StoreError, StoreUnavailable
from .migrate import upgrade
from .queries import CallDetail, CallFilter, CallSummary, OutcomeView, Tallies
from .records import (CallAnswered, CallEnded, CallEvent, CallStarted, CodePoolLoad, CodeStatus, Durability,
                      OutcomeRecord, Record, VoteOutcome, VoteRecord, window_key)
from .accounts import ApiKey, Campaign, CampaignListing, DialplanVersion, KeyOwner, Lifecycle, ShortNumber, Tenant
from .audit import Action, Actor, AuditEntry
from .flow_counts import FlowCounts, FlowFilter
from .operations import WebhookFailure
from .contacts import Contact
from .inventory import InventoryNumber, Lease, LeasedNumber
from .money import CURRENCY, local_day
from .outbox import ClaimedSms, OutboundSms, SentPart
from .rating import Tariff
from .spool import Spool
from .statements import CampaignDay, Statement, Totals
from .tariffs import CACHE_SECONDS
from .writer import Request, Ticket, Writer, WriterOptions

log = logging.getLogger(__name__)

T = TypeVar("T")

EXPORT_PAGE = 1000
CHECK_STEP = 0.05            # s between looks at the writer's state while a check waits
UNREACHABLE = object()


@dataclass(frozen=True)
class StoreOptions:
    """Tuning; the defaults suit production, tests shorten the timeouts."""

    ack_deadline: float = 0.5        # an outcome or vote not committed by then is spooled
    answer_timeout: float = 5.0      # extra wait when the writer is already on it (then: spool / unavailable)
    check_timeout: float = 10.0      # a vote or code check gives up after this while the store is merely slow
    batch_rows: int = 500
    linger: float = 0.05             # records wait this long for company before a batch is written
    probe_min: float = 0.25          # first retry after the database went away, doubling up to probe_max
    probe_max: float = 5.0
    sqlite_busy_timeout: float = 5.0
    reader_threads: int = 4
    close_timeout: float = 30.0
    operators: OperatorTable = UKRAINE   # prefix table naming the operator of callers charged by the store
    tariff_cache: float = CACHE_SECONDS  # seconds the writer keeps tariffs it looked up (exact: see tariffs)


class Store:
    """The statistics store of one engine node (see the module docstring)."""

    def __init__(self, engine: Engine, spool: Spool, writer: Writer, options: StoreOptions) -> None:
        self.engine = engine
        self.spool = spool
        self.options = options
        self._writer = writer
        self._readers = ThreadPoolExecutor(options.reader_threads, thread_name_prefix="ivr-store-read")
        self._seq = itertools.count()
        self._loop = asyncio.get_running_loop()
        self._closed = False
        self.imports = ImportWorkers(engine)

    @classmethod
    async def open(cls, url: str, spool_dir: str | Path, options: StoreOptions = StoreOptions()) -> "Store":
        """Connect, migrate (`alembic upgrade head`) and start writing; replays a spool left by a crash."""
        engine = make_engine(url, options.sqlite_busy_timeout)
        spool = await asyncio.to_thread(Spool, spool_dir)
        try:
            await asyncio.to_thread(upgrade, engine)
            online = True
        except Exception as exc:
            if not is_transient(exc):
                spool.close()
                engine.dispose()
                raise
            log.error("store: database unreachable at start (%s); running on the spool in %s", exc, spool_dir)
            online = False
        writer = Writer(engine, spool, online, WriterOptions(
            batch_rows=options.batch_rows, linger=options.linger, probe_min=options.probe_min,
            probe_max=options.probe_max, operators=options.operators, tariff_cache=options.tariff_cache))
        store = cls(engine, spool, writer, options)
        writer.start()
        if online:
            store.imports.purge_failed()         # codes of imports a crash left half-done
        return store

    async def close(self) -> None:
        """Write everything queued (into the spool if the database is down), then let go."""
        if self._closed:
            return
        self._closed = True
        if not await asyncio.to_thread(self._writer.stop, self.options.close_timeout):
            log.error("store: the writer did not finish within %.0f s", self.options.close_timeout)
        self._readers.shutdown(wait=True)
        await asyncio.to_thread(self.imports.close)
        self.spool.close()
        self.engine.dispose()

    @property
    def online(self) -> bool:
        """False while the database is unreachable and records go to the spool."""
        return self._writer.online

    def gauges(self) -> dict[str, float]:
        stats = self._writer.stats
        return {"store_queue_depth": float(self._writer.depth), "store_spool_records": float(self.spool.pending),
                "store_rows_written": float(stats.written), "store_failures": float(stats.failures),
                "store_transient_errors": float(stats.transient_errors), "store_spooled": float(stats.spooled),
                "store_replayed": float(stats.replayed), "store_spool_torn": float(self.spool.torn),
                "store_online": 1.0 if self._writer.online else 0.0}

    # -- records: fire-and-forget ---------------------------------------------------------------

    def call_started(self, *, call_id: str, caller: str, number: str, campaign_id: str, channel: str,
                     at: datetime, version: int | None = None, caller_raw: str | None = None,
                     direction: str = "inbound") -> None:
        """A call or SMS session began: `caller` normalised (see `ivr.channels.caller_id`), `caller_raw` as
        the network sent it; `direction` outbound for a call we placed (`caller`: the number called)."""
        self._record(CallStarted(call_id, caller, number, campaign_id, channel, at, version, caller_raw=caller_raw,
                                 direction=direction))

    def call_answered(self, call_id: str, at: datetime) -> None:
        self._record(CallAnswered(call_id, at))

    def call_ended(self, *, call_id: str, at: datetime, disposition: str, cause: str, path: list[str]) -> None:
        self._record(CallEnded(call_id, at, disposition, cause, list(path)))

    def event(self, call_id: str, kind: str, data: dict[str, Any], at: datetime) -> None:
        """One step of the call's timeline (node entered, prompt, digits, speech, webhook result...)."""
        self._record(CallEvent(call_id, kind, data, at, next(self._seq)))

    def _record(self, record: Record) -> None:
        if self._closed:
            log.warning("store: closed; %s %s not written", type(record).__name__, record.id)
            return
        self._writer.submit(record)

    # -- acknowledged -----------------------------------------------------------------------------

    async def record_outcome(self, *, call_id: str, campaign_id: str, caller: str, channel: str, kind: str,
                             name: str, value: str, at: datetime | None = None) -> Durability:
        """Returns once the outcome is committed or in the spool (raises SpoolError if neither)."""
        outcome = OutcomeRecord(call_id, campaign_id, caller, channel, kind, name, value, at or _now())
        return await self._acknowledged(self._spoolable(outcome, "spooled"))

    async def cast_vote(self, *, campaign_id: str, name: str, caller: str, choice: str, window: str,
                        channel: str, call_id: str, at: datetime | None = None, defer: bool = False) -> VoteOutcome:
        """One vote per caller, vote name and window ("campaign", "day", "hour": UTC), across channels.
        StoreUnavailable when it cannot be checked, unless `defer`: then it waits in the spool (`deferred`)."""
        at = at or _now()
        vote = VoteRecord(campaign_id, name, caller, choice, window_key(window, at), channel, call_id, at)
        request = Request(functools.partial(traffic.apply, record=vote), Ticket(self._loop),
                          spool=vote if defer else None, spooled=VoteOutcome(True, None, deferred=True),
                          offline=StoreUnavailable("the database is unreachable: the vote cannot be checked"))
        return await self._checked(request)

    async def redeem_code(self, *, campaign_id: str, pool: str, code: str, caller: str, channel: str,
                          call_id: str, named: bool = False) -> CodeStatus:
        """"redeemed" once, then "used"; "invalid" if the pool lacks it; "unavailable" if the database is down.
        `named`: a pool of the campaign's tenant (imported), else one of the campaign file's own pools."""
        at = _now()
        redeem = code_pools.redeem if named else traffic.redeem_code
        run = functools.partial(redeem, campaign_id=campaign_id, pool=pool, code=code, caller=caller,
                                channel=channel, call_id=call_id, at=at)
        return await self._checked(Request(run, Ticket(self._loop), offline="unavailable"))

    async def issue_code(self, *, campaign_id: str, pool: str, caller: str, channel: str, call_id: str) -> Issued:
        """A code of the tenant's pool for the caller, the same one every time (see `code_pools.issue`);
        "unavailable" while the database is down."""
        run = functools.partial(code_pools.issue, campaign_id=campaign_id, pool=pool, caller=caller, channel=channel,
                                call_id=call_id, at=_now())
        return await self._checked(Request(run, Ticket(self._loop), offline=Issued("unavailable")))

    async def load_code_pool(self, campaign_id: str, pool: str, codes: list[str]) -> Durability:
        """Add the codes the pool does not have yet (kept in the spool while the database is down)."""
        return await self._acknowledged(self._spoolable(CodePoolLoad(campaign_id, pool, list(codes), _now()),
                                                        "spooled"))

    async def sms_claim(self, *, message_id: str, number: str, caller: str, text: str,
                        caller_raw: str | None = None, campaign_id: str | traffic.CampaignOf | None = None,
                        operator: str | None = None) -> tuple[bool, dict[str, Any] | None]:
        """Record an inbound SMS from `caller` (normalised; `caller_raw` as sent) and charge it to its campaign
        in the same transaction (`campaign_id`: the campaign, or how to pick it from the caller's saved
        conversation's): (new, saved session); new is False when the message id was seen before.
        `operator`: the SMSC link's (else the prefix table's)."""
        run = functools.partial(traffic.sms_claim, message_id=message_id, number=number, caller=caller, text=text,
                                at=_now(), caller_raw=caller_raw, campaign_id=campaign_id, operator=operator,
                                pricing=self._writer.pricing)
        return await self._answer(run)

    async def sms_save(self, *, session_id: str, number: str, caller: str, campaign_id: str,
                       state: dict[str, Any] | None, replies: list[OutboundSms], due_at: datetime | None = None
                       ) -> list[str]:
        """Keep the conversation's state (None: it ended) and when its reminder is due, and queue the replies
        in the outbox (charged per part), in one transaction; the replies' states ("queued", or "blocked":
        opted out)."""
        run = functools.partial(traffic.sms_save, session_id=session_id, number=number, caller=caller,
                                campaign_id=campaign_id, state=state, replies=list(replies), at=_now(),
                                due_at=due_at, pricing=self._writer.pricing)
        return await self._answer(run)

    # -- the SMS outbox (see `outbox`): every call needs the database --------------------------------

    async def sms_enqueue(self, messages: list[OutboundSms]) -> list[str]:
        """Queue messages (states: "queued", or "blocked" for recipients on the number's block list)."""
        return await self._answer(functools.partial(outbox.enqueue, messages=list(messages), at=_now(),
                                                    pricing=self._writer.pricing))

    async def sms_claim_outbox(self, *, node: str, routes: tuple[str, ...], lease: float, limit: int
                               ) -> list[ClaimedSms]:
        return await self._answer(functools.partial(outbox.claim, node=node, routes=routes, now=_now(), lease=lease,
                                                    limit=limit))

    async def sms_finish(self, *, message_id: str, parts: list[SentPart], state: str, link: str | None = None,
                         error: str | None = None, retry_in: float | None = None, count: bool = True) -> None:
        """One attempt's parts and outcome (see `outbox.finish`); "queued" retries after `retry_in` seconds."""
        now = _now()
        await self._answer(functools.partial(
            outbox.finish, message_id=message_id, parts=list(parts), state=state, at=now, link=link, error=error,
            retry_at=now + timedelta(seconds=retry_in) if retry_in is not None else None, count=count))

    async def sms_release(self, node: str) -> int:
        return await self._answer(functools.partial(outbox.release, node=node))

    async def sms_receipt(self, *, link: str | None, smsc_id: str, state: str, error: str | None = None
                          ) -> tuple[str, str] | None:
        """(message id, its state now) for a receipt of the part `smsc_id`; None when no part has that id."""
        return await self._answer(functools.partial(outbox.receipt, link=link, smsc_id=smsc_id, state=state,
                                                    at=_now(), error=error))

    async def sms_opt_out(self, *, number: str, caller: str, word: str) -> bool:
        return await self._answer(functools.partial(outbox.opt_out, number=number, caller=caller, word=word,
                                                    at=_now()))

    async def sms_opt_in(self, *, number: str, caller: str) -> bool:
        return await self._answer(functools.partial(outbox.opt_in, number=number, caller=caller))

    async def sms_due(self, now: datetime | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Conversations whose reminder is due, each handed to one caller of this method only."""
        return await self._answer(functools.partial(traffic.sms_due, now=now or _now(), limit=limit))

    async def flush(self) -> None:
        """Returns once everything queued before is written (or spooled while the database is down)."""
        await self._answer(_nothing, offline=None)

    def _spoolable(self, record: OutcomeRecord | VoteRecord | CodePoolLoad, spooled: Any) -> Request:
        return Request(functools.partial(traffic.apply, record=record, pricing=self._writer.pricing),
                       Ticket(self._loop), spool=record, spooled=spooled)

    async def _answer(self, run: Callable[[Session], Any], offline: Any = UNREACHABLE) -> Any:
        """A request without a deadline: the writer's answer, or `offline` (by default: StoreUnavailable
        raised) while the database is down."""
        if offline is UNREACHABLE:
            offline = StoreUnavailable("the database is unreachable")
        request = Request(run, Ticket(self._loop), offline=offline)
        self._submit(request)
        return await request.ticket.future

    async def _acknowledged(self, request: Request) -> Any:
        """The writer's answer within the deadline; else the request is spooled (or answered `offline`)."""
        self._submit(request)
        future = request.ticket.future
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.options.ack_deadline)
        except TimeoutError:
            pass
        if not request.ticket.abandon():                 # the writer is on it: its answer is worth a wait
            try:
                return await asyncio.wait_for(asyncio.shield(future), self.options.answer_timeout)
            except TimeoutError:
                log.warning("store: no answer in %.1f s; falling back", self.options.answer_timeout)
        return await self._fallback(request)

    async def _checked(self, request: Request) -> Any:
        """The answer of a check a caller waits for (a vote, a code), with a deadline that follows the store's
        state: while the writer knows the database is down, the fallback after `ack_deadline`; while it is
        reachable, however slow, the real answer, up to `check_timeout`. The fallback: the spool (for a
        spoolable request) or the `offline` answer (raised when it is an exception)."""
        self._submit(request)
        future = request.ticket.future
        started = self._loop.time()
        while True:
            try:
                return await asyncio.wait_for(asyncio.shield(future), CHECK_STEP)
            except TimeoutError:
                pass
            waited = self._loop.time() - started
            if waited >= self.options.check_timeout:
                log.warning("store: no answer to a check in %.1f s while the database seemed up; giving up", waited)
                request.ticket.abandon()
                break
            if not self._writer.online and waited >= self.options.ack_deadline and request.ticket.abandon():
                break                                    # known down, and the writer has not taken it
        return await self._fallback(request)

    async def _fallback(self, request: Request) -> Any:
        """What an abandoned request answers: spooled, or its `offline` answer."""
        request.ticket.future.add_done_callback(_consume)
        if request.spool is None:
            if isinstance(request.offline, BaseException):
                raise request.offline
            return request.offline
        await asyncio.to_thread(self.spool.append, [request.spool])
        return request.spooled

    def _submit(self, request: Request) -> None:
        if self._closed:
            raise StoreError(t("the store is closed"))
        self._writer.submit(request)

    # -- tenants, keys, campaign versions, numbers ----------------------------------------------------

    async def create_tenant(self, name: str, actor: Actor | None = None) -> Tenant:
        return await self._run(accounts.create_tenant, name, actor, write=True)

    async def tenant_by_name(self, name: str) -> Tenant | None:
        return await self._run(accounts.tenant_by_name, name)

    async def tenants(self) -> list[Tenant]:
        return await self._run(accounts.tenants)

    async def create_api_key(self, tenant_id: str, role: str, actor: Actor | None = None) -> str:
        """The plain key, shown this once (only its hash is stored)."""
        return await self._run(accounts.create_api_key, tenant_id, role, actor, write=True)

    async def verify_api_key(self, key: str) -> KeyOwner | None:
        """(tenant_id, role, key_id) of a valid key, None otherwise."""
        return await self._run(accounts.verify_api_key, key)

    async def api_keys(self, tenant_id: str) -> list[ApiKey]:
        return await self._run(accounts.api_keys, tenant_id)

    async def revoke_api_key(self, tenant_id: str | None, key_id: str, actor: Actor | None = None) -> None:
        await self._run(accounts.revoke_api_key, tenant_id, key_id, actor, write=True)

    async def save_dialplan_version(self, tenant_id: str, campaign_id: str, source_text: str, fmt: str,
                                    claim: tuple[str, ...] = (), share: tuple[str, ...] = (),
                                    name: str | None = None, voice_numbers: tuple[str, ...] = (),
                                    sms_numbers: tuple[str, ...] = (), actor: Actor | None = None) -> int:
        """A new immutable version (1, 2, ...) of the campaign's dialplan, kept with its name and numbers;
        creates the campaign if new and assigns it the short numbers in `claim` (Conflict when another
        campaign has one); the numbers in `share` (answered by keyword) become the tenant's. Every number
        of `voice_numbers` and `sms_numbers` must be leased to the tenant on that channel (Forbidden,
        or Conflict when another tenant leases it)."""
        return await self._run(accounts.save_dialplan_version, tenant_id, campaign_id, source_text, fmt,
                               tuple(claim), tuple(share), name, tuple(voice_numbers), tuple(sms_numbers), actor,
                               write=True)

    async def activate_version(self, tenant_id: str, campaign_id: str, version: int,
                               actor: Actor | None = None) -> None:
        """Put a version in service (its numbers must still be leased to the tenant)."""
        await self._run(accounts.activate_version, tenant_id, campaign_id, version, actor, write=True)

    async def active_version(self, tenant_id: str, campaign_id: str) -> DialplanVersion | None:
        return await self._run(accounts.active_version, tenant_id, campaign_id)

    async def list_versions(self, tenant_id: str, campaign_id: str) -> list[DialplanVersion]:
        return await self._run(accounts.list_versions, tenant_id, campaign_id)

    async def campaigns(self, tenant_id: str | None) -> list[Campaign]:
        return await self._run(accounts.campaigns, tenant_id)

    async def campaign_listing(self, tenant_id: str | None) -> list[CampaignListing]:
        """Campaigns with their current version's name and numbers, without reading any source."""
        return await self._run(accounts.campaign_listing, tenant_id)

    async def campaign_owner(self, campaign_id: str) -> str | None:
        return await self._run(accounts.campaign_owner, campaign_id)

    async def active_versions(self) -> list[tuple[str, DialplanVersion]]:
        return await self._run(accounts.active_versions)

    async def assign_number(self, tenant_id: str, number: str, campaign_id: str | None,
                            actor: Actor | None = None) -> ShortNumber:
        return await self._run(accounts.assign_number, tenant_id, number, campaign_id, actor, write=True)

    async def release_number(self, tenant_id: str, number: str, actor: Actor | None = None) -> None:
        await self._run(accounts.release_number, tenant_id, number, actor, write=True)

    async def audit(self, actor: Actor, action: Action, tenant_id: str | None, target: str,
                    details: dict[str, Any] | None = None) -> None:
        """An audit entry for a change made outside the database (an uploaded recording's file)."""
        await self._run(audit.record, actor, action, tenant_id, target, details, write=True)

    async def audit_entries(self, tenant_id: str | None, limit: int = 50, before: int | None = None
                            ) -> list[AuditEntry]:
        """Who changed what, newest first (of one tenant's data, or every tenant's when None)."""
        return await self._run(audit.entries, tenant_id, limit, before)

    async def numbers(self, tenant_id: str | None) -> list[ShortNumber]:
        return await self._run(accounts.numbers, tenant_id)

    # -- number inventory, leases, tariffs, charges and statements (see `inventory`, `tariffs`...) -----

    async def add_number(self, number: str, number_class: str, channels: str, monthly_fee: int,
                         actor: Actor | None = None) -> InventoryNumber:
        return await self._run(inventory.add_number, number, number_class, channels, monthly_fee, CURRENCY, actor,
                               write=True)

    async def update_number(self, number: str, *, number_class: str | None = None, channels: str | None = None,
                            monthly_fee: int | None = None, actor: Actor | None = None) -> InventoryNumber:
        return await self._run(functools.partial(inventory.update_number, number=number, number_class=number_class,
                                                 channels=channels, monthly_fee=monthly_fee, today=_today(),
                                                 actor=actor), write=True)

    async def remove_number(self, number: str, actor: Actor | None = None) -> None:
        await self._run(inventory.remove_number, number, actor, write=True)

    async def inventory(self, state: str = "all", day: date | None = None) -> list[InventoryNumber]:
        """The provider's numbers ("all", "free", "leased" on `day`, default today) with their leases."""
        return await self._run(inventory.inventory, state, day or _today())

    async def lease_number(self, number: str, tenant_id: str, starts_on: date, channels: str | None = None,
                           ends_on: date | None = None, actor: Actor | None = None) -> Lease:
        return await self._run(inventory.lease_number, number, tenant_id, starts_on, channels, ends_on, actor,
                               write=True)

    async def end_lease(self, lease_id: int, ends_on: date, actor: Actor | None = None) -> Lease:
        return await self._run(inventory.end_lease, lease_id, ends_on, _today(), actor, write=True)

    async def current_lease(self, number: str) -> Lease | None:
        """The number's lease today, else its next one."""
        return await self._run(inventory.current_lease, number, _today())

    async def leases(self, tenant_id: str | None, number: str | None = None) -> list[Lease]:
        return await self._run(inventory.leases, tenant_id, number)

    async def tenant_numbers(self, tenant_id: str | None) -> list[LeasedNumber]:
        """The numbers leased to the tenant (None: to anyone) today or from a day to come."""
        return await self._run(inventory.tenant_numbers, tenant_id, _today())

    async def ensure_leased(self, tenant_id: str, number: str, channels: str, actor: Actor | None = None) -> None:
        await self._run(inventory.ensure_leased, tenant_id, number, channels, _today(), actor, write=True)

    async def routable(self) -> dict[str, Lease]:
        """Today's lease of every leased number."""
        return await self._run(inventory.routable, _today())

    async def set_tariff(self, tariff: Tariff, actor: Actor | None = None) -> Tariff:
        """Put a tariff in force from `tariff.valid_from`, or from LEAD (10 s) from now (never sooner)."""
        return await self._run(tariffs.set_tariff, tariff, None, actor, write=True)

    async def end_tariff(self, tariff_id: int, tenant_id: str | None = None, actor: Actor | None = None) -> Tariff:
        """Take a tariff out of force LEAD (10 s) from now."""
        return await self._run(tariffs.end_tariff, tariff_id, tenant_id, None, actor, write=True)

    async def tariffs(self, tenant_id: str | None, in_force: bool = True) -> list[Tariff]:
        """The tenant's tariffs (None: everyone's) in force now, or all of them ever."""
        return await self._run(tariffs.tariffs, tenant_id, _now() if in_force else None)

    async def charge_fees(self, now: datetime | None = None) -> int:
        """Charge the monthly fees due by now (each once, whichever node runs this first)."""
        return await self._run(charges.charge_fees, now or _now(), write=True)

    async def statement(self, tenant_id: str, month: date) -> Statement:
        return await self._run(statements.tenant_statement, tenant_id, month)

    async def month_totals(self, month: date) -> dict[str, Totals]:
        return await self._run(statements.month_totals, month)

    async def campaign_days(self, tenant_id: str | None, campaign_id: str, first: date,
                            until: date) -> list[CampaignDay]:
        return await self._run(statements.campaign_days, tenant_id, campaign_id, first, until)

    async def campaign_totals(self, campaign_id: str, until: datetime | None = None) -> CampaignDay | None:
        return await self._run(statements.campaign_totals, campaign_id, until)

    async def claim_report(self, campaign_id: str, period_end: datetime) -> bool:
        """True when this node is the one to send the campaign's report for the period ending then."""
        return await self._run(accounts.claim_report, campaign_id, period_end, write=True)

    async def release_report(self, campaign_id: str, period_end: datetime) -> None:
        await self._run(accounts.release_report, campaign_id, period_end, write=True)

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def pause(self, tenant_id: str, campaign_id: str, actor: Actor | None = None) -> Lifecycle:
        return await self._run(accounts.pause, tenant_id, campaign_id, actor, write=True)

    async def resume(self, tenant_id: str, campaign_id: str, actor: Actor | None = None) -> Lifecycle:
        return await self._run(accounts.resume, tenant_id, campaign_id, actor, write=True)

    async def end_at(self, tenant_id: str, campaign_id: str, at: datetime | None,
                     actor: Actor | None = None) -> Lifecycle:
        return await self._run(accounts.end_at, tenant_id, campaign_id, at, actor, write=True)

    async def archive(self, tenant_id: str, campaign_id: str, actor: Actor | None = None) -> Lifecycle:
        return await self._run(accounts.archive, tenant_id, campaign_id, actor, write=True)

    async def delete_draft(self, tenant_id: str, campaign_id: str, actor: Actor | None = None) -> None:
        await self._run(accounts.delete_draft, tenant_id, campaign_id, actor, write=True)

    async def lifecycles(self) -> dict[str, Lifecycle]:
        return await self._run(accounts.lifecycles)

    # -- named code pools -----------------------------------------------------------------------------------

    async def create_pool(self, tenant_id: str, name: str, actor: Actor | None = None) -> Pool:
        return await self._run(code_pools.create_pool, tenant_id, name, actor, write=True)

    async def code_pool(self, tenant_id: str, name: str) -> Pool:
        return await self._run(code_pools.pool, tenant_id, name)

    async def code_pools(self, tenant_id: str | None, names: list[str] | None = None) -> list[Pool]:
        return await self._run(code_pools.pools, tenant_id, names)

    async def import_codes(self, tenant_id: str, name: str, path: Path, filename: str, fmt: str = "auto",
                           actor: Actor | None = None) -> int:
        """Start importing the file at `path` (moved to the import, deleted when it ends) into the tenant's pool
        (made when new); the import's id, at once. Conflict while another import of the pool runs."""
        pool_id, import_id = await self._run(code_pools.begin_import, tenant_id, name, filename, path.stat().st_size,
                                             actor, write=True)
        self.imports.submit(pool_id, import_id, path, fmt)
        return import_id

    async def running_imports(self, tenant_id: str) -> int:
        return await self._run(code_pools.running_imports, tenant_id, write=True)

    async def code_import(self, tenant_id: str | None, name: str, import_id: int) -> CodeImport:
        return await self._run(code_pools.code_import, tenant_id, name, import_id)

    async def code_imports(self, tenant_id: str, name: str) -> list[CodeImport]:
        return await self._run(code_pools.imports, tenant_id, name)

    # -- draws ----------------------------------------------------------------------------------------------

    async def freeze_draw(self, tenant_id: str | None, campaign_id: str, rule: Rule, since: datetime | None = None,
                          until: datetime | None = None, actor: Actor | None = None) -> Draw:
        """Freeze the campaign's entries now (counting every outcome queued for writing before)."""
        await self.flush()
        return await self._run(draws.freeze, tenant_id, campaign_id, rule, since, until, actor, write=True)

    async def draw_callers(self, tenant_id: str | None, campaign_id: str, draw_id: str) -> tuple[list[str], Draw]:
        return await self._run(draws.callers, tenant_id, campaign_id, draw_id)

    async def save_draw_winners(self, tenant_id: str | None, campaign_id: str, draw_id: str, seed: str, wanted: int,
                                winners: list[Any], actor: Actor | None = None) -> Draw:
        return await self._run(draws.save_winners, tenant_id, campaign_id, draw_id, seed, wanted, winners, actor,
                               write=True)

    async def notify_draw_winners(self, tenant_id: str | None, campaign_id: str, draw_id: str,
                                  messages: list[tuple[Any, OutboundSms]], actor: Actor | None = None) -> list[Notice]:
        """Queue the winners' messages, once each (see `draws.notify`), charged as every outbound SMS."""
        return await self._run(draws.notify, tenant_id, campaign_id, draw_id, list(messages), _now(),
                               self._writer.pricing, actor, write=True)

    async def draw(self, tenant_id: str | None, campaign_id: str, draw_id: str) -> Draw:
        return await self._run(draws.get, tenant_id, campaign_id, draw_id)

    async def draws(self, tenant_id: str | None, campaign_id: str) -> list[Draw]:
        return await self._run(draws.listing, tenant_id, campaign_id)

    async def draw_entries(self, tenant_id: str | None, campaign_id: str, draw_id: str) -> AsyncIterator[Any]:
        """Every entry of the draw, in order, a page at a time."""
        after = 0
        while True:
            page = await self._run(draws.entries_page, tenant_id, campaign_id, draw_id, after)
            for entry in page:
                yield entry
            if len(page) < draws.PAGE:
                return
            after = page[-1].entry

    async def draw_winners(self, tenant_id: str | None, campaign_id: str, draw_id: str) -> list[Any]:
        return await self._run(draws.winner_entries, tenant_id, campaign_id, draw_id)

    # -- reads (tenant_id None: every tenant) ---------------------------------------------------------

    async def tallies(self, tenant_id: str | None, campaign_id: str, redeem_pools: tuple[str, ...] = (),
                      issue_pools: tuple[str, ...] = ()) -> Tallies:
        return await self._run(queries.tallies, tenant_id, campaign_id, tuple(redeem_pools), tuple(issue_pools))

    async def calls_per_minute(self, tenant_id: str | None, since: datetime, until: datetime,
                               campaign_id: str | None = None, channel: str | None = None
                               ) -> list[tuple[datetime, int]]:
        return await self._run(queries.calls_per_minute, tenant_id, since, until, campaign_id, channel)

    async def messages_per_minute(self, numbers: list[str], since: datetime, until: datetime
                                  ) -> list[tuple[datetime, int]]:
        return await self._run(queries.messages_per_minute, list(numbers), since, until)

    async def drop_off(self, tenant_id: str | None, campaign_id: str, since: datetime | None = None,
                       until: datetime | None = None) -> dict[str | None, int]:
        return await self._run(queries.drop_off, tenant_id, campaign_id, since, until)

    async def flow_counts(self, tenant_id: str | None, campaign_id: str, filters: FlowFilter = FlowFilter()
                          ) -> FlowCounts:
        """Sessions per node and per move between nodes, and where they left (see `flow_counts`)."""
        return await self._run(flow_counts.flow_counts, tenant_id, campaign_id, filters)

    async def calls_per_minute_by_campaign(self, tenant_id: str | None, since: datetime, until: datetime
                                           ) -> dict[str, list[tuple[datetime, int]]]:
        return await self._run(operations.calls_per_minute_by_campaign, tenant_id, since, until)

    async def sms_per_minute(self, tenant_id: str | None, since: datetime, until: datetime
                             ) -> list[tuple[datetime, int, int]]:
        return await self._run(operations.sms_per_minute, tenant_id, since, until)

    async def webhook_failures(self, tenant_id: str | None, since: datetime, limit: int = 20
                               ) -> list[WebhookFailure]:
        return await self._run(operations.webhook_failures, tenant_id, since, limit)

    async def call_log(self, tenant_id: str | None, filters: CallFilter = CallFilter(), limit: int = 50,
                       offset: int = 0) -> list[CallSummary]:
        return await self._run(queries.call_log, tenant_id, filters, limit, offset)

    async def count_calls(self, tenant_id: str | None, filters: CallFilter = CallFilter()) -> int:
        return await self._run(queries.count_calls, tenant_id, filters)

    async def call_detail(self, tenant_id: str | None, call_id: str) -> CallDetail | None:
        return await self._run(queries.call_detail, tenant_id, call_id)

    async def recording_call(self, tenant_id: str | None, recording_id: str) -> str | None:
        return await self._run(queries.recording_call, tenant_id, recording_id)

    async def export_calls(self, tenant_id: str | None, filters: CallFilter = CallFilter()
                           ) -> AsyncIterator[CallSummary]:
        """Every matching call, oldest first, fetched a page at a time (`.row()` for CSV)."""
        after: tuple[datetime, str] | None = None
        while True:
            page = await self._run(queries.calls_after, tenant_id, filters, after, EXPORT_PAGE)
            for call in page:
                yield call
            if len(page) < EXPORT_PAGE:
                return
            after = (page[-1].started_at, page[-1].call_id)

    async def export_outcomes(self, tenant_id: str | None, campaign_id: str | None = None
                              ) -> AsyncIterator[OutcomeView]:
        """Every outcome (of one campaign, or all the tenant's), oldest first (`.row()` for CSV)."""
        after: tuple[datetime, str] | None = None
        while True:
            page = await self._run(queries.outcomes_after, tenant_id, campaign_id, after, EXPORT_PAGE)
            for outcome in page:
                yield outcome
            if len(page) < EXPORT_PAGE:
                return
            after = (page[-1].at, page[-1].id)

    async def contacts(self, tenant_id: str | None, campaign_id: str | None = None) -> list[Contact]:
        """The contact base of a tenant (None: every tenant), of one campaign or all (see `contacts`)."""
        if campaign_id is not None:
            await self._run(queries.check_campaign, tenant_id, campaign_id)
        return await self._run(contacts.contacts, tenant_id, campaign_id)

    async def erase_number(self, number: str) -> dict[str, int]:
        """Replace a person's number by a pseudonym everywhere (see `contacts.erase`)."""
        return await self._run(contacts.erase, number, write=True)

    async def sessions_today(self, campaign_id: str, caller: str, exclude: str | None = None) -> int:
        """Calls and SMS conversations of `caller` in a campaign since midnight (UTC), counting every
        session queued for writing before this call (StoreUnavailable while the database is down)."""
        self._check_online()
        await self.flush()
        midnight = _now().replace(hour=0, minute=0, second=0, microsecond=0)
        return await self._run(queries.sessions_since, campaign_id, caller, midnight, exclude)

    async def last_vote(self, campaign_id: str, caller: str, names: list[str]) -> str | None:
        """The choice of the caller's latest vote in the campaign under these vote names, voice or SMS
        (StoreUnavailable while the database is down)."""
        self._check_online()
        return await self._run(queries.last_vote, campaign_id, caller, list(names))

    # -- outbound campaigns (see `outbound`) ------------------------------------------------------

    async def outbound_create(self, tenant_id: str, settings: outbound.Settings) -> outbound.Outbound:
        return await self._run(outbound.create, tenant_id, settings, _now(), write=True)

    async def outbound(self, tenant_id: str | None, outbound_id: str) -> outbound.Outbound:
        return await self._run(outbound.get, tenant_id, outbound_id)

    async def outbound_list(self, tenant_id: str | None) -> list[outbound.Outbound]:
        return await self._run(outbound.listing, tenant_id)

    async def outbound_add_audience(self, tenant_id: str, outbound_id: str,
                                    contacts: list[tuple[str, dict[str, Any]]]) -> int:
        return await self._run(outbound.add_audience, tenant_id, outbound_id, contacts, _now(), write=True)

    async def outbound_control(self, tenant_id: str | None, outbound_id: str, action: str) -> outbound.Outbound:
        return await self._run(outbound.control, tenant_id, outbound_id, action, _now(), write=True)

    async def outbound_running(self, channel: str) -> list[outbound.Outbound]:
        return await self._run(outbound.running, channel)

    async def outbound_claim(self, *, outbound_id: str, node: str, limit: int, lease: float,
                             channel: str | None = None) -> list[outbound.Claimed]:
        return await self._run(functools.partial(outbound.claim, outbound_id=outbound_id, node=node, now=_now(),
                                                 limit=limit, lease=lease, channel=channel), write=True)

    async def outbound_finish(self, *, contact_id: int, node: str, result: str, outcome: str | None,
                              call_id: str | None) -> str | None:
        return await self._run(functools.partial(outbound.finish, contact_id=contact_id, node=node, result=result,
                                                 outcome=outcome, call_id=call_id, at=_now()), write=True)

    async def outbound_finish_many(self, *, node: str, results: list[outbound.Finished]) -> list[str | None]:
        return await self._run(functools.partial(outbound.finish_many, node=node, results=list(results), at=_now()),
                               write=True)

    async def outbound_give_back(self, *, contact_id: int, node: str) -> bool:
        return await self._run(functools.partial(outbound.give_back, contact_id=contact_id, node=node, at=_now()),
                               write=True)

    async def outbound_release(self, node: str) -> int:
        return await self._run(functools.partial(outbound.release, node=node, now=_now()), write=True)

    async def outbound_progress(self, tenant_id: str | None, outbound_id: str) -> outbound.Progress:
        return await self._run(outbound.progress, tenant_id, outbound_id, _now())

    async def outbound_results(self, tenant_id: str | None, outbound_id: str) -> list[outbound.ContactResult]:
        return await self._run(outbound.results, tenant_id, outbound_id)

    async def outbound_period(self, campaign_id: str, since: datetime,
                              until: datetime) -> list[outbound.PeriodResults]:
        """A flow campaign's outbound campaigns in a report period (`outbound.period_results`)."""
        return await self._run(outbound.period_results, campaign_id, since, until)

    def _check_online(self) -> None:
        """StoreUnavailable at once while the writer knows the database is down (a caller is waiting: no
        connection attempt of several seconds)."""
        if not self._writer.online:
            raise StoreUnavailable("the database is unreachable")

    async def _run(self, fn: Callable[..., T], *args: Any, write: bool = False) -> T:
        """Run `fn(session, *args)` in one transaction in a reader thread."""
        engine = writing(self.engine) if write else self.engine
        return await self._loop.run_in_executor(self._readers, functools.partial(_in_session, engine, fn, *args))


def _in_session(engine: Engine, fn: Callable[..., T], *args: Any) -> T:
    try:
        with Session(engine) as session, session.begin():
            return fn(session, *args)
    except StoreError:
        raise
    except Exception as exc:
        if is_transient(exc):
            raise StoreUnavailable(f"the database is unreachable: {exc}") from exc
        raise


def _nothing(_session: Session) -> None:
    return None


def _consume(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _today() -> date:
    return local_day(_now())
