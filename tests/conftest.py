"""Shared fixtures: real SQLite/PostgreSQL ledgers, a real DuckDB event store, the real app."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from meterly.app import create_app
from meterly.config import Settings
from meterly.runtime import Runtime
from support import Env

PG_URL = os.environ.get("METERLY_TEST_POSTGRES_URL")


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    if not PG_URL:
        pytest.skip("METERLY_TEST_POSTGRES_URL not set (.ci/run sets it)")
    name = f"mtest_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_database")
        return url
    return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"


@pytest.fixture
def settings(tmp_path: Path, ledger_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", ledger_url=ledger_url, provider_id="skyline")


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime.open(settings)
    try:
        yield rt
    finally:
        rt.close()


@pytest.fixture
def env(runtime: Runtime) -> Iterator[Env]:
    app = create_app(runtime=runtime)
    with TestClient(app) as client:
        e = Env(client, runtime, "")
        e.root_key = e.key_for("skyline", "root")
        yield e
