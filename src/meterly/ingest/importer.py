"""Import events from a file (JSONL, CSV, Parquet) with the HTTP API's validation and dedup.

The file is read in bounded chunks: each chunk is validated (JSONL through the typed fast path of
`parse`, falling back to `parse.validate` for a chunk with a bad line, like the HTTP API) and
appended to the event store as columns, so memory stays flat whatever the file size. Every
appended chunk is durable and dedup is by (tenant, source, id), so an interrupted import is
finished by simply running it again.
"""

from __future__ import annotations

import csv
import gc
import math
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, TextIO

import msgspec
import orjson

from meterly.accounts.scope import Principal
from meterly.errors import InvalidInput, NotFound
from meterly.ingest.parse import Parsed, fast_lines, validate
from meterly.ingest.service import tenant_of
from meterly.runtime import Runtime
from meterly.storage.events.base import AppendResult

FORMATS = ("jsonl", "csv", "parquet")
EVENT_FIELDS = ("id", "source", "type", "subject", "time")
EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
CHUNK_EVENTS = 50_000
_BLOCK_BYTES = 8 << 20
# Same decoder settings as parse.py: numbers stay exact (Decimal), never binary float.
_decoder = msgspec.json.Decoder(float_hook=Decimal)


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """A checked request: the file exists, the format is known and the mapping fits its columns."""

    path: Path
    format: str
    mapping: dict[str, str]  # column -> event field, or "data.NAME"
    rejects: Path
    total: int  # for progress: bytes for text formats, rows for Parquet
    chunk_size: int = CHUNK_EVENTS


@dataclass(slots=True)
class ImportSummary:
    path: str
    format: str
    accepted: int = 0
    duplicates: int = 0
    unattributed: int = 0
    rejected: int = 0
    rejects_file: str | None = None
    elapsed_s: float = 0.0

    @property
    def records(self) -> int:
        return self.accepted + self.duplicates + self.rejected

    @property
    def events_per_s(self) -> int:
        return round(self.records / self.elapsed_s) if self.elapsed_s > 0 else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "records": self.records,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "unattributed": self.unattributed,
            "rejected": self.rejected,
            "rejects_file": self.rejects_file,
            "elapsed_s": round(self.elapsed_s, 3),
            "events_per_s": self.events_per_s,
        }


@dataclass(slots=True)
class Chunk:
    items: list[Any]
    lines: Sequence[int]  # the file line (Parquet: row) of each item, 1-based
    bad: list[dict[str, Any]] = field(default_factory=list)  # records rejected while reading
    position: int = 0  # bytes (rows for Parquet) consumed so far, for progress
    # JSONL: the chunk's lines, not yet decoded (`items` is filled only if the fast path fails)
    raw: bytes | None = None


# --- request checks -------------------------------------------------------------------------


def parse_mapping(specs: Sequence[str]) -> dict[str, str]:
    """`COLUMN=FIELD` options -> {column: target}; target is an event field or `data.NAME`."""
    mapping: dict[str, str] = {}
    for spec in specs:
        column, sep, target = spec.partition("=")
        column, target = column.strip(), target.strip()
        ok = target in EVENT_FIELDS or (target.startswith("data.") and len(target) > 5)
        if not sep or not column or not ok:
            raise InvalidInput(
                f"bad --map '{spec}': use COLUMN=FIELD where FIELD is one of "
                f"{', '.join(EVENT_FIELDS)} or data.NAME"
            )
        if column in mapping:
            raise InvalidInput(f"bad --map '{spec}': column '{column}' is mapped twice")
        if target in mapping.values():
            raise InvalidInput(f"bad --map '{spec}': '{target}' is the target of two columns")
        mapping[column] = target
    return mapping


def detect_format(path: Path, fmt: str | None) -> str:
    if fmt is not None:
        if fmt.lower() not in FORMATS:
            raise InvalidInput(f"unknown format '{fmt}': use {', '.join(FORMATS)}")
        return fmt.lower()
    found = EXTENSIONS.get(path.suffix.lower())
    if found is None:
        raise InvalidInput(
            f"cannot tell the format of '{path.name}' from its extension; "
            f"pass --format {'|'.join(FORMATS)}"
        )
    return found


def plan_import(
    path: Path,
    fmt: str | None = None,
    maps: Sequence[str] = (),
    rejects: Path | None = None,
    chunk_size: int = CHUNK_EVENTS,
) -> ImportPlan:
    """Check everything that can be checked before the store is touched."""
    if not path.is_file():
        raise NotFound(f"file '{path}' not found")
    kind = detect_format(path, fmt)
    mapping = parse_mapping(maps)
    if mapping and kind == "jsonl":
        raise InvalidInput("--map applies to csv and parquet files; JSONL lines are events")
    # Opening a Parquet footer is cheap and proves the file is Parquet before anything is stored.
    total = _parquet_file(path).metadata.num_rows if kind == "parquet" else path.stat().st_size
    if mapping:
        columns = _columns(path, kind)
        missing = [c for c in mapping if c not in columns]
        if missing:
            raise InvalidInput(
                f"--map names columns not in the file: {', '.join(missing)} "
                f"(columns: {', '.join(columns)})"
            )
    out = rejects if rejects is not None else path.with_name(path.name + ".rejects.jsonl")
    if out.resolve() == path.resolve():
        raise InvalidInput("the rejects file cannot be the input file")
    if not out.parent.is_dir():
        raise InvalidInput(f"cannot write rejects to '{out}': no such directory")
    return ImportPlan(path, kind, mapping, out, int(total), max(1, chunk_size))


def _columns(path: Path, kind: str) -> list[str]:
    if kind == "csv":
        with _open_csv(path) as f:
            return next(csv.reader(f), [])
    return list(_parquet_file(path).schema_arrow.names)


# --- the import -----------------------------------------------------------------------------


def import_file(
    rt: Runtime,
    principal: Principal,
    plan: ImportPlan,
    on_progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    summary = ImportSummary(str(plan.path), plan.format)
    tenant = tenant_of(principal)
    attribution = _Attribution(rt, principal)
    rejects = _RejectsFile(plan.rejects, "row" if plan.format == "parquet" else "line")
    started = time.perf_counter()
    # One writer thread: the store appends chunk k (DuckDB releases the GIL) while this thread
    # decodes and validates chunk k+1. At most two chunks are in memory.
    in_flight: tuple[Future[AppendResult], Sequence[str]] | None = None
    try:
        with _gc_paused(), ThreadPoolExecutor(1, thread_name_prefix="meterly-import") as pool:
            for chunk in _chunks(plan):
                parsed = _parse(chunk, tenant)
                bad = chunk.bad + [
                    {"at": chunk.lines[r.index], "id": r.id, "errors": r.errors}
                    for r in parsed.rejected
                ]
                rejects.write(bad)
                summary.rejected += len(bad)
                if in_flight is not None:
                    _finish(summary, attribution, *in_flight)
                batch = parsed.batch
                in_flight = (pool.submit(rt.events.append_batch, batch), batch.subject)
                if on_progress is not None:
                    on_progress(chunk.position)
            if in_flight is not None:
                _finish(summary, attribution, *in_flight)
    finally:
        summary.rejects_file = rejects.close()
        summary.elapsed_s = time.perf_counter() - started
    return summary


def _finish(
    summary: ImportSummary,
    attribution: _Attribution,
    pending: Future[AppendResult],
    subjects: Sequence[str],
) -> None:
    result = pending.result()
    summary.accepted += result.accepted
    summary.duplicates += result.duplicates
    summary.unattributed += attribution.unattributed(subjects, result.duplicate_indexes)


def _parse(chunk: Chunk, tenant: str) -> Parsed:
    now = datetime.now(UTC)
    if chunk.raw is not None:
        parsed = fast_lines(chunk.raw, tenant, now)
        # Several values on one line also decode: then the counts differ and the generic path
        # reports that line.
        if parsed is not None and len(parsed.batch) == len(chunk.lines):
            return parsed
        _decode_jsonl(chunk)
    return validate(chunk.items, tenant, now)


@contextmanager
def _gc_paused() -> Iterator[None]:
    # Decoded events are acyclic; the cyclic GC would rescan millions of young dicts per chunk
    # for nothing (measured ~30 % of the import time).
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class _Attribution:
    """Counts stored events whose subject is no account in the caller's subtree (as the API)."""

    def __init__(self, rt: Runtime, principal: Principal) -> None:
        self._rt = rt
        self._principal = principal
        # Resolved once per import: the shared cache forgets unknown subjects after a second,
        # which would re-query every subject of a long import over and over.
        self._attributed: dict[str, bool] = {}

    def unattributed(self, subjects: Sequence[str], duplicates: Sequence[int]) -> int:
        new = set(subjects).difference(self._attributed)
        if new:
            owners = self._rt.subjects.resolve_many(new)
            for s in new:
                owner = owners.get(s)
                self._attributed[s] = owner is not None and self._principal.covers(owner.path)
        known = self._attributed
        count = sum(1 for s in subjects if not known[s])
        if count and duplicates:
            count -= sum(1 for n in duplicates if not known[subjects[n]])
        return count


class _RejectsFile:
    """One JSON line per rejected record, created on the first one; rewritten by each run."""

    def __init__(self, path: Path, position_key: str) -> None:
        self.path = path
        self._key = position_key
        self._file: IO[bytes] | None = None
        self.count = 0

    def write(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        if self._file is None:
            self._file = self.path.open("wb")
        records.sort(key=lambda r: int(r["at"]))
        for r in records:
            line = {self._key: r["at"], "id": r["id"], "errors": r["errors"]}
            self._file.write(orjson.dumps(line) + b"\n")
        self.count += len(records)

    def close(self) -> str | None:
        if self._file is not None:
            self._file.close()
            return str(self.path)
        # A clean run leaves no rejects file, not even a stale one from an earlier run.
        self.path.unlink(missing_ok=True)
        return None


# --- readers --------------------------------------------------------------------------------


def _chunks(plan: ImportPlan) -> Iterator[Chunk]:
    if plan.format == "jsonl":
        return _jsonl_chunks(plan.path, plan.chunk_size)
    if plan.format == "csv":
        return _csv_chunks(plan.path, plan.mapping, plan.chunk_size)
    return _parquet_chunks(plan.path, plan.mapping, plan.chunk_size)


def _jsonl_chunks(path: Path, size: int) -> Iterator[Chunk]:
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


def _decode_jsonl(chunk: Chunk) -> None:
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
def _open_csv(path: Path) -> Iterator[TextIO]:
    # utf-8-sig: spreadsheets often start CSV exports with a byte-order mark.
    with path.open("r", encoding="utf-8-sig", newline="") as f:
        yield f


def _csv_chunks(path: Path, mapping: dict[str, str], size: int) -> Iterator[Chunk]:
    with _open_csv(path) as f:
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


def _parquet_file(path: Path) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInput(f"'{path.name}' is not a readable Parquet file: {exc}") from None


def _parquet_chunks(path: Path, mapping: dict[str, str], size: int) -> Iterator[Chunk]:
    pf = _parquet_file(path)
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
