"""Portal sessions: a seller (or the customer itself) asks for a link; the link opens the
customer's portal until it expires. Only the token's hash is stored, so a leaked ledger does
not leak working links. A token that is unknown, expired or revoked is indistinguishable from
one that never existed (404), like every out-of-scope object."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from meterly.accounts import audit
from meterly.accounts.keys import hash_secret
from meterly.accounts.models import Account
from meterly.accounts.scope import Principal, account_in_scope
from meterly.errors import InvalidInput, NotFound
from meterly.portal.models import PortalSession

TOKEN_PREFIX = "mpt_"
DEFAULT_TTL_MINUTES = 60
MAX_TTL_MINUTES = 7 * 24 * 60  # a week: a link in an e-mail must not work forever


@dataclass(frozen=True, slots=True)
class Link:
    id: int
    customer: str
    token: str
    path: str
    expires_at: datetime


def create_session(
    session: Session, principal: Principal, customer: str, ttl_minutes: int, now: datetime
) -> Link:
    if not 1 <= ttl_minutes <= MAX_TTL_MINUTES:
        raise InvalidInput(
            f"ttl_minutes must be between 1 and {MAX_TTL_MINUTES}",
            [{"field": "ttl_minutes", "message": f"1 to {MAX_TTL_MINUTES}"}],
        )
    account = account_in_scope(session, principal, customer)
    if account.parent_id is None:
        raise InvalidInput(
            "the provider buys from nobody: portals are for customers and resellers",
            [{"field": "customer", "message": "not the provider account"}],
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = PortalSession(
        token_hash=hash_secret(token), customer_id=account.id, created_by_key_id=principal.key_id,
        created_at=now, expires_at=now + timedelta(minutes=ttl_minutes),
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(session, principal, "portal_session.create", "portal_session", str(row.id),
                 owner_account_id=account.id, customer=account.external_id,
                 expires_at=row.expires_at.isoformat())  # fmt: skip
    return Link(row.id, account.external_id, token, f"/portal/{token}", row.expires_at)


def revoke_sessions(session: Session, principal: Principal, customer: str, now: datetime) -> int:
    """End every open link of the customer (e.g. a staff member left); returns how many."""
    account = account_in_scope(session, principal, customer)
    result = session.execute(
        update(PortalSession)
        .where(
            PortalSession.customer_id == account.id,
            PortalSession.revoked_at.is_(None),
            PortalSession.expires_at > now,
        )
        .values(revoked_at=now)
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    audit.record(session, principal, "portal_session.revoke", "account", account.external_id,
                 owner_account_id=account.id, revoked=count)  # fmt: skip
    return count


def resolve(session: Session, token: str, now: datetime) -> tuple[Account, PortalSession]:
    """The customer a live token opens, and its session; NotFound otherwise (never saying
    which case)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        raise NotFound("portal link not found or expired")
    row = session.scalar(
        select(PortalSession).where(PortalSession.token_hash == hash_secret(token))
    )
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise NotFound("portal link not found or expired")
    account = session.get(Account, row.customer_id)
    if account is None:
        raise NotFound("portal link not found or expired")
    return account, row


def link_url(base: str, path: str) -> str:
    """The link's full URL on `base` (METERLY_PUBLIC_URL, or the URL the request came to)."""
    return base.rstrip("/") + path
