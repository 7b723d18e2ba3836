"""What the store knows of a caller when a session starts (sessions today, the last vote), vote windows
by the hour, and the effects' answers when the store cannot be reached."""

from __future__ import annotations

from ivr.store.records import VoteOutcome

from datetime import datetime, timedelta, timezone
from pathlib import Path

from ivr.channels.effects import EffectContext
from ivr.channels.store_services import StoreServices
from ivr.flow.events import CodeResult, VoteResult
from ivr.flow.loader import load_file
from ivr.store import Store

from .support import FAST, at, opened, run

ROOT = Path(__file__).resolve().parents[3]
LAST_VOTE = ROOT / "tests" / "integration" / "dialplans" / "callers" / "last_vote.yaml"


def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/ivr.db"


async def vote(store: Store, caller: str, choice: str, channel: str, window: str = "campaign", when=None,
               name: str = "pick", campaign: str = "test-last-vote"):
    return await store.cast_vote(campaign_id=campaign, name=name, caller=caller, choice=choice, window=window,
                                 channel=channel, call_id=f"{caller}-{choice}-{channel}", at=when)


@run
async def test_last_vote_is_the_callers_latest_in_the_campaign_whatever_the_channel(tmp_path: Path) -> None:
    async with opened(url(tmp_path), tmp_path / "spool") as store:
        assert await store.last_vote("test-last-vote", "+1", ["pick"]) is None
        await vote(store, "+1", "anna", "sms", "day", at(0))
        await vote(store, "+1", "boris", "voice", "day", at(0) + timedelta(days=1))
        await vote(store, "+1", "chloe", "voice", name="other")                 # another vote name
        await vote(store, "+1", "dmitri", "voice", campaign="another-campaign")
        await vote(store, "+2", "elena", "voice")
        assert await store.last_vote("test-last-vote", "+1", ["pick"]) == "boris"
        assert await store.last_vote("test-last-vote", "+1", ["other"]) == "chloe"
        assert await store.last_vote("test-last-vote", "+2", ["pick"]) == "elena"


@run
async def test_an_hourly_vote_window_takes_one_vote_per_caller_per_utc_hour(tmp_path: Path) -> None:
    async with opened(url(tmp_path), tmp_path / "spool") as store:
        assert await vote(store, "+1", "anna", "voice", "hour", at(0)) == VoteOutcome(True, None)        # 12:00
        assert await vote(store, "+1", "boris", "sms", "hour", at(59 * 60)) == VoteOutcome(False, "anna")  # 12:59
        assert await vote(store, "+1", "boris", "sms", "hour", at(60 * 60)) == VoteOutcome(True, None)    # 13:00
        assert await vote(store, "+2", "chloe", "voice", "hour", at(30)) == VoteOutcome(True, None)
        tallies = await store.tallies(None, "test-last-vote")
    assert tallies.votes == {"pick": {"anna": 1, "boris": 1, "chloe": 1}}


@run
async def test_caller_variables_read_the_store_for_what_the_campaign_uses(tmp_path: Path) -> None:
    campaign = load_file(LAST_VOTE)
    raffle = load_file(ROOT / "dialplans" / "raffle.yaml")
    async with opened(url(tmp_path), tmp_path / "spool") as store:
        services = StoreServices(store)
        assert await services.caller_variables(campaign, "+1") == {}
        await vote(store, "+1", "anna", "sms")
        assert await services.caller_variables(campaign, "+1") == {"last_vote": "anna"}
        for call_id in ("c1", "c2"):
            store.call_started(call_id=call_id, caller="+1", number="7777", campaign_id="promo-raffle",
                               channel="voice", at=datetime.now(timezone.utc))
        assert await services.caller_variables(raffle, "+1") == {"sessions_today": 2}
        assert await services.caller_variables(raffle, "+1", exclude="c2") == {"sessions_today": 1}
        assert await services.caller_variables(load_file(ROOT / "dialplans" / "vote.yaml"), "+1") == {}


@run
async def test_without_the_store_votes_and_codes_are_unavailable_and_sessions_start_unknowing(tmp_path: Path) -> None:
    campaign = load_file(LAST_VOTE)
    store = await Store.open(url(tmp_path), tmp_path / "spool", FAST)
    await store.close()                                      # a store that cannot take anything any more
    services = StoreServices(store)
    ctx = EffectContext("c1", campaign.id, "+1", "voice")
    assert await services.cast_vote(ctx, "pick", "anna", "campaign") == VoteResult(False, None, unavailable=True)
    assert await services.redeem_code(ctx, "receipts", "104729") == CodeResult("unavailable")
    assert await services.caller_variables(campaign, "+1") == {}

