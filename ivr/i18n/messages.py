"""Messages written in English in the code and translated when shown (lazily: the reader's language is
known only then, e.g. in the API's error middleware).

`t()` and `tn()` are also the keywords the catalogue's extraction looks for (`scripts/i18n`), so their
first arguments must be literal strings. Placeholders are `str.format` fields (`{name}`, `{name!r}`);
a translation must keep every one of them (a test checks it). The text is always a format pattern: a
literal brace is written twice (`'body must be {{"version": N}}'`).
"""

from __future__ import annotations

from typing import Any

from .catalogs import DEFAULT, gettext_of
from .formats import format_number

COUNT = "n"                  # the parameter that is a count: written with the locale's digit grouping (12 345);
                             # other numbers (ids, versions, years) are written as they are


class Message(str):
    """English text with its parameters, translated when shown (`render(language)`). It *is* its English text
    (a str): code, logs and tests that treat it as a string see English; JSON answers are `localize`d first.
    `plural` and `n` for a count (`tn`); `translate` False for text from elsewhere (a library's message)."""

    text: str
    params: dict[str, Any]
    plural: str | None
    n: int | None
    translate: bool

    def __new__(cls, text: str, params: dict[str, Any] | None = None, plural: str | None = None,
                n: int | None = None, translate: bool = True) -> "Message":
        params = dict(params or {})
        self = super().__new__(cls, _render(text, params, plural, n, translate, DEFAULT))
        self.text, self.params, self.plural, self.n, self.translate = text, params, plural, n, translate
        return self

    def __reduce__(self) -> tuple[Any, ...]:          # across processes (campaign jobs) with its parameters
        return (Message, (self.text, self.params, self.plural, self.n, self.translate))

    def render(self, language: str = DEFAULT) -> str:
        """The message in `language` (English for one without a translation of it)."""
        return _render(self.text, self.params, self.plural, self.n, self.translate, language)

    def with_params(self, **params: Any) -> "Message":
        """The same message with (more) parameters: a table of messages filled in when shown."""
        return Message(self.text, {**self.params, **params}, self.plural, self.n, self.translate)


def _render(text: str, params: dict[str, Any], plural: str | None, n: int | None, translate: bool,
            language: str) -> str:
    if not translate:
        return text
    catalog = gettext_of(language)
    pattern = catalog.ngettext(text, plural, n or 0) if plural is not None else catalog.gettext(text)
    values = {name: _value(name, value, language) for name, value in params.items()}
    if n is not None:
        values.setdefault(COUNT, _value(COUNT, n, language))
    return pattern.format_map(_Values(values))


class _Values(dict[str, Any]):
    """Parameters for str.format_map: one not given yet (a table's message before `with_params`) stays
    `{name}` in the text instead of failing."""

    def __missing__(self, name: str) -> str:
        return "{" + name + "}"


def t(text: str, **params: Any) -> Message:
    """A message to translate when shown: `t("no campaign {campaign!r}", campaign=campaign_id)`."""
    return Message(text, params)


def tn(singular: str, plural: str, n: int, **params: Any) -> Message:
    """A message about `n` things, in the form the language uses for that number (`{n}` is the number):
    `tn("{n} call", "{n} calls", n)` gives 1 дзвінок, 2 дзвінки, 5 дзвінків."""
    return Message(singular, params, plural, n)


def verbatim(text: str) -> Message:
    """Text that has no translation (a library's own message, a name): shown as it is in every language."""
    return Message(text, translate=False)


def message_of(exc: BaseException) -> Message:
    """The message an exception was raised with (its text, untranslated, when it is not a Message)."""
    first = exc.args[0] if exc.args else ""
    return first if isinstance(first, Message) else verbatim(str(exc))


def localize(value: Any, language: str) -> Any:
    """`value` (JSON-like: dicts, lists, strings...) with every Message in it rendered in `language`."""
    if isinstance(value, Message):
        return value.render(language)
    if isinstance(value, dict):
        return {key: localize(item, language) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [localize(item, language) for item in value]
    return value


def _value(name: str, value: Any, language: str) -> Any:
    if isinstance(value, Message):
        return value.render(language)
    if name == COUNT and isinstance(value, int) and not isinstance(value, bool):
        return format_number(value, language)
    return value
