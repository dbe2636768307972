"""Decode and validate event batches. Pure: bytes in, events and per-index rejections out.

Two paths with one outcome:
- fast: a typed msgspec decode straight into structs (field rules checked in C), then columns;
  `data` stays the client's own bytes (msgspec.Raw), so numbers are exact with no re-encoding.
  ~1.5 µs/event instead of ~7 for decode + per-item validation.
- generic: when the typed decode fails anywhere in the batch (a malformed event, a time Python
  reads differently, a non-object `data`), every item is checked on its own so each bad event is
  rejected by index with field errors and the valid ones are kept. Numbers in `data` are decoded
  as Decimal (never binary float) and re-encoded digit for digit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from meterly.storage.events.base import EventBatch, NewEvent

MAX_FIELD = 256
_decoder = msgspec.json.Decoder(float_hook=Decimal)
_encoder = msgspec.json.Encoder(decimal_format="number")

_Text = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_FIELD)]
_TS = pa.timestamp("us", tz="UTC")
# RFC 3339 as Python's datetime.fromisoformat reads it (up to microseconds, an offset required).
# A time outside this shape sends the batch to the generic path, so both paths agree on every
# accepted value; Arrow's cast then checks the calendar (a February 30th fails it too).
_RFC3339 = (
    r"^\d{4}-\d{2}-\d{2}[T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?"
    r"(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$"
)


class _Event(msgspec.Struct):
    """One event as the fast path reads it; other CloudEvents attributes are ignored."""

    id: _Text
    type: _Text
    subject: _Text
    source: _Text = "api"
    time: str | None = None
    data: msgspec.Raw = msgspec.Raw(b"{}")


_typed = msgspec.json.Decoder(list[_Event] | _Event)
_typed_line = msgspec.json.Decoder(_Event)


class NotJson(ValueError):
    pass


@dataclass(slots=True)
class Rejection:
    index: int
    id: str | None
    errors: list[dict[str, str]]

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "id": self.id, "errors": self.errors}


@dataclass(slots=True)
class Parsed:
    batch: EventBatch
    indexes: Sequence[int]  # position of each accepted-for-storage event in the request
    rejected: list[Rejection]


def decode(body: bytes) -> list[Any]:
    """One event or an array of them; raises NotJson for a body that is not JSON."""
    try:
        doc = _decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise NotJson(f"body is not valid JSON: {exc}") from None
    if isinstance(doc, list):
        return doc
    return [doc]


def parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 string such as 2026-11-26T09:30:00Z")
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{value}' is not RFC 3339 (e.g. 2026-11-26T09:30:00Z)") from None
    if t.tzinfo is None:
        raise ValueError("needs a UTC offset or Z (e.g. 2026-11-26T09:30:00+01:00)")
    return t.astimezone(UTC)


def _text(
    item: dict[str, Any], name: str, errors: list[dict[str, str]], default: str | None
) -> str:
    value = item.get(name, default)
    if value is None:
        errors.append({"field": name, "message": "is required"})
        return ""
    if not isinstance(value, str) or not value:
        errors.append({"field": name, "message": "must be a non-empty string"})
        return ""
    if len(value) > MAX_FIELD:
        errors.append({"field": name, "message": f"is longer than {MAX_FIELD} characters"})
        return ""
    return value


def validate(
    items: list[Any], tenant: str, now: datetime, subject_ok: Callable[[str], bool] | None = None
) -> Parsed:
    events: list[NewEvent] = []
    indexes: list[int] = []
    rejected: list[Rejection] = []
    encode = _encoder.encode
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            rejected.append(Rejection(i, None, [{"field": "", "message": "must be an object"}]))
            continue
        errors: list[dict[str, str]] = []
        eid = _text(item, "id", errors, None)
        source = _text(item, "source", errors, "api")
        etype = _text(item, "type", errors, None)
        subject = _text(item, "subject", errors, None)
        raw_time = item.get("time")
        t = now
        if raw_time is not None:
            try:
                t = parse_time(raw_time)
            except ValueError as exc:
                errors.append({"field": "time", "message": str(exc)})
        data = item.get("data", {})
        if data is None:
            data = {}
        if not isinstance(data, dict):
            errors.append({"field": "data", "message": "must be a JSON object"})
        if subject and subject_ok is not None and not subject_ok(subject):
            errors.append({"field": "subject", "message": "is not allowed for this key"})
        if errors:
            rid = item.get("id")
            rejected.append(Rejection(i, rid if isinstance(rid, str) else None, errors))
            continue
        events.append(NewEvent(tenant, source, eid, etype, subject, t, encode(data).decode()))
        indexes.append(i)
    return Parsed(EventBatch.from_events(events), indexes, rejected)


def fast(body: bytes, tenant: str, now: datetime) -> Parsed | None:
    """The typed path for a request body (one event or an array); None when any event needs
    the generic path (including a body that is not JSON, so the generic path reports it)."""
    try:
        doc = _typed.decode(body)
    except msgspec.DecodeError:  # ValidationError is a DecodeError
        return None
    return _columns(doc if isinstance(doc, list) else [doc], tenant, now)


def fast_lines(text: bytes, tenant: str, now: datetime) -> Parsed | None:
    """The typed path for JSONL (one event per line, no blank lines); None as for `fast`."""
    try:
        events = _typed_line.decode_lines(text)
    except msgspec.DecodeError:
        return None
    return _columns(events, tenant, now)


def _columns(events: list[_Event], tenant: str, now: datetime) -> Parsed | None:
    n = len(events)
    data = _data(events)
    times = _times(events, now)
    if data is None or times is None:
        return None
    batch = EventBatch(
        tenant=[tenant] * n,
        source=[e.source for e in events],
        id=[e.id for e in events],
        type=[e.type for e in events],
        subject=[e.subject for e in events],
        time=times,
        data=data,
    )
    return Parsed(batch, range(n), [])


def _data(events: list[_Event]) -> Any:
    """The raw `data` bytes as one Arrow string array (one join, no per-event copy), or None if
    one is not an object (null or a scalar: the generic path defaults or rejects it)."""
    raws = [e.data for e in events]
    buf = b"".join(raws)
    large = len(buf) >= 2**31  # Arrow's plain strings have 32-bit offsets
    offsets = np.zeros(len(raws) + 1, dtype=np.int64 if large else np.int32)
    np.cumsum([len(r) for r in raws], out=offsets[1:])
    # msgspec.Raw holds the value without surrounding whitespace: an object starts with "{".
    if raws and (np.frombuffer(buf, dtype=np.uint8)[offsets[:-1]] != ord("{")).any():
        return None
    # The body was decoded as JSON, so every slice is valid UTF-8.
    kind = pa.LargeStringArray if large else pa.StringArray
    return kind.from_buffers(len(raws), pa.py_buffer(offsets), pa.py_buffer(buf))


def _times(events: list[_Event], now: datetime) -> Any:
    text = pa.array([e.time for e in events], pa.string())
    if text.null_count < len(text):
        if not pc.all(pc.match_substring_regex(text, _RFC3339)).as_py():
            return None
        try:
            # Arrow's own parser, vectorised and off the GIL: ~0.07 µs/event vs ~1 µs to
            # build datetimes and convert them.
            text = pc.cast(text, _TS)
        except pa.ArrowInvalid:
            return None
    else:
        text = text.cast(_TS)
    return pc.fill_null(text, pa.scalar(now, _TS))
