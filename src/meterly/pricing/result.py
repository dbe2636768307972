"""What rating returns: a total kept precise, rounded once, with an informational breakdown."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class RatingLine:
    """One line of the breakdown. ``amount`` is ``precise_amount`` rounded, for display only."""

    description: str
    quantity: Decimal
    unit_amount: Decimal | None
    precise_amount: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Rating:
    """The price of one period's usage.

    ``amount`` is ``precise_amount`` rounded once to the currency's minor unit; it is *not* the sum
    of the lines' rounded amounts (those are informational).
    """

    currency: str
    precise_amount: Decimal
    amount: Decimal
    lines: list[RatingLine]


# An engine's line before rounding: (description, quantity, unit_amount, precise_amount).
LineDraft = tuple[str, Decimal, Decimal | None, Decimal]


class RatingInputError(ValueError):
    """The usage handed to rating does not fit the price (wrong kind, negative, missing)."""
