"""Numbers are aggregated exactly as sent, also those a binary double would change (every store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from meterly.storage.events.base import (
    AggregateQuery,
    Condition,
    Correction,
    EventBatch,
    EventStore,
    MeterSpec,
    NewEvent,
)
from meterly.storage.events.exact import exact_copy, survives_double

T0 = datetime(2024, 3, 1, tzinfo=UTC)
T1 = datetime(2024, 4, 1, tzinfo=UTC)


def ev(id: str, data: str, hours: int = 1) -> NewEvent:
    return NewEvent("t1", "pbx", id, "call", "c1", T0 + timedelta(hours=hours), data)


def total(store: EventStore, aggregation: str = "sum", *filters: Condition) -> Decimal | None:
    meter = MeterSpec("call", aggregation, value="$.v", filter=filters)  # type: ignore[arg-type]
    rows = store.aggregate(AggregateQuery(meter=meter, start=T0, end=T1))
    return rows[0].value if rows else None


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("0.123456789012345678", "0.000000000000000001", "0.123456789012345679"),
        ("12345678901234567.5", "0.5", "12345678901234568"),
        ("123456789.123456789", "0.000000000000000001", "123456789.123456789000000001"),
        ("-0.999999999999999999", "1e0", "0.000000000000000001"),
    ],
)
def test_sum_of_numbers_a_double_would_change(
    store: EventStore, a: str, b: str, expected: str
) -> None:
    store.append([ev("1", f'{{"v": {a}}}'), ev("2", f'{{"v":{b}, "w": "x"}}')])
    assert total(store) == Decimal(expected)


def test_min_max_latest_and_filters_are_exact(store: EventStore) -> None:
    big = "12345678901234567.5"
    store.append(
        [
            ev("1", f'{{"v": {big}}}', hours=1),
            ev("2", '{"v": 12345678901234567.25}', hours=2),
            ev("3", '{"v": 1, "n": {"deep": [0.100000000000000001]}}', hours=3),
        ]
    )
    assert total(store, "max") == Decimal(big)
    assert total(store, "min") == Decimal(1)
    assert total(store, "latest") == Decimal(1)
    gt = Condition("$.v", "gt", Decimal("12345678901234567.25"))
    assert total(store, "sum", gt) == Decimal(big)
    eq = Condition("$.v", "eq", Decimal("12345678901234567.25"))
    assert total(store, "count", eq) == 1


def test_amended_data_is_exact(store: EventStore) -> None:
    store.append([ev("1", '{"v": 1}'), ev("2", '{"v": 0.123456789012345678}')])
    store.correct(
        Correction("t1", "pbx", "1", "amend", actor="k", data='{"v": 0.000000000000000001}')
    )
    assert total(store) == Decimal("0.123456789012345679")
    # A later amendment whose numbers all survive a double replaces the exact copy too.
    store.correct(Correction("t1", "pbx", "2", "amend", actor="k", data='{"v": 2}'))
    store.correct(Correction("t1", "pbx", "2", "amend", actor="k", time=T0 + timedelta(hours=5)))
    assert total(store) == Decimal("2.000000000000000001")


def test_append_batch_is_append(store: EventStore) -> None:
    batch = EventBatch.from_events([ev("1", '{"v": 0.1}'), ev("2", '{"v": 0.2}'), ev("1", "{}")])
    r = store.append_batch(batch)
    assert (r.accepted, r.duplicates, r.duplicate_indexes) == (2, 1, (2,))
    assert store.append([ev("2", "{}")]).duplicates == 1
    assert total(store) == Decimal("0.3")


@pytest.mark.parametrize(
    ("value", "survives"),
    [
        (Decimal("0.1"), True),
        (Decimal("0.1000000000000000"), True),
        (Decimal("123456789012345.6"), True),
        (Decimal("0.123456789012345678"), False),
        (Decimal("12345678901234567.5"), False),
        (Decimal("1E+400"), False),
        (2**63 - 1, True),
        (2**64 - 1, True),
        (2**64, False),
        (-(2**63) - 1, False),
    ],
)
def test_survives_double(value: int | Decimal, survives: bool) -> None:
    assert survives_double(value) is survives


def test_exact_copy_only_when_needed() -> None:
    assert exact_copy('{"a": 1.5, "id": "12345678901234567890"}') is None  # a long string only
    assert exact_copy('{"a": 0.123456789012345678, "b": [1, 2.5e3], "c": "x"}') == (
        '{"a":"0.123456789012345678","b":[1,2.5E+3],"c":"x"}'
    )
    assert (
        exact_copy('{"n": {"m": 123456789012345678901}}') == '{"n":{"m":"123456789012345678901"}}'
    )
