"""value_errors reads a page of keys at their current versions, matching on the whole key."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from meterly.storage.events.base import Correction, EventStore, MeterSpec, NewEvent

T0 = datetime(2024, 3, 1, tzinfo=UTC)
SUM = MeterSpec("call", "sum", value="$.v")


def ev(i: int, data: Any, tenant: str = "t1") -> NewEvent:
    return NewEvent(
        tenant, "pbx", str(i), "call", "c1", T0 + timedelta(seconds=i), json.dumps(data)
    )


def test_current_versions_and_exact_keys(store: EventStore) -> None:
    store.append([ev(1, {"v": 1}), ev(2, {"v": "x"}), ev(3, {"v": "y"}), ev(4, {})])
    store.append([ev(1, {"v": "bad"}, tenant="t2")])  # same source and id, another tenant
    store.correct(Correction("t1", "pbx", "2", "amend", actor="a", data='{"v": 2}'))
    store.correct(Correction("t1", "pbx", "3", "void", actor="a"))
    keys = [("t1", "pbx", str(i)) for i in range(1, 6)]  # "5" does not exist
    errors = store.value_errors(SUM, keys)
    # 2 is fixed by its amendment; the voided 3 still reports; t2's bad "1" is not asked for
    assert set(errors) == {("t1", "pbx", "3"), ("t1", "pbx", "4")}
    assert "missing" in errors[("t1", "pbx", "4")]
    assert store.value_errors(SUM, []) == {}
    assert store.value_errors(SUM, [("t2", "pbx", "1")]).keys() == {("t2", "pbx", "1")}
