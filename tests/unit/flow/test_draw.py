"""The winner draw's algorithm: canonical entries and their hash, the HMAC-SHA256 stream, rejection without
modulo bias, one prize per caller, and the same winners for the same entries and seed (re-derived here from
the documented steps with nothing but hashlib and hmac)."""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter

import pytest

from ivr.flow.draw import COLUMNS, DrawError, Entry, Stream, Winner, draw, entries_csv, entries_sha256, read_entries


def entries(callers: list[str]) -> list[Entry]:
    return [Entry(n, caller, "code", "receipts", f"C{n:03d}", f"2026-05-04T10:{n % 60:02d}:00+00:00", f"o{n}")
            for n, caller in enumerate(callers, start=1)]


def test_the_entries_file_is_canonical_and_its_hash_is_of_its_bytes() -> None:
    listed = entries(["+380501", "+380502"]) + [Entry(3, "+380503", "answer", "q1", 'says "hi", twice', "t", "o3")]
    text = "".join(entries_csv(listed))
    assert text.splitlines()[0] == ",".join(COLUMNS)
    assert text.splitlines()[3] == '3,+380503,answer,q1,"says ""hi"", twice",t,o3'
    assert text.endswith("\n") and "\r" not in text
    assert entries_sha256(listed) == hashlib.sha256(text.encode()).hexdigest()
    assert read_entries(text) == listed
    assert "".join(entries_csv(listed[:2])) + "".join(entries_csv(listed[2:], start=3)) == text   # in pages
    with pytest.raises(DrawError):
        list(entries_csv([listed[1]]))                                # numbered from 1, in order
    with pytest.raises(DrawError):
        read_entries("entry,caller\n1,+1\n")


def test_the_stream_is_hmac_sha256_as_documented() -> None:
    seed, sha = "lottery 7 14 21", "ab" * 32
    key = hmac.new(seed.encode(), sha.encode(), hashlib.sha256).digest()
    blocks = b"".join(hmac.new(key, b"ivr-draw-v1" + i.to_bytes(8, "big"), hashlib.sha256).digest() for i in range(3))
    stream = Stream(seed, sha)
    assert [stream.u64() for _ in range(12)] == [int.from_bytes(blocks[i:i + 8], "big") for i in range(0, 96, 8)]


def test_numbers_below_n_reject_the_biased_tail() -> None:
    class Scripted(Stream):
        def __init__(self, values: list[int]) -> None:
            self.values = values

        def u64(self) -> int:
            return self.values.pop(0)
    n = 3                                                  # 2**64 mod 3 == 1: the top value is rejected
    assert Scripted([2**64 - 1, 2**64 - 2, 7]).below(n) == (2**64 - 2) % 3
    assert Scripted([5]).below(1) == 0
    with pytest.raises(DrawError):
        Scripted([]).below(0)


def test_the_same_entries_and_seed_give_the_same_winners_and_another_seed_others() -> None:
    callers = [f"+38050{n:04d}" for n in range(200)]
    sha = entries_sha256(entries(callers))
    first = draw(callers, sha, "seed one", 10)
    assert first == draw(callers, sha, "seed one", 10)
    assert first != draw(callers, sha, "seed two", 10)
    assert first != draw(callers, "0" * 64, "seed one", 10)             # the seed is bound to the list
    assert [w.place for w in first] == list(range(1, 11)) and len({w.entry for w in first}) == 10


def test_one_prize_per_caller_unless_allowed() -> None:
    callers = ["+1"] * 50 + ["+2", "+3"]
    sha = "1" * 64
    winners = draw(callers, sha, "s", 5)
    assert [w.caller for w in winners].count("+1") == 1 and len(winners) == 3      # nobody else can win
    two = draw(callers, sha, "s", 5, per_caller=2)
    assert Counter(w.caller for w in two)["+1"] == 2 and len(two) == 4
    assert all(callers[w.entry - 1] == w.caller for w in two)
    assert draw([], sha, "s", 3) == []
    with pytest.raises(DrawError):
        draw(callers, sha, "s", 0)


def test_every_entry_is_equally_likely() -> None:
    callers = [f"+{n}" for n in range(7)]
    firsts = Counter(draw(callers, "2" * 64, f"seed {i}", 1)[0].entry for i in range(7000))
    expected = 1000
    chi2 = sum((firsts[e] - expected) ** 2 / expected for e in range(1, 8))
    assert chi2 < 22.5                                      # 6 degrees of freedom, p = 0.001


def documented_draw(callers: list[str], sha: str, seed: str, wanted: int, per_caller: int = 1) -> list[tuple]:
    """The module docstring's steps 2 to 4, written again plainly: what an auditor would write."""
    key = hmac.new(seed.encode("utf-8"), sha.encode("ascii"), hashlib.sha256).digest()
    data, counter, winners, won = b"", 0, [], []
    while len(winners) < wanted:
        left = [i for i in range(len(callers)) if i not in won and sum(callers[w] == callers[i] for w in won) < per_caller]
        if not left:
            break
        while True:
            while len(data) < 8:
                data += hmac.new(key, b"ivr-draw-v1" + counter.to_bytes(8, "big"), hashlib.sha256).digest()
                counter += 1
            x, data = int.from_bytes(data[:8], "big"), data[8:]
            if x < 2**64 - 2**64 % len(callers):
                break
        i = x % len(callers)
        if i in left:
            won.append(i)
            winners.append((len(winners) + 1, i + 1, callers[i]))
    return winners


@pytest.mark.parametrize("seed", ["a", "2026-05-04 lottery: 7 14 21 28 35", "Ґанок ї"])
def test_an_auditors_own_implementation_agrees(seed: str) -> None:
    callers = [f"+38050{n % 13:04d}" for n in range(1, 41)]            # several entries per caller
    sha = entries_sha256(entries(callers))
    for per_caller in (1, 2):
        assert [(w.place, w.entry, w.caller) for w in draw(callers, sha, seed, 9, per_caller)] == documented_draw(
            callers, sha, seed, 9, per_caller)


def test_a_known_draw() -> None:
    """A fixed vector, so an implementation elsewhere can be checked against this one."""
    callers = [f"+38050{n:04d}" for n in range(1, 21)]
    sha = entries_sha256(entries(callers))
    assert sha == "55b22b971aa900c7483ce58d1107c15c829080b563b1dd31825a7780beb33fbc"
    assert draw(callers, sha, "2026-05-04 lottery: 7 14 21 28 35", 3) == [
        Winner(1, 15, "+380500015"), Winner(2, 3, "+380500003"), Winner(3, 18, "+380500018")]
