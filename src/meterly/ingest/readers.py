"""Readers for `meterly events import`: JSONL, CSV and Parquet files as bounded chunks of records,
each record with its line (Parquet: row) number for the rejects file."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import msgspec

from meterly.errors import InvalidInput

EVENT_FIELDS = ("id", "source", "type", "subject", "time")
_BLOCK_BYTES = 8 << 20
# numbers decode as Decimal, never binary float (as in ingest.parse)
_decoder = msgspec.json.Decoder(float_hook=Decimal)


@dataclass(slots=True)
class Chunk:
    items: list[Any]
    lines: Sequence[int]  # the file line (Parquet: row) of each item, 1-based
    bad: list[dict[str, Any]] = field(default_factory=list)  # records rejected while reading
    position: int = 0  # bytes (rows for Parquet) consumed so far, for progress
    # JSONL: the chunk's lines, not yet decoded (`items` is filled only if the fast path fails)
    raw: bytes | None = None


def jsonl_chunks(path: Path, size: int) -> Iterator[Chunk]:
    first = 1  # line number of pending[0]
    consumed = 0
    pending: list[bytes] = []
    tail = b""
    with path.open("rb") as f:
        while True:
            # Large blocks split in C: no per-line Python I/O.
            block = f.read(_BLOCK_BYTES)
            if block:
                lines = (tail + block).split(b"\n")
                tail = lines.pop()
                pending.extend(lines)
            elif tail:
                pending.append(tail)
                tail = b""
            while len(pending) >= size or (not block and pending):
                part = pending[:size]
                del pending[:size]
                consumed += sum(map(len, part)) + len(part)
                yield _jsonl_chunk(part, first, consumed)
                first += len(part)
            if not block:
                return


def _jsonl_chunk(lines: list[bytes], first: int, consumed: int) -> Chunk:
    numbers: Sequence[int] = range(first, first + len(lines))
    if not all(map(bytes.strip, lines)):
        # Drop blank lines first: then "one value per line" can be checked by counting.
        kept = [(n, line) for n, line in zip(numbers, lines, strict=True) if line.strip()]
        numbers, lines = [n for n, _ in kept], [line for _, line in kept]
    return Chunk([], numbers, [], consumed, b"\n".join(lines))


def decode_jsonl(chunk: Chunk) -> None:
    """Fill `items` of a JSONL chunk the typed path refused, with the generic decoder."""
    assert chunk.raw is not None
    lines = chunk.raw.split(b"\n") if chunk.lines else []
    chunk.raw = None
    # The whole chunk in one call; decode_lines keeps each line its own document.
    try:
        items = _decoder.decode_lines(b"\n".join(lines))
        if len(items) == len(lines):
            chunk.items = items
            return
    except msgspec.DecodeError:
        pass
    # Slow path, only for a chunk with a bad line (or several values on one line): one line at a
    # time, so every bad line gets its own error and line number.
    good: list[int] = []
    for n, line in zip(chunk.lines, lines, strict=True):
        try:
            chunk.items.append(_decoder.decode(line))
            good.append(n)
        except msgspec.DecodeError as exc:
            error = {"field": "", "message": f"line is not valid JSON: {exc}"}
            chunk.bad.append({"at": n, "id": None, "errors": [error]})
    chunk.lines = good


class _Columns:
    """Where each column goes: an explicit --map, else an event field of the same name, else data
    under the column's own name."""

    def __init__(self, names: Sequence[str], mapping: dict[str, str]) -> None:
        self.fields: list[tuple[int, str]] = []
        self.data: list[tuple[int, str]] = []
        taken = set(mapping.values())
        for i, name in enumerate(names):
            target = mapping.get(name)
            if target is None:
                target = name if name in EVENT_FIELDS and name not in taken else f"data.{name}"
            if target.startswith("data."):
                self.data.append((i, target[5:]))
            else:
                self.fields.append((i, target))


@contextmanager
def open_csv(path: Path) -> Iterator[TextIO]:
    # utf-8-sig: spreadsheets often start CSV exports with a byte-order mark.
    with path.open("r", encoding="utf-8-sig", newline="") as f:
        yield f


def csv_chunks(path: Path, mapping: dict[str, str], size: int) -> Iterator[Chunk]:
    with open_csv(path) as f:
        reader = csv.reader(f)
        try:
            header = next(reader, None)
            if header is None:
                return
            cols = _Columns(header, mapping)
            width = len(header)
            chunk = Chunk([], [], [])
            numbers: list[int] = []
            last = reader.line_num
            for row in reader:
                # A quoted cell may span lines: a record starts on the line after the previous one.
                n, last = last + 1, reader.line_num
                if not row:
                    continue
                if len(row) > width:
                    error = {"field": "", "message": f"{len(row)} cells; the header has {width}"}
                    chunk.bad.append({"at": n, "id": None, "errors": [error]})
                    continue
                # Empty cells are absent values; cells stay strings (meters read numeric strings
                # exactly).
                item: dict[str, Any] = {
                    name: row[i] for i, name in cols.fields if i < len(row) and row[i] != ""
                }
                item["data"] = {k: row[i] for i, k in cols.data if i < len(row) and row[i] != ""}
                chunk.items.append(item)
                numbers.append(n)
                if len(numbers) >= size:
                    chunk.lines, chunk.position = numbers, f.buffer.tell()
                    yield chunk
                    chunk, numbers = Chunk([], [], []), []
            if numbers or chunk.bad:
                chunk.lines, chunk.position = numbers, f.buffer.tell()
                yield chunk
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InvalidInput(f"{path.name} line {reader.line_num + 1}: {exc}") from None


def parquet_file(path: Path) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInput(f"'{path.name}' is not a readable Parquet file: {exc}") from None


def parquet_chunks(path: Path, mapping: dict[str, str], size: int) -> Iterator[Chunk]:
    pf = parquet_file(path)
    cols = _Columns(pf.schema_arrow.names, mapping)
    row = 0
    # Record batches of `size` rows: only one batch is ever turned into Python objects.
    for batch in pf.iter_batches(batch_size=size):
        fields = [(name, _arrow_values(batch.column(i), True)) for i, name in cols.fields]
        data = [(key, _arrow_values(batch.column(i), False)) for i, key in cols.data]
        items: list[Any] = []
        for r in range(batch.num_rows):
            item = {name: v[r] for name, v in fields if v[r] is not None}
            item["data"] = {key: v[r] for key, v in data if v[r] is not None}
            items.append(item)
        yield Chunk(items, range(row + 1, row + 1 + batch.num_rows), [], row + batch.num_rows)
        row += batch.num_rows


def _arrow_values(column: Any, event_field: bool) -> list[Any]:
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_timestamp(kind):
        # Arrow renders any unit (ns too) with its offset; a naive timestamp has none and is
        # rejected by validation exactly like a JSON time without an offset.
        text = pc.replace_substring(column.cast(pa.string()), " ", "T", max_replacements=1)
        return list(text.to_pylist())
    if event_field and pa.types.is_integer(kind):
        return list(column.cast(pa.string()).to_pylist())  # an integer id is still an id
    values = list(column.to_pylist())
    if pa.types.is_floating(kind):
        # Shortest repr is the number that was written; Decimal keeps it exact from here on.
        return [None if v is None or not math.isfinite(v) else Decimal(repr(v)) for v in values]
    return values
