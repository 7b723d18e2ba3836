"""The SMS outbox on a real database: each message claimed by one node, parts and receipts deciding the
state, retries and released claims, and the block list respected by every later message."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ivr.channels.sms_outbox import outbound
from ivr.store.outbox import OutboundSms, SentPart

from .support import opened, rows, run

UCS2_LONG = "Дякуємо! Ваш голос за учасника номер три зараховано. " * 3     # 159 characters: 3 parts of 67


def message(text: str = "Your vote is counted.", recipient: str = "+380501234567", kind: str = "reply") -> OutboundSms:
    return outbound(number="3838", recipient=recipient, text=text, kind=kind, route="smpp", campaign_id="vote")


def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/ivr.db"


@run
async def test_part_counts_and_encodings_are_stored_per_message(tmp_path: Path) -> None:
    async with opened(url(tmp_path), tmp_path / "spool") as store:
        await store.sms_enqueue([message("Hello €uro [ok]"), message(UCS2_LONG), message("x" * 161)])
        stored = rows(store, "SELECT text, encoding, parts, state FROM sms_outbox ORDER BY parts, encoding")
    assert [row[1:] for row in stored] == [("gsm7", 1, "queued"), ("gsm7", 2, "queued"), ("ucs2", 3, "queued")]


@run
async def test_two_nodes_claim_each_message_once(tmp_path: Path) -> None:
    async with opened(url(tmp_path), tmp_path / "spool") as store:
        await store.sms_enqueue([message(f"m{n}") for n in range(20)])
        first, second = await asyncio.gather(
            store.sms_claim_outbox(node="a", routes=("smpp",), lease=60, limit=15),
            store.sms_claim_outbox(node="b", routes=("smpp",), lease=60, limit=15))
        ids = [m.id for m in first + second]
        assert len(ids) == len(set(ids)) == 20
        assert await store.sms_claim_outbox(node="c", routes=("smpp",), lease=60, limit=50) == []
        assert await store.sms_release("a") == len(first)                    # a stops: its share is due again
        again = await store.sms_claim_outbox(node="c", routes=("smpp",), lease=60, limit=50)
    assert sorted(m.id for m in again) == sorted(m.id for m in first)


@run
async def test_receipts_decide_the_state_of_a_message_in_parts(tmp_path: Path) -> None:
    async with opened(url(tmp_path), tmp_path / "spool") as store:
        long, short = message(UCS2_LONG), message("short")
        await store.sms_enqueue([long, short])
        claimed = {m.id: m for m in await store.sms_claim_outbox(node="a", routes=("smpp",), lease=60, limit=5)}
        assert claimed[long.id].parts == 3
        await store.sms_finish(message_id=long.id, parts=[SentPart(seq, "kyivstar", f"L{seq}") for seq in (1, 2, 3)],
                               state="accepted", link="kyivstar")
        await store.sms_finish(message_id=short.id, parts=[SentPart(1, "kyivstar", "S1")], state="accepted",
                               link="kyivstar")
        assert await store.sms_receipt(link="kyivstar", smsc_id="L1", state="delivered") == (long.id, "accepted")
        assert await store.sms_receipt(link="kyivstar", smsc_id="L2", state="delivered") == (long.id, "accepted")
        assert await store.sms_receipt(link="kyivstar", smsc_id="L3", state="delivered") == (long.id, "delivered")
        assert await store.sms_receipt(link="vodafone", smsc_id="S1", state="delivered") is None   # another link's id
        assert await store.sms_receipt(link="kyivstar", smsc_id="S1", state="undeliverable",
                                       error="UNDELIV err:001") == (short.id, "undeliverable")
        assert await store.sms_receipt(link="kyivstar", smsc_id="S1", state="delivered") == (short.id, "undeliverable")
        stored = rows(store, "SELECT id, state, link, error FROM sms_outbox")
    assert sorted(stored) == sorted([(long.id, "delivered", "kyivstar", None),
                                     (short.id, "undeliverable", "kyivstar", "UNDELIV err:001")])


@run
async def test_a_retried_message_keeps_its_accepted_parts_and_waits(tmp_path: Path) -> None:
    async with opened(url(tmp_path), tmp_path / "spool") as store:
        long = message(UCS2_LONG)
        await store.sms_enqueue([long])
        [claimed] = await store.sms_claim_outbox(node="a", routes=("smpp",), lease=60, limit=5)
        await store.sms_finish(message_id=long.id, parts=[SentPart(1, "kyivstar", "L1")], state="queued",
                               retry_in=0.0, error="link down", count=False)
        [again] = await store.sms_claim_outbox(node="b", routes=("smpp",), lease=60, limit=5)
        assert again.sent == {1: "L1"} and again.attempts == 0 and again.reference == claimed.reference
        await store.sms_finish(message_id=long.id, parts=[], state="queued", retry_in=3600, error="throttled")
        assert await store.sms_claim_outbox(node="b", routes=("smpp",), lease=60, limit=5) == []
    assert rows(store, "SELECT attempts, state FROM sms_outbox") == [(1, "queued")]


@run
async def test_the_block_list_stops_every_later_message_but_the_confirmation(tmp_path: Path) -> None:
    async with opened(url(tmp_path), tmp_path / "spool") as store:
        assert await store.sms_opt_out(number="3838", caller="+380501234567", word="стоп")
        assert not await store.sms_opt_out(number="3838", caller="+380501234567", word="stop")     # once
        states = await store.sms_enqueue([message(kind="optout"), message(kind="reply"), message(kind="notify"),
                                          message(recipient="+380671234567")])
        assert states == ["queued", "blocked", "blocked", "queued"]
        assert await store.sms_opt_in(number="3838", caller="+380501234567")
        assert await store.sms_enqueue([message()]) == ["queued"]


@run
async def test_a_keyed_message_is_queued_and_charged_once_however_often_asked(tmp_path: Path) -> None:
    """A notice keyed by what it announces (a draw's place) has the same id each time: queueing it again adds
    no row (and no charge: it is keyed by the id), and tells the state it has now; an opted-out recipient's is kept "blocked"."""
    def notice(recipient: str) -> OutboundSms:
        return outbound(number="3838", recipient=recipient, text="You won!", kind="notify", route="smpp",
                        campaign_id="vote", key=f"draw:d1:{recipient}")

    async with opened(url(tmp_path), tmp_path / "spool") as store:
        assert notice("+380501").id == notice("+380501").id != notice("+380502").id
        await store.sms_opt_out(number="3838", caller="+380502", word="STOP")
        assert await store.sms_enqueue([notice("+380501"), notice("+380502")]) == ["queued", "blocked"]
        claimed = await store.sms_claim_outbox(node="a", routes=("smpp",), lease=60, limit=5)
        await store.sms_finish(message_id=claimed[0].id, parts=[SentPart(1, "kyivstar", "K1")], state="accepted",
                               link="kyivstar")
        assert await store.sms_enqueue([notice("+380501"), notice("+380502")]) == ["accepted", "blocked"]
        stored = rows(store, "SELECT recipient, state FROM sms_outbox ORDER BY recipient")
    assert stored == [("+380501", "accepted"), ("+380502", "blocked")]
