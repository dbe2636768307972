"""Accounts use cases: create and read accounts within the caller's subtree."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from meterly.accounts import audit
from meterly.accounts.models import Account, AccountAlias
from meterly.accounts.schemas import AccountCreate, AccountOut
from meterly.accounts.scope import Principal, account_in_scope, in_subtree
from meterly.errors import Conflict, InvalidInput


def to_out(account: Account, parent_external_id: str | None) -> AccountOut:
    return AccountOut(
        external_id=account.external_id,
        name=account.name,
        kind=account.kind,
        parent=parent_external_id,
        currency=account.currency,
        timezone=account.timezone,
        subject_aliases=sorted(a.alias for a in account.aliases),
        created_at=account.created_at,
    )


def _parent_external_id(session: Session, account: Account) -> str | None:
    if account.parent_id is None:
        return None
    parent = session.get(Account, account.parent_id)
    return parent.external_id if parent else None


def create_account(session: Session, principal: Principal, body: AccountCreate) -> AccountOut:
    parent = account_in_scope(session, principal, body.parent or principal.external_id)
    if parent.kind == "customer":
        raise InvalidInput(
            "a customer cannot have accounts below it",
            [{"field": "parent", "message": "choose a provider or reseller account"}],
        )
    taken = set(body.subject_aliases) | {body.external_id}
    clash = session.scalar(select(Account.external_id).where(Account.external_id.in_(taken)))
    clash = clash or session.scalar(select(AccountAlias.alias).where(AccountAlias.alias.in_(taken)))
    if clash:
        raise Conflict(
            f"'{clash}' is already an account id or subject alias; pick another",
            [{"field": "external_id", "message": "taken"}],
        )
    account = Account(
        external_id=body.external_id,
        name=body.name,
        kind=body.kind,
        parent_id=parent.id,
        path="",
        currency=body.currency,
        timezone=body.timezone,
    )
    account.aliases = [AccountAlias(alias=a) for a in body.subject_aliases]
    session.add(account)
    session.flush()
    account.path = f"{parent.path}{account.id}/"
    # owned by the parent: the new account must not see who upstream created it
    audit.record(session, principal, "account.created", "account", account.external_id, parent.id)
    return to_out(account, parent.external_id)


def get_account(session: Session, principal: Principal, external_id: str) -> AccountOut:
    account = account_in_scope(session, principal, external_id)
    return to_out(account, _parent_external_id(session, account))


def list_accounts(
    session: Session,
    principal: Principal,
    *,
    kind: str | None = None,
    parent: str | None = None,
    limit: int = 100,
    after: str | None = None,
) -> tuple[list[AccountOut], str | None]:
    stmt = select(Account).where(in_subtree(principal)).order_by(Account.external_id)
    if kind:
        stmt = stmt.where(Account.kind == kind)
    if parent:
        stmt = stmt.where(Account.parent_id == account_in_scope(session, principal, parent).id)
    if after:
        stmt = stmt.where(Account.external_id > after)
    rows = list(session.scalars(stmt.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    parents = {
        a.id: a.external_id
        for a in session.scalars(
            select(Account).where(Account.id.in_({r.parent_id for r in rows if r.parent_id}))
        )
    }
    out = [to_out(r, parents.get(r.parent_id) if r.parent_id else None) for r in rows]
    return out, (rows[-1].external_id if more and rows else None)
