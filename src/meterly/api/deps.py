"""Request dependencies: the runtime, the authenticated principal, a unit of work."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from meterly.accounts.keys import find_key, hash_secret
from meterly.accounts.scope import Principal, principal_for
from meterly.errors import Unauthorized
from meterly.runtime import Runtime

_KEY_CACHE_TTL_S = 5.0  # bounds how long a revoked key may still work on a busy process
# Least recently used first. Bounded so that many keys (or a long-lived process) cannot grow it
# without limit; only keys the ledger accepted are ever stored, so sprayed keys add nothing.
_KEY_CACHE_MAX = 4096
_key_cache: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
_key_lock = threading.Lock()
_clock = time.monotonic  # a seam for tests


def _cached(digest: str, now: float) -> Principal | None:
    with _key_lock:
        hit = _key_cache.get(digest)
        if hit is None:
            return None
        if now - hit[0] >= _KEY_CACHE_TTL_S:
            del _key_cache[digest]
            return None
        _key_cache.move_to_end(digest)
        return hit[1]


def _remember(digest: str, now: float, principal: Principal) -> None:
    with _key_lock:
        _key_cache[digest] = (now, principal)
        _key_cache.move_to_end(digest)
        while len(_key_cache) > _KEY_CACHE_MAX:
            _key_cache.popitem(last=False)


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def authenticate(runtime: Runtime, authorization: str | None) -> Principal:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
    secret = authorization[7:].strip()
    digest = hash_secret(secret)
    now = _clock()
    if (cached := _cached(digest, now)) is not None:
        return cached
    with runtime.ledger.sessions() as s:
        found = find_key(s, secret)
        if found is None:
            raise Unauthorized("invalid or revoked API key")
        key, account = found
        principal = principal_for(account, key.id)
    _remember(digest, now, principal)
    return principal


def get_principal(request: Request, runtime: RuntimeDep) -> Principal:
    return authenticate(runtime, request.headers.get("authorization"))


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_session(request: Request, runtime: RuntimeDep) -> Iterator[Session]:
    """A request's unit of work: committed when the endpoint returns, rolled back on error.
    GET and HEAD only read (HTTP semantics; the portal and every /v1 GET hold to it), so on
    SQLite they begin deferred and run beside an open writer."""
    reading = request.method in ("GET", "HEAD")
    with runtime.ledger.unit_of_work(read_only=reading) as session:
        yield session


# scope="function": the commit runs when the endpoint returns, before the response is sent, so
# a client never gets a 2xx for a write that did not commit (and sees its write on its next call)
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
