"""DuckDB rollups never diverge from a raw recomputation (the memory store), whatever the mix of
appends, late events, corrections, refreshes, restarts, zones and windows."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from meterly.storage.events import duckdb_rollup, duckdb_rollup_query
from meterly.storage.events.base import (
    AggregateQuery,
    Condition,
    Correction,
    MeterSpec,
    NewEvent,
)
from meterly.storage.events.duckdb import DuckDBEventStore
from meterly.storage.events.memory import MemoryEventStore

# spans whole months with DST changes inside (US Mar 10, EU Mar 31, Lord Howe Apr 7)
T0 = datetime(2024, 2, 20, tzinfo=UTC)
SPAN_S = 75 * 86_400
ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Europe/Paris"]
METERS = [
    MeterSpec("call", "count"),
    MeterSpec("call", "sum", value="$.v", group_by={"r": "$.r", "k": "$.k"}),
    MeterSpec("call", "min", value="$.v"),
    MeterSpec("call", "max", value="$.v", filter=(Condition("$.r", "ne", "b"),)),
    MeterSpec("call", "avg", value="$.v", group_by={"r": "$.r"}),
    MeterSpec("call", "latest", value="$.v"),
    MeterSpec("sms", "sum", value="$.v", filter=(Condition("$.v", "gt", 0),)),
    MeterSpec("sms", "count", group_by={"r": "$.r"}),
]


class World:
    def __init__(self, rng: random.Random, path: Path) -> None:
        self.rng = rng
        self.path = path
        self.duck = DuckDBEventStore(path)
        self.mem = MemoryEventStore()
        self.keys: list[tuple[str, str, str]] = []
        # distinct microsecond offsets so `latest` never ties
        self.offsets = iter(rng.sample(range(SPAN_S * 1_000_000), 20_000))

    def time(self) -> datetime:
        return T0 + timedelta(microseconds=next(self.offsets))

    def data(self) -> str:
        r = self.rng
        d: dict[str, Any] = {}
        v = r.choice([1, 2.5, "3.25", -4, None, "x", "0.1", 0.2, 7, 10**3])
        if r.random() < 0.9:
            d["v"] = v
        if r.random() < 0.8:
            d["r"] = r.choice(["a", "b", "c"])
        if r.random() < 0.5:
            d["k"] = r.choice([1, "1", True])
        return json.dumps(d)

    def append(self, n: int) -> None:
        batch = []
        for _ in range(n):
            key = ("t1" if self.rng.random() < 0.8 else "t2", "s", f"e{len(self.keys)}")
            self.keys.append(key)
            batch.append(
                NewEvent(
                    *key,
                    type=self.rng.choice(["call", "call", "sms"]),
                    subject=self.rng.choice(["c1", "c2", "c3", "alias-c1"]),
                    time=self.time(),
                    data=self.data(),
                )
            )
        for store in (self.duck, self.mem):
            store.append(batch)

    def correct(self) -> None:
        key = self.rng.choice(self.keys)
        kind = self.rng.choice(["void", "amend", "amend"])
        data = self.data() if self.rng.random() < 0.7 else None
        time = self.time() if self.rng.random() < 0.5 else None
        c = Correction(*key, kind=kind, actor="test", data=data, time=time)  # type: ignore[arg-type]
        outcomes = []
        for store in (self.duck, self.mem):
            try:
                store.correct(c)
                outcomes.append("ok")
            except ValueError:  # already voided
                outcomes.append("voided")
        assert outcomes[0] == outcomes[1]

    def reopen(self) -> None:
        self.duck.close()
        self.duck = DuckDBEventStore(self.path)

    def query(self) -> AggregateQuery:
        r = self.rng
        meter = r.choice(METERS)
        start = T0 + timedelta(seconds=r.choice([0, 0, r.randrange(SPAN_S)]))
        if r.random() < 0.3:
            start = start.replace(minute=r.choice([0, 30]), second=0)
        end = start + timedelta(seconds=r.choice([SPAN_S, r.randrange(1, SPAN_S)]))
        subjects = r.choice([None, {"c1": "C1", "alias-c1": "C1"}, {"c2": "c2"}])
        tz = r.choice(ZONES)
        window = r.choice([None, "hour", "day", "month", "month", "month"])
        return AggregateQuery(
            meter=meter,
            start=start,
            end=end,
            tenants=r.choice([None, ["t1"], ["t1", "t2"]]),
            subjects=subjects,
            window=window,
            tz=tz,
            group_by=r.sample(sorted(meter.group_by), r.randrange(len(meter.group_by) + 1)),
            by_subject=r.random() < 0.7,
        )

    def check(self, n: int) -> tuple[int, int]:
        served = months = 0
        for _ in range(n):
            query = self.query()
            p = duckdb_rollup_query.plan(query)
            served += p is not None
            months += bool(p and p.months)
            got = self.duck.aggregate(query)
            want = self.mem.aggregate(query)
            assert got == want, query
        return served, months


@pytest.mark.parametrize("seed", range(4))
def test_rollups_match_raw(seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A tiny refresh threshold makes queries fold the tail into rollups between appends.
    monkeypatch.setattr(duckdb_rollup, "REFRESH_ROWS", 25)
    world = World(random.Random(seed), tmp_path / "e.db")
    served = months = 0
    try:
        for step in range(12):
            world.append(world.rng.randrange(1, 120))
            if step >= 4:
                for _ in range(world.rng.randrange(4)):
                    world.correct()
            if step % 5 == 4:
                world.reopen()
            s, m = world.check(12)
            served, months = served + s, months + m
    finally:
        world.duck.close()
    assert served > 60 and months > 10  # queries really went through hourly and monthly rows


def test_rollup_state_survives_restart(tmp_path: Path) -> None:
    path = tmp_path / "e.db"
    store = DuckDBEventStore(path)
    events = [
        NewEvent("t1", "s", f"e{i}", "call", "c1", T0 + timedelta(minutes=7 * i), f'{{"v": {i}}}')
        for i in range(100)
    ]
    store.append(events)
    query = AggregateQuery(MeterSpec("call", "sum", value="$.v"), T0, T0 + timedelta(days=1))
    first = store.aggregate(query)
    store.close()
    store = DuckDBEventStore(path)
    try:
        specs = store._read("SELECT id, watermark FROM rollup_specs")
        assert specs == [(1, 100)]
        assert store.aggregate(query) == first
        assert first[0].value == Decimal(sum(range(100)))
        assert store._read("SELECT count(*) FROM rollup_specs") == [(1,)]  # reused, not rebuilt
    finally:
        store.close()


def test_plan_reads_partial_hours_raw() -> None:
    ist = AggregateQuery(
        MeterSpec("call", "count"), T0, T0 + timedelta(days=3), window="day", tz="Asia/Kolkata"
    )
    p = duckdb_rollup_query.plan(ist)
    assert p is not None
    # each local midnight is at :30 UTC, so every window boundary leaves two half-hour edges
    assert all(b - a == timedelta(minutes=30) for a, b in p.edges)
    assert len(p.edges) == 2 * (len(p.bounds) - 1)
    assert (
        duckdb_rollup_query.plan(
            AggregateQuery(MeterSpec("call", "unique_count", "$.v"), T0, T0 + timedelta(days=1))
        )
        is None
    )
    assert (
        duckdb_rollup_query.plan(
            AggregateQuery(MeterSpec("call", "count"), T0, T0 + timedelta(days=1), window="minute")
        )
        is None
    )
