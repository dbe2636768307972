"""One-off purchases (hardware, set-up fees): rated now, billed on the customer's next invoice."""

from __future__ import annotations

from decimal import localcontext

from sqlalchemy import select
from sqlalchemy.orm import Session

from meterly.accounts import audit
from meterly.accounts.models import Account
from meterly.accounts.scope import Principal, account_in_scope, in_subtree
from meterly.catalog.models import Product
from meterly.catalog.preview import plain, precise, trimmed
from meterly.catalog.service import find_price, nearest
from meterly.catalog.validation import validate_price
from meterly.errors import NotFound
from meterly.pricing.currency import round_money
from meterly.pricing.models import TRANSACTION_MODELS, dump_price
from meterly.pricing.precision import CONTEXT
from meterly.pricing.rating import compile_price
from meterly.subscriptions.models import OneOffPurchase
from meterly.subscriptions.schemas import PurchaseIn, PurchaseOut
from meterly.subscriptions.service import aware, bad, decimal_in, find_subscription


def purchase_out(p: OneOffPurchase, customer: str) -> PurchaseOut:
    return PurchaseOut(
        id=p.id, customer=customer, subscription=p.subscription_id, product=p.product,
        description=p.description, quantity=trimmed(p.quantity), currency=p.currency,
        precise_amount=precise(p.precise_amount),
        amount=plain(round_money(p.amount, p.currency)),
        purchased_at=p.purchased_at, billed_invoice_id=p.billed_invoice_id,
    )  # fmt: skip


def create_purchase(session: Session, principal: Principal, body: PurchaseIn) -> PurchaseOut:
    customer = account_in_scope(session, principal, body.customer)
    seller_id = customer.parent_id or customer.id
    if body.subscription is not None:
        sub = find_subscription(session, principal, body.subscription)
        if sub.customer_id != customer.id:
            raise bad("subscription", f"subscription {sub.id} is not '{customer.external_id}''s")
        seller_id = sub.seller_id
    sellers = [seller_id, *reversed(customer.ancestor_ids)]
    try:
        product = nearest(session, Product, sellers, body.product, "product")
    except NotFound as exc:
        raise bad("product", exc.message) from None
    if (body.price is None) == (body.price_key is None):
        raise bad("price", "give either price (a definition) or price_key")
    if body.price_key is not None:
        try:
            data = dict(find_price(session, principal, body.price_key).definition)
        except NotFound as exc:
            raise bad("price_key", exc.message) from None
    else:
        data = {"product": product.key, **(body.price or {})}
    price = validate_price(data, prefix="price")
    if price.model in TRANSACTION_MODELS:
        raise bad("price.model", "a purchase is priced flat or by quantity")
    quantity = decimal_in(body.quantity, "quantity", positive=True)
    rater = compile_price(price)
    if rater.kind == "none":  # a flat price is per item
        one = rater.rate()
        with localcontext(CONTEXT):  # the ambient 28 digits could round a large product
            exact = one.precise_amount * quantity
        amount = rater.round(exact)
    else:
        rating = rater.rate(quantity=quantity)
        exact, amount = rating.precise_amount, rating.amount
    purchase = OneOffPurchase(
        seller_id=seller_id, customer_id=customer.id, subscription_id=body.subscription,
        product=product.key, description=body.description or product.name, quantity=quantity,
        currency=price.currency, price=dump_price(price), precise_amount=exact, amount=amount,
        purchased_at=aware(body.purchased_at, "purchased_at"),
    )  # fmt: skip
    session.add(purchase)
    session.flush()
    audit.record(session, principal, "purchase.created", "purchase", str(purchase.id), customer.id)
    return purchase_out(purchase, customer.external_id)


def list_purchases(
    session: Session, principal: Principal, customer: str | None = None, unbilled: bool = False
) -> list[PurchaseOut]:
    stmt = (
        select(OneOffPurchase, Account.external_id)
        .join(Account, Account.id == OneOffPurchase.customer_id)
        .where(in_subtree(principal))
    )
    if customer:
        stmt = stmt.where(
            OneOffPurchase.customer_id == account_in_scope(session, principal, customer).id
        )
    if unbilled:
        stmt = stmt.where(OneOffPurchase.billed_invoice_id.is_(None))
    rows = session.execute(stmt.order_by(OneOffPurchase.id))
    return [purchase_out(p, ext) for p, ext in rows]
