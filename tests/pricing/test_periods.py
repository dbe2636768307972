"""Billing periods: anchor-day clamping, DST, and tiling of time with no gaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterly.pricing.models import Interval
from meterly.pricing.periods import (
    anchor_parts,
    next_period,
    period_containing,
    period_end,
    periods_between,
)

NY = ZoneInfo("America/New_York")
SYD = ZoneInfo("Australia/Sydney")


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NY)


def test_anchor_31_clamps_and_returns() -> None:
    anchor = ny(2024, 1, 31)
    # Jan 31 → Feb 29 (leap year) → Mar 31 → Apr 30
    assert period_containing(anchor, "month", ny(2024, 2, 15)) == (ny(2024, 1, 31), ny(2024, 2, 29))
    assert period_containing(anchor, "month", ny(2024, 3, 1)) == (ny(2024, 2, 29), ny(2024, 3, 31))
    assert period_containing(anchor, "month", ny(2024, 4, 29)) == (ny(2024, 3, 31), ny(2024, 4, 30))
    # non-leap February
    assert period_containing(ny(2023, 1, 31), "month", ny(2023, 3, 1))[0] == ny(2023, 2, 28)


def test_next_period_keeps_the_anchor_day() -> None:
    assert next_period(ny(2023, 2, 28), "month", 31) == (ny(2023, 3, 31), ny(2023, 4, 30))
    assert next_period(ny(2024, 1, 31), "month", 31) == (ny(2024, 2, 29), ny(2024, 3, 31))
    assert period_end(ny(2024, 1, 30), "month", 30) == ny(2024, 2, 29)


def test_quarter_and_year_follow_the_anchor_month() -> None:
    anchor = ny(2024, 1, 31)
    assert period_containing(anchor, "quarter", ny(2024, 5, 1)) == (
        ny(2024, 4, 30),
        ny(2024, 7, 31),
    )
    assert period_containing(ny(2024, 2, 29), "year", ny(2025, 3, 1)) == (
        ny(2025, 2, 28),
        ny(2026, 2, 28),
    )


def test_boundaries_are_half_open() -> None:
    anchor = ny(2024, 1, 15)
    start, end = period_containing(anchor, "month", ny(2024, 2, 15))
    assert start == ny(2024, 2, 15)
    assert period_containing(anchor, "month", end - timedelta(microseconds=1)) == (start, end)
    assert period_containing(anchor, "month", end)[0] == end


def test_dst_march_day_is_23_hours() -> None:
    start, end = period_containing(ny(2024, 1, 1), "day", ny(2024, 3, 10, 12))
    assert (start, end) == (ny(2024, 3, 10), ny(2024, 3, 11))
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=23)
    assert start.utcoffset() == timedelta(hours=-5)
    assert end.utcoffset() == timedelta(hours=-4)


def test_dst_november_day_is_25_hours() -> None:
    start, end = period_containing(ny(2024, 1, 1), "day", ny(2024, 11, 3, 12))
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=25)


def test_month_spanning_dst_starts_at_local_midnight() -> None:
    start, end = period_containing(ny(2024, 1, 1), "month", ny(2024, 3, 20))
    assert (start.hour, end.hour) == (0, 0)
    assert start.astimezone(UTC) == datetime(2024, 3, 1, 5, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2024, 4, 1, 4, tzinfo=UTC)
    # November: 1 hour longer than 30 days
    start, end = period_containing(ny(2024, 1, 1), "month", ny(2024, 11, 20))
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(days=30, hours=1)


def test_utc_instant_lands_in_local_period() -> None:
    # 2024-03-01 03:00 UTC is still Feb 29 22:00 in New York.
    at = datetime(2024, 3, 1, 3, tzinfo=UTC)
    assert period_containing(ny(2024, 1, 1), "month", at) == (ny(2024, 2, 1), ny(2024, 3, 1))


def test_week_and_anchor_time_of_day() -> None:
    anchor = ny(2024, 3, 4, 9)  # a Monday, 09:00
    start, end = period_containing(anchor, "week", ny(2024, 3, 13))
    assert (start, end) == (ny(2024, 3, 11, 9), ny(2024, 3, 18, 9))
    # before the anchor: periods extend backwards
    assert period_containing(anchor, "week", ny(2024, 3, 4, 8))[0] == ny(2024, 2, 26, 9)


def test_naive_datetimes_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        period_containing(datetime(2024, 1, 1), "month", ny(2024, 1, 2))


def utc(value: datetime) -> datetime:
    # Python compares two datetimes of the same zone by wall time, ignoring fold: compare in UTC.
    return value.astimezone(UTC)


def same(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    return (utc(a[0]), utc(a[1])) == (utc(b[0]), utc(b[1]))


def test_santiago_midnight_dst_gap() -> None:
    # Chile springs forward at 00:00 (to 01:00): that day's period starts at 01:00 local, and the
    # next day goes back to midnight.
    scl = ZoneInfo("America/Santiago")
    anchor = datetime(2024, 1, 1, tzinfo=scl)
    start, end = period_containing(anchor, "day", datetime(2024, 9, 8, 12, tzinfo=scl))
    assert (start.day, start.hour, end.day, end.hour) == (8, 1, 9, 0)
    day, at = anchor_parts(anchor)
    assert next_period(start, "day", day, at)[0].hour == 0


INTERVALS: list[Interval] = ["day", "week", "month", "quarter", "year"]
ZONES = [NY, SYD, ZoneInfo("Europe/London"), ZoneInfo("America/Santiago"), ZoneInfo("UTC")]


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(INTERVALS),
    st.sampled_from(ZONES),
    st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2030, 1, 1)),
    st.integers(0, 23),
)
def test_consecutive_periods_tile_time(
    interval: Interval, zone: ZoneInfo, anchor_naive: datetime, hour: int
) -> None:
    anchor = anchor_naive.replace(hour=hour, minute=0, second=0, microsecond=0, tzinfo=zone)
    anchor_day, anchor_time = anchor_parts(anchor)
    start, end = period_containing(anchor, interval, anchor + timedelta(days=40))
    for _ in range(14):
        assert utc(start) < utc(end)
        # the instant before a period's end belongs to it (UTC arithmetic: wall-clock arithmetic
        # on an aware datetime would land in a DST gap); its end starts the next one
        before_end = utc(end) - timedelta(microseconds=1)
        assert same(period_containing(anchor, interval, before_end), (start, end))
        following = next_period(start, interval, anchor_day, anchor_time)
        assert utc(following[0]) == utc(end)  # no gap, no overlap
        assert same(period_containing(anchor, interval, end), following)
        start, end = following


def test_periods_between_tile_a_range() -> None:
    periods = periods_between(ny(2024, 1, 31), "month", ny(2024, 1, 1), ny(2024, 6, 1))
    assert periods[0][0] == ny(2023, 12, 31)
    assert periods[-1][1] >= ny(2024, 6, 1)
    for (_, end), (start, _) in pairwise(periods):
        assert end == start
