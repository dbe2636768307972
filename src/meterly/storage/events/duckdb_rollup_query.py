"""Usage queries over rollups: split windows into monthly rows, whole UTC hours and raw edges,
and compile one statement (one snapshot) that merges the partial aggregates.

See duckdb_rollup for how the rollups are kept and why the result equals a raw recomputation.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from meterly.metering import spec
from meterly.storage.events import duckdb_sql as q
from meterly.storage.events.base import AggregateQuery, UsageRow
from meterly.storage.events.duckdb_rollup import (
    EPOCH,
    HOUR_US,
    MAX_EDGES,
    MAX_WINDOWS,
    ROLLUP_AGGREGATIONS,
    dim_names,
    filter_sql,
    ts,
    us,
    value_sql,
)


class Plan:
    """Windows of a query split into whole UTC hours (rollup) and partial-hour edges (raw)."""

    def __init__(self, bounds: list[tuple[datetime, datetime]], zone: str | None = None) -> None:
        self.bounds = bounds
        # Whole local months of `zone` (window index, first hour, end hour): served from monthly
        # rows, which a month × subject group-by needs (hourly rows are as many as events when
        # subjects have about one event per hour).
        self.zone = zone
        self.months: list[tuple[int, int, int]] = []
        self.interior: list[tuple[int, int, int]] = []  # (window index, first hour, end hour)
        self.edges: list[tuple[datetime, datetime]] = []
        for i, (ws, we) in enumerate(bounds):
            us0, us1 = us(ws), us(we)
            h0, h1 = -(-us0 // HOUR_US), us1 // HOUR_US
            if h0 >= h1:
                self.edges.append((ws, we))
                continue
            self.interior.append((i, h0, h1))
            whole = (us0, us1) == (h0 * HOUR_US, h1 * HOUR_US)
            full = zone is not None and ws == spec.window_start(ws, "month", zone)
            if whole and full and we == spec.next_window(ws, "month", zone or "UTC"):
                self.months.append((i, h0, h1))
            if us0 < h0 * HOUR_US:
                self.edges.append((ws, EPOCH + timedelta(hours=h0)))
            if h1 * HOUR_US < us1:
                self.edges.append((EPOCH + timedelta(hours=h1), we))


def plan(query: AggregateQuery) -> Plan | None:
    """A rollup plan, or None when the raw path must answer (aggregation or windows unsupported)."""
    meter = query.meter
    if meter.aggregation not in ROLLUP_AGGREGATIONS or query.window == "minute":
        return None
    spec.check_query(meter.aggregation, meter.value, query.group_by, meter.group_by)
    bounds = spec.window_bounds(query.start, query.end, query.window, query.tz)
    if not bounds or len(bounds) > MAX_WINDOWS:
        return None
    p = Plan(bounds, query.tz if query.window == "month" else None)
    return p if p.interior and len(p.edges) <= MAX_EDGES else None


def _scope(query: AggregateQuery, alias: str, params: list[Any]) -> str:
    parts = ["true"]
    if query.tenants is not None:
        parts.append(q.in_list(f"{alias}.tenant", query.tenants, params))
    if query.subjects is not None:
        parts.append(q.in_list(f"{alias}.subject", list(query.subjects), params))
    return " AND ".join(parts)


def _any_range(column: str, ranges: list[tuple[datetime, datetime]]) -> str:
    parts = [f"({column} >= {ts(a)} AND {column} < {ts(b)})" for a, b in ranges]
    return "(" + (" OR ".join(parts) or "false") + ")"


_MERGE = {
    "count": ["sum(n)"],
    "sum": ["sum(s)"],
    "min": ["min(mn)"],
    "max": ["max(mx)"],
    "avg": ["sum(s)", "sum(nv)"],  # divided exactly in Python (DuckDB's avg goes via double)
    "latest": ["arg_max(lv, lt)"],
}


_KEY = "e.tenant = c.tenant AND e.source = c.source AND e.id = c.id"


def rollup_sql(
    query: AggregateQuery, p: Plan, sid: int, mark: int, corrected: bool
) -> tuple[str, list[Any]]:
    """One statement (one snapshot): rollup partials for whole hours ∪ raw rows as one-row
    partials (edge hours, the tail past `mark`, and with corrections: dirty hours and corrected
    events at their current version), merged per (window, subject, dimensions)."""
    meter = query.meter
    names = dim_names(meter)
    start, end = p.bounds[0][0], p.bounds[-1][1]
    sql: list[str] = []
    params: list[Any] = []

    def add(text: str, *ps: Any) -> None:
        sql.append(text)
        params.extend(ps)

    def scope(alias: str) -> None:
        ps: list[Any] = []
        add(_scope(query, alias, ps), *ps)

    add("WITH ")
    if corrected:
        add(f"{q.CORR}, dirty AS (SELECT DISTINCT e.tenant, e.subject, ")
        add(f"(epoch_us(e.time) // {HOUR_US})::INTEGER AS h FROM events e SEMI JOIN corr c ")
        add(f"ON {_KEY} WHERE e.type = ? AND e.rowid < {mark} AND ", meter.event_type)
        scope("e")
        # current versions (as q.current) plus the rowid and original time of each event
        add("), cur AS (SELECT e.rowid AS rid, e.tenant, e.subject, e.type, e.time AS otime, ")
        add("e.time, e.data, e.data_num, 'ok' AS status FROM events e ANTI JOIN corr c ")
        add(f"ON {_KEY} ")
        add("WHERE e.type = ? AND ", meter.event_type)
        scope("e")
        add(" UNION ALL SELECT e.rowid, e.tenant, e.subject, e.type, e.time, ")
        add("coalesce(c.time, e.time), coalesce(c.data, e.data), ")
        add("coalesce(c.data_num, e.data_num), c.status FROM events e ")
        add(f"JOIN corr c ON {_KEY} WHERE e.type = ? AND ", meter.event_type)
        scope("e")
        add("), ")
        if p.months:
            mcase = " ".join(f"WHEN h >= {a} AND h < {b} THEN {i}" for i, a, b in p.months)
            add(f"dmonths AS (SELECT DISTINCT tenant, subject, CASE {mcase} END AS w FROM dirty), ")
    add("rows AS (")
    if p.months:
        # monthly rows for whole local months (a month holding a dirty hour reads hourly rows)
        mw = " ".join(f"WHEN {a} THEN {i}" for i, a, _ in p.months)
        mdims = "".join(
            f", dims[{names.index(g) + 1}] AS d{k}" for k, g in enumerate(query.group_by)
        )
        add(f"SELECT subject, CASE m {mw} END AS w{mdims}, n, nv, s, mn, mx, lt, lv ")
        add(f"FROM rollup_months r WHERE spec = {sid} AND zone = ? AND m IN ", p.zone)
        add(f"({', '.join(str(a) for _, a, _ in p.months)}) AND ")
        scope("r")
        if corrected:
            add(" AND NOT EXISTS (SELECT 1 FROM dmonths d WHERE d.tenant = r.tenant ")
            add(f"AND d.subject = r.subject AND d.w = CASE m {mw} END)")
        add(" UNION ALL ")
    # rollup side: whole hours inside a window
    wcase = " ".join(f"WHEN h >= {a} AND h < {b} THEN {i}" for i, a, b in p.interior)
    rdims = "".join(f", dims[{names.index(g) + 1}] AS d{k}" for k, g in enumerate(query.group_by))
    dcols = "".join(f", d{k}" for k in range(len(query.group_by)))
    add(f"SELECT subject, w{dcols}, n, nv, s, mn, mx, lt, lv FROM (SELECT subject, tenant, ")
    add(f"CASE {wcase} END AS w{rdims}, n, nv, s, mn, ")
    # Hours to read: every interior hour if a dirty month may need them, else only those of
    # windows that monthly rows do not serve (a tight range lets zone maps skip the rest).
    hourly = p.interior
    if p.months and not corrected:
        served_idx = {i for i, _, _ in p.months}
        hourly = [x for x in p.interior if x[0] not in served_idx] or [(-1, 0, 0)]
    add(f"mx, lt, lv, h FROM rollups r WHERE spec = {sid} AND h >= {hourly[0][1]} ")
    add(f"AND h < {hourly[-1][2]} AND ")
    scope("r")
    add(") r WHERE true")
    if p.months:
        served = ", ".join(str(i) for i, _, _ in p.months)
        add(f" AND (w NOT IN ({served})")
        if corrected:
            add(" OR EXISTS (SELECT 1 FROM dmonths d WHERE d.tenant = r.tenant ")
            add("AND d.subject = r.subject AND d.w = r.w)")
        add(")")
    if corrected:
        add(" AND NOT EXISTS (SELECT 1 FROM dirty d WHERE d.tenant = r.tenant ")
        add("AND d.subject = r.subject AND d.h = r.h)")
    # raw side: one-row partials
    ecase = " ".join(
        f"WHEN time >= {ts(a)} AND time < {ts(b)} THEN {i}" for i, (a, b) in enumerate(p.bounds)
    )
    edims = "".join(
        f", json_extract_string(data, {q.lit_path(meter.group_by[g])}) AS d{k}"
        for k, g in enumerate(query.group_by)
    )
    add(f" UNION ALL SELECT subject, w{dcols}, 1, (v IS NOT NULL)::BIGINT, v, v, v, ")
    add("CASE WHEN v IS NOT NULL THEN time END, v FROM (SELECT subject, time, ")
    add(f"CASE {ecase} END AS w{edims}, {value_sql(meter)} AS v FROM ")
    fp: list[Any] = []
    where = filter_sql(meter, fp)
    inside = f"time >= {ts(start)} AND time < {ts(end)}"
    if corrected:
        add("(SELECT cur.*, d.h AS dh FROM cur LEFT JOIN dirty d ON d.tenant = cur.tenant ")
        add("AND d.subject = cur.subject ")
        add(f"AND d.h = (epoch_us(cur.otime) // {HOUR_US})::INTEGER) ")
        add(f"WHERE status <> 'voided' AND {where}", *fp)
        need = [_any_range("time", p.edges), f"rid >= {mark}", "status <> 'ok'", "dh IS NOT NULL"]
        add(f" AND {inside} AND ({' OR '.join(need)}))) ")
    else:
        # Disjoint branches, each a plain conjunction so zone maps prune it: every edge range
        # (a time range), then the tail (a rowid range) outside the edges. An OR of the two
        # would scan the whole query range.
        ranges = [[e] for e in p.edges] if len(p.edges) <= 4 else [p.edges]
        branches = [_any_range("time", r) for r in ranges]
        branches.append(f"rowid >= {mark} AND {inside} AND NOT {_any_range('time', p.edges)}")
        add("(")
        for k, cond in enumerate(branches):
            add(" UNION ALL " if k else "")
            add(f"SELECT subject, time, data, data_num FROM events e WHERE {where}", *fp)
            add(f" AND {inside} AND {cond} AND ")
            scope("e")
        add("))) ")
    # merge
    if query.subjects is not None and query.by_subject:
        subject = "m.rep"
        mapping = "JOIN (SELECT unnest(?::VARCHAR[]) AS raw, unnest(?::VARCHAR[]) AS rep) m "
        mapping += "ON m.raw = rows.subject "
        map_params: list[Any] = [list(query.subjects), list(query.subjects.values())]
    else:
        subject = "rows.subject" if query.by_subject else "NULL::VARCHAR"
        mapping, map_params = "", []
    merge = ", ".join(_MERGE[meter.aggregation])
    keys = ", ".join(str(k + 1) for k in range(2 + len(query.group_by)))
    add(f"SELECT w, {subject}{dcols}, {merge} FROM rows {mapping}", *map_params)
    add(f"WHERE w IS NOT NULL GROUP BY {keys}")
    if meter.aggregation != "count":
        add(" HAVING sum(nv) > 0")
    # spec.row_sort_key's order, done by the engine: windows ascend with w, NULL first, and
    # VARCHAR compares UTF-8 bytes, which is Python's code-point order (saves a Python sort).
    add(f" ORDER BY 1, {', '.join(f'{k} NULLS FIRST' for k in range(2, 3 + len(query.group_by)))}")
    return "".join(sql), params


def to_rows(query: AggregateQuery, p: Plan, result: list[tuple[Any, ...]]) -> list[UsageRow]:
    """Rows in the order rollup_sql returns them. Built inline: a month × subject group-by
    returns ~10^4 rows per meter and q.usage_row + a Python sort cost more than the SQL."""
    nd = len(query.group_by)
    names = query.group_by
    avg = query.meter.aggregation == "avg"
    bounds = p.bounds
    rows = []
    for r in result:
        value = spec.average(r[2 + nd], r[3 + nd]) if avg else r[2 + nd]
        ws, we = bounds[r[0]]
        dims = dict(zip(names, r[2 : 2 + nd], strict=True)) if nd else {}
        rows.append(UsageRow(ws, we, r[1], dims, spec.tidy(Decimal(value))))
    if not rows and query.meter.aggregation == "count":
        subject = q.lone_subject(query)
        rows = [q.usage_row(b, subject, query.group_by, [None] * nd, 0) for b in bounds]
    return rows
