"""Proration by day over the actual period; split fractions sum to exactly 1."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterly.pricing.proration import exact_fraction, fraction, prorate, split_fractions

NY = ZoneInfo("America/New_York")
APRIL = (datetime(2024, 4, 1, tzinfo=NY), datetime(2024, 5, 1, tzinfo=NY))  # 30 days


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NY)


def test_change_on_day_11_of_30_leaves_20_30() -> None:
    start, end = APRIL
    assert exact_fraction(start, end, ny(2024, 4, 11), end).as_integer_ratio() == (2, 3)
    assert fraction(start, end, ny(2024, 4, 11), end) == Decimal("0.66666666666666666667")
    assert fraction(start, end, start, ny(2024, 4, 11)) == Decimal("0.33333333333333333333")
    # the exact ratio, not the rounded fraction, drives the amount: 30 × 20/30
    assert prorate(Decimal("30.00"), start, end, ny(2024, 4, 11), end) == Decimal(20)


def test_change_during_the_day_counts_the_whole_day() -> None:
    start, end = APRIL
    assert exact_fraction(start, end, ny(2024, 4, 11, 15, 30), end) == exact_fraction(
        start, end, ny(2024, 4, 11), end
    )


def test_dst_days_count_as_whole_days() -> None:
    # March 2024 in New York has a 23-hour day; still 31 days, a change on the 11th → 21/31.
    start, end = ny(2024, 3, 1), ny(2024, 4, 1)
    assert exact_fraction(start, end, ny(2024, 3, 11), end).as_integer_ratio() == (21, 31)


def test_range_is_clamped_to_the_period() -> None:
    start, end = APRIL
    assert fraction(start, end, ny(2024, 3, 1), ny(2024, 6, 1)) == 1
    assert fraction(start, end, ny(2024, 6, 1), ny(2024, 7, 1)) == 0


def test_february_leap_year() -> None:
    start, end = ny(2024, 2, 1), ny(2024, 3, 1)
    assert exact_fraction(start, end, ny(2024, 2, 15), end).as_integer_ratio() == (15, 29)


def test_second_granularity() -> None:
    start, end = ny(2024, 4, 1), ny(2024, 4, 2)
    assert fraction(start, end, ny(2024, 4, 1, 12), end, "second") == Decimal("0.5")


def test_split_fractions_sum_to_one() -> None:
    parts = split_fractions(APRIL, [ny(2024, 4, 11), ny(2024, 4, 18)])
    # cumulative shares rounded: 10/30, 17/30, 1 → parts 10/30, 7/30, 13/30 to 20 places
    assert parts == [
        Decimal("0.33333333333333333333"),
        Decimal("0.23333333333333333334"),
        Decimal("0.43333333333333333333"),
    ]
    assert sum(parts, Decimal(0)) == Decimal(1)


def test_split_with_one_change_matches_fraction() -> None:
    start, end = APRIL
    parts = split_fractions(APRIL, [ny(2024, 4, 11)])
    assert parts == [
        fraction(start, end, start, ny(2024, 4, 11)),
        fraction(start, end, ny(2024, 4, 11), end),
    ]


def test_split_refuses_points_outside_or_unordered() -> None:
    with pytest.raises(ValueError, match="outside"):
        split_fractions(APRIL, [ny(2024, 5, 2)])
    with pytest.raises(ValueError, match="order"):
        split_fractions(APRIL, [ny(2024, 4, 20), ny(2024, 4, 10)])


@given(
    st.integers(28, 366),
    st.lists(st.integers(0, 366), max_size=8),
)
def test_split_fractions_always_sum_to_exactly_one(days: int, offsets: list[int]) -> None:
    start = ny(2024, 1, 1)
    end = (start + timedelta(days=days)).replace(tzinfo=NY)
    points = sorted(
        datetime.combine(start.date() + timedelta(days=min(o, days)), start.time(), tzinfo=NY)
        for o in offsets
    )
    parts = split_fractions((start, end), points)
    assert len(parts) == len(points) + 1
    assert all(part >= 0 for part in parts)
    assert sum(parts, Decimal(0)) == Decimal(1)
