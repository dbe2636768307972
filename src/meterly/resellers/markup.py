"""Mark a price definition up by a percentage, exactly. Pure: no I/O, no SQLAlchemy.

Only money moves. Quantities (tier bounds, block and package sizes, free units, seconds and
increments), percentage rates and transaction-volume allowances (`free_amount`) are kept: a
rate is already proportional to what the customer spends, and an allowance is a volume, not a
fee. Results keep full precision (0.021 x 1.35 = 0.02835): a fee is rounded once, on the
invoice line, never in the catalog.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow
from typing import Any, Final

from meterly.pricing.models import dump_price, parse_price

# Wide enough that any product of two stored amounts is exact; Inexact trapped so a result
# that is not exact raises instead of being silently rounded.
_EXACT: Final = Context(prec=120, traps=[Inexact, InvalidOperation, Overflow])

COMMON_MONEY: Final = ("minimum_amount", "maximum_amount")
MONEY_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "flat": ("amount",),
    "per_unit": ("unit_amount",),
    "graduated": (),
    "volume": (),
    "package": ("package_amount",),
    "percentage": ("fixed_amount", "min_per_transaction", "max_per_transaction"),
    "graduated_percentage": (),
    "increments": ("unit_amount", "connect_fee", "min_per_call", "max_per_call"),
}
TIER_MONEY: Final[dict[str, tuple[str, ...]]] = {
    "graduated": ("unit_amount", "flat_amount", "block_amount"),
    "volume": ("unit_amount", "flat_amount", "block_amount"),
    "graduated_percentage": ("flat_amount",),  # the band's rate is kept
}
GROUP_MONEY: Final = ("unit_amount",)


def factor(percent: Decimal) -> Decimal:
    """1 + percent/100, exactly (scaleb shifts the exponent; no division happens)."""
    return _EXACT.add(Decimal(1), percent.scaleb(-2))


def scale(amount: Decimal, by: Decimal) -> Decimal:
    """amount x by, exactly, without the factor's own trailing zeros: 10 x 1.00 is 10, not
    10.00, and 0.02 x 1.35 is 0.027 — but never fewer decimals than the amount had."""
    product = _EXACT.multiply(amount, by)
    reduced = _EXACT.normalize(product).as_tuple().exponent
    own = amount.as_tuple().exponent
    assert isinstance(reduced, int) and isinstance(own, int)  # finite numbers only
    return _EXACT.quantize(product, Decimal(1).scaleb(min(reduced, own)))


def _scale_fields(data: dict[str, Any], names: tuple[str, ...], by: Decimal) -> None:
    for name in names:
        value = data.get(name)
        if value is not None:
            data[name] = format(scale(Decimal(str(value)), by), "f")


def markup_price(definition: Mapping[str, Any], percent: Decimal) -> dict[str, Any]:
    """The definition with every money amount multiplied by (1 + percent/100).

    The input is validated first and the result re-validated through `parse_price`, so what
    comes out is a price the catalog accepts as is. Raises pydantic.ValidationError when the
    input is not a valid price, ValueError for a negative markup.
    """
    if percent < 0:
        raise ValueError("markup must not be negative")
    by = factor(percent)
    data = dump_price(parse_price(definition))  # canonical JSON form: amounts as strings
    model = str(data["model"])
    _scale_fields(data, COMMON_MONEY + MONEY_FIELDS[model], by)
    if model in TIER_MONEY:
        data["tiers"] = [dict(t) for t in data["tiers"]]
        for tier in data["tiers"]:
            _scale_fields(tier, TIER_MONEY[model], by)
    if data.get("groups"):
        data["groups"] = [dict(g) for g in data["groups"]]
        for group in data["groups"]:
            _scale_fields(group, GROUP_MONEY, by)
    return dump_price(parse_price(data))
