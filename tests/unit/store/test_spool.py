"""The durable spool: what is appended comes back in order, torn or damaged tails are detected and skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.store.errors import SpoolError
from ivr.store.records import (CallAnswered, CallEnded, CallEvent, CallStarted, CodePoolLoad, OutcomeRecord,
                               VoteRecord, decode, encode)
from ivr.store.spool import FRAME, Spool, frame

from .support import T0, at


def sample() -> list:
    return [
        CallStarted("c1", "+15550001", "3838", "talent", "voice", T0, version=3),
        CallAnswered("c1", at(1)),
        CallEvent("c1", "digits", {"digits": "3", "confidence": 0.92, "nested": {"a": [1, 2]}}, at(2), seq=7),
        VoteRecord("talent", "talent", "+15550001", "chloe", "campaign", "voice", "c1", at(3)),
        OutcomeRecord("c1", "survey", "+15550001", "voice", "answer", "q1", "4", at(4)),
        CodePoolLoad("raffle", "receipts", ["104729", "104730"], at(5)),
        CallEnded("c1", at(6), "completed", "flow_end", ["welcome", "vote", "thanks"]),
    ]


def test_every_record_type_survives_encoding() -> None:
    for record in sample():
        assert decode(encode(record)) == record


def test_records_come_back_in_order_after_reopening(tmp_path: Path) -> None:
    records = sample()
    spool = Spool(tmp_path)
    spool.append(records[:3])
    spool.append(records[3:])
    assert spool.pending == 7
    spool.close()

    again = Spool(tmp_path)
    assert again.pending == 7 and again.torn == 0
    segments = again.seal()
    assert [r for s in segments for r in again.read(s)] == records
    for segment in segments:
        again.remove(segment)
    assert again.pending == 0
    assert list(tmp_path.glob("*.spool")) == []
    again.close()


def test_a_torn_last_record_is_skipped_and_later_appends_stay_readable(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    records = sample()
    spool.append(records[:3])
    spool.close()
    [segment] = list(tmp_path.glob("*.spool"))
    data = segment.read_bytes()
    segment.write_bytes(data[:-5])                      # kill -9 in the middle of the last write

    reopened = Spool(tmp_path)
    assert reopened.torn == 1
    assert reopened.pending == 2
    reopened.append([records[4]])                       # goes to a new segment, after the torn one
    segments = reopened.seal()
    assert len(segments) == 2
    assert [r for s in segments for r in reopened.read(s)] == records[:2] + [records[4]]
    reopened.close()


def test_a_damaged_record_stops_the_segment_there(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    records = sample()
    spool.append(records[:3])
    spool.close()
    [segment] = list(tmp_path.glob("*.spool"))
    data = bytearray(segment.read_bytes())
    second = FRAME.size + len(encode(records[0]))
    data[second + FRAME.size + 3] ^= 0xFF              # one flipped bit in the second record's payload
    segment.write_bytes(bytes(data))

    reopened = Spool(tmp_path)
    assert reopened.torn == 1
    assert [r for s in reopened.seal() for r in reopened.read(s)] == records[:1]
    reopened.close()


def test_a_record_that_does_not_decode_is_skipped_and_counted(tmp_path: Path) -> None:
    records = sample()
    (tmp_path / "00000001.spool").write_bytes(frame(encode(records[0])) + frame(b'{"type": "Nonsense"}')
                                             + frame(encode(records[1])))
    spool = Spool(tmp_path)
    assert [r for s in spool.seal() for r in spool.read(s)] == records[:2]
    assert spool.undecodable == 1
    spool.close()


def test_segments_rotate_when_full(tmp_path: Path) -> None:
    records = sample()
    spool = Spool(tmp_path, segment_bytes=300)
    for record in records:
        spool.append([record])
    segments = spool.seal()
    assert len(segments) > 2
    assert [r for s in segments for r in spool.read(s)] == records
    spool.close()


def test_appends_during_a_replay_wait_for_the_next_one(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    records = sample()
    spool.append(records[:2])
    [first] = spool.seal()
    spool.append(records[2:3])                          # arrives while `first` is being replayed
    spool.remove(first)
    assert spool.pending == 1
    assert [r for s in spool.seal() for r in spool.read(s)] == records[2:3]
    spool.close()


def test_one_process_per_spool_folder(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    with pytest.raises(SpoolError, match="in use"):
        Spool(tmp_path)
    spool.close()
    Spool(tmp_path).close()
