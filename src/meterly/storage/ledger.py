"""The ledger: SQLAlchemy 2 engine, declarative base and the unit of work.

Commit or roll back only at the boundary (a request, a job, a CLI command); services and
repositories never commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Engine, Numeric, String, TypeDecorator, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always returns zone-aware UTC datetimes (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the ledger")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    """DECIMAL(38,12): exact on PostgreSQL; kept as text on SQLite so no float ever appears."""

    impl = Numeric(38, 12)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(64))
        return dialect.type_descriptor(Numeric(38, 12, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> Any:
        if value is None:
            return None
        return str(Decimal(value)) if dialect.name == "sqlite" else Decimal(value)

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value).normalize() if isinstance(value, str) else Decimal(value)


class Base(DeclarativeBase):
    pass


# Execution option marking connections whose transactions write (see make_engine).
WRITES = "meterly_writes"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL for concurrent readers; synchronous=FULL so a commit survives a crash.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            # pysqlite must not issue its own deferred BEGIN; the "begin" hook below does.
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # A writing transaction takes the write lock up front (BEGIN IMMEDIATE), so two
            # writers queue on busy_timeout instead of failing on a read-to-write upgrade. A read
            # begins deferred: under WAL it runs beside an open writer instead of queueing.
            write = conn.get_execution_options().get(WRITES, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _refuse_flush(session: Session, *_: Any) -> None:
    # a read-only unit of work that tries to write is a bug: fail loudly, never half-write
    raise RuntimeError("a read-only unit of work (a GET request) tried to write to the ledger")


class Ledger:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)  # reads: on SQLite a deferred BEGIN
        # Same pool; on SQLite its transactions begin IMMEDIATE (the write lock up front).
        self.write_engine = self.engine.execution_options(**{WRITES: True})
        # Read-only sessions: never commit or flush changes through these (use unit_of_work).
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self.write_engine, expire_on_commit=False)

    @contextmanager
    def unit_of_work(self, *, read_only: bool = False) -> Iterator[Session]:
        """One writing transaction: commit on success, roll back on any error. `read_only`
        begins it deferred (SQLite): for requests that only read, so they never queue behind
        a bill run's open write transaction."""
        session = self.sessions() if read_only else self._write_sessions()
        if read_only:
            event.listen(session, "before_flush", _refuse_flush)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
