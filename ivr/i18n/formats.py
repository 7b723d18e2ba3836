"""Dates, times and numbers as the people of a language write them (Babel's CLDR data), always on the
24-hour clock, in a given time zone: `4 трав. 2026 р., 13:03`, `4 мая 2026 г., 13:03`, `May 4, 2026, 13:03`;
`12 345`, `12,345`."""

from __future__ import annotations

from datetime import datetime, tzinfo
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, format_skeleton
from babel.numbers import format_decimal


@lru_cache(maxsize=None)
def _locale(language: str) -> Locale:
    return Locale.parse(language)


def format_time(at: datetime, language: str, zone: tzinfo) -> str:
    """Hours and minutes, 24-hour clock: 13:03."""
    return format_skeleton("Hm", at, tzinfo=zone, locale=_locale(language))


def format_datetime(at: datetime, language: str, zone: tzinfo) -> str:
    """The day (month in words, so no one reads 04.05 as April 5th) and the time on the 24-hour clock."""
    locale = _locale(language)
    day = format_date(at.astimezone(zone), "medium", locale=locale)
    return str(locale.datetime_formats["medium"]).format(format_time(at, language, zone), day)


def format_number(value: int | float, language: str) -> str:
    """A number with the language's digit grouping and decimal sign."""
    return format_decimal(value, locale=_locale(language))
