"""Hour windows across Lord Howe's 30-minute DST shifts: the raw DuckDB path and the memory store
put each event in the window of its local hour at its own offset (spec.window_start)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from meterly.storage.events.base import AggregateQuery, EventStore, MeterSpec, NewEvent

LH = "Australia/Lord_Howe"


def z(day: int, h: int, m: int = 0, month: int = 4) -> datetime:
    return datetime(2024, month, day, h, m, tzinfo=UTC)


def windows(
    store: EventStore, meter: MeterSpec, start: datetime, end: datetime, times: list[datetime]
) -> list[tuple[datetime, datetime, Decimal]]:
    store.append(
        [NewEvent("t1", "s", f"e{i}", "call", "c1", t, '{"v": 1}') for i, t in enumerate(times)]
    )
    rows = store.aggregate(AggregateQuery(meter, start, end, window="hour", tz=LH))
    return [(r.start, r.end, r.value) for r in rows]


METERS = [MeterSpec("call", "count"), MeterSpec("call", "sum", value="$.v")]


@pytest.mark.parametrize("meter", METERS, ids=["count", "sum"])
def test_fall_back_half_hour_is_its_own_window(store: EventStore, meter: MeterSpec) -> None:
    # Apr 6 15:00Z: 02:00 +11:00 becomes 01:30 +10:30. 14:40Z is 01:40 (first pass); 15:10Z and
    # 15:20Z are 01:40 and 01:50 (second pass); 15:40Z is 02:10 +10:30, an hour from 15:30Z.
    times = [z(6, 14, 40), z(6, 15, 10), z(6, 15, 20), z(6, 15, 40), z(6, 16, 20)]
    assert windows(store, meter, z(6, 14), z(6, 17), times) == [
        (z(6, 14), z(6, 15), 1),
        (z(6, 15), z(6, 15, 30), 2),
        (z(6, 15, 30), z(6, 16, 30), 2),
    ]


@pytest.mark.parametrize("meter", METERS, ids=["count", "sum"])
def test_spring_forward_hour_lasts_half_an_hour(store: EventStore, meter: MeterSpec) -> None:
    # Oct 5 15:30Z: 02:00 +10:30 becomes 02:30 +11:00. 15:10Z is 01:40 +10:30; 15:45Z is 02:45,
    # in local hour 2, which starts at 15:30Z and lasts 30 minutes; 16:05Z is 03:05.
    times = [z(5, 15, 10, 10), z(5, 15, 45, 10), z(5, 16, 5, 10)]
    assert windows(store, meter, z(5, 14, 30, 10), z(5, 16, 30, 10), times) == [
        (z(5, 14, 30, 10), z(5, 15, 30, 10), 1),
        (z(5, 15, 30, 10), z(5, 16, 0, 10), 1),
        (z(5, 16, 0, 10), z(5, 16, 30, 10), 1),
    ]
