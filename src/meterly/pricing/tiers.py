"""Quantity engines: flat, per unit, package, graduated and volume tiers (also graduated %).

Each engine is compiled once from a price into plain tuples; ``total`` is the lean hot path and
``lines`` the same arithmetic with a breakdown. Both expect to run inside ``precision.CONTEXT``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from decimal import Decimal

from meterly.pricing.models import PercentTier, Tier
from meterly.pricing.precision import HUNDRED, ONE, ZERO
from meterly.pricing.result import LineDraft, RatingInputError


def ceil_div(value: Decimal, size: Decimal) -> Decimal:
    """Whole number of ``size`` blocks covering ``value`` (value ≥ 0, size > 0), exactly.

    divmod keeps it exact; ceiling a rounded quotient could miss a tiny remainder.
    """
    whole, rest = divmod(value, size)
    return whole + 1 if rest else whole


def check_quantity(quantity: Decimal) -> Decimal:
    if quantity < 0:
        raise RatingInputError(f"quantity must not be negative (got {quantity})")
    return quantity


def _fmt(value: Decimal) -> str:
    # As written in the price (0.30 stays 0.30); plain notation, never 1E+3.
    return format(value, "f")


class FlatEngine:
    __slots__ = ("amount",)

    def __init__(self, amount: Decimal) -> None:
        self.amount = amount

    def total(self) -> Decimal:
        return self.amount

    def lines(self) -> tuple[Decimal, list[LineDraft]]:
        return self.amount, [("flat fee", ONE, self.amount, self.amount)]


class PerUnitEngine:
    __slots__ = ("free", "unit")

    def __init__(self, unit_amount: Decimal, free_units: Decimal) -> None:
        self.unit = unit_amount
        self.free = free_units

    def total(self, quantity: Decimal) -> Decimal:
        billable = quantity - self.free
        return billable * self.unit if billable > 0 else ZERO

    def lines(self, quantity: Decimal) -> tuple[Decimal, list[LineDraft]]:
        drafts: list[LineDraft] = []
        if self.free:
            drafts.append(("free units", min(quantity, self.free), ZERO, ZERO))
        billable = max(quantity - self.free, ZERO)
        total = billable * self.unit
        drafts.append((f"units at {_fmt(self.unit)}", billable, self.unit, total))
        return total, drafts


class PackageEngine:
    __slots__ = ("amount", "free", "round_up", "size")

    def __init__(self, size: Decimal, amount: Decimal, free: Decimal, round_up: bool) -> None:
        self.size = size
        self.amount = amount
        self.free = free
        self.round_up = round_up

    def packages(self, quantity: Decimal) -> Decimal:
        billable = quantity - self.free
        if billable <= 0:
            return ZERO
        return ceil_div(billable, self.size) if self.round_up else billable // self.size

    def total(self, quantity: Decimal) -> Decimal:
        return self.packages(quantity) * self.amount

    def lines(self, quantity: Decimal) -> tuple[Decimal, list[LineDraft]]:
        drafts: list[LineDraft] = []
        if self.free:
            drafts.append(("free units", min(quantity, self.free), ZERO, ZERO))
        count = self.packages(quantity)
        total = count * self.amount
        drafts.append((f"packages of {_fmt(self.size)}", count, self.amount, total))
        return total, drafts


# A compiled band: (lower, upper | None, unit_amount, flat_amount, block_size | None, block_amount)
Band = tuple[Decimal, Decimal | None, Decimal, Decimal, Decimal | None, Decimal]


def compile_bands(tiers: Sequence[Tier]) -> tuple[Band, ...]:
    bands: list[Band] = []
    lower = ZERO
    for tier in tiers:
        bands.append(
            (
                lower,
                tier.up_to,
                tier.unit_amount,
                tier.flat_amount,
                tier.block_size,
                tier.block_amount if tier.block_amount is not None else ZERO,
            )
        )
        if tier.up_to is not None:
            lower = tier.up_to
    return tuple(bands)


def compile_percent_bands(tiers: Sequence[PercentTier]) -> tuple[Band, ...]:
    # A rate of r % on a band's volume is a unit amount of r/100 per unit of volume (exact).
    bands: list[Band] = []
    lower = ZERO
    for tier in tiers:
        bands.append((lower, tier.up_to, tier.rate / HUNDRED, tier.flat_amount, None, ZERO))
        if tier.up_to is not None:
            lower = tier.up_to
    return tuple(bands)


def _band_cost(band: Band, units: Decimal) -> Decimal:
    _, _, unit, _, block_size, block_amount = band
    if block_size is not None:
        return ceil_div(units, block_size) * block_amount
    return units * unit


class _TieredBase:
    __slots__ = ("bands", "percent", "uppers")

    def __init__(self, bands: tuple[Band, ...], percent: bool = False) -> None:
        self.bands = bands
        # Closed upper bounds for bisect: index of the first band with up_to ≥ quantity.
        self.uppers = [band[1] for band in bands if band[1] is not None]
        self.percent = percent

    def _describe(self, band: Band) -> str:
        lower, upper, unit, _, block_size, block_amount = band
        span = f"{_fmt(lower)}–{_fmt(upper)}" if upper is not None else f"above {_fmt(lower)}"
        if self.percent:
            return f"volume {span} at {_fmt((unit * HUNDRED).normalize())}%"
        if block_size is not None:
            return f"units {span} in blocks of {_fmt(block_size)} at {_fmt(block_amount)}"
        return f"units {span} at {_fmt(unit)}"

    def _band_line(self, index: int, band: Band, units: Decimal) -> LineDraft:
        block_size = band[4]
        cost = _band_cost(band, units)
        if block_size is not None:
            return (self._describe(band), ceil_div(units, block_size), band[5], cost)
        return (self._describe(band), units, band[2], cost)

    def _flat_line(self, index: int, band: Band) -> LineDraft:
        return (f"tier {index + 1} flat fee", ONE, band[3], band[3])


class GraduatedEngine(_TieredBase):
    """Each band prices its own slice; every band reached adds its flat fee (the first always)."""

    __slots__ = ("bases",)

    def __init__(self, bands: tuple[Band, ...], percent: bool = False) -> None:
        super().__init__(bands, percent)
        # bases[i]: the total of all bands below i when full, plus band i's flat fee — so the
        # hot path is one bisect, one multiplication and one addition.
        bases: list[Decimal] = []
        below = ZERO
        for band in bands:
            lower, upper, _, flat, _, _ = band
            bases.append(below + flat)
            if upper is not None:
                below = below + flat + _band_cost(band, upper - lower)
        self.bases = tuple(bases)

    def total(self, quantity: Decimal) -> Decimal:
        index = bisect_left(self.uppers, quantity)
        band = self.bands[index]
        if band[4] is None:
            return self.bases[index] + (quantity - band[0]) * band[2]
        return self.bases[index] + ceil_div(quantity - band[0], band[4]) * band[5]

    def lines(self, quantity: Decimal) -> tuple[Decimal, list[LineDraft]]:
        reached = bisect_left(self.uppers, quantity)
        drafts: list[LineDraft] = []
        total = ZERO
        for index in range(reached + 1):
            band = self.bands[index]
            lower, upper = band[0], band[1]
            units = (quantity if upper is None or quantity < upper else upper) - lower
            line = self._band_line(index, band, units)
            drafts.append(line)
            total += line[3]
            if band[3]:
                drafts.append(self._flat_line(index, band))
                total += band[3]
        return total, drafts


class VolumeEngine(_TieredBase):
    """The whole quantity at the band it reaches, plus that band's flat fee."""

    __slots__ = ()

    def total(self, quantity: Decimal) -> Decimal:
        band = self.bands[bisect_left(self.uppers, quantity)]
        return band[3] + _band_cost(band, quantity)

    def lines(self, quantity: Decimal) -> tuple[Decimal, list[LineDraft]]:
        index = bisect_left(self.uppers, quantity)
        band = self.bands[index]
        line = self._band_line(index, band, quantity)
        drafts = [(f"all {line[0]}", line[1], line[2], line[3])]
        if band[3]:
            drafts.append(self._flat_line(index, band))
        return line[3] + band[3], drafts
