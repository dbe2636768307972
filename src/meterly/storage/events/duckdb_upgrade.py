"""Bring an event store written before the k1/k2/data_num columns up to the current schema.

Runs once, on open, before the writer starts: adds the columns and fills them in bounded rowid
ranges (hashes and exact copies are computed in Python, 1 M rows at a time).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from meterly.storage.events.dedup import key_hashes
from meterly.storage.events.exact import exact_column, exact_copy

_CHUNK = 1 << 20


def _columns(con: Any, table: str) -> set[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
    ).fetchall()
    return {r[0] for r in rows}


def upgrade(con: Any) -> bool:
    """Add and fill the columns if missing; True if anything was done."""
    if "k1" in _columns(con, "events"):
        return False
    con.execute("BEGIN")
    try:
        for ddl in (
            "ALTER TABLE events ADD COLUMN k1 UBIGINT",
            "ALTER TABLE events ADD COLUMN k2 UBIGINT",
            "ALTER TABLE events ADD COLUMN data_num VARCHAR",
            "ALTER TABLE corrections ADD COLUMN data_num VARCHAR",
        ):
            con.execute(ddl)
        [(top,)] = con.execute("SELECT coalesce(max(rowid), -1) FROM events").fetchall()
        for lo in range(0, int(top) + 1, _CHUNK):
            rows = con.sql(
                "SELECT rowid AS rid, tenant, source, id, data FROM events "
                f"WHERE rowid >= {lo} AND rowid < {lo + _CHUNK}"  # ints only
            ).to_arrow_table()
            keys = key_hashes(*(rows.column(c).to_pylist() for c in ("tenant", "source", "id")))
            fill = pa.table(
                {
                    "rid": rows.column("rid"),
                    "k1": keys[:, 0],
                    "k2": keys[:, 1],
                    "data_num": exact_column(pc.cast(rows.column("data"), pa.string())),
                }
            )
            con.register("fill", fill)
            con.execute(
                "UPDATE events SET k1 = fill.k1, k2 = fill.k2, data_num = fill.data_num "
                "FROM fill WHERE events.rowid = fill.rid"
            )
            con.unregister("fill")
        amended = con.execute(
            "SELECT rowid, data FROM corrections WHERE data IS NOT NULL"
        ).fetchall()
        for rid, data in amended:
            num = exact_copy(data) or data
            con.execute("UPDATE corrections SET data_num = ? WHERE rowid = ?", [num, rid])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return True
