"""Quote a price for a quantity or transactions, with no side effects."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from meterly.catalog.schemas import PreviewIn, PreviewLine, PreviewOut
from meterly.catalog.validation import validate_price
from meterly.errors import InvalidInput
from meterly.pricing.models import TRANSACTION_MODELS
from meterly.pricing.rating import compile_price
from meterly.pricing.result import Rating, RatingInputError

_PRECISE = Decimal(1).scaleb(-12)


def plain(value: Decimal) -> str:
    """A decimal in plain notation, as given (no exponent): '0.0000001', '49.00'."""
    return format(value, "f")


def precise(value: Decimal) -> str:
    """At least 12 decimal places (the issue's contract for precise amounts), more if needed."""
    if value.as_tuple().exponent > -12:  # type: ignore[operator]
        value = value.quantize(_PRECISE)
    return format(value, "f")


def trimmed(value: Decimal) -> str:
    """Exact without trailing zeros: a quantity '100.5', not '100.500000000000'."""
    return format(value.normalize(), "f") if value else "0"


def to_decimal(value: str, field: str) -> Decimal:
    try:
        out = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidInput(
            f"{field}: {value!r} is not a decimal number",
            [{"field": field, "message": "not a decimal number"}],
        ) from None
    if not out.is_finite():
        raise InvalidInput(f"{field}: must be finite", [{"field": field, "message": "not finite"}])
    return out


def rating_out(rating: Rating) -> PreviewOut:
    return PreviewOut(
        currency=rating.currency,
        amount=plain(rating.amount),
        precise_amount=precise(rating.precise_amount),
        lines=[
            PreviewLine(
                description=line.description,
                quantity=trimmed(line.quantity),
                unit_amount=plain(line.unit_amount) if line.unit_amount is not None else None,
                precise_amount=precise(line.precise_amount),
                amount=plain(line.amount),
            )
            for line in rating.lines
        ],
    )


def preview(body: PreviewIn) -> PreviewOut:
    price = validate_price(body.price, prefix="price")
    quantity = to_decimal(body.quantity, "quantity") if body.quantity is not None else None
    transactions = (
        [to_decimal(t, f"transactions.{i}") for i, t in enumerate(body.transactions)]
        if body.transactions is not None
        else None
    )
    if price.model == "flat":
        quantity, transactions = None, None  # a flat price ignores usage
    elif price.model not in TRANSACTION_MODELS and quantity is None and transactions is None:
        quantity = Decimal(0)
    elif price.model in TRANSACTION_MODELS and transactions is None and quantity is None:
        transactions = []
    field = "transactions" if transactions is not None else "quantity"
    try:
        return rating_out(compile_price(price).rate(quantity, transactions))
    except RatingInputError as exc:
        raise InvalidInput(str(exc), [{"field": field, "message": str(exc)}]) from None
