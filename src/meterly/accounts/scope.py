"""Tenancy in one place: every ledger read and write is scoped to the caller's subtree here.

A key sees its own account and every account below it; anything else answers 404 (never 403,
which would confirm that the object exists).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from meterly.accounts.models import Account, AccountAlias
from meterly.errors import NotFound


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an API key bound to an account (key_id None: the local operator CLI)."""

    key_id: int | None
    account_id: int
    external_id: str
    path: str
    kind: str

    @property
    def is_root(self) -> bool:
        return self.path.count("/") == 2

    def covers(self, path: str) -> bool:
        """Whether an account with this materialized path is in the caller's subtree."""
        return path.startswith(self.path)

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(p) for p in self.path.strip("/").split("/")]


def principal_for(account: Account, key_id: int | None = None) -> Principal:
    return Principal(key_id, account.id, account.external_id, account.path, account.kind)


def in_subtree(principal: Principal) -> ColumnElement[bool]:
    return Account.path.startswith(principal.path, autoescape=True)


def account_in_scope(session: Session, principal: Principal, external_id: str) -> Account:
    account = session.scalar(
        select(Account).where(Account.external_id == external_id, in_subtree(principal))
    )
    if account is None:
        raise NotFound(f"account '{external_id}' not found")
    return account


def resolve_subject(session: Session, subject: str) -> Account | None:
    """The account an event subject names: its external_id or one of its aliases."""
    account = session.scalar(select(Account).where(Account.external_id == subject))
    if account is not None:
        return account
    alias = session.get(AccountAlias, subject)
    return alias.account if alias is not None else None


def subject_names(account: Account) -> list[str]:
    return [account.external_id, *(a.alias for a in account.aliases)]
