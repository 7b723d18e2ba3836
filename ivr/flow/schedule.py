"""When a campaign is open: optional start/end moments and opening hours per weekday, in a time zone.

`hours: {mon: "09:00-12:00,13:00-18:00", sat: "22:00-02:00"}`: a span that ends before it starts runs
past midnight into the next day; `24:00` is the end of the day. A weekday that is not listed is closed
(when `hours` is given at all). `start`/`end` are ISO date-times, local to `timezone` unless they carry
an offset.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr.i18n import t

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^([01][0-9]|2[0-4]):([0-5][0-9])$")
_DURATION = re.compile(r"([1-9][0-9]{0,5})(m|h)")


class ScheduleError(ValueError):
    """A schedule entry that cannot be understood."""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(t('unknown time zone "{zone}"', zone=name)) from None


def moment(text: str, tz: ZoneInfo) -> datetime:
    """An ISO date-time, in `tz` unless it has its own offset."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ScheduleError(t('not an ISO date-time: "{text}"', text=text)) from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def duration(text: str) -> timedelta:
    """`10m`, `90m`, `2h`: minutes or hours."""
    found = _DURATION.fullmatch(text)
    if found is None:
        raise ScheduleError(t('not a length of time: "{text}" (minutes or hours, e.g. 10m, 2h)', text=text))
    amount = int(found.group(1))
    return timedelta(minutes=amount) if found.group(2) == "m" else timedelta(hours=amount)


def _minutes(text: str) -> int:
    match = _TIME.match(text.strip())
    if not match or int(match.group(1)) * 60 + int(match.group(2)) > 24 * 60:
        raise ScheduleError(t('not a time of day: "{text}"', text=text.strip()))
    return int(match.group(1)) * 60 + int(match.group(2))


def spans(text: str) -> list[tuple[int, int]]:
    """`"09:00-12:00,13:00-18:00"` → [(540, 720), (780, 1080)] in minutes of the day."""
    out = []
    for span in text.split(","):
        start, sep, end = span.partition("-")
        if not sep:
            raise ScheduleError(t('not a span "HH:MM-HH:MM": "{text}"', text=span.strip()))
        out.append((_minutes(start), _minutes(end)))
    return out


def is_open(schedule: dict[str, Any] | None, now: datetime) -> bool:
    """Whether a session starting at `now` (aware) is inside the schedule."""
    if not schedule:
        return True
    tz = zone(schedule.get("timezone", "UTC"))
    local = now.astimezone(tz)
    if schedule.get("start") and local < moment(schedule["start"], tz):
        return False
    if schedule.get("end") and local >= moment(schedule["end"], tz):
        return False
    hours = schedule.get("hours")
    if not hours:
        return True
    minute = local.hour * 60 + local.minute
    today = DAYS[local.weekday()]
    yesterday = DAYS[(local - timedelta(days=1)).weekday()]
    for start, end in spans(hours.get(today, "")) if hours.get(today) else []:
        if start <= minute < end or (end <= start and minute >= start):
            return True
    for start, end in spans(hours.get(yesterday, "")) if hours.get(yesterday) else []:
        if end <= start and minute < end:
            return True
    return False
