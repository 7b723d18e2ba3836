"""The gettext catalogues: `ivr/locale/<lang>/LC_MESSAGES/ivr.po`, read once per process.

The .po files are loaded directly (parsed by Babel and compiled in memory on first use, a few ms each),
so there is no build step and no compiled .mo that could lag behind its .po. Fuzzy entries are not used:
a string a translator has not confirmed shows in English. English is the language of the code itself.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("uk", "ru", "en")       # Ukrainian first; the order the UI offers them in
DEFAULT = "en"                       # the code's own language, and the answer to nobody asking
DOMAIN = "ivr"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=None)
def gettext_of(language: str) -> gettext.NullTranslations:
    """The translations of `language` (English, or a language without a catalogue: the messages as written)."""
    path = po_path(language)
    if language == DEFAULT or not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def load_all() -> None:
    """Read every catalogue now (a server calls this at start, so no request waits for the first reading)."""
    for language in LANGUAGES:
        gettext_of(language)
