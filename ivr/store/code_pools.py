"""A tenant's named code pools: imports into them, redeeming a code, issuing one to a caller.

Plain functions of a Session (imports run them in their worker thread, redemptions and issues in the
writer thread). A pool is found by the tenant and its name; a campaign uses the pools of its tenant.

Imports: `begin_import` makes the pool if it is new and an import row in state "running"; `add_codes`
inserts a batch (INSERT ... ON CONFLICT DO NOTHING RETURNING, or COPY first on PostgreSQL), so the codes
not returned are the duplicates (of the pool, or of an earlier batch); `commit_import` makes the whole
import count at once (one UPDATE of its state and of the pool's counter); on an error `purge_import`
deletes its codes in slices, then `fail_import` marks it failed (a failed import has no codes left once
its worker is done). Every read of codes (redeem, issue) takes only codes of committed imports, so
nothing of an import that did not finish is ever seen. One import per pool runs at a time; one that
stopped sending heartbeats (its process died) for STALE is failed by the next import of the pool, and its
codes purged when a node starts.

Redeeming is the conditional UPDATE (... WHERE redeemed_at IS NULL) on the pool's UNIQUE (pool, code)
index: one row whatever the pool's size, and its row count decides between two callers, on any node.
Issuing hands a caller one code of the pool for good: UNIQUE (pool, issued_to) keeps it to one, and the
same caller asking again gets the same code; a free code is found on that index too (issued_to IS NULL).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.i18n import t

from . import audit
from .audit import Action, Actor
from .connect import insert_one
from .errors import Conflict, NotFound, StoreError
from .models import CampaignRow, CodeImportRow, CodePoolRow, OutcomeRow, PoolCodeRow
from .records import CodeStatus, new_id

POOL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
RUNNING, COMMITTED, FAILED = "running", "committed", "failed"
STALE = timedelta(minutes=2)
MAX_PROBLEMS = 1000             # problems listed per import (all are counted)
PURGE_SLICE = 50_000
ISSUE_TRIES = 5
INSERT_ROWS = 500            # rows per INSERT statement of an import
# IMPORT_DURABILITY: a batch's commit does not wait for the disk (PostgreSQL synchronous_commit off here,
# SQLite synchronous NORMAL on the import's connection, `code_import`). A crash may lose the last batches, never
# corrupt anything, and the import is then failed (it never committed); `commit_import` is an ordinary
# transaction, durable when it returns, and it flushes the log of every batch before it.

IssueStatus = Literal["issued", "again", "exhausted", "unavailable"]


@dataclass(frozen=True)
class Pool:
    id: int
    tenant_id: str
    name: str
    created_at: datetime
    codes: int
    redeemed: int
    issued: int

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "tenant_id": self.tenant_id, "created_at": self.created_at.isoformat(),
                "codes": self.codes, "redeemed": self.redeemed, "issued": self.issued}


@dataclass(frozen=True)
class CodeImport:
    id: int
    pool: str
    state: str
    filename: str
    bytes_total: int
    bytes_read: int
    lines: int
    added: int
    duplicates: int
    malformed: int
    problems: list[dict[str, Any]]
    error: str | None
    started_at: datetime
    finished_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        out["started_at"] = self.started_at.isoformat()
        out["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        out["problems_listed"] = len(self.problems)
        return out


@dataclass(frozen=True)
class Issued:
    status: IssueStatus
    code: str | None = None


def check_name(name: str) -> str:
    if not POOL_NAME.fullmatch(name):
        raise StoreError(t("a pool name is 1 to 64 letters, digits, - and _, starting with a letter or digit"))
    return name


# -- pools -------------------------------------------------------------------------------------------

def create_pool(session: Session, tenant_id: str, name: str, actor: Actor | None = None) -> Pool:
    """The tenant's pool of that name, made empty when new."""
    check_name(name)
    made = {"tenant_id": tenant_id, "name": name, "created_at": _now(), "codes": 0}
    if insert_one(session, CodePoolRow.__table__, made):                           # type: ignore[arg-type]
        audit.record(session, actor, Action.POOL_CREATED, tenant_id, name)
    return pool(session, tenant_id, name)


def pool(session: Session, tenant_id: str, name: str) -> Pool:
    row = session.scalar(select(CodePoolRow).where(CodePoolRow.tenant_id == tenant_id, CodePoolRow.name == name))
    if row is None:
        raise NotFound(t("no code pool {name!r}", name=name))
    return _pool(session, row)


def pools(session: Session, tenant_id: str | None, names: list[str] | None = None) -> list[Pool]:
    """The tenant's pools (None: every tenant's), or only those named."""
    query = select(CodePoolRow).order_by(CodePoolRow.tenant_id, CodePoolRow.name)
    if tenant_id is not None:
        query = query.where(CodePoolRow.tenant_id == tenant_id)
    if names is not None:
        query = query.where(CodePoolRow.name.in_(names))
    return [_pool(session, row) for row in session.scalars(query)]


def _pool(session: Session, row: CodePoolRow) -> Pool:
    """The pool with its codes redeemed and handed out, counted on the indexes that hold only those."""
    redeemed = session.scalar(select(func.count()).select_from(PoolCodeRow).where(
        PoolCodeRow.pool_id == row.id, PoolCodeRow.redeemed_at.is_not(None)))
    issued = session.scalar(select(func.count()).select_from(PoolCodeRow).where(
        PoolCodeRow.pool_id == row.id, PoolCodeRow.issued_to.is_not(None)))
    return Pool(row.id, row.tenant_id, row.name, row.created_at, row.codes, redeemed or 0, issued or 0)


# -- imports -----------------------------------------------------------------------------------------

def begin_import(session: Session, tenant_id: str, name: str, filename: str, bytes_total: int,
                 actor: Actor | None = None) -> tuple[int, int]:
    """(pool id, import id) of a new running import (the pool is made when new); Conflict while another
    import of the pool runs. Imports whose worker died are failed first (`purge_import` cleans them)."""
    pool_id = create_pool(session, tenant_id, name, actor).id
    session.get(CodePoolRow, pool_id, with_for_update=True)                  # one begin at a time per pool
    fail_stale(session, pool_id)
    running = session.scalar(select(CodeImportRow.id).where(CodeImportRow.pool_id == pool_id,
                                                            CodeImportRow.state == RUNNING))
    if running is not None:
        raise Conflict(t("an import into pool {name!r} is running (import {running}); wait for it to finish",
                         name=name, running=running))
    now = _now()
    row = CodeImportRow(pool_id=pool_id, state=RUNNING, filename=filename[:255], bytes_total=bytes_total,
                        bytes_read=0, lines=0, added=0, duplicates=0, malformed=0, problems=[], started_at=now,
                        heartbeat_at=now)
    session.add(row)
    session.flush()
    audit.record(session, actor, Action.CODES_IMPORTED, tenant_id, name, {"import": row.id, "filename": row.filename,
                                                                          "bytes": bytes_total})
    return pool_id, row.id


def running_imports(session: Session, tenant_id: str) -> int:
    """How many imports into the tenant's pools are running (stale ones failed first)."""
    fail_stale(session)
    return int(session.scalar(select(func.count()).select_from(CodeImportRow).join(
        CodePoolRow, CodePoolRow.id == CodeImportRow.pool_id).where(
        CodePoolRow.tenant_id == tenant_id, CodeImportRow.state == RUNNING)) or 0)


def add_codes(session: Session, pool_id: int, import_id: int, codes: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Insert a batch of (line, code); the (line, code) of those that were duplicates."""
    first: dict[str, int] = {}
    duplicates: list[tuple[int, str]] = []
    for line, code in codes:
        if code in first:
            duplicates.append((line, code))
        else:
            first[code] = line
    inserted = _insert_codes(session, pool_id, import_id, sorted(first))
    if len(inserted) < len(first):
        duplicates += [(line, code) for code, line in first.items() if code not in inserted]
        duplicates.sort()
    return duplicates


def _insert_codes(session: Session, pool_id: int, import_id: int, codes: list[str]) -> set[str]:
    if session.get_bind().dialect.name == "postgresql":
        return _copy_codes(session, pool_id, import_id, codes)
    return _insert_rows(session, pool_id, import_id, codes)


def _copy_codes(session: Session, pool_id: int, import_id: int, codes: list[str]) -> set[str]:
    """PostgreSQL: COPY the batch into a temporary table of the transaction, then INSERT ... SELECT ... ON
    CONFLICT DO NOTHING RETURNING code (COPY is PostgreSQL's bulk path, several times faster than INSERTs)."""
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute("SET LOCAL synchronous_commit = off")         # see IMPORT_DURABILITY
        cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS ivr_import_codes (code varchar(64)) ON COMMIT DELETE ROWS")
        with cursor.copy("COPY ivr_import_codes (code) FROM STDIN") as copy:
            for code in codes:
                copy.write_row((code,))
        cursor.execute("INSERT INTO pool_codes (pool_id, import_id, code) SELECT %s, %s, code FROM ivr_import_codes "
                       "ORDER BY code ON CONFLICT DO NOTHING RETURNING code", (pool_id, import_id))
        return {row[0] for row in cursor.fetchall()}
    finally:
        cursor.close()


def _insert_rows(session: Session, pool_id: int, import_id: int, codes: list[str]) -> set[str]:
    """SQLite: INSERT ... ON CONFLICT DO NOTHING RETURNING code, written out by hand in slices of INSERT_ROWS
    rows, in sorted order (neighbouring index pages): the driver gets plain SQL and a flat tuple of values
    (SQLAlchemy's own insert of many rows with RETURNING costs more than the database's work at this size)."""
    cursor = session.connection().connection.cursor()
    inserted: set[str] = set()
    try:
        for start in range(0, len(codes), INSERT_ROWS):
            part = codes[start:start + INSERT_ROWS]
            rows = ",".join([f"({pool_id},{import_id},?)"] * len(part))
            cursor.execute(f"INSERT INTO pool_codes (pool_id, import_id, code) VALUES {rows} "
                           "ON CONFLICT DO NOTHING RETURNING code", part)
            inserted.update(row[0] for row in cursor.fetchall())
    finally:
        cursor.close()
    return inserted


def progress(session: Session, import_id: int, *, bytes_read: int, lines: int, added: int, duplicates: int,
             malformed: int, problems: list[dict[str, Any]]) -> None:
    """Keep how far the import is (and that its worker is alive)."""
    session.execute(update(CodeImportRow).where(CodeImportRow.id == import_id).values(
        bytes_read=bytes_read, lines=lines, added=added, duplicates=duplicates, malformed=malformed,
        problems=problems[:MAX_PROBLEMS], heartbeat_at=_now()))


def commit_import(session: Session, import_id: int) -> None:
    """Make every code of the import count, at once."""
    row = session.get(CodeImportRow, import_id, with_for_update=True)
    if row is None or row.state != RUNNING:
        raise Conflict(t("import {import_id} is not running", import_id=import_id))
    row.state, row.finished_at = COMMITTED, _now()
    session.execute(update(CodePoolRow).where(CodePoolRow.id == row.pool_id)
                    .values(codes=CodePoolRow.codes + row.added))


def fail_stale(session: Session, pool_id: int | None = None) -> None:
    """Fail the running imports (of one pool, or all) whose worker stopped sending heartbeats."""
    query = update(CodeImportRow).where(CodeImportRow.state == RUNNING, CodeImportRow.heartbeat_at < _now() - STALE)
    if pool_id is not None:
        query = query.where(CodeImportRow.pool_id == pool_id)
    session.execute(query.values(state=FAILED, error="the import stopped (its node went away)", finished_at=_now()))


def fail_import(session: Session, import_id: int, error: str) -> None:
    session.execute(update(CodeImportRow).where(CodeImportRow.id == import_id, CodeImportRow.state == RUNNING)
                    .values(state=FAILED, error=error[:2000], finished_at=_now()))


def purge_import(session: Session, import_id: int) -> int:
    """Delete up to PURGE_SLICE codes of an import that is not committed; how many (0: none left)."""
    state = session.scalar(select(CodeImportRow.state).where(CodeImportRow.id == import_id))
    if state == COMMITTED:
        raise StoreError(t("import {import_id} is committed: its codes stay", import_id=import_id))
    ids = select(PoolCodeRow.id).where(PoolCodeRow.import_id == import_id).limit(PURGE_SLICE).scalar_subquery()
    return session.execute(delete(PoolCodeRow).where(PoolCodeRow.id.in_(ids))).rowcount or 0


def failed_imports(session: Session) -> list[int]:
    """Failed imports that may still have codes to purge (stale running ones are failed first)."""
    fail_stale(session)
    return list(session.scalars(select(CodeImportRow.id).where(CodeImportRow.state == FAILED)
                                .where(select(PoolCodeRow.id).where(PoolCodeRow.import_id == CodeImportRow.id)
                                       .exists())))


def code_import(session: Session, tenant_id: str | None, name: str, import_id: int) -> CodeImport:
    row = session.execute(select(CodeImportRow, CodePoolRow).join(CodePoolRow, CodePoolRow.id == CodeImportRow.pool_id)
                          .where(CodeImportRow.id == import_id, CodePoolRow.name == name)).first()
    if row is None or tenant_id is not None and row[1].tenant_id != tenant_id:
        raise NotFound(t("no import {import_id} into pool {name!r}", import_id=import_id, name=name))
    return _import(row[0], row[1].name)


def imports(session: Session, tenant_id: str, name: str, limit: int = 50) -> list[CodeImport]:
    """The pool's imports, newest first."""
    found = pool(session, tenant_id, name)
    rows = session.scalars(select(CodeImportRow).where(CodeImportRow.pool_id == found.id)
                           .order_by(CodeImportRow.id.desc()).limit(limit))
    return [_import(row, name) for row in rows]


def _import(row: CodeImportRow, pool_name: str) -> CodeImport:
    return CodeImport(row.id, pool_name, row.state, row.filename, row.bytes_total, row.bytes_read, row.lines,
                      row.added, row.duplicates, row.malformed, list(row.problems or []), row.error, row.started_at,
                      row.finished_at)


# -- redeeming and issuing -------------------------------------------------------------------------------

def _campaign_pool(session: Session, campaign_id: str, name: str) -> int | None:
    """The id of the pool `name` of the campaign's tenant."""
    return session.scalar(select(CodePoolRow.id).join(CampaignRow, CampaignRow.tenant_id == CodePoolRow.tenant_id)
                          .where(CampaignRow.id == campaign_id, CodePoolRow.name == name))


def _committed(pool_id: int) -> Any:
    return select(CodeImportRow.id).where(CodeImportRow.pool_id == pool_id, CodeImportRow.state == COMMITTED)


def redeem(session: Session, *, campaign_id: str, pool: str, code: str, caller: str, channel: str, call_id: str,
           at: datetime) -> CodeStatus:
    """"redeemed" the first time, "used" after, "invalid" when the pool has no such code (or no such pool)."""
    pool_id = _campaign_pool(session, campaign_id, pool)
    if pool_id is None:
        return "invalid"
    mine = (PoolCodeRow.pool_id == pool_id, PoolCodeRow.code == code, PoolCodeRow.import_id.in_(_committed(pool_id)))
    result = session.execute(update(PoolCodeRow).where(*mine, PoolCodeRow.redeemed_at.is_(None))
                             .values(redeemed_by=caller, redeemed_at=at, call_id=call_id))
    if result.rowcount == 1:
        _outcome(session, campaign_id, caller, channel, call_id, "code", pool, code, at)
        return "redeemed"
    return "used" if session.scalar(select(PoolCodeRow.id).where(*mine)) is not None else "invalid"


def issue(session: Session, *, campaign_id: str, pool: str, caller: str, channel: str, call_id: str,
          at: datetime) -> Issued:
    """A code of the pool for the caller: the one issued to them before ("again"), else a free one
    ("issued"), else "exhausted"."""
    pool_id = _campaign_pool(session, campaign_id, pool)
    if pool_id is None:
        return Issued("exhausted")
    committed = _committed(pool_id)
    for _ in range(ISSUE_TRIES):
        before = session.scalar(select(PoolCodeRow.code).where(PoolCodeRow.pool_id == pool_id,
                                                               PoolCodeRow.issued_to == caller))
        if before is not None:
            return Issued("again", before)
        free = select(PoolCodeRow.id, PoolCodeRow.code).where(
            PoolCodeRow.pool_id == pool_id, PoolCodeRow.issued_to.is_(None), PoolCodeRow.import_id.in_(committed)
        ).limit(1)
        if session.get_bind().dialect.name == "postgresql":
            free = free.with_for_update(skip_locked=True)
        row = session.execute(free).first()
        if row is None:
            return Issued("exhausted")
        try:
            with session.begin_nested():
                taken = session.execute(update(PoolCodeRow).where(PoolCodeRow.id == row.id,
                                                                  PoolCodeRow.issued_to.is_(None))
                                        .values(issued_to=caller, issued_at=at)).rowcount
        except IntegrityError:               # the same caller got a code on another node meanwhile
            continue
        if taken == 1:
            _outcome(session, campaign_id, caller, channel, call_id, "issued", pool, row.code, at)
            return Issued("issued", row.code)
    return Issued("unavailable")


def redeemed_by_campaign(session: Session, campaign_id: str) -> dict[tuple[str, str], int]:
    """{(kind, pool): count} of the campaign's accepted codes redeemed ("code") and handed out ("issued")."""
    rows = session.execute(select(OutcomeRow.kind, OutcomeRow.name, func.count()).where(
        OutcomeRow.campaign_id == campaign_id, OutcomeRow.kind.in_(("code", "issued")),
        OutcomeRow.status == "accepted").group_by(OutcomeRow.kind, OutcomeRow.name))
    return {(kind, name): count for kind, name, count in rows}


def _outcome(session: Session, campaign_id: str, caller: str, channel: str, call_id: str, kind: str, pool: str,
             code: str, at: datetime) -> None:
    session.add(OutcomeRow(id=new_id(), call_id=call_id, campaign_id=campaign_id, caller=caller, channel=channel,
                           kind=kind, name=pool, value=code, status="accepted", at=at))


def _now() -> datetime:
    return datetime.now(timezone.utc)
