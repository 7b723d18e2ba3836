"""Languages of the interface: messages, their catalogues, choosing a language, dates and numbers per locale.

Text a person reads (API errors, CSV headers, e-mailed reports) is written in English in the code as a
`Message` (`t("no campaign {campaign!r}", campaign=id)`, `tn("{n} call", "{n} calls", n)`), translated
only when it is shown, in the language of whoever reads it (`Message.render(language)`); `str()` of a
message is its English. The translations are gettext catalogues (`ivr/locale/<lang>/LC_MESSAGES/ivr.po`),
read once per process by Babel. This package imports nothing else of ivr: every layer may use it.
See docs/i18n.md for how to add a string, translate it and add a language.
"""

from .catalogs import DEFAULT, LANGUAGES, gettext_of, load_all
from .formats import format_datetime, format_number, format_time
from .messages import Message, localize, message_of, t, tn, verbatim
from .negotiate import language_of, negotiate

__all__ = ["DEFAULT", "LANGUAGES", "Message", "format_datetime", "format_number", "format_time", "gettext_of",
           "language_of", "load_all", "localize", "message_of", "negotiate", "t", "tn", "verbatim"]
