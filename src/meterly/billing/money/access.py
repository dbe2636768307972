"""Who may touch what. Reads follow the usual subtree rule (a customer key sees its own credits
and invoices); writes that move money — grants, coupons, rates, payments, credit notes — need
the caller to be the seller or above it, so a customer key can never credit itself."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from meterly.accounts.models import Account
from meterly.accounts.scope import Principal, account_in_scope, in_subtree
from meterly.billing.models import Invoice
from meterly.errors import Forbidden, InvalidInput, NotFound


def customer_for_read(session: Session, principal: Principal, external_id: str) -> Account:
    return account_in_scope(session, principal, external_id)


def customer_for_write(
    session: Session, principal: Principal, external_id: str
) -> tuple[Account, Account]:
    """(customer, seller): the seller is the customer's parent, the account that invoices it."""
    customer = account_in_scope(session, principal, external_id)
    seller = session.get(Account, customer.parent_id) if customer.parent_id else None
    if seller is None:
        raise InvalidInput(f"'{external_id}' has no seller above it")
    if not principal.covers(seller.path):
        raise Forbidden(f"only '{seller.external_id}' or an account above it may do this")
    return customer, seller


def seller_for_write(session: Session, principal: Principal, external_id: str | None) -> Account:
    seller = account_in_scope(session, principal, external_id or principal.external_id)
    if seller.kind == "customer":
        raise InvalidInput(f"'{seller.external_id}' is a customer and sells nothing")
    return seller


def invoice_for_read(session: Session, principal: Principal, invoice_id: int) -> Invoice:
    invoice = session.scalar(
        select(Invoice)
        .join(Account, Account.id == Invoice.customer_id)
        .where(Invoice.id == invoice_id, in_subtree(principal))
    )
    if invoice is None:
        raise NotFound(f"invoice {invoice_id} not found")
    return invoice


def invoice_for_write(session: Session, principal: Principal, invoice_id: int) -> Invoice:
    """The invoice, row-locked for the rest of the transaction (payments and credit notes
    check remaining amounts, which two concurrent requests must not both spend)."""
    invoice = session.scalar(
        select(Invoice)
        .join(Account, Account.id == Invoice.seller_id)
        .where(Invoice.id == invoice_id, in_subtree(principal))
        .with_for_update(of=Invoice)
    )
    if invoice is None:
        if session.scalar(
            select(Invoice.id)
            .join(Account, Account.id == Invoice.customer_id)
            .where(Invoice.id == invoice_id, in_subtree(principal))
        ):
            raise Forbidden(f"only the seller of invoice {invoice_id} may do this")
        raise NotFound(f"invoice {invoice_id} not found")
    return invoice


def external_id(session: Session, account_id: int) -> str:
    account = session.get(Account, account_id)
    return account.external_id if account is not None else str(account_id)
