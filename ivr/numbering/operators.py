"""Which mobile operator a subscriber's number belongs to, by the prefix table of the numbering plan.

`operator_of("+380501234567")`, `operator_of("380501234567")` and `operator_of("0501234567")` are all
"vodafone": numbers are compared in international form without "+" ("00" and the national trunk "0"
are rewritten), the longest matching prefix wins, and a number of another length or country, a short
number or a hidden caller is "unknown". Ukraine's mobile codes are the default table; the operators of
`ivr serve --smsc FILE` and `--operator NAME=PREFIX,...` change it (`OperatorTable.replaced`). Numbers that moved to
another operator (number portability) are not known here: the SMSC link a message arrived on, when
known, is the better witness and wins (see the SMS channel).

Leaf module: the store (charges), the SMS channel and the SMPP links all use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

UNKNOWN = "unknown"
OPERATOR_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")      # as the --smsc file names operators
PREFIX = re.compile(r"\+?[0-9]{1,15}")
UKRAINIAN_MOBILE = {
    "vodafone": ("050", "066", "095", "099"),
    "kyivstar": ("067", "068", "096", "097", "098"),
    "lifecell": ("063", "073", "093"),
}


class OperatorTableError(ValueError):
    """A prefix table entry that cannot be used."""


@dataclass(frozen=True)
class OperatorTable:
    """Prefixes (national "050" or international "38050") of each operator, in one country."""

    prefixes: Mapping[str, tuple[str, ...]]
    country_code: str = "380"
    trunk_prefix: str = "0"
    subscriber_digits: int | None = 9              # after the country code: 380 50 123 45 67 (None: any)
    _table: tuple[tuple[str, str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        table = []
        for name, prefixes in self.prefixes.items():
            if not OPERATOR_NAME.fullmatch(name):
                raise OperatorTableError(f"operator name {name!r}: letters, digits, - and _")
            for prefix in prefixes:
                if not PREFIX.fullmatch(prefix):
                    raise OperatorTableError(f"prefix {prefix!r} of {name}: digits only, such as \"050\"")
                table.append((self.international(prefix), name))
        object.__setattr__(self, "_table", tuple(sorted(table, key=lambda item: -len(item[0]))))

    @property
    def operators(self) -> tuple[str, ...]:
        return tuple(self.prefixes)

    def international(self, number: str) -> str:
        """The number's digits in international form, without "+"."""
        text = number.strip()
        digits = "".join(ch for ch in text if ch.isdigit())
        if text.startswith("+"):
            return digits
        if digits.startswith("00"):
            return digits[2:]
        if digits.startswith(self.country_code):
            return digits
        if self.trunk_prefix and digits.startswith(self.trunk_prefix):
            return self.country_code + digits[len(self.trunk_prefix):]
        return digits

    def operator_of(self, number: str | None) -> str:
        """The operator's name, or "unknown"."""
        if not number:
            return UNKNOWN
        digits = self.international(number)
        if self.subscriber_digits is not None and len(digits) != len(self.country_code) + self.subscriber_digits:
            return UNKNOWN
        for prefix, name in self._table:
            if digits.startswith(prefix):
                return name
        return UNKNOWN

    def replaced(self, changes: Mapping[str, Iterable[str]]) -> "OperatorTable":
        """This table with the named operators' prefixes replaced (an empty list removes one)."""
        prefixes = {**self.prefixes, **{name: tuple(p) for name, p in changes.items()}}
        return OperatorTable({n: p for n, p in prefixes.items() if p}, self.country_code, self.trunk_prefix,
                             self.subscriber_digits)


def parse_operator_option(item: str) -> tuple[str, tuple[str, ...]]:
    """"kyivstar=067,068" → ("kyivstar", ("067", "068")); "name=" removes the operator."""
    name, sep, text = item.partition("=")
    prefixes = tuple(p.strip() for p in text.split(",") if p.strip())
    if not sep or not OPERATOR_NAME.fullmatch(name) or not all(PREFIX.fullmatch(p) for p in prefixes):
        raise OperatorTableError(f"bad operator {item!r}: expected NAME=PREFIX,PREFIX... e.g. kyivstar=067,068")
    return name, prefixes


UKRAINE = OperatorTable(UKRAINIAN_MOBILE)


def operator_of(number: str | None) -> str:
    """The operator of a Ukrainian mobile number by the default table, or "unknown"."""
    return UKRAINE.operator_of(number)
