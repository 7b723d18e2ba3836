"""The messages of the code (every `t("...")` and `tn("...", "...", n)` under ivr/), as Babel extracts them:
the source of the catalogue template `ivr/locale/ivr.pot` (`scripts/i18n update`) and of the test that
every message has its translations."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir

from .catalogs import DOMAIN, LOCALE_DIR

PACKAGE = LOCALE_DIR.parent
KEYWORDS = {"t": None, "tn": (1, 2)}
METHODS = [("i18n/**.py", "ignore"), ("**.py", "python")]     # this package's docstrings show t() in examples


def code_catalog() -> Catalog:
    """A catalogue of every message of the code, with where each is written (path:line)."""
    catalog = Catalog(domain=DOMAIN, project="ivr", version="1", charset="utf-8",
                      creation_date=datetime(2026, 1, 1, tzinfo=timezone.utc))      # stable: no churn in the .pot
    for path, line, message, comments, context in extract_from_dir(
            str(PACKAGE), METHODS, keywords=KEYWORDS, comment_tags=("i18n:",), strip_comment_tags=True):
        catalog.add(message, locations=[(str(Path("ivr") / path), line)], auto_comments=comments, context=context,
                    flags=("python-brace-format",) if "{" in (message if isinstance(message, str) else message[0])
                    else ())
    return catalog
