"""Test helpers shared by every suite (imported as `support`; pytest's pythonpath has tests/)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from meterly.accounts.keys import create_key
from meterly.accounts.scope import account_in_scope
from meterly.cli_support import operator
from meterly.runtime import Runtime


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
