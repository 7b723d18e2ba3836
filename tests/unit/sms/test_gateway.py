"""The SMS gateway on a real store: keywords pick among campaigns on one number, STOP/СТОП put the sender
on the number's block list (confirmed once) and every later message to them stays unsent until START,
a notice by SMS to the caller is the reply itself on the SMS channel, and a call's notice goes to the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from ivr.channels.effects import EffectContext, run_effect
from ivr.channels.sms import SmsGateway
from ivr.channels.store_services import StoreServices
from ivr.engine.campaigns import CampaignRegistry
from ivr.flow.events import Notify, NotifyResult
from ivr.store.db import Store

from ..store.support import rows, run

CAMPAIGNS = {
    "quiz.yaml": """
id: quiz
languages: [uk]
numbers: {sms: ["4646"]}
sms: {stop_words: [ВІДПИСКА], stop_text: "Відписано від {{short_number}}."}
start: q
nodes:
  q:
    type: ask
    prompt: Натисніть 1 або 2.
    sms: Яка столиця України? 1 Київ, 2 Львів.
    reminder: Нагадуємо, надішліть 1 або 2.
    choices: [{key: 1, words: [Київ], next: right}, {key: 2, words: [Львів], next: wrong}]
  right: {type: end, text: Правильно!}
  wrong: {type: end, text: "Ні, це Київ."}
""",
    "vote.yaml": """
id: vote
languages: [uk]
numbers: {sms: [{number: "4646", keywords: [VOTE, ГОЛОС]}]}
start: choose
nodes:
  choose:
    type: ask
    prompt: Голосуйте.
    sms: Надішліть 1, 2 або 3.
    choices: [{key: 1, next: count}, {key: 2, next: count}, {key: 3, next: count}]
  count: {type: vote, name: v, value: "{{input}}", next: thanks, repeat: again}
  thanks: {type: end, text: "Голос за {{vote.choice}} зараховано."}
  again: {type: end, text: Ви вже голосували.}
""",
    "codes.yaml": """
id: codes
languages: [uk]
numbers: {sms: [{number: "4646", keywords: [КОД]}]}
start: code
nodes:
  code: {type: ask, prompt: Код., sms: Надішліть код з чека., pattern: "[0-9]{8}", next: done}
  done: {type: end, text: "Код {{input}} прийнято."}
""",
    "taxi.yaml": """
id: taxi
languages: [uk]
numbers: {voice: ["5151"], sms: ["5151"]}
start: ordered
nodes:
  ordered: {type: say, text: Таксі вже їде., next: eta}
  eta: {type: notify, method: sms, target: caller, text: Таксі буде за 5 хвилин., next: bye}
  bye: {type: end}
""",
}
ANNA, BORYS = "+380501110001", "+380671110002"


async def gateway(tmp_path: Path) -> tuple[SmsGateway, Store, StoreServices]:
    folder = tmp_path / "dialplans"
    folder.mkdir()
    for name, text in CAMPAIGNS.items():
        (folder / name).write_text(text)
    campaigns = CampaignRegistry(folder)
    campaigns.load()
    store = await Store.open(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool")
    services = StoreServices(store, sms_route="smpp")
    return SmsGateway(campaigns, store, services, default_route="smpp"), store, services


def outbox(store: Store, recipient: str) -> list[tuple[str, str, str]]:
    return rows(store, "SELECT kind, state, text FROM sms_outbox WHERE recipient = :r ORDER BY created_at",
                r=recipient)


@run
async def test_the_first_word_picks_the_campaign_and_the_rest_is_its_input(tmp_path: Path) -> None:
    gw, store, _ = await gateway(tmp_path)
    try:
        n = iter(range(100))
        say = lambda sender, text: gw.inbound(f"m{next(n)}", sender, "4646", text, route="smpp")  # noqa: E731
        assert (await say(ANNA, "VOTE 2")).replies == ["Голос за 2 зараховано."]
        assert (await say(ANNA, "голос 3")).replies == ["Ви вже голосували."]          # any case
        assert (await say(ANNA, "Код 6299 2312")).replies == ["Код 62992312 прийнято."]   # the code inside
        assert (await say(BORYS, "привіт")).replies == ["Яка столиця України? 1 Київ, 2 Львів."]   # the default
        assert (await say(BORYS, "Київ")).replies == ["Правильно!"]                    # continues that conversation
        assert (await say(BORYS, "КОД")).replies == ["Надішліть код з чека."]          # keyword alone: the question
        assert (await say(BORYS, "12345678")).replies == ["Код 12345678 прийнято."]   # and the answer without it
        assert {r[1] for r in outbox(store, ANNA)} == {"queued"}
    finally:
        await store.close()


@run
async def test_stop_blocks_every_later_message_until_start(tmp_path: Path) -> None:
    gw, store, services = await gateway(tmp_path)
    try:
        n = iter(range(100))
        say = lambda text: gw.inbound(f"m{next(n)}", ANNA, "4646", text, route="smpp")  # noqa: E731
        await say("привіт")                                                  # a quiz question is waiting
        stopped = await say("СТОП")
        assert stopped.replies == ["Відписано від 4646."]                   # the number's campaign's own text
        later = datetime.now(timezone.utc) + timedelta(hours=2)
        reminded = await gw.remind_due(later)                                # the waiting quiz's reminder
        assert [r.replies for r in reminded] == [[]]
        assert (await say("stop")).replies == []                             # confirmed once
        assert (await say("CTOП")).replies == []                             # Latin C, T, O: the same word
        assert (await say("VOTE 1")).replies == []                           # counted, but not answered
        ctx = EffectContext("call-1", "taxi", ANNA, "voice")
        assert await run_effect(Notify("sms", "caller", "", "Таксі їде.", "4646"), services, ctx) == NotifyResult(False)
        assert (await say("START")).replies == ["Ви знову отримуватимете повідомлення номера 4646. Щоб відписатися, "
                                                "надішліть STOP."]
        assert (await say("VOTE 2")).replies == ["Ви вже голосували."]
        kinds = [(kind, state) for kind, state, _ in outbox(store, ANNA)]
        assert kinds == [("reply", "queued"), ("optout", "queued"), ("reply", "blocked"), ("reply", "blocked"),
                         ("notify", "blocked"), ("optin", "queued"), ("reply", "queued")]
        assert rows(store, "SELECT value FROM outcomes WHERE kind = 'vote'") == [("1",)]   # the vote still counts
        assert (await gw.inbound("x1", BORYS, "4646", "ВІДПИСКА", route="smpp")).replies == ["Відписано від 4646."]
        assert (await gw.inbound("x2", BORYS, "5151", "Стоп!", route="smpp")).replies == [
            "Ви відписалися від повідомлень номера 5151. Щоб підписатися знову, надішліть START."]   # the default
    finally:
        await store.close()


@run
async def test_a_notice_to_the_caller_is_the_reply_on_sms_and_an_outbox_message_from_a_call(tmp_path: Path) -> None:
    gw, store, services = await gateway(tmp_path)
    try:
        reply = await gw.inbound("t1", ANNA, "5151", "таксі", route="smpp")
        assert reply.replies == ["Таксі вже їде.", "Таксі буде за 5 хвилин."]
        assert [kind for kind, _, _ in outbox(store, ANNA)] == ["reply", "reply"]        # no extra notice
        ctx = EffectContext("call-2", "taxi", BORYS, "voice")
        result = await run_effect(Notify("sms", "caller", "", "Таксі буде за 5 хвилин.", "5151"), services, ctx)
        assert result == NotifyResult(True)
        assert outbox(store, BORYS) == [("notify", "queued", "Таксі буде за 5 хвилин.")]
        assert rows(store, "SELECT number, session_id, parts, encoding FROM sms_outbox WHERE recipient = :r",
                    r=BORYS) == [("5151", "call-2", 1, "ucs2")]
    finally:
        await store.close()
