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
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from meterly.accounts.scope import Principal
from meterly.errors import InvalidInput, NotFound
from meterly.ingest.parse import Parsed, fast_lines, validate
from meterly.ingest.readers import (
    EVENT_FIELDS,
    Chunk,
    csv_chunks,
    decode_jsonl,
    jsonl_chunks,
    open_csv,
    parquet_chunks,
    parquet_file,
)
from meterly.ingest.service import tenant_of
from meterly.runtime import Runtime
from meterly.storage.events.base import AppendResult

FORMATS = ("jsonl", "csv", "parquet")
EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
CHUNK_EVENTS = 50_000
# Same decoder settings as parse.py: numbers stay exact (Decimal), never binary float.


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
    total = parquet_file(path).metadata.num_rows if kind == "parquet" else path.stat().st_size
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
        with open_csv(path) as f:
            return next(csv.reader(f), [])
    return list(parquet_file(path).schema_arrow.names)


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
        decode_jsonl(chunk)
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
        return jsonl_chunks(plan.path, plan.chunk_size)
    if plan.format == "csv":
        return csv_chunks(plan.path, plan.mapping, plan.chunk_size)
    return parquet_chunks(plan.path, plan.mapping, plan.chunk_size)
