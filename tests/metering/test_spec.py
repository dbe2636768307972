"""Property tests for the pure metering rules."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterly.metering import spec
from meterly.storage.events.base import Condition

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/Paris",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Australia/Lord_Howe",
]
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=200, deadline=None)
@given(
    instants,
    st.integers(min_value=0, max_value=90 * 24 * 60),
    st.sampled_from(["minute", "hour", "day", "month"]),
    st.sampled_from(ZONES),
)
def test_windows_tile_the_range(start: datetime, minutes: int, window: str, tz: str) -> None:
    if window == "minute":
        minutes = minutes % 500
    end = start + timedelta(minutes=minutes)
    bounds = spec.window_bounds(start, end, window, tz)  # type: ignore[arg-type]
    if minutes == 0:
        assert bounds == []
        return
    assert bounds[0][0] == start and bounds[-1][1] == end
    for (_, a_end), (b_start, _) in itertools.pairwise(bounds):
        assert a_end == b_start
    assert all(s < e for s, e in bounds)
    # interior boundaries are window starts in the local zone
    for s, _ in bounds[1:]:
        assert spec.window_start(s, window, tz) == s  # type: ignore[arg-type]


def test_day_windows_are_23_and_25_hours_at_dst() -> None:
    ny = "America/New_York"
    spring = spec.window_bounds(
        datetime(2024, 3, 10, 5, tzinfo=UTC), datetime(2024, 3, 11, 4, tzinfo=UTC), "day", ny
    )
    assert [e - s for s, e in spring] == [timedelta(hours=23)]
    fall = spec.window_bounds(
        datetime(2024, 11, 3, 4, tzinfo=UTC), datetime(2024, 11, 4, 5, tzinfo=UTC), "day", ny
    )
    assert [e - s for s, e in fall] == [timedelta(hours=25)]
    month = spec.window_bounds(
        datetime(2024, 1, 15, tzinfo=UTC),
        datetime(2024, 3, 15, tzinfo=UTC),
        "month",
        "Europe/Paris",
    )
    assert [s for s, _ in month][1:] == [
        datetime(2024, 1, 31, 23, tzinfo=UTC),
        datetime(2024, 2, 29, 23, tzinfo=UTC),
    ]


levels = st.decimals(min_value=-(10**6), max_value=10**6, places=6, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(instants, st.integers(min_value=1, max_value=10**7), levels, st.integers(0, 10**6))
def test_time_weighted_constant(start: datetime, secs: int, level: Decimal, before: int) -> None:
    end = start + timedelta(seconds=secs)
    reading = (start - timedelta(seconds=before), level)
    assert spec.time_weighted([reading], start, end) == level


@settings(max_examples=200, deadline=None)
@given(
    instants,
    st.lists(st.tuples(st.integers(0, 10**5), levels), max_size=20),
    st.integers(2, 10**5),
)
def test_time_weighted_bounded_and_additive(
    start: datetime, raw: list[tuple[int, Decimal]], secs: int
) -> None:
    readings = sorted((start + timedelta(seconds=s), v) for s, v in raw)
    end = start + timedelta(seconds=secs)
    avg = spec.time_weighted(readings, start, end)
    seen = [v for t, v in readings if t < end] + [Decimal(0)]
    assert min(seen) <= avg <= max(seen)
    # splitting the range in two and weighting by length gives the same integral
    half = secs // 2
    mid = start + timedelta(seconds=half)
    left = spec.time_weighted(readings, start, mid) * half
    right = spec.time_weighted(readings, mid, end) * (secs - half)
    assert abs(left + right - avg * secs) < Decimal("1e-30")


def test_time_weighted_zero_before_first_reading() -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    readings = [(t0 + timedelta(hours=1), Decimal(10))]
    assert spec.time_weighted(readings, t0, t0 + timedelta(hours=2)) == Decimal(5)


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**19), max_value=10**19))
def test_numeric_strings_and_numbers_agree(d: Decimal) -> None:
    assert spec.numeric_value(str(d))[0] == d
    assert spec.numeric_value(d)[0] == d


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (True, "boolean"),
        ("NaN", "finite"),
        ("Infinity", "finite"),
        ("abc", "numeric"),
        (None, "null"),
        (10**20, "range"),
        ([1], "numeric"),
    ],
)
def test_numeric_rejections(value: object, reason: str) -> None:
    v, why = spec.numeric_value(value)
    assert v is None and why is not None and reason in why


def test_numeric_limits() -> None:
    assert spec.numeric_value(10**20 - 1)[0] == 10**20 - 1
    assert spec.numeric_value("12.5")[0] == Decimal("12.5")
    assert spec.numeric_value(spec.loads('{"a": NaN}')["a"])[0] is None


def test_paths() -> None:
    data = spec.loads('{"a": {"b": [1, {"c d": 2}]}, "x y": 3}')
    assert spec.extract(data, "$.a.b[0]") == (True, 1)
    assert spec.extract(data, '$.a.b[1]["c d"]') == (True, 2)
    assert spec.extract(data, "$['x y']") == (True, 3)
    assert spec.extract(data, "$.a.zz") == (False, None)
    assert spec.extract(data, "$.a.b[9]") == (False, None)
    for bad in ["a.b", "$", "$..a", "$.a[*]", "$[?(@.a)]", "$.a b", '$["a"b"]']:
        with pytest.raises(ValueError):
            spec.parse_path(bad)


@given(st.text(alphabet=st.characters(exclude_characters="\"'\\"), min_size=1), st.integers())
def test_quoted_keys_roundtrip(key: str, value: int) -> None:
    assert spec.extract({key: value}, f'$["{key}"]') == (True, value)


def test_matches_semantics() -> None:
    d = spec.loads('{"n": 5, "s": "5", "b": true, "f": 2.50}')
    assert spec.matches(Condition("$.n", "eq", 5), d)
    assert spec.matches(Condition("$.f", "eq", Decimal("2.5")), d)
    assert not spec.matches(Condition("$.n", "eq", "5"), d)
    assert spec.matches(Condition("$.s", "eq", "5"), d)
    assert spec.matches(Condition("$.b", "eq", True), d)
    assert not spec.matches(Condition("$.b", "eq", 1), d)
    assert not spec.matches(Condition("$.zz", "eq", 1), d)
    assert spec.matches(Condition("$.zz", "ne", 1), d)
    assert spec.matches(Condition("$.zz", "not_in", (1, 2)), d)
    assert not spec.matches(Condition("$.zz", "gt", 0), d)
    assert spec.matches(Condition("$.s", "gt", 4), d)
    assert not spec.matches(Condition("$.b", "gt", 0), d)
    assert spec.matches(Condition("$.n", "in", ("x", 5)), d)
