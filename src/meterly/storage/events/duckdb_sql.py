"""SQL text for the DuckDB event store: schema, the current-version view, meter compilation.

Meter specs are compiled here (never stored as SQL) so the same spec also runs on the memory and
ClickHouse stores; semantics mirror meterly.metering.spec and the contract tests pin them.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from meterly.metering import spec
from meterly.storage.events.base import (
    NUMERIC_AGGREGATIONS,
    AggregateQuery,
    Condition,
    JsonScalar,
    MeterSpec,
    UsageRow,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    tenant VARCHAR NOT NULL, source VARCHAR NOT NULL, id VARCHAR NOT NULL,
    type VARCHAR NOT NULL, subject VARCHAR NOT NULL, time TIMESTAMPTZ NOT NULL,
    data VARCHAR NOT NULL, received_at TIMESTAMPTZ NOT NULL,
    -- dedup key hash (dedup.py) and exact-number copy of data (exact.py), both set on append
    k1 UBIGINT NOT NULL, k2 UBIGINT NOT NULL, data_num VARCHAR
);
CREATE TABLE IF NOT EXISTS corrections (
    tenant VARCHAR NOT NULL, source VARCHAR NOT NULL, id VARCHAR NOT NULL,
    seq BIGINT NOT NULL, kind VARCHAR NOT NULL, actor VARCHAR NOT NULL, reason VARCHAR,
    data VARCHAR, time TIMESTAMPTZ, "at" TIMESTAMPTZ NOT NULL,
    data_num VARCHAR  -- set whenever data is (exact.py): the amended data_num
);
"""

# Latest amendment per field wins; any void is final.
CORR = """corr AS (
    SELECT tenant, source, id,
        arg_max(data, seq) FILTER (WHERE kind = 'amend' AND data IS NOT NULL) AS data,
        arg_max(data_num, seq) FILTER (WHERE kind = 'amend' AND data IS NOT NULL) AS data_num,
        arg_max(time, seq) FILTER (WHERE kind = 'amend' AND time IS NOT NULL) AS time,
        CASE WHEN bool_or(kind = 'void') THEN 'voided' ELSE 'amended' END AS status
    FROM corrections GROUP BY tenant, source, id)"""

COLUMNS = "tenant, source, id, type, subject, time, data, received_at, status"


def current(pred: str, corrected: bool = True) -> str:
    """CTEs `corr` and `cur` (current versions). `pred` filters raw columns other than
    time/data; uncorrected rows keep a plain `time` column so range filters reach the scan.

    `pred` appears twice (callers pass its params twice). With `corrected` False (the snapshot
    holds no correction) `cur` is the plain table: the second branch is `WHERE false`, which the
    optimizer drops, and only keeps the parameter count the same."""
    if not corrected:
        plain = "SELECT e.tenant, e.source, e.id, e.type, e.subject, e.time, e.data, "
        plain += "e.data_num, e.received_at, 'ok' AS status FROM events e WHERE"
        return f"cur AS ({plain} {pred} UNION ALL {plain} false AND {pred})"
    return f"""{CORR},
cur AS (
    SELECT e.tenant, e.source, e.id, e.type, e.subject, e.time, e.data, e.data_num,
        e.received_at, 'ok' AS status
    FROM events e ANTI JOIN corr c ON e.tenant = c.tenant AND e.source = c.source AND e.id = c.id
    WHERE {pred}
    UNION ALL
    SELECT e.tenant, e.source, e.id, e.type, e.subject, coalesce(c.time, e.time),
        coalesce(c.data, e.data), coalesce(c.data_num, e.data_num), e.received_at, c.status
    FROM events e JOIN corr c ON e.tenant = c.tenant AND e.source = c.source AND e.id = c.id
    WHERE {pred})"""


def current_data(keys: Sequence[tuple[str, str, str]], corrected: bool) -> tuple[str, list[Any]]:
    """(tenant, source, id, data) of the current versions of these keys: one statement."""
    ids = [k[2] for k in keys]
    sql = (
        f"WITH {current('e.id IN (SELECT unnest(?::VARCHAR[]))', corrected)} "
        "SELECT cur.tenant, cur.source, cur.id, cur.data FROM cur SEMI JOIN (SELECT "
        "unnest(?::VARCHAR[]) AS t, unnest(?::VARCHAR[]) AS s, unnest(?::VARCHAR[]) AS i) k "
        "ON cur.tenant = k.t AND cur.source = k.s AND cur.id = k.i"
    )
    return sql, [ids, ids, [k[0] for k in keys], [k[1] for k in keys], ids]


def in_list(column: str, values: Sequence[str], params: list[Any]) -> str:
    if not values:
        return "false"
    params.extend(values)
    return f"{column} IN ({', '.join('?' * len(values))})"


def lit_path(path: str) -> str:
    """A JSONPath as a SQL string literal (validated by spec, so no quote can break out)."""
    return "'" + spec.sql_path(path).replace("'", "''") + "'"


def numeric(path: str) -> str:
    # DECIMAL(38,18) mirrors spec.numeric_value: 20 integer digits, NaN/Infinity/bool → NULL.
    # data_num (exact.py) is data with the numbers a double would change written as strings;
    # json_extract_string reads JSON numbers through a double, strings digit for digit.
    p = lit_path(path)
    return f"TRY_CAST(json_extract_string(coalesce(data_num, data), {p}) AS DECIMAL(38,18))"


def _equals(path: str, value: JsonScalar, params: list[Any]) -> str:
    p = lit_path(path)
    if value is None:
        return f"json_type(data, {p}) = 'NULL'"
    if isinstance(value, bool):
        return f"(json_type(data, {p}) = 'BOOLEAN' AND json_extract_string(data, {p}) = " + (
            "'true')" if value else "'false')"
        )
    if isinstance(value, (int, Decimal)):
        num, _ = spec.numeric_value(value)
        if num is None:
            return "false"
        params.append(str(num))
        return f"{numeric(path)} = CAST(? AS DECIMAL(38,18))"
    params.append(value)
    return f"(json_type(data, {p}) = 'VARCHAR' AND json_extract_string(data, {p}) = ?)"


_CMP = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def condition(c: Condition, params: list[Any]) -> str:
    spec.parse_path(c.path)
    if c.op in ("eq", "ne"):
        if isinstance(c.value, tuple):
            raise ValueError(f"{c.op} takes one value, not a list")
        hit = f"coalesce({_equals(c.path, c.value, params)}, false)"
        return hit if c.op == "eq" else f"NOT {hit}"
    if c.op in ("in", "not_in"):
        values = c.value if isinstance(c.value, tuple) else (c.value,)
        parts = [_equals(c.path, v, params) for v in values] or ["false"]
        hit = f"coalesce(({' OR '.join(parts)}), false)"
        return hit if c.op == "in" else f"NOT {hit}"
    if c.op not in _CMP:
        raise ValueError(f"unknown filter op {c.op!r}")
    bound, _ = spec.numeric_value(c.value)
    if bound is None:
        return "false"
    params.append(str(bound))
    return f"coalesce({numeric(c.path)} {_CMP[c.op]} CAST(? AS DECIMAL(38,18)), false)"


def meter_where(meter: MeterSpec, params: list[Any]) -> str:
    """Type and filter of a meter over `cur`."""
    params.append(meter.event_type)
    parts = ["status <> 'voided'", "type = ?"]
    parts += [condition(c, params) for c in meter.filter]
    return " AND ".join(parts)


def bucket(window: str | None, tz: str, params: list[Any]) -> str:
    """Columns keying each row's window. Day/month: `bucket`, the local wall-clock midnight
    (converted to UTC in Python, DST-correct via zoneinfo). Minute/hour: `bucket`, the instant the
    local clock read :00 at the row's own offset, and `off`, that offset: the pair names one
    window (spec.window_start), so a repeated fall-back hour stays two hours. `bucket` alone can
    fall before the window (after Lord Howe's 30-minute shift), so the caller maps a group by
    one of its own event times instead."""
    if window is None:
        return "NULL::TIMESTAMP AS bucket"
    if window in ("day", "month"):
        params.append(tz)
        return f"date_trunc('{window}', timezone(?, time)) AS bucket"
    params.extend([tz, tz, tz])
    start = f"time - (timezone(?, time) - date_trunc('{window}', timezone(?, time)))"
    return f"{start} AS bucket, timezone(?, time) - time::TIMESTAMP AS off"


def aggregate_expr(aggregation: str, value: str | None) -> list[str]:
    """Output expressions over `base` (which has `v` = numeric value, `u` = JSON text)."""
    if aggregation == "count":
        return ["count(*)"]
    if aggregation == "unique_count":
        return ["count(DISTINCT u)"]
    if aggregation in ("sum", "min", "max"):
        return [f"{aggregation}(v)"]
    if aggregation == "avg":
        # Sum and count, divided in Python: DuckDB's avg goes through double.
        return ["sum(v)", "count(v)"]
    if aggregation == "latest":
        return ["arg_max(v, time)"]
    raise ValueError(f"unknown aggregation {aggregation!r}")


Reader = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]


def aggregate(read: Reader, query: AggregateQuery, corrected: bool = True) -> list[UsageRow]:
    """Compile and run a usage query; windows and exact averages are finished in Python."""
    meter = query.meter
    spec.check_query(meter.aggregation, meter.value, query.group_by, meter.group_by)
    bounds = spec.window_bounds(query.start, query.end, query.window, query.tz)
    if not bounds:
        return []
    twa = meter.aggregation == "time_weighted_avg"
    params: list[Any] = []
    pred = ["e.type = ?"]
    pp: list[Any] = [meter.event_type]
    if query.tenants is not None:
        pred.append(in_list("e.tenant", query.tenants, pp))
    if query.subjects is not None:
        pred.append(in_list("e.subject", list(query.subjects), pp))
    params += pp + pp
    cols = []
    if query.subjects is not None and query.by_subject:
        mapping = "JOIN (SELECT unnest(?::VARCHAR[]) AS raw, unnest(?::VARCHAR[]) AS rep) m "
        mapping += "ON m.raw = cur.subject"
        cols.append("m.rep AS subject")
        map_params: list[Any] = [list(query.subjects), list(query.subjects.values())]
    else:
        mapping, map_params = "", []
        cols.append("cur.subject AS subject" if query.by_subject else "NULL::VARCHAR AS subject")
    dims = [f"d{i}" for i in range(len(query.group_by))]
    cols += [
        f"json_extract_string(data, {lit_path(meter.group_by[g])}) AS {d}"
        for g, d in zip(query.group_by, dims, strict=True)
    ]
    window = None if twa else query.window
    fine = window in ("minute", "hour")
    cols.append(bucket(window, query.tz, params))
    cols.append("time")
    cols.append(f"{numeric(meter.value)} AS v" if meter.value else "NULL AS v")
    cols.append(
        f"nullif(json_extract(data, {lit_path(meter.value)})::VARCHAR, 'null') AS u"
        if meter.value
        else "NULL AS u"
    )
    params += map_params
    where = meter_where(meter, params)
    if not twa:
        where += " AND time >= ?"
        params.append(query.start)
    params.append(query.end)
    base = (
        f"WITH {current(' AND '.join(pred), corrected)}, "
        f"base AS (SELECT {', '.join(cols)} FROM cur {mapping} WHERE {where} AND time < ?)"
    )
    if meter.aggregation in NUMERIC_AGGREGATIONS:
        keep = "v IS NOT NULL"
    else:
        keep = "u IS NOT NULL" if meter.aggregation == "unique_count" else "true"
    keys = ", ".join(["subject", *dims])
    if twa:
        return _time_weighted(read, query, bounds, base, params, keys, keep, len(dims))
    exprs = aggregate_expr(meter.aggregation, meter.value)
    if fine:
        exprs.append("min(time)")  # an instant inside the group's window
    sql = f"{base} SELECT bucket, {keys}, {', '.join(exprs)} FROM base WHERE {keep} "
    sql += f"GROUP BY bucket, {'off, ' if fine else ''}{keys}"
    starts = [b[0] for b in bounds]
    zone = ZoneInfo(query.tz)
    rows = []
    for r in read(sql, params):
        key, subject, dvals = r[0], r[1], r[2 : 2 + len(dims)]
        agg = r[2 + len(dims) :]
        if key is None:
            idx = 0
        else:
            at = agg[-1] if fine else spec.local_midnight(key, zone)
            idx = bisect.bisect_right(starts, max(at, starts[0])) - 1
        value = spec.average(agg[0], agg[1]) if meter.aggregation == "avg" else agg[0]
        rows.append(usage_row(bounds[idx], subject, query.group_by, dvals, value))
    if not rows and meter.aggregation in ("count", "unique_count"):
        subject = lone_subject(query)
        rows = [usage_row(b, subject, query.group_by, [None] * len(dims), 0) for b in bounds]
    return sorted_rows(rows)


def _time_weighted(
    read: Reader,
    query: AggregateQuery,
    bounds: list[tuple[datetime, datetime]],
    base: str,
    params: list[Any],
    keys: str,
    keep: str,
    ndims: int,
) -> list[UsageRow]:
    # Readings inside the range plus, per series, the last one before it (its level carries in).
    sql = (
        f"{base} SELECT {keys}, time, v FROM base WHERE {keep} AND time >= ? "
        f"UNION ALL SELECT {keys}, max(time), arg_max(v, time) FROM base "
        f"WHERE {keep} AND time < ? GROUP BY {keys}"
    )
    series: dict[tuple[Any, ...], list[tuple[datetime, Decimal]]] = {}
    for r in read(sql, [*params, query.start, query.start]):
        series.setdefault(tuple(r[: 1 + ndims]), []).append((r[1 + ndims], r[2 + ndims]))
    rows = []
    for key, readings in series.items():
        readings.sort(key=lambda x: x[0])
        for ws, we in bounds:
            if readings[0][0] < we:
                level = spec.time_weighted(readings, ws, we)
                rows.append(usage_row((ws, we), key[0], query.group_by, key[1:], level))
    return sorted_rows(rows)


def lone_subject(query: AggregateQuery) -> str | None:
    if not query.by_subject or query.subjects is None:
        return None
    reported = set(query.subjects.values())
    return next(iter(reported)) if len(reported) == 1 else None


def usage_row(
    bound: tuple[datetime, datetime],
    subject: str | None,
    names: Sequence[str],
    dims: Sequence[str | None],
    value: Decimal | int,
) -> UsageRow:
    dimensions = dict(zip(names, dims, strict=True))
    return UsageRow(bound[0], bound[1], subject, dimensions, spec.tidy(Decimal(value)))


def sorted_rows(rows: list[UsageRow]) -> list[UsageRow]:
    rows.sort(key=lambda r: spec.row_sort_key(r.start, r.subject, list(r.dimensions.values())))
    return rows
