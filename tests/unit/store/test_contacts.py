"""The contact base (first and last seen, campaigns, consent, opt-out; withdrawn consent left out) and
erasing a number: replaced everywhere by one pseudonym, every tally unchanged."""

from __future__ import annotations

from pathlib import Path

from ivr.channels.sms_outbox import outbound

from .support import at, opened, rows, run

ANNA, BORYS, CHRYSTIA = "+380501110001", "+380671110002", "+380931110003"


async def traffic(store) -> None:
    tenant = await store.create_tenant("acme")
    for campaign in ("vote", "club"):
        await store.save_dialplan_version(tenant.id, campaign, f"id: {campaign}", "yaml")
    calls = [("c1", ANNA, "vote", "3838", 0), ("c2", ANNA, "club", "4646", 50), ("c3", BORYS, "club", "4646", 10),
             ("c4", CHRYSTIA, "club", "4646", 20), ("c5", ANNA, "vote", "3838", 90)]
    for call_id, caller, campaign, number, t in calls:
        store.call_started(call_id=call_id, caller=caller, number=number, campaign_id=campaign, channel="sms",
                           at=at(t))
    for caller, call_id, value, t in ((ANNA, "c2", "так", 51), (BORYS, "c3", "yes", 11), (CHRYSTIA, "c4", "yes", 21),
                                      (CHRYSTIA, "c4", "ні", 22)):
        await store.record_outcome(call_id=call_id, campaign_id="club", caller=caller, channel="sms", kind="consent",
                                   name="marketing", value=value, at=at(t))
    await store.cast_vote(campaign_id="vote", name="v", caller=ANNA, choice="2", window="campaign", channel="sms",
                          call_id="c1")
    await store.sms_opt_out(number="4646", caller=BORYS, word="stop")
    await store.sms_enqueue([outbound(number="3838", recipient=ANNA, text="Дякуємо", kind="reply", route="smpp")])
    await store.flush()
    return tenant.id


@run
async def test_the_contact_base_per_campaign_and_overall(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        tenant_id = await traffic(store)
        overall = await store.contacts(tenant_id)
        club = await store.contacts(tenant_id, "club")
        other = await store.create_tenant("other")
        assert await store.contacts(other.id) == []                              # another tenant sees nothing
    assert [(c.number, c.first_seen, c.last_seen, c.campaigns, c.consent, c.opted_out) for c in overall] == [
        (ANNA, at(0), at(90), "club vote", "yes", False),
        (BORYS, at(10), at(10), "club", "yes", True)]                            # Chrystia withdrew: left out
    assert overall[0].consent_at == at(51)
    assert [c.number for c in club] == [ANNA, BORYS]


@run
async def test_erasing_a_number_keeps_every_tally(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        tenant_id = await traffic(store)
        before = await store.tallies(tenant_id, "vote")
        changed = await store.erase_number(ANNA)
        after = await store.tallies(tenant_id, "vote")
        callers = {r[0] for r in rows(store, "SELECT caller FROM calls UNION SELECT caller FROM outcomes "
                                             "UNION SELECT caller FROM votes UNION SELECT recipient FROM sms_outbox")}
        contacts = await store.contacts(tenant_id)
        again = await store.cast_vote(campaign_id="vote", name="v", caller=ANNA, choice="3", window="campaign",
                                      channel="sms", call_id="c9")
    assert changed["calls"] == 3 and changed["votes"] == 1 and changed["outcomes"] >= 2 and changed["sms_outbox"] == 1
    assert before == after
    assert ANNA not in callers and len({c for c in callers if c.startswith("erased:")}) == 1   # one pseudonym
    assert [c.number for c in contacts] == [BORYS]
    assert again.accepted                                   # the number is a stranger now
