"""Values written out as callers should hear them: numbers agreeing with their nouns, money, dates,
times and codes, in Ukrainian, Russian and English."""

from __future__ import annotations

import pytest

from ivr.media.verbalize import cardinal, verbalize, vocabulary, words


@pytest.mark.parametrize("text,language,said", [
    ("1 грн", "uk", "одна гривня"),
    ("2 грн", "uk", "дві гривні"),
    ("5 грн", "uk", "п'ять гривень"),
    ("11 грн", "uk", "одинадцять гривень"),
    ("21.50 грн", "uk", "двадцять одна гривня п'ятдесят копійок"),
    ("₴1 002,01", "uk", "одна тисяча дві гривні одна копійка"),
    ("2 UAH", "ru", "две гривны"),
    ("5 UAH", "ru", "пять гривен"),
    ("1 UAH", "en", "one hryvnia"),
    ("1021.05 UAH", "en", "one thousand twenty one hryvnias five kopiykas"),
])
def test_amounts_agree_with_the_currency(text: str, language: str, said: str) -> None:
    assert verbalize(text, language) == said


@pytest.mark.parametrize("n,language,feminine,said", [
    (0, "uk", False, "нуль"),
    (1, "uk", False, "один"),
    (1, "uk", True, "одна"),
    (2, "ru", True, "две"),
    (2000, "uk", False, "дві тисячі"),
    (5_000_000, "ru", False, "пять миллионов"),
    (1_234_567, "uk", False, "один мільйон двісті тридцять чотири тисячі п'ятсот шістдесят сім"),
    (342, "en", False, "three hundred forty two"),
])
def test_cardinals(n: int, language: str, feminine: bool, said: str) -> None:
    assert " ".join(cardinal(n, language, feminine)) == said


@pytest.mark.parametrize("text,language,said", [
    ("2026-12-07", "uk", "сьоме грудня дві тисячі двадцять шостого року"),
    ("31.01.2011", "uk", "тридцять перше січня дві тисячі одинадцятого року"),
    ("2023-03-03", "ru", "третье марта две тысячи двадцать третьего года"),
    ("2026-12-07", "en", "December seventh twenty twenty six"),
    ("14:30", "uk", "чотирнадцять годин тридцять хвилин"),
    ("21:01", "uk", "двадцять одна година одна хвилина"),
    ("9:05", "ru", "девять часов пять минут"),
    ("10:00", "en", "ten o'clock"),
    ("9:05", "en", "nine oh five"),
])
def test_dates_and_times(text: str, language: str, said: str) -> None:
    assert verbalize(text, language) == said


def test_codes_are_said_digit_by_digit_and_text_around_values_stays() -> None:
    assert verbalize("Замовлення 0671234 готове.", "uk") == "Замовлення нуль шість сім один два три чотири готове."
    assert verbalize("Order A-1029, please.", "en") == "Order one zero two nine, please."
    assert verbalize("Код 12 34 56", "ru") == "Код один два три четыре пять шесть"
    assert verbalize("Осталось 3 места", "ru") == "Осталось три места"
    assert verbalize("31.13.2026", "uk") == "три один один три два нуль два шість"     # no such date: digits
    assert verbalize("Hola 12", "es") == "Hola 12"                                      # not known: as written


def test_vocabulary_holds_every_word_values_need() -> None:
    for language in ("uk", "ru", "en"):
        known = set(vocabulary(language))
        for text in ("1 грн", "2 UAH", "5 UAH", "1021.05 UAH", "2026-12-07", "21:01", "10:00", "0671234", "12.5",
                     "1999-02-28", "2011-01-31", "1000000"):
            assert set(words(text, language)) <= known, (language, text)
    assert {"гривня", "гривні", "гривень", "одна", "дві", "копійок"} <= set(vocabulary("uk"))
