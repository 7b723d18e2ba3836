"""What the campaign file says about SMS: an ask's SMS wording, notices by SMS, keywords on a number,
opt-out words — and the problems a file can have with them, by path."""

from __future__ import annotations

import pytest

from ivr.flow.events import Digits, Notify
from ivr.flow.interpreter import FlowSession
from ivr.flow.loader import load_campaign
from ivr.flow.model import spoken_texts
from ivr.flow.validate import DialplanError

BASE = """
id: taxi
languages: [uk]
numbers: {voice: ["5151"], sms: ["5151", {number: "3838", keywords: [TAXI, ТАКСІ]}]}
sms: {stop_words: [ВІДПИСКА], stop_text: "Відписано."}
start: where
nodes:
  where:
    type: ask
    prompt: Натисніть 1, щоб викликати таксі.
    sms: Надішліть 1, щоб викликати таксі.
    choices: [{key: 1, next: eta}]
  eta: {type: notify, method: sms, target: caller, text: "Таксі буде за 5 хв.", next: bye}
  bye: {type: end}
"""


def test_the_model_reads_keywords_and_what_the_number_claims() -> None:
    campaign = load_campaign(BASE)
    assert campaign.sms_keywords == {"3838": ["TAXI", "ТАКСІ"]}
    assert campaign.claimed_numbers == ("5151", "5151")          # voice and SMS 5151; 3838 is shared
    assert "Надішліть 1, щоб викликати таксі." not in [s.text for s in spoken_texts(campaign)]   # never synthesized


def test_sms_asks_with_the_sms_wording_and_voice_with_the_prompt() -> None:
    campaign = load_campaign(BASE)
    sms = FlowSession(campaign, "sms", "+380501110001", "5151").start()
    voice = FlowSession(campaign, "voice", "+380501110001", "5151").start()
    assert sms[0].parts[0].text == "Надішліть 1, щоб викликати таксі."
    assert voice[0].parts[0].text == "Натисніть 1, щоб викликати таксі."


def test_a_notice_by_sms_names_the_number_it_goes_from() -> None:
    session = FlowSession(load_campaign(BASE), "voice", "+380501110001", "5151")
    session.start()
    [notice] = session.feed(Digits("1"))
    assert notice == Notify("sms", "caller", "taxi", "Таксі буде за 5 хв.", "5151")


@pytest.mark.parametrize("old, new, path, message", [
    ("target: caller", "target: somebody", "nodes.eta.target", 'an SMS goes to "caller" or to a number'),
    ("keywords: [TAXI, ТАКСІ]", "keywords: []", "numbers.sms[1].keywords", "should be non-empty"),
    ("keywords: [TAXI, ТАКСІ]", "keywords: [TWO WORDS]", "numbers.sms[1].keywords[0]", "does not match"),
    ("stop_words: [ВІДПИСКА]", "stop_words: [ВІДПИСКА], colour: red", "sms.colour", "unknown field"),
    ('stop_text: "Відписано."', "stop_text: {en: Bye}", "sms.stop_text", 'missing translation "uk"'),
])
def test_problems_are_named_by_path(old: str, new: str, path: str, message: str) -> None:
    with pytest.raises(DialplanError) as info:
        load_campaign(BASE.replace(old, new))
    assert any(i.path == path and message in i.message for i in info.value.issues), info.value.issues
