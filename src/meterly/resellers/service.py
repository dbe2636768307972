"""One-step reseller onboarding: account, admin key, profile, retail price book (and plans)
copied from the parent seller's template with a markup — all in the caller's one transaction.

Nothing here commits: the API request or CLI command that calls `onboard` commits once, so a
failure at any step (a clash, an invalid marked-up price) leaves nothing behind.

The copied prices and plans are created through the catalog's and plans' own use cases, acting
as the new reseller, so they are validated, resolved and audited exactly as if the reseller
had typed them: products and meters are the ancestors' own (a seller's catalog reads its
ancestors'), never copies, so usage is counted once for every tier.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from meterly.accounts import audit
from meterly.accounts.keys import create_key
from meterly.accounts.models import Account
from meterly.accounts.schemas import AccountCreate
from meterly.accounts.scope import Principal, account_in_scope, principal_for
from meterly.accounts.service import create_account
from meterly.catalog import service as catalog
from meterly.catalog.models import PriceBook, PriceRecord
from meterly.catalog.schemas import PriceBookCreate
from meterly.catalog.validation import invalid_price
from meterly.errors import InvalidInput
from meterly.plans import service as plans
from meterly.plans.models import Plan, PlanVersion
from meterly.plans.schemas import ChargeIn, EntitlementIn, PlanCreate
from meterly.resellers.markup import markup_price
from meterly.resellers.profiles import apply_patch, profile_for, to_out
from meterly.resellers.schemas import CopiedBook, KeyOut, ProfilePatch, ResellerCreate, ResellerOut

RETAIL_BOOK: Final = "retail"
# A provider sells to resellers from `wholesale`; a provider with one book has `default`; a
# reseller onboarded here has only `retail`, which is what its sub-resellers then build on.
TEMPLATE_ORDER: Final = ("wholesale", catalog.DEFAULT_BOOK, RETAIL_BOOK)


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", [{"field": field, "message": message}])


def template_book(session: Session, seller: Account, key: str | None) -> PriceBook | None:
    """The named book of the parent seller (422 when missing), else the first of
    TEMPLATE_ORDER it has, else None (a new provider may have no catalog yet)."""
    books = {
        b.key: b for b in session.scalars(select(PriceBook).where(PriceBook.seller_id == seller.id))
    }
    if key is not None:
        if key not in books:
            raise _bad("template", f"seller '{seller.external_id}' has no price book '{key}'")
        return books[key]
    return next((books[k] for k in TEMPLATE_ORDER if k in books), None)


def _marked_up(definition: dict[str, Any], markup: Decimal, field: str) -> dict[str, Any]:
    try:
        return markup_price(definition, markup)
    except ValidationError as exc:  # a stored price that no longer validates: name it
        raise invalid_price(exc, definition, field) from None


def copy_prices(session: Session, acting: Principal, book: PriceBook, markup: Decimal) -> list[str]:
    """Every active price of the template book, marked up, into the reseller's retail book
    under the same key (so the reseller's price shadows its parent's for its customers)."""
    rows = session.scalars(
        select(PriceRecord)
        .where(PriceRecord.price_book_id == book.id, PriceRecord.active.is_(True))
        .order_by(PriceRecord.id)
    )
    keys = []
    for record in list(rows):
        body = _marked_up(dict(record.definition), markup, f"prices.{record.key}")
        out = catalog.create_price(
            session, acting, {**body, "key": record.key, "price_book": RETAIL_BOOK}
        )
        keys.append(out.key)
    return keys


def copy_plans(session: Session, acting: Principal, seller: Account, markup: Decimal) -> list[str]:
    """The parent seller's plans (latest version), each charge's price marked up the same way;
    entitlements, ladders and levels as they are. Plans snapshot their prices, so the copy is
    made from the snapshot, not from the catalog."""
    rows = session.execute(
        select(Plan, PlanVersion)
        .join(
            PlanVersion,
            (PlanVersion.plan_id == Plan.id) & (PlanVersion.version == Plan.latest_version),
        )
        .where(Plan.seller_id == seller.id)
        .order_by(Plan.key)
    )
    keys = []
    for plan, pv in list(rows):
        charges = [
            ChargeIn(
                product=c["product"],
                price=_marked_up(c["price"], markup, f"plans.{plan.key}.charges.{i}.price"),
                meter=c.get("meter"),
                description=c.get("description"),
            )
            for i, c in enumerate(pv.charges)
        ]
        entitlements = [
            EntitlementIn(
                feature=e.feature, enabled=e.enabled, meter=e.meter, hard=e.hard,
                limit=None if e.limit is None else format(e.limit, "f"),
            )
            for e in plans.entitlements_of(session, pv.id)
        ]  # fmt: skip
        body = PlanCreate(
            key=plan.key, name=pv.name, currency=pv.currency, interval=pv.interval,
            ladder=plan.ladder, level=plan.level, charges=charges, entitlements=entitlements,
        )  # fmt: skip
        keys.append(plans.create_plan(session, acting, body).key)
    return keys


def onboard(session: Session, principal: Principal, body: ResellerCreate) -> ResellerOut:
    account_out = create_account(
        session,
        principal,
        AccountCreate(
            external_id=body.external_id, name=body.name, kind="reseller", parent=body.parent,
            currency=body.currency, timezone=body.timezone,
        ),
    )  # fmt: skip
    account = account_in_scope(session, principal, account_out.external_id)
    parent = session.get(Account, account.parent_id)
    assert parent is not None  # create_account just put it under a seller
    # Everything below is written as the reseller would write it, by the caller's key: the
    # reseller's own catalog reads its ancestors' products, features and meters.
    acting = principal_for(account, principal.key_id)

    branding = body.profile.model_dump(exclude_unset=True) if body.profile else {}
    branding.setdefault("display_name", body.name)
    if body.number_prefix is not None:
        branding["number_prefix"] = body.number_prefix
    apply_patch(session, principal, account, ProfilePatch(**branding))

    key, secret = create_key(session, account, body.key_name)

    catalog.create_price_book(
        session, acting, PriceBookCreate(key=RETAIL_BOOK, name="Retail price book")
    )
    template = template_book(session, parent, body.template)
    prices = copy_prices(session, acting, template, body.markup) if template else []
    plan_keys = copy_plans(session, acting, parent, body.markup) if body.copy_plans else []

    markup = format(body.markup, "f")
    audit.record(
        session, principal, "reseller.onboarded", "account", account.external_id, parent.id,
        markup=markup, template=template.key if template else None, prices=len(prices),
        plans=len(plan_keys), key_prefix=key.prefix,
    )  # fmt: skip
    return ResellerOut(
        account=account_out,
        api_key=KeyOut(name=key.name, prefix=key.prefix, secret=secret),
        profile=to_out(profile_for(session, account.id)),
        price_book=CopiedBook(
            key=RETAIL_BOOK, template_seller=parent.external_id,
            template=template.key if template else None, markup=markup, prices=prices,
            plans=plan_keys,
        ),
    )  # fmt: skip
