"""Which language to answer in: `?lang=` when given, else the best of the `Accept-Language` header
(RFC 9110 §12.5.4: quality values, language ranges; `uk-UA` matches `uk`), else English."""

from __future__ import annotations

from collections.abc import Mapping

from .catalogs import DEFAULT, LANGUAGES


def negotiate(header: str, offered: tuple[str, ...] = LANGUAGES) -> str | None:
    """The offered language the header prefers most (None when it accepts none of them)."""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, index, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        primary = tag.split("-")[0]
        if primary in offered:
            return primary
        if tag == "*":
            return offered[0] if DEFAULT not in offered else DEFAULT
    return None


def language_of(query: Mapping[str, str], headers: Mapping[str, str]) -> str:
    """The language of a request: `?lang=` (one of LANGUAGES), else Accept-Language, else English."""
    asked = query.get("lang", "").strip().lower().split("-")[0]
    if asked in LANGUAGES:
        return asked
    return negotiate(headers.get("Accept-Language", "")) or DEFAULT
