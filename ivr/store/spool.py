"""The local durable spool: records wait here while the database is down or slow.

A spool is a folder of append-only segment files (`00000001.spool`, ...), replayed oldest first. Each
record is one frame: 4-byte big-endian length, 4-byte CRC-32 of the payload, payload (`records.encode`).
`append` writes all its frames with one write() and fsyncs before it returns, so an acknowledged record
survives kill -9 and power loss. A crash can tear only the last frame of the newest segment: reading
stops at the first frame whose length runs past the end of the file or whose checksum is wrong, and
counts it in `torn`. A frame with a good checksum that does not decode is skipped and counted in
`undecodable`. A reopened spool never appends to an old segment, so records written after a torn tail
stay readable.

`seal()` closes the segment being written and returns every closed one; the replayer reads a sealed
segment, writes its records to the database and then `remove()`s it. Appends may go on meanwhile (into
a new segment). One process at a time: the folder is locked with flock(2), released even on kill -9.
"""

from __future__ import annotations

import fcntl
import logging
import os
import struct
import threading
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

from .errors import SpoolError
from .records import Record, RecordError, decode, encode

log = logging.getLogger(__name__)

FRAME = struct.Struct(">II")
SUFFIX = ".spool"
SEGMENT_BYTES = 4 << 20


def frame(payload: bytes) -> bytes:
    return FRAME.pack(len(payload), zlib.crc32(payload)) + payload


def scan(data: bytes) -> tuple[list[bytes], int]:
    """The payloads of the whole frames at the start of `data`, and how many bytes follow them."""
    payloads = []
    offset = 0
    while offset + FRAME.size <= len(data):
        length, crc = FRAME.unpack_from(data, offset)
        payload = data[offset + FRAME.size:offset + FRAME.size + length]
        if len(payload) < length or zlib.crc32(payload) != crc:
            break
        payloads.append(payload)
        offset += FRAME.size + length
    return payloads, len(data) - offset


class Spool:
    """Append-only, checksummed, fsync'd record segments in one folder."""

    def __init__(self, directory: str | Path, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.directory = Path(directory)
        self.segment_bytes = segment_bytes
        self.torn = 0
        self.undecodable = 0
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._lock_fd = os.open(self.directory / "spool.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise SpoolError(f"cannot use spool folder {self.directory}: {exc}") from exc
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(self._lock_fd)
            raise SpoolError(f"spool folder {self.directory} is in use by another process") from exc
        self._lock = threading.Lock()
        self._sealed: dict[Path, int] = {}
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            payloads, damaged = scan(path.read_bytes())
            self._sealed[path] = len(payloads)
            if damaged:
                self.torn += 1
                log.warning("spool %s: %d bytes of a torn or damaged record skipped", path.name, damaged)
        self._next = max((int(p.stem) for p in self._sealed), default=0) + 1
        self._fd: int | None = None
        self._current: Path | None = None
        self._current_count = 0
        self._current_bytes = 0

    @property
    def pending(self) -> int:
        """Records in the spool, not yet removed by the replayer."""
        with self._lock:
            return sum(self._sealed.values()) + self._current_count

    def append(self, records: Sequence[Record]) -> None:
        """Write the records durably (fsync) or raise SpoolError."""
        if not records:
            return
        data = b"".join(frame(encode(r)) for r in records)
        with self._lock:
            try:
                fd = self._open_segment()
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            except OSError as exc:
                raise SpoolError(f"cannot write the spool in {self.directory}: {exc}") from exc
            self._current_count += len(records)
            self._current_bytes += len(data)
            if self._current_bytes >= self.segment_bytes:
                self._close_segment()

    def seal(self) -> list[Path]:
        """Close the segment being written; the closed segments, oldest first."""
        with self._lock:
            self._close_segment()
            return sorted(self._sealed)

    def read(self, path: Path) -> Iterator[Record]:
        """The records of a sealed segment, up to a torn or damaged frame."""
        for payload in scan(path.read_bytes())[0]:
            try:
                yield decode(payload)
            except RecordError as exc:
                self.undecodable += 1
                log.error("spool %s: skipping a record: %s", path.name, exc)

    def remove(self, path: Path) -> None:
        """Forget a sealed segment once its records are in the database."""
        with self._lock:
            path.unlink(missing_ok=True)
            self._sealed.pop(path, None)

    def close(self) -> None:
        with self._lock:
            self._close_segment()
        os.close(self._lock_fd)

    def _open_segment(self) -> int:
        if self._fd is None:
            self._current = self.directory / f"{self._next:08d}{SUFFIX}"
            self._next += 1
            self._fd = os.open(self._current, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
            directory = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(directory)                     # the new file's name is durable too
            finally:
                os.close(directory)
        return self._fd

    def _close_segment(self) -> None:
        if self._fd is None or self._current is None:
            return
        os.close(self._fd)
        self._sealed[self._current] = self._current_count
        self._fd, self._current, self._current_count, self._current_bytes = None, None, 0, 0
