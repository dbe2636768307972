"""Shared fixtures: real SQLite/PostgreSQL ledgers, a real DuckDB event store, the real app."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from meterly.accounts.keys import create_key
from meterly.accounts.scope import account_in_scope
from meterly.app import create_app
from meterly.cli_support import operator
from meterly.config import Settings
from meterly.runtime import Runtime

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


@dataclass
class Env:
    client: TestClient
    runtime: Runtime
    root_key: str

    def key_for(self, external_id: str, name: str = "test") -> str:
        with self.runtime.ledger.unit_of_work() as s:
            account = account_in_scope(s, operator(self.runtime), external_id)
            _, secret = create_key(s, account, name)
        return secret

    def h(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.root_key}"}

    def post(self, path: str, json: Any = None, key: str | None = None, **kw: Any) -> Any:
        return self.client.post(
            path, json=json, headers={**self.h(key), **kw.pop("headers", {})}, **kw
        )

    def get(self, path: str, key: str | None = None, **kw: Any) -> Any:
        return self.client.get(path, headers=self.h(key), **kw)

    def patch(self, path: str, json: Any = None, key: str | None = None) -> Any:
        return self.client.patch(path, json=json, headers=self.h(key))

    def account(self, external_id: str, key: str | None = None, **fields: Any) -> dict[str, Any]:
        body = {"external_id": external_id, "name": fields.pop("name", external_id), **fields}
        r = self.post("/v1/accounts", body, key=key)
        assert r.status_code == 201, r.text
        return dict(r.json())


@pytest.fixture
def env(runtime: Runtime) -> Iterator[Env]:
    app = create_app(runtime=runtime)
    with TestClient(app) as client:
        e = Env(client, runtime, "")
        e.root_key = e.key_for("skyline", "root")
        yield e
