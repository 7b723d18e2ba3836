"""The headers of the API's CSV files: column keys for programs, or words for people.

A CSV file's first line is its column keys (`call_id,caller,started_at,...`) unless the request asks for a
language with `?lang=uk|ru|en`: then each key is replaced by its label in that language and the file
starts with a UTF-8 byte order mark, so that spreadsheet programs read Cyrillic as such. Only `?lang=`
does this (not Accept-Language, which every browser sends): a program reading the keys never sees them
change. The cells are the same either way (ISO 8601 times in UTC, plain numbers), so sorting and
re-reading a file still work. A draw's entries file is never translated: its bytes are what its
published SHA-256 is of.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from ivr.i18n import LANGUAGES, Message, t

BOM = "\ufeff"
# Every column key of every CSV export (a test checks that each export's columns are here).
LABELS: dict[str, Message] = {
    "id": t("Id"),
    "call_id": t("Call"),
    "campaign_id": t("Campaign"),
    "caller": t("Caller"),
    "caller_raw": t("Caller as received"),
    "channel": t("Channel"),
    "kind": t("Kind"),
    "name": t("Name"),
    "value": t("Value"),
    "status": t("Status"),
    "at": t("Time"),
    "number": t("Number"),
    "version": t("Version"),
    "started_at": t("Started"),
    "answered_at": t("Answered"),
    "ended_at": t("Ended"),
    "duration": t("Duration (s)"),
    "disposition": t("How it ended"),
    "cause": t("Cause"),
    "last_node": t("Last step"),
    "first_seen": t("First seen"),
    "last_seen": t("Last seen"),
    "campaigns": t("Campaigns"),
    "consent": t("Consent"),
    "consent_at": t("Consent given"),
    "opted_out": t("Opted out"),
    "place": t("Place"),
    "entry": t("Entry"),
    "outcome": t("Outcome"),
    "state": t("State"),
    "result": t("Result"),
    "attempts": t("Attempts"),
    "updated_at": t("Updated"),
    "direction": t("Direction"),
}


def csv_language(request: web.Request) -> str | None:
    """The language asked for with `?lang=` (None: column keys, as programs read them)."""
    asked = request.query.get("lang", "").strip().lower().split("-")[0]
    return asked if asked in LANGUAGES else None


def header(columns: Sequence[str], language: str | None) -> list[str]:
    """The first line's cells: the keys, or their labels in `language`."""
    if language is None:
        return list(columns)
    return [LABELS[name].render(language) if name in LABELS else name for name in columns]
