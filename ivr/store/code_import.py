"""Running a code import: a file read in batches, each batch one short transaction, then one commit.

`run_import` does the work synchronously (the CLI calls it; the node runs it in an `ImportWorkers` thread,
never on the event loop). Each batch of BATCH codes is inserted with the import's progress in one
transaction, so other writers (the node's writer thread, other nodes) wait for at most one batch. The codes
are invisible until `commit_import` (see `code_pools`); on any error its codes are purged and the import is
marked failed, so a pool never holds half a file. A batch that meets an unreachable or locked database
is tried again (TRIES times, backing off), as the writer does; the batch and its progress are one
transaction, so a retried batch never counts twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from . import code_pools
from .code_files import Batch, CodeFileError, Problem, duplicate, read_batches
from .connect import is_transient, writing

log = logging.getLogger(__name__)

BATCH = 20_000
TRIES = 5
SQLITE_CACHE_KIB = 256 * 1024    # SQLite page cache of the import's connection
T = TypeVar("T")


@dataclass
class Progress:
    """How far an import is; kept in the import's row after every batch."""

    bytes_read: int = 0
    lines: int = 0
    added: int = 0
    duplicates: int = 0
    malformed: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)

    def note(self, problems: list[Problem]) -> None:
        for problem in problems:
            if problem.kind == "duplicate":
                self.duplicates += 1
            else:
                self.malformed += 1
            if len(self.problems) < code_pools.MAX_PROBLEMS:
                self.problems.append(problem.as_dict())


def run_import(engine: Engine, pool_id: int, import_id: int, path: Path, fmt: str = "auto",
               on_progress: Callable[[Progress], None] | None = None, batch: int = BATCH) -> Progress:
    """Import the file into the pool; the final progress. On failure the import is failed and purged and
    the error raised again."""
    done = Progress()
    try:
        with open(path, "rb") as raw, _batch_connection(engine) as connection:
            for part in read_batches(raw, fmt, batch):
                done = _in_transaction(connection, _write_batch, pool_id, import_id, part, done)
                if on_progress is not None:
                    on_progress(done)
        _in_transaction(engine, code_pools.commit_import, import_id)
    except BaseException as exc:
        reason = str(exc) if isinstance(exc, CodeFileError) else f"{type(exc).__name__}: {exc}"
        log.warning("code import %d failed: %s", import_id, reason)
        try:
            purge(engine, import_id)
            _in_transaction(engine, code_pools.fail_import, import_id, reason)
        except Exception:
            log.exception("code import %d: could not be marked failed (the next import of the pool will)", import_id)
        raise
    return done


def _write_batch(session: Session, pool_id: int, import_id: int, part: Batch, before: Progress) -> Progress:
    """Insert a batch and keep the progress it makes, in one transaction; the progress after it."""
    duplicates = code_pools.add_codes(session, pool_id, import_id, part.codes)
    done = replace(before, problems=list(before.problems))
    done.added += len(part.codes) - len(duplicates)
    done.note(sorted(part.problems + [duplicate(line, code) for line, code in duplicates], key=lambda p: p.line))
    done.bytes_read, done.lines = part.bytes_read, part.lines
    code_pools.progress(session, import_id, bytes_read=done.bytes_read, lines=done.lines, added=done.added,
                        duplicates=done.duplicates, malformed=done.malformed, problems=done.problems)
    return done


def purge(engine: Engine, import_id: int) -> None:
    """Delete the codes of a failed import, a slice per transaction."""
    while _in_transaction(engine, code_pools.purge_import, import_id):
        pass


@contextmanager
def _batch_connection(engine: Engine) -> Iterator[Connection]:
    """The connection an import writes its batches on. SQLite: a large page cache (the pool's index stays in
    memory) and commits that do not wait for the disk (see `code_pools.IMPORT_DURABILITY`), set outside any
    transaction as SQLite wants and put back for the connection's next user."""
    with writing(engine).connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            _pragmas(connection, f"cache_size=-{SQLITE_CACHE_KIB}", "synchronous=NORMAL")
        try:
            yield connection
        finally:
            if sqlite and not connection.invalidated:
                connection.rollback()
                _pragmas(connection, "cache_size=-2000", "synchronous=FULL")     # as `connect` has them


def _pragmas(connection: Connection, *pragmas: str) -> None:
    raw = connection.connection.driver_connection                    # autocommit: outside a transaction
    for pragma in pragmas:
        raw.execute(f"PRAGMA {pragma}")


def _in_transaction(bind: Engine | Connection, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    for attempt in range(TRIES):
        try:
            with Session(writing(bind) if isinstance(bind, Engine) else bind) as session, session.begin():
                return fn(session, *args, **kwargs)
        except Exception as exc:
            if not is_transient(exc) or attempt == TRIES - 1:
                raise
            time.sleep(0.5 * 2 ** attempt)
    raise AssertionError("unreachable")


class ImportWorkers:
    """Imports of this node, each in a worker thread (at most `workers` at once); the file is deleted when
    its import ends. Failed imports left by a crash are purged at start."""

    def __init__(self, engine: Engine, workers: int = 1) -> None:
        self.engine = engine
        self._threads = ThreadPoolExecutor(workers, thread_name_prefix="ivr-code-import")

    def submit(self, pool_id: int, import_id: int, path: Path, fmt: str) -> Future[Progress]:
        return self._threads.submit(self._run, pool_id, import_id, path, fmt)

    def purge_failed(self) -> Future[None]:
        return self._threads.submit(self._purge_failed)

    def close(self) -> None:
        self._threads.shutdown(wait=True, cancel_futures=True)

    def _run(self, pool_id: int, import_id: int, path: Path, fmt: str) -> Progress:
        try:
            return run_import(self.engine, pool_id, import_id, path, fmt)
        finally:
            path.unlink(missing_ok=True)

    def _purge_failed(self) -> None:
        for import_id in _in_transaction(self.engine, code_pools.failed_imports):
            purge(self.engine, import_id)
