"""In-memory EventStore: the whole protocol in plain Python over metering.spec (for unit tests)."""

from __future__ import annotations

import bisect
import builtins
import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from meterly.metering import spec
from meterly.storage.events.base import (
    NUMERIC_AGGREGATIONS,
    AggregateQuery,
    AppendResult,
    Correction,
    CorrectionRecord,
    EventBatch,
    ListQuery,
    MeterSpec,
    NewEvent,
    StoredEvent,
    UsageRow,
)

Key = tuple[str, str, str]


class MemoryEventStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[Key, StoredEvent] = {}
        self._corrections: dict[Key, list[CorrectionRecord]] = {}
        self._seq = 0

    # --- writes -----------------------------------------------------------------------------

    def append(self, events: Sequence[NewEvent]) -> AppendResult:
        now = datetime.now(UTC)
        dups: list[int] = []
        with self._lock:
            for i, e in enumerate(events):
                key = (e.tenant, e.source, e.id)
                if key in self._events:
                    dups.append(i)
                    continue
                self._events[key] = StoredEvent(
                    e.tenant, e.source, e.id, e.type, e.subject, e.time.astimezone(UTC), e.data, now
                )
        return AppendResult(len(events) - len(dups), len(dups), tuple(dups))

    def append_batch(self, batch: EventBatch) -> AppendResult:
        return self.append(batch.events())

    def correct(self, correction: Correction) -> StoredEvent:
        key = (correction.tenant, correction.source, correction.id)
        with self._lock:
            if key not in self._events:
                raise LookupError(f"event {key} not found")
            history = self._corrections.setdefault(key, [])
            if any(c.kind == "void" for c in history):
                raise ValueError("event is voided; a void is final")
            self._seq += 1
            history.append(
                CorrectionRecord(
                    seq=self._seq,
                    kind=correction.kind,
                    actor=correction.actor,
                    reason=correction.reason,
                    data=correction.data,
                    time=correction.time.astimezone(UTC) if correction.time else None,
                    at=datetime.now(UTC),
                )
            )
            return self._current(key)

    # --- reads --------------------------------------------------------------------------------

    def _current(self, key: Key) -> StoredEvent:
        event = self._events[key]
        history = self._corrections.get(key, [])
        if not history:
            return event
        data, time = event.data, event.time
        for c in history:
            if c.kind == "amend":
                data = c.data if c.data is not None else data
                time = c.time if c.time is not None else time
        voided = any(c.kind == "void" for c in history)
        return replace(event, data=data, time=time, status="voided" if voided else "amended")

    def _snapshot(self) -> builtins.list[StoredEvent]:
        with self._lock:
            return [self._current(k) for k in self._events]

    def get(self, tenant: str, source: str, id: str) -> StoredEvent | None:
        with self._lock:
            key = (tenant, source, id)
            return self._current(key) if key in self._events else None

    def history(self, tenant: str, source: str, id: str) -> builtins.list[CorrectionRecord]:
        with self._lock:
            return list(self._corrections.get((tenant, source, id), []))

    def list(self, query: ListQuery) -> builtins.list[StoredEvent]:
        out = []
        for e in self._snapshot():
            if query.tenants is not None and e.tenant not in query.tenants:
                continue
            if query.subjects is not None and e.subject not in query.subjects:
                continue
            if query.type is not None and e.type != query.type:
                continue
            if query.start is not None and e.time < query.start:
                continue
            if query.end is not None and e.time >= query.end:
                continue
            if query.after is not None and (e.time, e.source, e.id) >= query.after:
                continue
            out.append(e)
        out.sort(key=lambda e: (e.time, e.source, e.id), reverse=True)
        return out[: query.limit]

    def count(self) -> int:
        with self._lock:
            return len(self._events)

    def ping(self) -> None:
        return None

    def close(self) -> None:
        return None

    def _matching(self, meter: MeterSpec) -> builtins.list[tuple[StoredEvent, Any]]:
        out = []
        for e in self._snapshot():
            if e.status == "voided" or e.type != meter.event_type:
                continue
            data = spec.loads(e.data)
            if all(spec.matches(c, data) for c in meter.filter):
                out.append((e, data))
        return out

    def has_events(self, meter: MeterSpec) -> bool:
        return bool(self._matching(meter))

    def value_errors(self, meter: MeterSpec, events: Sequence[Key]) -> dict[Key, str]:
        if meter.aggregation not in NUMERIC_AGGREGATIONS or not meter.value:
            return {}
        with self._lock:  # one consistent view of the whole page, like DuckDB's one statement
            found = [self._current(k) for k in events if k in self._events]
        out: dict[Key, str] = {}
        for e in found:
            reason = spec.value_error(spec.loads(e.data), meter.value)
            if reason:
                out[(e.tenant, e.source, e.id)] = reason
        return out

    def aggregate(self, query: AggregateQuery) -> builtins.list[UsageRow]:
        meter = query.meter
        spec.check_query(meter.aggregation, meter.value, query.group_by, meter.group_by)
        bounds = spec.window_bounds(query.start, query.end, query.window, query.tz)
        starts = [b[0] for b in bounds]
        start, end = query.start.astimezone(UTC), query.end.astimezone(UTC)
        numeric = meter.aggregation in NUMERIC_AGGREGATIONS
        twa = meter.aggregation == "time_weighted_avg"
        # (window index, subject, dims) -> list of (time, value)
        groups: dict[tuple[int, str | None, tuple[str | None, ...]], list[tuple[datetime, Any]]]
        groups = {}
        series: dict[tuple[str | None, tuple[str | None, ...]], list[tuple[datetime, Decimal]]]
        series = {}
        for e, data in self._matching(meter):
            if query.tenants is not None and e.tenant not in query.tenants:
                continue
            subject: str | None = e.subject
            if query.subjects is not None:
                if e.subject not in query.subjects:
                    continue
                subject = query.subjects[e.subject]
            if not query.by_subject:
                subject = None
            if e.time >= end or (e.time < start and not twa):
                continue
            dims = tuple(
                spec.dimension_text(spec.extract(data, meter.group_by[g])[1])
                for g in query.group_by
            )
            value: Any = None
            if meter.value:
                found, value = spec.extract(data, meter.value)
                if numeric:
                    value, _ = spec.numeric_value(value)
                    if value is None:
                        continue
                elif meter.aggregation == "unique_count" and (not found or value is None):
                    continue
            if twa:
                series.setdefault((subject, dims), []).append((e.time, value))
                continue
            idx = bisect.bisect_right(starts, e.time) - 1
            groups.setdefault((idx, subject, dims), []).append((e.time, value))
        rows: builtins.list[UsageRow] = []
        for (idx, subject, dims), items in groups.items():
            result = _reduce(meter.aggregation, items)
            rows.append(_row(bounds[idx], subject, query.group_by, dims, result))
        for (subject, dims), readings in series.items():
            readings.sort(key=lambda r: r[0])
            for ws, we in bounds:
                if readings[0][0] < we:
                    level = spec.time_weighted(readings, ws, we)
                    rows.append(_row((ws, we), subject, query.group_by, dims, level))
        if not rows and meter.aggregation in ("count", "unique_count"):
            rows = [
                _row(b, _lone_subject(query), query.group_by, (None,) * len(query.group_by), 0)
                for b in bounds
            ]
        rows.sort(key=lambda r: spec.row_sort_key(r.start, r.subject, list(r.dimensions.values())))
        return rows


def _lone_subject(query: AggregateQuery) -> str | None:
    if not query.by_subject or query.subjects is None:
        return None
    reported = set(query.subjects.values())
    return next(iter(reported)) if len(reported) == 1 else None


def _row(
    bound: tuple[datetime, datetime],
    subject: str | None,
    names: Sequence[str],
    dims: tuple[str | None, ...],
    value: Decimal | int,
) -> UsageRow:
    dimensions = dict(zip(names, dims, strict=True))
    return UsageRow(bound[0], bound[1], subject, dimensions, spec.tidy(Decimal(value)))


def _reduce(aggregation: str, items: list[tuple[datetime, Any]]) -> Decimal:
    values = [v for _, v in items]
    if aggregation == "count":
        return Decimal(len(items))
    if aggregation == "unique_count":
        return Decimal(len({spec.unique_key(v) for v in values}))
    if aggregation == "sum":
        return spec.PRECISION.create_decimal(sum(values, Decimal(0)))
    if aggregation == "min":
        return Decimal(min(values))
    if aggregation == "max":
        return Decimal(max(values))
    if aggregation == "avg":
        return spec.average(sum(values, Decimal(0)), len(values))
    if aggregation == "latest":
        return Decimal(max(items, key=lambda i: i[0])[1])
    raise ValueError(f"unknown aggregation {aggregation!r}")
