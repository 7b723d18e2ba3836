"""Regular expressions a campaign brings (`pattern` of an ask, `matches` of a branch), matched against
what a caller keyed, said or sent, with a time limit.

Python's `re` backtracks: a pattern such as `(1+)+$` against forty 1s and a 2 runs for hours, and it
would run on the event loop that paces every call's media. The `regex` module (a well-kept superset of
`re`) takes a timeout: a match that has not finished within MATCH_TIMEOUT counts as no match, so one
tenant's careless or hostile pattern costs its own caller a retry, never the node a stall.
"""

from __future__ import annotations

import logging

import regex

MATCH_TIMEOUT = 0.02            # seconds a business pattern may take on one input

log = logging.getLogger(__name__)


def fullmatch(pattern: str, text: str) -> bool:
    """Whether the whole of `text` matches `pattern`; False when it takes longer than MATCH_TIMEOUT."""
    try:
        return regex.fullmatch(pattern, text, timeout=MATCH_TIMEOUT) is not None
    except TimeoutError:
        log.warning("pattern %r on %d characters took longer than %.0f ms: no match", pattern, len(text),
                    MATCH_TIMEOUT * 1000)
        return False


def find_all(pattern: str, text: str) -> list[str]:
    """Every stretch of `text` that `pattern` matches, left to right; none when it takes longer than
    MATCH_TIMEOUT."""
    try:
        return [m.group(0) for m in regex.finditer(pattern, text, timeout=MATCH_TIMEOUT)]
    except TimeoutError:
        log.warning("pattern %r on %d characters took longer than %.0f ms: nothing found", pattern, len(text),
                    MATCH_TIMEOUT * 1000)
        return []
