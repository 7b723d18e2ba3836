"""Messages are translated when shown, in the reader's language, with the plural forms of that language and
numbers and dates as it writes them; the request's language comes from ?lang= or Accept-Language."""

from __future__ import annotations

import pickle
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from ivr.i18n import (Message, format_datetime, format_number, language_of, localize, message_of, negotiate, t, tn,
                      verbatim)
from ivr.store import Conflict

KYIV = ZoneInfo("Europe/Kyiv")


@pytest.mark.parametrize(("n", "uk", "ru", "en"), [
    (1, "1 хвилину", "1 минуту", "1 minute"), (2, "2 хвилини", "2 минуты", "2 minutes"),
    (5, "5 хвилин", "5 минут", "5 minutes"), (11, "11 хвилин", "11 минут", "11 minutes"),
    (21, "21 хвилину", "21 минуту", "21 minutes"), (22, "22 хвилини", "22 минуты", "22 minutes"),
    (112, "112 хвилин", "112 минут", "112 minutes")])
def test_plural_forms_of_each_language(n: int, uk: str, ru: str, en: str) -> None:
    message = tn("{n} minute", "{n} minutes", n)
    assert (message.render("uk"), message.render("ru"), message.render("en"), str(message)) == (uk, ru, en, en)


def test_a_message_is_translated_with_its_parameters_and_english_by_default() -> None:
    message = t("no campaign {campaign!r}", campaign="vote-3838")
    assert message.render("uk") == "немає кампанії 'vote-3838'"
    assert message.render("ru") == "нет кампании 'vote-3838'"
    assert str(message) == message.render("en") == "no campaign 'vote-3838'"
    assert message.render("de") == "no campaign 'vote-3838'"          # a language without a catalogue


def test_counts_are_grouped_as_the_language_writes_them_other_numbers_are_not() -> None:
    busy = tn("{n} import of your pools is running: wait for it to finish",
              "{n} imports of your pools are running: wait for one to finish", 12345)
    assert busy.render("uk").startswith("уже виконується 12\u00a0345 імпортів")
    assert busy.render("en").startswith("12,345 imports")
    assert t("campaign {campaign!r} has no version {version}", campaign="c", version=2026).render("uk") == \
        "у кампанії 'c' немає версії 2026"


def test_nested_messages_and_json_values_are_localized() -> None:
    body = {"error": t("the {role} role may not use this endpoint", role=t("operator")),
            "issues": [{"message": t("no such call"), "line": 3}], "hint": "as is"}
    assert localize(body, "uk") == {"error": "роль «оператор» не має доступу до цієї адреси API",
                                    "issues": [{"message": "такого дзвінка немає", "line": 3}], "hint": "as is"}


def test_literal_braces_and_verbatim_text() -> None:
    assert t('body must be {{"version": N}}').render("ru") == 'тело запроса должно быть {"version": N}'
    assert verbatim("'x' is not of type {string}").render("uk") == "'x' is not of type {string}"


def test_exceptions_carry_their_message_across_processes() -> None:
    exc = Conflict(t("campaign {campaign!r} is archived", campaign="c"))
    again = pickle.loads(pickle.dumps(exc))
    assert message_of(again).render("uk") == "кампанію 'c' заархівовано"
    assert str(again) == "campaign 'c' is archived"
    assert message_of(ValueError("plain")).render("uk") == "plain"
    assert isinstance(message_of(ValueError("plain")), Message)


@pytest.mark.parametrize(("header", "expected"), [
    ("uk-UA,uk;q=0.9,en-US;q=0.8,en;q=0.7", "uk"), ("ru-RU,ru;q=0.9", "ru"), ("de-DE, ru;q=0.5", "ru"),
    ("en;q=0.2, uk;q=0.9", "uk"), ("de, fr", None), ("", None), ("*", "en"), ("uk;q=0", None), ("uk;q=x, ru", "ru")])
def test_accept_language(header: str, expected: str | None) -> None:
    assert negotiate(header) == expected


def test_the_query_wins_over_the_header_and_english_is_the_default() -> None:
    assert language_of({"lang": "ru"}, {"Accept-Language": "uk"}) == "ru"
    assert language_of({"lang": "xx"}, {"Accept-Language": "uk-UA"}) == "uk"
    assert language_of({}, {}) == "en"


def test_dates_and_numbers_per_language_on_the_24_hour_clock() -> None:
    at = datetime(2026, 5, 4, 13, 3, tzinfo=timezone.utc)           # 16:03 in Kyiv
    assert format_datetime(at, "uk", KYIV) == "4 трав. 2026\u202fр., 16:03"
    assert format_datetime(at, "ru", KYIV) == "4 мая 2026\u202fг., 16:03"
    assert format_datetime(at, "en", KYIV) == "May 4, 2026, 16:03"
    assert (format_number(1234567, "uk"), format_number(1234567, "en")) == ("1\u00a0234\u00a0567", "1,234,567")
