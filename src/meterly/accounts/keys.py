"""API keys: random secrets shown once, stored as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from meterly.accounts.models import Account, ApiKey

PREFIX = "mk_"


def hash_secret(secret: str) -> str:
    # A fast hash is right here: the secret has 256 bits of entropy, so no stretching is needed.
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(session: Session, account: Account, name: str) -> tuple[ApiKey, str]:
    secret = PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        account_id=account.id, name=name, prefix=secret[:10], secret_hash=hash_secret(secret)
    )
    session.add(key)
    session.flush()
    return key, secret


def find_key(session: Session, secret: str) -> tuple[ApiKey, Account] | None:
    row = session.execute(
        select(ApiKey, Account)
        .join(Account, Account.id == ApiKey.account_id)
        .where(ApiKey.secret_hash == hash_secret(secret), ApiKey.revoked_at.is_(None))
    ).first()
    return (row[0], row[1]) if row else None
