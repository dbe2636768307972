"""The portal page's view model, built from the ledger and the event store for one customer.

White label: the brand is the customer's own seller (its parent account: the reseller for a
reseller's customer), and nothing here reads above that seller, so no upstream name can reach
the page. Drafts stay hidden: during the grace period the seller may still correct them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from meterly.accounts.models import Account
from meterly.accounts.scope import principal_for
from meterly.billing.draft import profile_of
from meterly.billing.finalize import customer_details, seller_details
from meterly.billing.models import Invoice
from meterly.billing.money import credits_service
from meterly.billing.money.models import CreditNote
from meterly.documents import format as fmt
from meterly.documents.context import brand
from meterly.documents.model import Brand
from meterly.errors import InvalidInput
from meterly.plans.models import Plan, PlanVersion
from meterly.storage.events.base import EventStore
from meterly.subscriptions.schemas import UpcomingOut
from meterly.subscriptions.service import list_subscriptions
from meterly.subscriptions.upcoming import upcoming

HISTORY = 36  # invoices and credit notes shown: three years of monthly bills
_STATUS = {"finalized": "Open", "paid": "Paid", "void": "Void", "overdue": "Overdue"}


@dataclass(frozen=True, slots=True)
class SubscriptionRow:
    plan: str
    status: str
    quantity: str
    period: str | None


@dataclass(frozen=True, slots=True)
class UsageRow:
    description: str
    quantity: str
    amount: str


@dataclass(frozen=True, slots=True)
class Upcoming:
    period: str | None
    rows: list[UsageRow]
    subtotal: str


@dataclass(frozen=True, slots=True)
class DocumentRow:
    id: int
    number: str
    date: str
    period: str
    status: str
    total: str
    amount_due: str | None
    due: str | None


@dataclass(frozen=True, slots=True)
class PortalPage:
    brand: Brand
    customer_name: str
    customer: str
    subscriptions: list[SubscriptionRow]
    upcoming: list[Upcoming]
    invoices: list[DocumentRow]
    credit_notes: list[DocumentRow]
    credit_balance: str | None
    open_total: str | None


def seller_brand(session: Session, customer: Account) -> Brand:
    assert customer.parent_id is not None  # service.create_session refuses the provider
    seller = session.get(Account, customer.parent_id)
    assert seller is not None
    return brand(seller_details(seller, profile_of(session, seller.id)))


def _subscriptions(session: Session, customer: Account) -> list[SubscriptionRow]:
    subs = [
        s
        for s in list_subscriptions(session, principal_for(customer), customer=customer.external_id)
        if s.customer == customer.external_id and s.status != "canceled"
    ]
    # every plan version's display name, in one query (a customer's seller sold them all)
    names = {
        (seller, key, version): name
        for seller, key, version, name in session.execute(
            select(Account.external_id, Plan.key, PlanVersion.version, PlanVersion.name)
            .join(Plan, Plan.id == PlanVersion.plan_id)
            .join(Account, Account.id == Plan.seller_id)
            .where(Plan.key.in_({s.plan for s in subs}))
            .where(Account.external_id.in_({s.seller for s in subs}))
        )
    }
    rows = []
    for s in subs:
        period = (
            fmt.period_label(s.current_period_start, s.current_period_end, customer.timezone)
            if s.current_period_start and s.current_period_end
            else None
        )
        name = names.get((s.seller, s.plan, s.version)) or s.plan
        rows.append(SubscriptionRow(name, s.status.capitalize(), s.quantity, period))
    return rows


def _upcoming_out(
    session: Session, store: EventStore, customer: Account, now: datetime
) -> list[UpcomingOut]:
    principal = principal_for(customer)
    try:
        return [upcoming(session, store, principal, customer.external_id, now=now)]
    except InvalidInput:  # subscriptions in several currencies: one estimate per subscription
        subs = list_subscriptions(session, principal, customer=customer.external_id)
        return [
            upcoming(session, store, principal, customer.external_id, s.id, now=now)
            for s in subs
            if s.status != "canceled"
        ]


def _upcoming(
    session: Session, store: EventStore, customer: Account, now: datetime
) -> list[Upcoming]:
    out = []
    for u in _upcoming_out(session, store, customer, now):
        if not u.lines:
            continue
        period = (
            fmt.period_label(u.period_start, u.period_end, customer.timezone)
            if u.period_start and u.period_end
            else None
        )
        rows = [
            UsageRow(
                ln.description,
                fmt.quantity(Decimal(ln.quantity)),
                fmt.money(Decimal(ln.amount), u.currency),
            )
            for ln in u.lines
        ]
        out.append(Upcoming(period, rows, fmt.money(Decimal(u.subtotal), u.currency)))
    return out


def _row(
    doc_id: int, number: str, issued: datetime, span: tuple[datetime, datetime], status: str,
    total: str, tz: str, amount_due: str | None = None, due_at: datetime | None = None,
) -> DocumentRow:  # fmt: skip
    return DocumentRow(
        id=doc_id, number=number, date=fmt.long_date(fmt.local_date(issued, tz)),
        period=fmt.period_label(span[0], span[1], tz), status=status, total=total,
        amount_due=amount_due, due=fmt.long_date(fmt.local_date(due_at, tz)) if due_at else None,
    )  # fmt: skip


def _invoices(session: Session, customer: Account) -> list[DocumentRow]:
    invoices = session.scalars(
        select(Invoice)
        .where(Invoice.customer_id == customer.id, Invoice.status != "draft")
        .order_by(Invoice.id.desc())
        .limit(HISTORY)
    )
    rows = []
    for inv in invoices:
        open_ = inv.status in ("finalized", "overdue")
        rows.append(
            _row(inv.id, inv.number or "", inv.issued_at or inv.created_at,
                 (inv.period_start, inv.period_end),
                 _STATUS.get(inv.status, inv.status.capitalize()),
                 fmt.money(inv.total, inv.currency), customer.timezone,
                 amount_due=fmt.money(inv.amount_due, inv.currency) if open_ else None,
                 due_at=inv.due_at)
        )  # fmt: skip
    return rows


def _credit_notes(session: Session, customer: Account) -> list[DocumentRow]:
    """Each note with the period of the invoice it credits (one joined query)."""
    notes = session.execute(
        select(CreditNote, Invoice.period_start, Invoice.period_end)
        .join(Invoice, Invoice.id == CreditNote.invoice_id)
        .where(CreditNote.customer_id == customer.id)
        .order_by(CreditNote.id.desc())
        .limit(HISTORY)
    )
    rows = []
    for cn, start, end in notes:
        rows.append(
            _row(cn.id, cn.number, cn.issued_at, (start, end), cn.outcome.capitalize(),
                 fmt.money(cn.total, cn.currency), customer.timezone)
        )  # fmt: skip
    return rows


def _open_total(session: Session, customer: Account) -> str | None:
    """What the customer owes now, when it owes in one currency (the usual case)."""
    due: dict[str, Decimal] = {}
    for currency, amount in session.execute(
        select(Invoice.currency, Invoice.amount_due).where(
            Invoice.customer_id == customer.id, Invoice.status.in_(("finalized", "overdue"))
        )
    ):
        due[currency] = due.get(currency, Decimal(0)) + amount
    if len(due) != 1:
        return None
    ((currency, amount),) = due.items()
    return fmt.money(amount, currency)


def build(session: Session, store: EventStore, customer: Account, now: datetime) -> PortalPage:
    balance = credits_service.balance(session, customer.id, customer.currency, now)
    return PortalPage(
        brand=seller_brand(session, customer),
        customer_name=str(customer_details(session, customer)["name"]),
        customer=customer.external_id,
        subscriptions=_subscriptions(session, customer),
        upcoming=_upcoming(session, store, customer, now),
        invoices=_invoices(session, customer),
        credit_notes=_credit_notes(session, customer),
        credit_balance=fmt.money(balance, customer.currency) if balance > 0 else None,
        open_total=_open_total(session, customer),
    )
