"""Which sellers' catalogs a caller reads and writes, built on accounts/scope.py.

A provider or reseller key reads its own catalog and its ancestors' (what it may resell), and may
name a seller in its subtree explicitly; a customer key reads its seller's (its parent's). Writes
always go to a provider's or reseller's own catalog — or, for an ancestor acting on its behalf,
to a seller in its subtree.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from meterly.accounts.models import Account
from meterly.accounts.scope import Principal, account_in_scope
from meterly.errors import Forbidden, NotFound


def readable_sellers(
    session: Session, principal: Principal, seller: str | None = None
) -> list[int]:
    """Seller ids whose catalog the caller reads, nearest first (own, then ancestors)."""
    if seller is not None:
        account = _named_seller(session, principal, seller)
        return [account.id]
    ids = list(reversed(principal.ancestor_ids))
    if principal.kind == "customer":
        return ids[1:2]  # the customer's seller: its parent
    return ids


def _named_seller(session: Session, principal: Principal, external_id: str) -> Account:
    account = session.scalar(select(Account).where(Account.external_id == external_id))
    visible = account is not None and (
        principal.covers(account.path) or account.id in principal.ancestor_ids
    )
    if account is None or not visible or account.kind == "customer":
        raise NotFound(f"seller '{external_id}' not found")
    return account


def writable_seller(session: Session, principal: Principal, seller: str | None = None) -> Account:
    """The seller a write goes to: the caller's own account, or a seller in its subtree."""
    if principal.kind == "customer":
        raise Forbidden("a customer key cannot change a catalog; use its seller's key")
    account = account_in_scope(session, principal, seller or principal.external_id)
    if account.kind == "customer":
        raise NotFound(f"seller '{account.external_id}' not found")
    return account


def external_ids(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Account.id, Account.external_id).where(Account.id.in_(ids)))
    return {i: e for i, e in rows}
