"""One contract for every EventStore backend: the memory fake and DuckDB must agree."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from meterly.storage.events.base import (
    AggregateQuery,
    Condition,
    Correction,
    EventStore,
    ListQuery,
    MeterSpec,
    NewEvent,
)
from meterly.storage.events.duckdb import DuckDBEventStore

T0 = datetime(2024, 3, 1, tzinfo=UTC)
T1 = datetime(2024, 4, 1, tzinfo=UTC)


def ev(
    id: str,
    data: dict[str, Any] | str | None = None,
    *,
    time: datetime = T0 + timedelta(hours=1),
    subject: str = "cust-1",
    type: str = "call",
    tenant: str = "t1",
    source: str = "pbx",
) -> NewEvent:
    text = data if isinstance(data, str) else json.dumps(data or {})
    return NewEvent(tenant, source, id, type, subject, time, text)


def agg(store: EventStore, meter: MeterSpec, **kw: Any) -> list[tuple[Any, ...]]:
    kw.setdefault("start", T0)
    kw.setdefault("end", T1)
    rows = store.aggregate(AggregateQuery(meter=meter, **kw))
    return [(r.start, r.end, r.subject, dict(r.dimensions), r.value) for r in rows]


def test_append_and_dedup(store: EventStore) -> None:
    r = store.append([ev("a"), ev("b"), ev("a")])
    assert (r.accepted, r.duplicates, r.duplicate_indexes) == (2, 1, (2,))
    r = store.append([ev("c"), ev("b"), ev("b", source="other"), ev("b", tenant="t2")])
    assert (r.accepted, r.duplicates, r.duplicate_indexes) == (3, 1, (1,))
    assert store.count() == 5
    assert store.append([]).accepted == 0


def test_concurrent_retries_store_once(store: EventStore) -> None:
    batch = [ev(f"e{i}") for i in range(200)]
    results = []

    def send() -> None:
        results.append(store.append(batch))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count() == 200
    assert sum(r.accepted for r in results) == 200
    assert sum(r.duplicates for r in results) == 200 * 7


def test_duckdb_durable_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    s = DuckDBEventStore(path)
    s.append([ev("a", {"n": 1}), ev("b")])
    s.correct(Correction("t1", "pbx", "b", "void", actor="k1", reason="test"))
    s.close()
    s = DuckDBEventStore(path)
    try:
        assert s.count() == 2
        r = s.append([ev("a"), ev("z")])
        assert (r.accepted, r.duplicate_indexes) == (1, (0,))
        got = s.get("t1", "pbx", "b")
        assert got is not None and got.status == "voided"
        assert [h.kind for h in s.history("t1", "pbx", "b")] == ["void"]
    finally:
        s.close()


def test_get_normalizes_time_to_utc(store: EventStore) -> None:
    local = datetime(2024, 3, 5, 10, tzinfo=timezone(timedelta(hours=2)))
    store.append([ev("a", {"x": 1}, time=local)])
    got = store.get("t1", "pbx", "a")
    assert got is not None
    assert got.time == datetime(2024, 3, 5, 8, tzinfo=UTC)
    assert got.time.utcoffset() == timedelta(0)
    assert json.loads(got.data) == {"x": 1} and got.status == "ok"
    assert store.get("t1", "pbx", "nope") is None


def test_corrections(store: EventStore) -> None:
    store.append([ev("a", {"n": 1}), ev("b", {"n": 2})])
    with pytest.raises(LookupError):
        store.correct(Correction("t1", "pbx", "zz", "void", actor="k"))
    new_time = T0 + timedelta(days=2)
    e = store.correct(Correction("t1", "pbx", "a", "amend", actor="k", data='{"n": 5}'))
    assert e.status == "amended" and json.loads(e.data) == {"n": 5}
    e = store.correct(Correction("t1", "pbx", "a", "amend", actor="k", time=new_time))
    assert e.time == new_time and json.loads(e.data) == {"n": 5}
    e = store.correct(Correction("t1", "pbx", "b", "void", actor="k", reason="dup"))
    assert e.status == "voided"
    with pytest.raises(ValueError):
        store.correct(Correction("t1", "pbx", "b", "amend", actor="k", data="{}"))
    hist = store.history("t1", "pbx", "a")
    assert [h.kind for h in hist] == ["amend", "amend"]
    assert hist[0].seq < hist[1].seq and hist[1].time == new_time
    m = MeterSpec("call", "sum", value="$.n")
    assert agg(store, m) == [(T0, T1, "cust-1", {}, Decimal(5))]
    listed = store.list(ListQuery())
    assert {e.id: e.status for e in listed} == {"a": "amended", "b": "voided"}


def test_list_order_filters_and_pages(store: EventStore) -> None:
    events = [
        ev(f"e{i}", time=T0 + timedelta(minutes=i % 3), source=f"s{i % 2}", subject=f"c{i % 2}")
        for i in range(10)
    ]
    store.append([*events, ev("x", type="sms", tenant="t2")])
    everything = store.list(ListQuery(limit=100))
    keys = [(e.time, e.source, e.id) for e in everything]
    assert keys == sorted(keys, reverse=True) and len(keys) == 11
    pages: list[str] = []
    after = None
    while True:
        page = store.list(ListQuery(limit=3, after=after, type="call"))
        if not page:
            break
        pages += [e.id for e in page]
        after = (page[-1].time, page[-1].source, page[-1].id)
    assert pages == [e.id for e in everything if e.type == "call"]
    assert {e.id for e in store.list(ListQuery(tenants=["t2"]))} == {"x"}
    assert {e.subject for e in store.list(ListQuery(subjects=["c1"]))} == {"c1"}
    window = store.list(ListQuery(start=T0 + timedelta(minutes=1), end=T0 + timedelta(minutes=2)))
    assert {e.time for e in window} == {T0 + timedelta(minutes=1)}


def test_sum_is_exact_and_skips_bad_values(store: EventStore) -> None:
    store.append(
        [
            ev("1", {"v": 0.1}),
            ev("2", {"v": "0.2"}),
            ev("3", {"v": True}),
            ev("4", {"v": "NaN"}),
            ev("5", {"v": None}),
            ev("6", {}),
            ev("7", '{"v": 123456789012345678901}'),
            ev("8", {"v": "abc"}),
        ]
    )
    m = MeterSpec("call", "sum", value="$.v")
    assert agg(store, m) == [(T0, T1, "cust-1", {}, Decimal("0.3"))]
    keys = [("t1", "pbx", str(i)) for i in range(1, 9)]
    errors = store.value_errors(m, keys)
    assert set(errors) == {keys[i] for i in (2, 3, 4, 5, 6, 7)}
    assert "range" in errors[keys[6]] and "missing" in errors[keys[5]]
    assert store.value_errors(MeterSpec("call", "count"), keys) == {}


@pytest.mark.parametrize(
    ("aggregation", "expected"),
    [
        ("count", Decimal(4)),
        ("sum", Decimal("10")),
        ("min", Decimal("1")),
        ("max", Decimal("4")),
        ("latest", Decimal("2")),
    ],
)
def test_numeric_aggregations(store: EventStore, aggregation: str, expected: Decimal) -> None:
    values = [1, 4, 3, 2]
    store.append([ev(str(i), {"v": v}, time=T0 + timedelta(hours=i)) for i, v in enumerate(values)])
    m = MeterSpec("call", aggregation, value="$.v")  # type: ignore[arg-type]
    assert agg(store, m) == [(T0, T1, "cust-1", {}, expected)]


def test_avg_exact(store: EventStore) -> None:
    store.append([ev("1", {"v": 1}), ev("2", {"v": 1}), ev("3", {"v": 2})])
    [row] = agg(store, MeterSpec("call", "avg", value="$.v"))
    assert abs(row[4] - Decimal(4) / Decimal(3)) < Decimal("1e-18")


def test_unique_count_is_typed(store: EventStore) -> None:
    store.append(
        [
            ev("1", {"a": "x"}),
            ev("2", {"a": "x"}),
            ev("3", {"a": "1"}),
            ev("4", {"a": 1}),
            ev("5", {}),
            ev("6", {"a": True}),
        ]
    )
    assert agg(store, MeterSpec("call", "unique_count", value="$.a"))[0][4] == 4


FILTERS: list[tuple[Condition, set[str]]] = [
    (Condition("$.dir", "eq", "out"), {"1"}),
    (Condition("$.dir", "ne", "out"), {"2", "3", "4", "5"}),
    (Condition("$.dir", "in", ("out", "in")), {"1", "2"}),
    (Condition("$.dir", "not_in", ("out",)), {"2", "3", "4", "5"}),
    (Condition("$.n", "eq", 5), {"1", "3"}),
    (Condition("$.n", "gt", 5), {"2"}),
    (Condition("$.n", "gte", 5), {"1", "2", "3"}),
    (Condition("$.n", "lt", Decimal("5.5")), {"1", "3"}),
    (Condition("$.n", "lte", 4), set()),
    (Condition("$.flag", "eq", True), {"4"}),
    (Condition("$.flag", "eq", False), set()),
    (Condition("$.n", "ne", 5), {"2", "4", "5"}),
    (Condition('$["a b"][0]', "eq", "z"), {"5"}),
]


@pytest.mark.parametrize(("cond", "ids"), FILTERS)
def test_filters(store: EventStore, cond: Condition, ids: set[str]) -> None:
    docs = [
        {"dir": "out", "n": 5},
        {"dir": "in", "n": 7.5},
        {"dir": 5, "n": "5.0"},
        {"flag": True, "n": True},
        {"a b": ["z"], "n": "x"},
    ]
    store.append([ev(str(i), d, subject=str(i)) for i, d in enumerate(docs, 1)])
    m = MeterSpec("call", "count", filter=(cond,))
    rows = store.aggregate(AggregateQuery(meter=m, start=T0, end=T1))
    assert {r.subject for r in rows if r.value > 0} == ids
    assert store.has_events(m) == bool(ids)


def test_daily_windows_follow_dst(store: EventStore) -> None:
    # 2024-03-10 is 23 h long in New York; local midnights are 05:00Z then 04:00Z.
    start = datetime(2024, 3, 9, 5, tzinfo=UTC)
    end = datetime(2024, 3, 12, 4, tzinfo=UTC)
    times = [datetime(2024, 3, 10, 4, 30, tzinfo=UTC), datetime(2024, 3, 11, 3, 30, tzinfo=UTC)]
    times.append(datetime(2024, 3, 11, 4, 30, tzinfo=UTC))
    store.append([ev(str(i), {"v": 1}, time=t) for i, t in enumerate(times)])
    m = MeterSpec("call", "count")
    rows = agg(store, m, start=start, end=end, window="day", tz="America/New_York")
    assert [(r[0], r[1], r[4]) for r in rows] == [
        (start, datetime(2024, 3, 10, 5, tzinfo=UTC), 1),
        (datetime(2024, 3, 10, 5, tzinfo=UTC), datetime(2024, 3, 11, 4, tzinfo=UTC), 1),
        (datetime(2024, 3, 11, 4, tzinfo=UTC), end, 1),
    ]


def test_hour_windows_keep_repeated_hour_apart(store: EventStore) -> None:
    # 2024-11-03 01:00-02:00 happens twice in New York (05:00Z and 06:00Z).
    t = [datetime(2024, 11, 3, 5, 30, tzinfo=UTC), datetime(2024, 11, 3, 6, 30, tzinfo=UTC)]
    store.append([ev(str(i), time=x) for i, x in enumerate(t)])
    start, end = datetime(2024, 11, 3, 5, tzinfo=UTC), datetime(2024, 11, 3, 7, tzinfo=UTC)
    rows = agg(
        store,
        MeterSpec("call", "count"),
        start=start,
        end=end,
        window="hour",
        tz="America/New_York",
    )
    assert [(r[0], r[4]) for r in rows] == [(start, 1), (start + timedelta(hours=1), 1)]


def test_month_windows_clip_and_group(store: EventStore) -> None:
    store.append(
        [
            ev("1", {"v": 2, "dir": "in"}, time=datetime(2024, 3, 31, 23, tzinfo=UTC)),
            ev("2", {"v": 3, "dir": "out"}, time=datetime(2024, 4, 1, 1, tzinfo=UTC)),
            ev("3", {"v": 4}, time=datetime(2024, 4, 2, tzinfo=UTC)),
            ev("4", {"v": 5, "dir": "in"}, time=datetime(2024, 4, 3, tzinfo=UTC), subject="c2"),
        ]
    )
    m = MeterSpec("call", "sum", value="$.v", group_by={"dir": "$.dir"})
    start, end = datetime(2024, 3, 15, tzinfo=UTC), datetime(2024, 4, 20, tzinfo=UTC)
    rows = agg(
        store,
        m,
        start=start,
        end=end,
        window="month",
        tz="Europe/Paris",
        group_by=["dir"],
        by_subject=False,
    )
    march_end = datetime(2024, 3, 31, 22, tzinfo=UTC)  # local midnight, CEST
    assert [(r[0], r[1], r[3]["dir"], r[4]) for r in rows] == [
        (march_end, end, None, Decimal(4)),
        (march_end, end, "in", Decimal(7)),
        (march_end, end, "out", Decimal(3)),
    ]


def test_tenants_and_subject_mapping(store: EventStore) -> None:
    store.append(
        [
            ev("1", subject="raw-a"),
            ev("2", subject="raw-b"),
            ev("3", subject="raw-b", tenant="t2"),
            ev("4", subject="raw-c"),
        ]
    )
    m = MeterSpec("call", "count")
    rows = agg(store, m, tenants=["t1"], subjects={"raw-a": "A", "raw-b": "B"})
    assert [(r[2], r[4]) for r in rows] == [("A", 1), ("B", 1)]
    rows = agg(store, m, subjects={"raw-a": "X", "raw-b": "X"})
    assert [(r[2], r[4]) for r in rows] == [("X", 3)]
    rows = agg(store, m, subjects={"raw-b": "B"}, by_subject=False)
    assert [(r[2], r[4]) for r in rows] == [(None, 2)]


def test_empty_range(store: EventStore) -> None:
    store.append([ev("1", {"v": 1})])
    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 3, tzinfo=UTC)
    for a in ("count", "unique_count"):
        m = MeterSpec("call", a, value="$.v")  # type: ignore[arg-type]
        rows = agg(store, m, start=start, end=end, window="day", subjects={"cust-1": "C"})
        assert [(r[0], r[2], r[4]) for r in rows] == [
            (start, "C", 0),
            (start + timedelta(days=1), "C", 0),
        ]
    for a in ("sum", "max", "latest", "avg"):
        m = MeterSpec("call", a, value="$.v")  # type: ignore[arg-type]
        assert agg(store, m, start=start, end=end) == []
    # a gauge's last level carries on into a range with no readings
    m = MeterSpec("call", "time_weighted_avg", value="$.v")
    assert [r[4] for r in agg(store, m, start=start, end=end)] == [1]
    assert agg(store, m, start=T0 - timedelta(days=9), end=T0 - timedelta(days=8)) == []


def test_time_weighted_avg_carries_level_in(store: EventStore) -> None:
    day = timedelta(days=1)
    store.append(
        [
            ev("0", {"gb": 100}, time=T0 - 5 * day),  # carried into the range
            ev("1", {"gb": 10}, time=T0 - day),  # the last reading before start wins
            ev("2", {"gb": 40}, time=T0 + day),
            ev("3", {"gb": 7}, time=T0 + 10 * day, subject="other"),
        ]
    )
    m = MeterSpec("call", "time_weighted_avg", value="$.gb")
    rows = agg(store, m, start=T0, end=T0 + 2 * day, window="day")
    assert [(r[0], r[2], r[4]) for r in rows] == [
        (T0, "cust-1", Decimal(10)),
        (T0 + day, "cust-1", Decimal(40)),
    ]
    rows = agg(store, m, start=T0, end=T0 + 2 * day)
    assert [r[4] for r in rows] == [Decimal(25)]
    rows = agg(store, m, start=T0 + 9 * day, end=T0 + 11 * day, subjects={"other": "o"})
    assert [r[4] for r in rows] == [Decimal("3.5")]


def test_unknown_dimension_and_missing_value_path(store: EventStore) -> None:
    with pytest.raises(ValueError):
        store.aggregate(AggregateQuery(MeterSpec("call", "sum"), T0, T1))
    with pytest.raises(ValueError):
        store.aggregate(AggregateQuery(MeterSpec("call", "count"), T0, T1, group_by=["x"]))
