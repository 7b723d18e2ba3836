"""Winner draws anyone can re-run: a frozen list of entries, its SHA-256, a seed, and a fixed algorithm.

1. The entries are written as CSV (`entries_csv`): the header `entry,caller,kind,name,value,at,outcome`,
   then one row per entry numbered from 1 in the canonical order (the time the entry was made, then its
   outcome id), lines ending in "\\n", fields quoted only when they must be (Python's csv module, "minimal"
   quoting). The SHA-256 of those exact UTF-8 bytes (lower-case hex) is published when the list is frozen,
   before the seed is known.
2. The seed is any text given at draw time (say, the numbers of a public lottery drawn after the freeze).
   The key is K = HMAC-SHA256(key = UTF-8 bytes of the seed, message = ASCII bytes of the entries' hex
   SHA-256), so the same seed with another list gives other winners.
3. Random numbers: the byte stream HMAC-SHA256(K, b"ivr-draw-v1" + i as 8 bytes big-endian) for
   i = 0, 1, 2, ..., read 8 bytes at a time as unsigned 64-bit big-endian integers x. A number below n is
   taken by rejection, without modulo bias: with limit = 2**64 - (2**64 mod n), x is read again while
   x >= limit, and the number is x mod n.
4. Winners, for places 1, 2, ...: the entry numbered (number below the entry count) + 1 wins, unless it won
   already or its caller has `per_caller` prizes already; then another number is read. It ends with the
   number of winners asked for, or when no entry can win any more. Every remaining entry is equally
   likely at each step, so a caller's chance grows with their entries while they may still win.

`ivr draw verify` runs exactly this on a downloaded entries file.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ivr.i18n import t

COLUMNS = ("entry", "caller", "kind", "name", "value", "at", "outcome")
LABEL = b"ivr-draw-v1"
SPACE = 1 << 64


class DrawError(ValueError):
    """An entries file that is not one, or a draw that cannot be made."""


@dataclass(frozen=True)
class Entry:
    entry: int
    caller: str
    kind: str
    name: str
    value: str
    at: str                     # ISO 8601, UTC
    outcome: str

    def row(self) -> list[str]:
        return [str(self.entry), self.caller, self.kind, self.name, self.value, self.at, self.outcome]


@dataclass(frozen=True)
class Winner:
    place: int
    entry: int
    caller: str


def entries_csv(entries: Iterable[Entry], start: int = 1) -> Iterator[str]:
    """The canonical CSV text of the entries, a piece at a time: the header first, unless the entries are a
    later part of the list (starting at entry `start`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if start == 1:
        writer.writerow(COLUMNS)
    for n, entry in enumerate(entries, start=start):
        if entry.entry != n:
            raise DrawError(t("entry {entry} is at place {n}: entries are numbered 1, 2, ... in order",
                              entry=entry.entry, n=n))
        writer.writerow(entry.row())
        if n % 1000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def entries_sha256(entries: Iterable[Entry]) -> str:
    digest = hashlib.sha256()
    for piece in entries_csv(entries):
        digest.update(piece.encode("utf-8"))
    return digest.hexdigest()


def read_entries(text: str) -> list[Entry]:
    """The entries of a canonical CSV file (DrawError when it is not one)."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows or tuple(rows[0]) != COLUMNS:
        raise DrawError(t("the first line must be {columns}", columns=",".join(COLUMNS)))
    entries = []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(COLUMNS) or not row[0].isdigit():
            raise DrawError(t("line {line}: not an entry", line=line))
        entries.append(Entry(int(row[0]), *row[1:]))
    return entries


class Stream:
    """The draw's random numbers (step 3 of the module docstring)."""

    def __init__(self, seed: str, sha256: str) -> None:
        self.key = hmac.new(seed.encode("utf-8"), sha256.encode("ascii"), hashlib.sha256).digest()
        self.counter = 0
        self.buffer = b""

    def u64(self) -> int:
        if len(self.buffer) < 8:
            self.buffer += hmac.new(self.key, LABEL + self.counter.to_bytes(8, "big"), hashlib.sha256).digest()
            self.counter += 1
        value, self.buffer = int.from_bytes(self.buffer[:8], "big"), self.buffer[8:]
        return value

    def below(self, n: int) -> int:
        if not 0 < n <= SPACE:
            raise DrawError(t("cannot draw a number below {n}", n=n))
        limit = SPACE - SPACE % n
        while True:
            x = self.u64()
            if x < limit:
                return x % n


def draw(callers: list[str], sha256: str, seed: str, winners: int, per_caller: int = 1) -> list[Winner]:
    """The winners among entries 1..len(callers) (`callers[i]` made entry i+1) (step 4)."""
    if winners < 1 or per_caller < 1:
        raise DrawError(t("ask for at least one winner and one prize per caller"))
    entries = Counter(callers)                       # entries per caller still able to win
    eligible = len(callers)
    prizes: Counter[str] = Counter()
    won: set[int] = set()
    stream = Stream(seed, sha256)
    out: list[Winner] = []
    while len(out) < winners and eligible > 0:
        index = stream.below(len(callers))
        caller = callers[index]
        if index in won or prizes[caller] >= per_caller:
            continue
        won.add(index)
        prizes[caller] += 1
        entries[caller] -= 1
        eligible -= 1
        if prizes[caller] >= per_caller:
            eligible -= entries[caller]
            entries[caller] = 0
        out.append(Winner(len(out) + 1, index + 1, caller))
    return out
