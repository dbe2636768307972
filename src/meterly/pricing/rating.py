"""Rating: a price and one period's usage in, a precise total rounded once out.

``compile_price`` turns a validated price into a ``Rater`` (plain tuples, no pydantic) once; reuse
it for many ratings. ``rate`` is the one-shot convenience.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, localcontext
from typing import Any, Literal

from meterly.pricing.currency import quantum, rounding_constant
from meterly.pricing.models import (
    FlatPrice,
    GraduatedPercentagePrice,
    GraduatedPrice,
    IncrementsPrice,
    PackagePrice,
    PercentagePrice,
    PerUnitPrice,
    Price,
    VolumePrice,
    parse_price,
)
from meterly.pricing.precision import CONTEXT
from meterly.pricing.result import LineDraft, Rating, RatingInputError, RatingLine
from meterly.pricing.tiers import (
    FlatEngine,
    GraduatedEngine,
    PackageEngine,
    PerUnitEngine,
    VolumeEngine,
    check_quantity,
    compile_bands,
    compile_percent_bands,
)
from meterly.pricing.transactions import (
    GraduatedPercentageEngine,
    IncrementsEngine,
    PercentageEngine,
)

QuantityEngine = PerUnitEngine | PackageEngine | GraduatedEngine | VolumeEngine
TransactionEngine = PercentageEngine | GraduatedPercentageEngine | IncrementsEngine
Kind = Literal["none", "quantity", "transactions"]


class Rater:
    """A compiled price. Thread-safe: it holds only immutable values."""

    __slots__ = (
        "_quantity_engine",
        "_rounding",
        "_step",
        "_transaction_engine",
        "currency",
        "flat",
        "kind",
        "maximum",
        "minimum",
        "price",
    )

    def __init__(self, price: Price) -> None:
        self.price = price
        self.currency = price.currency
        self.minimum = price.minimum_amount
        self.maximum = price.maximum_amount
        self._step = quantum(price.currency)
        self._rounding = rounding_constant(price.rounding_mode)
        self.flat: FlatEngine | None = None
        self._quantity_engine: QuantityEngine | None = None
        self._transaction_engine: TransactionEngine | None = None
        with localcontext(CONTEXT):
            if isinstance(price, FlatPrice):
                self.flat = FlatEngine(price.amount)
            elif isinstance(price, PerUnitPrice):
                self._quantity_engine = PerUnitEngine(price.unit_amount, price.free_units)
            elif isinstance(price, PackagePrice):
                self._quantity_engine = PackageEngine(
                    price.package_size,
                    price.package_amount,
                    price.free_units,
                    price.rounding == "up",
                )
            elif isinstance(price, GraduatedPrice):
                self._quantity_engine = GraduatedEngine(compile_bands(price.tiers))
            elif isinstance(price, VolumePrice):
                self._quantity_engine = VolumeEngine(compile_bands(price.tiers))
            elif isinstance(price, PercentagePrice):
                self._transaction_engine = PercentageEngine(price)
            elif isinstance(price, GraduatedPercentagePrice):
                graduated = GraduatedEngine(compile_percent_bands(price.tiers), percent=True)
                self._transaction_engine = GraduatedPercentageEngine(graduated)
            elif isinstance(price, IncrementsPrice):
                self._transaction_engine = IncrementsEngine(price)
            else:  # pragma: no cover - the union is closed
                raise TypeError(f"not a price: {price!r}")
        self.kind: Kind = (
            "none"
            if self.flat is not None
            else "quantity"
            if self._quantity_engine is not None
            else "transactions"
        )

    @property
    def increments(self) -> IncrementsEngine:
        """The call engine of an increments price (per-call costs and billed seconds)."""
        if not isinstance(self._transaction_engine, IncrementsEngine):
            raise TypeError("not an increments price")
        return self._transaction_engine

    # --- checks -----------------------------------------------------------------------------

    def _check(self, quantity: Decimal | None, transactions: Sequence[Decimal] | None) -> None:
        model = self.price.model
        if self.kind == "quantity":
            if transactions is not None:
                raise RatingInputError(f"a {model} price rates a quantity, not transactions")
            if quantity is None:
                raise RatingInputError(f"a {model} price needs a quantity")
            check_quantity(quantity)
        elif self.kind == "transactions":
            if quantity is not None:
                raise RatingInputError(
                    f"a {model} price rates each transaction: pass transactions, not a quantity"
                )
            if transactions is None:
                raise RatingInputError(f"a {model} price needs transactions")

    # --- fast paths -------------------------------------------------------------------------

    def _subtotal(
        self, quantity: Decimal | None, transactions: Sequence[Decimal] | None
    ) -> Decimal:
        if self.flat is not None:
            return self.flat.total()
        if self._quantity_engine is not None:
            assert quantity is not None
            return self._quantity_engine.total(quantity)
        assert self._transaction_engine is not None and transactions is not None
        return self._transaction_engine.total(transactions)

    def _bound(self, subtotal: Decimal) -> Decimal:
        if self.minimum is not None and subtotal < self.minimum:
            return self.minimum
        if self.maximum is not None and subtotal > self.maximum:
            return self.maximum
        return subtotal

    def precise(
        self, quantity: Decimal | None = None, transactions: Sequence[Decimal] | None = None
    ) -> Decimal:
        """The period's precise total (minimum and maximum applied), no breakdown."""
        self._check(quantity, transactions)
        with localcontext(CONTEXT):
            return self._bound(self._subtotal(quantity, transactions))

    def amount(
        self, quantity: Decimal | None = None, transactions: Sequence[Decimal] | None = None
    ) -> Decimal:
        """The period's total rounded once to the currency's minor unit, no breakdown."""
        return self.round(self.precise(quantity, transactions))

    def amounts(self, quantities: Iterable[Decimal]) -> list[Decimal]:
        """Rounded totals of many separate quantities (one period each) in one context switch."""
        engine = self._quantity_engine
        if engine is None:
            raise RatingInputError(f"a {self.price.model} price does not rate quantities")
        step, mode, bound = self._step, self._rounding, self._bound
        total = engine.total
        out: list[Decimal] = []
        append = out.append
        with localcontext(CONTEXT):
            for quantity in quantities:
                if quantity < 0:
                    check_quantity(quantity)
                append(bound(total(quantity)).quantize(step, rounding=mode))
        return out

    def round(self, precise: Decimal) -> Decimal:
        return precise.quantize(self._step, rounding=self._rounding, context=CONTEXT)

    # --- with a breakdown -------------------------------------------------------------------

    def rate(
        self, quantity: Decimal | None = None, transactions: Sequence[Decimal] | None = None
    ) -> Rating:
        """Price one period's usage with a line per tier, band, fee and adjustment."""
        if transactions is not None and not isinstance(transactions, Sequence):
            transactions = list(transactions)  # the breakdown may read them twice
        self._check(quantity, transactions)
        with localcontext(CONTEXT):
            if self.flat is not None:
                subtotal, drafts = self.flat.lines()
            elif self._quantity_engine is not None:
                assert quantity is not None
                subtotal, drafts = self._quantity_engine.lines(quantity)
            else:
                assert self._transaction_engine is not None and transactions is not None
                subtotal, drafts = self._transaction_engine.lines(transactions)
            total = self._bound(subtotal)
            if total != subtotal:
                label = "minimum true-up" if total > subtotal else "cap"
                drafts.append((label, Decimal(1), None, total - subtotal))
            lines = [self._line(draft) for draft in drafts]
            return Rating(self.currency, total, self.round(total), lines)

    def _line(self, draft: LineDraft) -> RatingLine:
        description, quantity, unit_amount, precise = draft
        return RatingLine(description, quantity, unit_amount, precise, self.round(precise))


def compile_price(price: Price | Mapping[str, Any] | Rater) -> Rater:
    """Compile a price (a model, or a dict validated first) into a reusable ``Rater``."""
    if isinstance(price, Rater):
        return price
    if isinstance(price, Mapping):
        return Rater(parse_price(price))
    return Rater(price)


def rate(
    price: Price | Mapping[str, Any] | Rater,
    quantity: Decimal | None = None,
    transactions: Sequence[Decimal] | None = None,
) -> Rating:
    """Rate one period's usage against a price. Compile once with ``compile_price`` when rating
    many periods against the same price."""
    return compile_price(price).rate(quantity, transactions)


__all__ = ["Rater", "compile_price", "rate"]
