"""The API-key cache in front of the ledger: bounded, never fed by invalid keys, and a revoked key
stops working once its cached entry is older than the TTL."""

from __future__ import annotations

import secrets
from collections import OrderedDict

import pytest
from sqlalchemy import update

from meterly.accounts.keys import hash_secret
from meterly.accounts.models import ApiKey
from meterly.api import deps
from meterly.storage.ledger import utcnow
from support import Env


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(deps, "_clock", c)
    monkeypatch.setattr(deps, "_key_cache", OrderedDict())
    monkeypatch.setattr(deps, "_KEY_CACHE_MAX", 8)
    return c


def status(env: Env, key: str) -> int:
    code: int = env.get("/v1/meters", key=key).status_code
    return code


def test_sprayed_keys_never_grow_the_cache(env: Env, clock: Clock) -> None:
    for _ in range(50):
        assert status(env, "mk_" + secrets.token_urlsafe(32)) == 401
    assert len(deps._key_cache) == 0
    keys = [env.key_for("skyline", f"k{i}") for i in range(20)]
    for key in keys:
        assert status(env, key) == 200
        assert len(deps._key_cache) <= 8
    assert len(deps._key_cache) == 8
    # evicted keys still work (read again from the ledger), kept ones are served from the cache
    assert list(deps._key_cache) == [hash_secret(k) for k in keys[-8:]]
    for key in keys:
        assert status(env, key) == 200
    for _ in range(50):
        assert status(env, "mk_" + secrets.token_urlsafe(32)) == 401
    assert list(deps._key_cache) == [hash_secret(k) for k in keys[-8:]]


def test_revoked_key_stops_within_the_ttl(env: Env, clock: Clock) -> None:
    key = env.key_for("skyline", "soon-revoked")
    assert status(env, key) == 200
    with env.runtime.ledger.unit_of_work() as s:
        s.execute(
            update(ApiKey).where(ApiKey.secret_hash == hash_secret(key)).values(revoked_at=utcnow())
        )
    clock.now += deps._KEY_CACHE_TTL_S / 2
    assert status(env, key) == 200  # still cached: the TTL is the bound on revocation delay
    clock.now += deps._KEY_CACHE_TTL_S / 2
    assert status(env, key) == 401
    assert hash_secret(key) not in deps._key_cache
