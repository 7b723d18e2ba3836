"""Money as integers of kopiykas: reading and writing amounts and shares exactly, rounding once, VAT, and
the billing calendar's months (Kyiv)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from ivr.store.money import (MoneyError, day_start, decimal_amount, div_round, format_amount, format_percent,
                             local_day, month_of, parse_amount, parse_day, parse_month, parse_percent, share_of,
                             vat_on)


@pytest.mark.parametrize(("text", "minor"), [("0", 0), ("12", 1200), ("12.5", 1250), ("12.50", 1250),
                                             ("0.05", 5), ("999999999.99", 99999999999)])
def test_amounts_are_read_exactly(text: str, minor: int) -> None:
    assert parse_amount(text) == minor
    assert parse_amount(format_amount(minor)) == minor


@pytest.mark.parametrize("bad", [12.5, 12, "12.505", "-1", "1e3", " 12", "12,50", "", None, "0x10"])
def test_floats_and_anything_inexact_are_refused(bad: object) -> None:
    with pytest.raises(MoneyError, match="no floats"):
        parse_amount(bad, "price")


def test_amounts_are_shown_with_two_decimals_and_as_exact_decimals() -> None:
    assert [format_amount(m) for m in (0, 5, 1250, -5, -1250)] == ["0.00", "0.05", "12.50", "-0.05", "-12.50"]
    assert decimal_amount(1250) == Decimal("12.50") and str(decimal_amount(-5)) == "-0.05"


def test_shares_are_basis_points() -> None:
    assert [parse_percent(t) for t in ("0", "45", "45.5", "45.25", "100")] == [0, 4500, 4550, 4525, 10000]
    assert [format_percent(bp) for bp in (0, 4500, 4550, 4525, 10000)] == ["0", "45", "45.5", "45.25", "100"]
    for bad in ("100.01", "45.255", 45, "-1"):
        with pytest.raises(MoneyError):
            parse_percent(bad)


def test_rounding_is_half_away_from_zero_on_integers() -> None:
    assert [div_round(n, 4) for n in (1, 2, 3, 5, 6, -2, -6)] == [0, 1, 1, 1, 2, -1, -2]
    assert vat_on(1000) == 200 and vat_on(333) == 67                      # 66.6 → 67
    # 10 UAH with VAT is 8.33(3) without; 45 % of that is 3.75 exactly, 40 % is 3.333 → 3.33
    assert share_of(1000, 4500) == 375 and share_of(1000, 4000) == 333 and share_of(1000, 0) == 0


def test_the_billing_calendar_is_kyivs() -> None:
    # 22:30 UTC on the last day of February is already March 1st in Kyiv (UTC+2 in winter)
    late = datetime(2025, 2, 28, 22, 30, tzinfo=timezone.utc)
    assert local_day(late) == date(2025, 3, 1) and month_of(late) == date(2025, 3, 1)
    assert day_start(date(2025, 3, 1)).astimezone(timezone.utc) == datetime(2025, 2, 28, 22, 0, tzinfo=timezone.utc)
    assert day_start(date(2025, 4, 1)).astimezone(timezone.utc) == datetime(2025, 3, 31, 21, 0, tzinfo=timezone.utc)
    assert parse_month("2025-03") == date(2025, 3, 1) and parse_day("2025-03-15") == date(2025, 3, 15)
    for bad in ("2025-13", "2025-3", "March", None):
        with pytest.raises(MoneyError):
            parse_month(bad)
    with pytest.raises(MoneyError):
        parse_day("2025-02-30")
