"""Numbers a binary double would change, for SQL engines whose JSON functions read doubles.

DuckDB's `json_extract_string` parses a JSON number as a double, so `0.123456789012345678` or
`12345678901234567.5` would be summed with its last digits changed. Events keep `data` exactly as
sent; for the rare event holding such a number the store also keeps `data_num`, a copy of `data`
with those numbers written as JSON strings, which meters read instead (a numeric string is cast
to DECIMAL exactly).
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

import msgspec

# A double keeps 15-17 significant digits, so a number of 15 characters or fewer always survives
# the round trip. Runs of 16+ digits/dots are the only candidates: a cheap scan finds them, and
# only those events are decoded for the exact check. (Matches inside strings just cost a check.)
LONG_NUMBER = r"[0-9.]{16,}"
_long = re.compile(LONG_NUMBER.encode())
_encoder = msgspec.json.Encoder(decimal_format="number")
# JSON engines (yyjson in DuckDB) keep integers in this range exactly; beyond it they use doubles.
_INT_MIN, _INT_END = -(2**63), 2**64


def survives_double(value: int | Decimal) -> bool:
    """Whether a JSON engine reading `value` as a double gives the same number back."""
    if isinstance(value, int):
        return _INT_MIN <= value < _INT_END
    if not value.is_finite():
        return False
    f = float(value)
    return math.isfinite(f) and Decimal(repr(f)) == value


def exact_copy(text: str | bytes) -> str | None:
    """`text` (a JSON object) with every number a double would change written as a JSON string,
    or None when every number survives — the common case, where readers use `data` itself."""
    raw = text.encode() if isinstance(text, str) else text
    if _long.search(raw) is None:
        return None
    changed = False

    def walk(v: Any) -> Any:
        nonlocal changed
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, bool) or not isinstance(v, (int, Decimal)) or survives_double(v):
            return v
        changed = True
        # Plain notation: DuckDB's DECIMAL cast of "1.5E+20" is not guaranteed on every version.
        return str(v) if isinstance(v, int) else format(v, "f")

    # The stdlib parser, not msgspec: it keeps integers beyond 64 bits exact (msgspec reads them
    # through a double). Only flagged events get here, so its speed does not matter.
    out = walk(json.loads(raw, parse_float=Decimal))
    return _encoder.encode(out).decode() if changed else None


def exact_column(data: Any) -> Any:
    """`data_num` for a pyarrow string array of JSON objects: null except where needed."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(data)
    hits = pc.match_substring_regex(data, LONG_NUMBER)
    if not pc.any(hits).as_py():
        return pa.nulls(n, pa.string())
    values: list[str | None] = [None] * n
    for i in pc.indices_nonzero(hits).to_pylist():
        values[i] = exact_copy(data[i].as_py())
    return pa.array(values, pa.string())
