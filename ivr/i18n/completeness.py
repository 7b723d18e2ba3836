"""What is not translated yet, for `scripts/i18n check` and the tests (which fail on any of it):

- gettext: every message of the code (`extract.code_catalog`) needs a translation, not fuzzy, in each
  language's ivr.po, with the same placeholders (each plural form too), and ivr.pot must be current;
- the web UI: every key of the English catalogue (`ivr/web/static/i18n/en.json`) in every language's, with
  the same placeholders, and a plural entry with each form the language's plural rules use (CLDR).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.pofile import read_po

from .catalogs import DEFAULT, LANGUAGES, LOCALE_DIR, po_path
from .extract import code_catalog

UI_CATALOGS = LOCALE_DIR.parent / "web" / "static" / "i18n"
PLACEHOLDER = re.compile(r"\{(\w+)(?:![rsa])?(?::[^{}]*)?\}")
UI_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def plural_forms(language: str) -> set[str]:
    """The plural categories of CLDR for `language` (Intl.PluralRules picks one of them): one, other for
    English; one, few, many, other for Ukrainian and Russian."""
    return set(Locale.parse(language).plural_form.tags) | {"other"}


def _names(text: str, pattern: re.Pattern[str] = PLACEHOLDER) -> set[str]:
    return set(pattern.findall(text))


def gettext_problems() -> list[str]:
    problems = []
    template = code_catalog()
    pot = LOCALE_DIR / "ivr.pot"
    with pot.open("rb") as handle:
        written = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    for msgid in sorted(wanted - written):
        problems.append(f"ivr/locale/ivr.pot: not listed (run scripts/i18n update): {msgid!r}")
    for language in LANGUAGES:
        if language == DEFAULT:
            continue
        with po_path(language).open("rb") as handle:
            catalog = read_po(handle, locale=language)
        where = po_path(language).relative_to(LOCALE_DIR.parent.parent)
        for message in template:
            if not message.id:
                continue
            found = catalog.get(message.id)
            singular = message.id if isinstance(message.id, str) else message.id[0]
            at = ", ".join(f"{p}:{n}" for p, n in message.locations[:2])
            if found is None or not found.string or found.fuzzy or (
                    isinstance(found.string, (list, tuple)) and not all(found.string)):
                problems.append(f"{where}: no translation of {singular!r} ({at})")
                continue
            expected = _names(message.id[-1] if isinstance(message.id, (list, tuple)) else message.id)
            forms = found.string if isinstance(found.string, (list, tuple)) else [found.string]
            for form in forms:
                if _names(form) != expected:
                    problems.append(f"{where}: placeholders of {singular!r} are {sorted(expected)}, "
                                    f"the translation has {sorted(_names(form))}: {form!r}")
    return problems


def ui_catalog(language: str) -> dict[str, Any]:
    return json.loads((UI_CATALOGS / f"{language}.json").read_text(encoding="utf-8"))


def ui_problems() -> list[str]:
    problems = []
    english = ui_catalog(DEFAULT)
    for language in LANGUAGES:
        catalog = ui_catalog(language)
        where = f"ivr/web/static/i18n/{language}.json"
        for key in sorted(set(english) - set(catalog)):
            problems.append(f"{where}: no translation of {key!r} ({english[key]!r})")
        for key in sorted(set(catalog) - set(english)):
            problems.append(f"{where}: {key!r} is not in en.json (a key no page uses?)")
        for key in sorted(set(catalog) & set(english)):
            problems += _entry_problems(where, key, english[key], catalog[key], language)
    return problems


def _entry_problems(where: str, key: str, source: Any, entry: Any, language: str) -> list[str]:
    expected = _ui_names(source)
    if isinstance(source, dict) != isinstance(entry, dict):
        return [f"{where}: {key!r} must be {'a plural entry' if isinstance(source, dict) else 'a string'}"]
    forms = entry if isinstance(entry, dict) else {"": entry}
    problems = []
    if isinstance(entry, dict) and set(entry) != plural_forms(language):
        problems.append(f"{where}: {key!r} needs the plural forms {sorted(plural_forms(language))}, "
                        f"has {sorted(entry)}")
    for form, text in forms.items():
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{where}: {key!r} {form} is empty")
        elif _names(text, UI_PLACEHOLDER) != expected:
            problems.append(f"{where}: placeholders of {key!r} {form} are {sorted(_names(text, UI_PLACEHOLDER))}, "
                            f"expected {sorted(expected)}")
    return problems


def _ui_names(source: Any) -> set[str]:
    texts = source.values() if isinstance(source, dict) else [source]
    return set().union(*(_names(text, UI_PLACEHOLDER) for text in texts))


def missing_translations() -> list[str]:
    """Every problem of both kinds ([] when everything is translated)."""
    return gettext_problems() + ui_problems()
