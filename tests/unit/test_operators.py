"""The operator of a subscriber's number by Ukraine's mobile prefixes, in national and E.164 forms."""

from __future__ import annotations

import pytest

from ivr.numbering.operators import UKRAINE, OperatorTable, OperatorTableError, operator_of, parse_operator_option


@pytest.mark.parametrize(("number", "operator"), [
    ("+380501234567", "vodafone"), ("380661234567", "vodafone"), ("0951234567", "vodafone"),
    ("00380991234567", "vodafone"), ("+380 67 123 45 67", "kyivstar"), ("0681234567", "kyivstar"),
    ("+380961234567", "kyivstar"), ("+380971234567", "kyivstar"), ("0981234567", "kyivstar"),
    ("+380631234567", "lifecell"), ("0731234567", "lifecell"), ("380931234567", "lifecell"),
    ("+380441234567", "unknown"),           # a Kyiv landline
    ("+38050123456", "unknown"),            # a digit short
    ("+15550001", "unknown"), ("3838", "unknown"), ("", "unknown"), (None, "unknown"),
    ("anonymous", "unknown"),
])
def test_numbers_in_every_form_find_their_operator(number: str | None, operator: str) -> None:
    assert operator_of(number) == operator


def test_a_node_can_change_the_table() -> None:
    name, prefixes = parse_operator_option("3mob=091")
    table = UKRAINE.replaced({name: prefixes, "lifecell": ()})
    assert table.operator_of("0911234567") == "3mob"
    assert table.operator_of("0631234567") == "unknown"                   # lifecell removed
    assert table.operator_of("0671234567") == "kyivstar"                  # the rest stays
    longer = OperatorTable({"kyivstar": ("067",), "special": ("3806799",)})
    assert longer.operator_of("+380679912345") == "special"               # the longest prefix wins
    for bad in ("kyivstar", "Kyiv Star=067", "kyivstar=06a", "-x=067"):
        with pytest.raises(OperatorTableError):
            parse_operator_option(bad)
