"""Decode and validate event batches. Pure: bytes in, events and per-index rejections out.

Numbers in `data` are decoded as Decimal (never binary float) and re-encoded digit for digit, so
a meter sums exactly what the client sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec

from meterly.storage.events.base import NewEvent

MAX_FIELD = 256
_decoder = msgspec.json.Decoder(float_hook=Decimal)
_encoder = msgspec.json.Encoder(decimal_format="number")


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
    events: list[NewEvent]
    indexes: list[int]  # position of each accepted-for-storage event in the request
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
    return Parsed(events, indexes, rejected)
