"""Hour windows follow the local clock where DST moves it by 30 minutes (Australia/Lord_Howe):
one window per (local hour, UTC offset), so the shift's hour is split, never straddled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from meterly.metering import spec

LH = "Australia/Lord_Howe"
ZONE = ZoneInfo(LH)


def _local(bounds: list[tuple[datetime, datetime]]) -> list[tuple[str, timedelta]]:
    return [(s.astimezone(ZONE).strftime("%H:%M%z"), e - s) for s, e in bounds]


def test_fall_back_repeats_half_an_hour() -> None:
    # 2024-04-07 02:00 +11:00 (15:00Z) becomes 01:30 +10:30: 01:30-02:00 happens twice.
    start = datetime(2024, 4, 6, 13, tzinfo=UTC)
    bounds = spec.window_bounds(start, start + timedelta(hours=4), "hour", LH)
    h, half = timedelta(hours=1), timedelta(minutes=30)
    assert _local(bounds) == [
        ("00:00+1100", h),
        ("01:00+1100", h),
        ("01:30+1030", half),  # the repeated half hour: local hour 1 at the new offset
        ("02:00+1030", h),  # hours start at :30 UTC from here on
        ("03:00+1030", half),  # clipped by the range end (17:00Z)
    ]


def test_spring_forward_hour_is_half_an_hour() -> None:
    # 2024-10-06 02:00 +10:30 (15:30Z) becomes 02:30 +11:00: local hour 2 lasts 30 minutes.
    start = datetime(2024, 10, 5, 13, 30, tzinfo=UTC)
    bounds = spec.window_bounds(start, start + timedelta(hours=3, minutes=30), "hour", LH)
    h, half = timedelta(hours=1), timedelta(minutes=30)
    assert _local(bounds) == [
        ("00:00+1030", h),
        ("01:00+1030", h),
        ("02:30+1100", half),
        ("03:00+1100", h),
    ]


def test_window_start_of_instants_after_the_shift() -> None:
    # 15:10Z is 01:40 +10:30 (second pass): its window starts at the shift, not at 14:30Z.
    t = datetime(2024, 4, 6, 15, 10, tzinfo=UTC)
    assert spec.window_start(t, "hour", LH) == datetime(2024, 4, 6, 15, tzinfo=UTC)
    # 15:45Z is 02:45 +11:00: its window starts at the shift (15:30Z), not 15:00Z.
    t = datetime(2024, 10, 5, 15, 45, tzinfo=UTC)
    assert spec.window_start(t, "hour", LH) == datetime(2024, 10, 5, 15, 30, tzinfo=UTC)


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2023, 1, 1), max_value=datetime(2026, 1, 1), timezones=st.just(UTC)
    ),
    st.integers(min_value=1, max_value=48 * 60),
)
def test_each_hour_window_is_one_local_hour_at_one_offset(start: datetime, minutes: int) -> None:
    bounds = spec.window_bounds(start, start + timedelta(minutes=minutes), "hour", LH)
    for s, e in bounds:
        first, last = s.astimezone(ZONE), (e - timedelta(microseconds=1)).astimezone(ZONE)
        assert (first.hour, first.utcoffset()) == (last.hour, last.utcoffset())
    for s, _ in bounds[1:]:
        local = s.astimezone(ZONE)
        before = (s - timedelta(microseconds=1)).astimezone(ZONE)
        # a boundary is a local :00 or the instant the offset changes
        assert local.minute == 0 or before.utcoffset() != local.utcoffset()
