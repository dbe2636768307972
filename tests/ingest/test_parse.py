"""The typed fast path and the generic per-item path of ingest parsing give the same events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from meterly.ingest.parse import decode, fast, fast_lines, validate

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def rows(body: bytes) -> list[tuple[Any, ...]]:
    """Events of both paths, data compared as JSON values (the fast path keeps raw bytes)."""
    parsed = fast(body, "t1", NOW)
    assert parsed is not None, "expected the fast path"
    generic = validate(decode(body), "t1", NOW)
    assert not generic.rejected and list(parsed.indexes) == generic.indexes
    b = parsed.batch
    columns = (b.tenant, b.source, b.id, b.type, b.subject, b.time.to_pylist(), b.data.to_pylist())
    got = [(*e[:6], json.loads(e[6])) for e in zip(*columns, strict=True)]
    want = [
        (e.tenant, e.source, e.id, e.type, e.subject, e.time, json.loads(e.data))
        for e in generic.batch.events()
    ]
    assert got == want
    return got


def test_same_events_as_the_generic_path() -> None:
    body = orjson.dumps(
        [
            {"id": "1", "type": "call", "subject": "c1", "time": "2026-11-02T15:00:00Z"},
            {
                "id": "2",
                "source": "pbx",
                "type": "call",
                "subject": "c1",
                "time": "2026-11-02T15:00:00.123456+01:30",
                "data": {"n": 1, "nested": {"a": [1, "x"]}},
                "specversion": "1.0",  # other CloudEvents attributes are ignored
            },
            {"id": "3", "type": "call", "subject": "c1", "time": None, "data": {}},
            {"id": "4", "type": "call", "subject": "c1", "time": "2026-11-02 15:00Z"},
        ]
    )
    got = rows(body)
    assert [r[1] for r in got] == ["api", "pbx", "api", "api"]
    assert got[1][5] == datetime(2026, 11, 2, 13, 30, 0, 123456, tzinfo=UTC)
    assert got[2][5] == NOW


def test_one_event_and_an_empty_array() -> None:
    assert len(rows(b'{"id": "1", "type": "t", "subject": "s"}')) == 1
    parsed = fast(b"[]", "t1", NOW)
    assert parsed is not None and len(parsed.batch) == 0


def test_data_is_kept_byte_for_byte() -> None:
    raw = b'{"v": 0.123456789012345678, "w" : 12345678901234567.5, "s": "\\u00e9"}'
    body = b'[{"id": "1", "type": "t", "subject": "s", "data": ' + raw + b"}]"
    parsed = fast(body, "t1", NOW)
    assert parsed is not None
    assert parsed.batch.data.to_pylist() == [raw.decode()]


@pytest.mark.parametrize(
    "event",
    [
        {"type": "t", "subject": "s"},  # no id
        {"id": "", "type": "t", "subject": "s"},
        {"id": "x" * 257, "type": "t", "subject": "s"},
        {"id": 5, "type": "t", "subject": "s"},
        {"id": "1", "type": "t", "subject": "s", "time": "2026-11-02T15:00:00"},  # naive
        {"id": "1", "type": "t", "subject": "s", "time": "2026-02-30T15:00:00Z"},
        {"id": "1", "type": "t", "subject": "s", "time": "2026-11-02T15:00:00.1234567Z"},
        {"id": "1", "type": "t", "subject": "s", "time": 1700000000},
        {"id": "1", "type": "t", "subject": "s", "data": None},  # generic: defaults to {}
        {"id": "1", "type": "t", "subject": "s", "data": [1]},
        {"id": "1", "type": "t", "subject": "s", "data": "x"},
        "not an object",
    ],
)
def test_anything_unusual_goes_to_the_generic_path(event: Any) -> None:
    ok = {"id": "ok", "type": "t", "subject": "s"}
    assert fast(orjson.dumps([ok, event]), "t1", NOW) is None


def test_not_json_goes_to_the_generic_path() -> None:
    assert fast(b"{nope", "t1", NOW) is None


def test_jsonl_lines() -> None:
    text = b'{"id": "1", "type": "t", "subject": "s"}\n{"id": "2", "type": "t", "subject": "s"}'
    parsed = fast_lines(text, "t1", NOW)
    assert parsed is not None and parsed.batch.id == ["1", "2"]
    assert fast_lines(text + b'\n{"id": 3}', "t1", NOW) is None
