"""Pure metering rules: JSONPath, numbers, filter conditions, calendar windows, time weighting.

No I/O here: the memory store evaluates these directly and the SQL adapters mirror them, so the
contract tests pin both to the same semantics.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from meterly.storage.events.base import Condition, JsonScalar, Window

Segment = str | int

# 50 digits: DECIMAL(38,18) inputs times seconds-long durations never lose a digit.
PRECISION = Context(prec=50)
MAX_INTEGER_DIGITS = 20  # DECIMAL(38,18): 20 integer digits

_NAME = re.compile(r"\.([A-Za-z_][A-Za-z0-9_\-]*)")
_INDEX = re.compile(r"\[(\d+)\]")
_QUOTED = re.compile(r"""\[(?:"([^"\\]*)"|'([^'\\]*)')\]""")


def parse_path(path: str) -> tuple[Segment, ...]:
    """`$.a`, `$.a.b`, `$.a[0]`, `$["key with space"]` → segments; anything else is a ValueError."""
    if not isinstance(path, str) or not path.startswith("$"):
        raise ValueError(f"JSONPath must start with '$': {path!r}")
    segments: list[Segment] = []
    pos = 1
    while pos < len(path):
        if m := _NAME.match(path, pos):
            segments.append(m.group(1))
        elif m := _INDEX.match(path, pos):
            segments.append(int(m.group(1)))
        elif m := _QUOTED.match(path, pos):
            key = m.group(1) if m.group(1) is not None else m.group(2)
            segments.append(key)
        else:
            raise ValueError(
                f"unsupported JSONPath {path!r} at position {pos}: use $.name, $.a.b, $.a[0] "
                'or $["key"]'
            )
        pos = m.end()
    if not segments:
        raise ValueError(f"JSONPath {path!r} selects the whole document, not a field")
    return tuple(segments)


def sql_path(path: str) -> str:
    """The same path in the quoted form DuckDB and ClickHouse JSON functions accept."""
    out = "$"
    for seg in parse_path(path):
        out += f"[{seg}]" if isinstance(seg, int) else '."' + seg + '"'
    return out


def extract(data: Any, path: str | tuple[Segment, ...]) -> tuple[bool, Any]:
    """(found, value); `found` is False when any step is missing or has the wrong shape."""
    segments = parse_path(path) if isinstance(path, str) else path
    cur = data
    for seg in segments:
        if isinstance(seg, int):
            if not isinstance(cur, list) or seg >= len(cur):
                return False, None
            cur = cur[seg]
        else:
            if not isinstance(cur, dict) or seg not in cur:
                return False, None
            cur = cur[seg]
    return True, cur


def _reject_constant(name: str) -> Any:
    # NaN / Infinity literals are not JSON; keep them as a marker numeric_value rejects.
    return _NonFinite(name)


class _NonFinite(str):
    pass


def loads(text: str) -> Any:
    """Decode event data keeping numbers exact (floats as Decimal, never float)."""
    return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)


def numeric_value(v: Any) -> tuple[Decimal | None, str | None]:
    """(value, None) for a JSON number or numeric string, else (None, reason)."""
    if v is None:
        return None, "value is null"
    if isinstance(v, bool):
        return None, "value is a boolean, not a number"
    if isinstance(v, _NonFinite):
        return None, "value is not finite"
    if isinstance(v, int):
        d = Decimal(v)
    elif isinstance(v, Decimal):
        d = v
    elif isinstance(v, str):
        try:
            d = Decimal(v.strip())
        except InvalidOperation:
            return None, "value is not numeric"
    else:
        return None, "value is not numeric"
    if not d.is_finite():
        return None, "value is not finite"
    if d != 0 and d.adjusted() + 1 > MAX_INTEGER_DIGITS:
        return None, "value out of range"
    return d, None


def value_error(data: Any, path: str) -> str | None:
    """Why the value at `path` cannot be aggregated, or None when it can."""
    found, v = extract(data, path)
    if not found:
        return "value missing"
    return numeric_value(v)[1]


def _json_equal(expected: JsonScalar, actual: Any) -> bool:
    if isinstance(expected, bool) or expected is None:
        return (
            actual is expected
            if expected is None
            else (isinstance(actual, bool) and actual == expected)
        )
    if isinstance(expected, (int, Decimal)):
        a, _ = numeric_value(actual)
        return a is not None and a == Decimal(expected)
    return isinstance(actual, str) and not isinstance(actual, _NonFinite) and actual == expected


def matches(condition: Condition, data: Any) -> bool:
    """Whether `data` satisfies one filter condition; a missing field only satisfies ne/not_in."""
    found, actual = extract(data, condition.path)
    op, expected = condition.op, condition.value
    if op in ("eq", "ne"):
        if isinstance(expected, tuple):
            raise ValueError(f"{op} takes one value, not a list")
        hit = found and _json_equal(expected, actual)
        return hit if op == "eq" else not hit
    if op in ("in", "not_in"):
        values = expected if isinstance(expected, tuple) else (expected,)
        hit = found and any(_json_equal(e, actual) for e in values)
        return hit if op == "in" else not hit
    if not found:
        return False
    a, _ = numeric_value(actual)
    e, _ = numeric_value(expected)
    if a is None or e is None:
        return False
    if op == "gt":
        return a > e
    if op == "gte":
        return a >= e
    if op == "lt":
        return a < e
    if op == "lte":
        return a <= e
    raise ValueError(f"unknown filter op {op!r}")


def _utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        raise ValueError("datetime must be zone-aware")
    return dt.astimezone(UTC)


_FIXED = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1)}


def _into_unit(t: datetime, window: Window, zone: ZoneInfo) -> timedelta:
    """How far the local clock at `t` is into its minute or hour."""
    local = t.astimezone(zone)
    minutes = local.minute if window == "hour" else 0
    return timedelta(minutes=minutes, seconds=local.second, microseconds=local.microsecond)


def _offset_change(a: datetime, b: datetime, zone: ZoneInfo) -> datetime:
    """The instant in (a, b] where the UTC offset becomes b's (a's differs). tzdata changes
    offsets on whole seconds, so a binary search over whole seconds finds it exactly."""
    target = b.astimezone(zone).utcoffset()
    lo, hi = math.floor(a.timestamp()), math.floor(b.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(zone).utcoffset() == target:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


def window_start(t: datetime, window: Window, tz: str) -> datetime:
    """Start (UTC) of the calendar window in zone `tz` that contains instant `t`."""
    zone = ZoneInfo(tz)
    if window in _FIXED:
        # Windows follow the local clock: one per (local minute or hour, UTC offset). Step back
        # the elapsed local minutes in absolute time, so a repeated fall-back hour stays two
        # hours; an offset change inside that span (Lord Howe's 30-minute shift) starts the
        # window instead, so no window straddles it.
        t = _utc(t)
        ws = t - _into_unit(t, window, zone)
        if ws.astimezone(zone).utcoffset() != t.astimezone(zone).utcoffset():
            ws = _offset_change(ws, t, zone)
        return ws
    local = _utc(t).astimezone(zone)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if window == "month":
        day = day.replace(day=1)
    return local_midnight(day, zone)


def local_midnight(naive: datetime, zone: ZoneInfo) -> datetime:
    """UTC instant of a local wall-clock time (first occurrence when repeated)."""
    return naive.replace(tzinfo=zone).astimezone(UTC)


def next_window(ws: datetime, window: Window, tz: str) -> datetime:
    """Start of the window after the one starting at `ws` (UTC)."""
    zone = ZoneInfo(tz)
    if window in _FIXED:
        # The next local :00 (or whole minute) at ws's offset, unless the offset changes first:
        # after a 30-minute shift the local hour is 30 or 90 minutes from ws in absolute time.
        nxt = ws + _FIXED[window] - _into_unit(ws, window, zone)
        if nxt.astimezone(zone).utcoffset() != ws.astimezone(zone).utcoffset():
            nxt = _offset_change(ws, nxt, zone)
        return nxt
    local = ws.astimezone(zone).replace(tzinfo=None)
    if window == "day":
        nxt = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        y, m = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
        nxt = datetime(y, m, 1)
    return local_midnight(nxt, zone)


def window_bounds(
    start: datetime, end: datetime, window: Window | None, tz: str = "UTC"
) -> list[tuple[datetime, datetime]]:
    """Calendar windows of `tz` covering [start, end), clipped to it, as UTC bounds."""
    start, end = _utc(start), _utc(end)
    if end <= start:
        return []
    if window is None:
        return [(start, end)]
    out: list[tuple[datetime, datetime]] = []
    ws = window_start(start, window, tz)
    while ws < end:
        we = next_window(ws, window, tz)
        out.append((max(ws, start), min(we, end)))
        ws = we
    return out


def _seconds(delta: timedelta) -> Decimal:
    # timedelta is exact in microseconds; keep it exact.
    us = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return PRECISION.divide(Decimal(us), Decimal(1_000_000))


def time_weighted(
    readings: Sequence[tuple[datetime, Decimal]], start: datetime, end: datetime
) -> Decimal:
    """Average level over [start, end): each reading holds until the next, zero before the first.

    `readings` is sorted by time and may include readings before `start` (the last one carries in).
    """
    start, end = _utc(start), _utc(end)
    total = _seconds(end - start)
    if total <= 0:
        return Decimal(0)
    level = Decimal(0)
    cursor = start
    integral = Decimal(0)
    for t, value in readings:
        t = _utc(t)
        if t >= end:
            break
        if t > cursor:
            integral = PRECISION.add(integral, PRECISION.multiply(level, _seconds(t - cursor)))
            cursor = t
        level = value
    integral = PRECISION.add(integral, PRECISION.multiply(level, _seconds(end - cursor)))
    return PRECISION.divide(integral, total)


def dimension_text(v: Any) -> str | None:
    """A group-by value as text, the way SQL `json_extract_string` renders it."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (str, int, Decimal)):
        return str(v)
    return json.dumps(v, separators=(",", ":"), default=str)


def check_query(aggregation: str, value: str | None, names: Sequence[str], known: Any) -> None:
    """Reject a query no backend could answer, with the same message everywhere."""
    if aggregation != "count" and not value:
        raise ValueError(f"aggregation {aggregation!r} needs a value path")
    for name in names:
        if name not in known:
            raise ValueError(f"unknown group_by dimension {name!r}")


def row_sort_key(
    start: datetime, subject: str | None, dims: Sequence[str | None]
) -> tuple[Any, ...]:
    """Rows order by start, subject, dimensions; None sorts first."""
    return (start, subject is not None, subject or "", *((d is not None, d or "") for d in dims))


def unique_key(v: Any) -> str:
    """Identity of a JSON value for unique counts: "a" and 1 differ, as their JSON texts do."""
    if isinstance(v, bool) or v is None:
        return json.dumps(v)
    if isinstance(v, (int, Decimal)):
        return str(v)
    return json.dumps(v, separators=(",", ":"), default=str)


def average(total: Decimal, count: int) -> Decimal:
    """Exact-as-possible mean (50 significant digits), normalized to drop trailing zeros."""
    if count == 0:
        return Decimal(0)
    return PRECISION.divide(total, Decimal(count))


def tidy(d: Decimal) -> Decimal:
    """Drop trailing zeros (DECIMAL(38,18) pads them) without switching to exponent form."""
    if d == d.to_integral_value():
        return d.quantize(Decimal(1))
    return d.normalize(PRECISION)
