"""Which operator link carries a message to a subscriber: the longest matching prefix of the operator
table, else the fallback link. Numbers are compared in international form without "+": "+380501234567",
"380501234567" and the national "0501234567" are the same subscriber; prefixes may be written either way
("050" or "38050")."""

from __future__ import annotations

from .config import SmscConfig


class NoRoute(LookupError):
    """No operator prefix matches and there is no fallback link."""


class Router:
    def __init__(self, config: SmscConfig) -> None:
        self.country_code = config.country_code
        self.fallback = config.fallback
        table = [(self.international(prefix), op.link) for op in config.operators for prefix in op.prefixes]
        self._table = sorted(table, key=lambda item: -len(item[0]))

    def international(self, number: str) -> str:
        """The number's digits in international form (no "+")."""
        digits = "".join(ch for ch in number if ch.isdigit())
        if number.strip().startswith("+") or digits.startswith(self.country_code):
            return digits
        if digits.startswith("00"):
            return digits[2:]
        if digits.startswith("0"):
            return self.country_code + digits[1:]
        return digits

    def link_for(self, number: str) -> str:
        digits = self.international(number)
        for prefix, link in self._table:
            if digits.startswith(prefix):
                return link
        if self.fallback is None:
            raise NoRoute(f"no operator link for {number} and no fallback link")
        return self.fallback
