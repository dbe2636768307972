"""Proration by day over the actual period, in the period's local calendar.

Fractions are computed exactly (``fractions.Fraction``) and converted to Decimal once, at
``FRACTION_PLACES`` decimal places; ``split_fractions`` rounds cumulative shares so the parts
always sum to exactly 1. ``prorate`` multiplies an amount by the exact ratio,
with no rounded fraction in between.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from itertools import pairwise
from typing import Final, Literal

from meterly.pricing.precision import CONTEXT

Granularity = Literal["day", "second"]

FRACTION_PLACES: Final = 20
_FRACTION_QUANTUM: Final = Decimal(1).scaleb(-FRACTION_PLACES)


def _zone(value: datetime, name: str) -> tzinfo:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.tzinfo


def _units(start: datetime, end: datetime, zone: tzinfo, granularity: Granularity) -> int:
    """Whole local calendar days (or elapsed seconds) from start to end."""
    if granularity == "second":
        return int((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds())
    # Calendar days, not 24-hour spans: a DST day of 23 or 25 hours is still one day.
    return (end.astimezone(zone).date() - start.astimezone(zone).date()).days


def _clamp(value: datetime, low: datetime, high: datetime) -> datetime:
    return min(max(value, low, key=_key), high, key=_key)


def _key(value: datetime) -> datetime:
    return value.astimezone(UTC)


def exact_fraction(
    period_start: datetime,
    period_end: datetime,
    from_: datetime,
    to: datetime,
    granularity: Granularity = "day",
) -> Fraction:
    """The share of [period_start, period_end) covered by [from_, to), clamped to the period,
    counted in whole local days of the period's zone (or seconds)."""
    zone = _zone(period_start, "period_start")
    for value, name in ((period_end, "period_end"), (from_, "from_"), (to, "to")):
        _zone(value, name)
    total = _units(period_start, period_end, zone, granularity)
    if total <= 0:
        raise ValueError("the period must be longer than zero")
    start = _clamp(from_, period_start, period_end)
    end = _clamp(to, period_start, period_end)
    covered = _units(start, end, zone, granularity)
    return Fraction(max(covered, 0), total)


def to_decimal(value: Fraction) -> Decimal:
    """A fraction as a Decimal at FRACTION_PLACES places (half-even)."""
    with localcontext(CONTEXT):
        return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
            _FRACTION_QUANTUM, rounding=ROUND_HALF_EVEN
        )


def fraction(
    period_start: datetime,
    period_end: datetime,
    from_: datetime,
    to: datetime,
    granularity: Granularity = "day",
) -> Decimal:
    """The share of the period covered by [from_, to), as a Decimal (see ``exact_fraction``).

    A change on day 11 of a 30-day period leaves days 11–30: 20/30.
    """
    return to_decimal(exact_fraction(period_start, period_end, from_, to, granularity))


def prorate(
    amount: Decimal,
    period_start: datetime,
    period_end: datetime,
    from_: datetime,
    to: datetime,
    granularity: Granularity = "day",
) -> Decimal:
    """amount × covered/total, computed with the exact ratio (a precise amount, not rounded)."""
    share = exact_fraction(period_start, period_end, from_, to, granularity)
    with localcontext(CONTEXT):
        return amount * share.numerator / share.denominator


def split_fractions(
    period: tuple[datetime, datetime],
    change_points: Sequence[datetime],
    granularity: Granularity = "day",
) -> list[Decimal]:
    """Fractions of the segments that the change points cut the period into, in order.

    ``len(change_points) + 1`` values that sum to exactly Decimal 1. Change points must lie in
    the period and be in order; one on a boundary yields a zero segment.
    """
    start, end = period
    points = list(change_points)
    for point in points:
        _zone(point, "change point")
        if not _key(start) <= _key(point) <= _key(end):
            raise ValueError(f"change point {point.isoformat()} is outside the period")
    if any(_key(a) > _key(b) for a, b in pairwise(points)):
        raise ValueError("change points must be in chronological order")
    # Round the running total, not each part: part i = round(cum_i) − round(cum_{i−1}). The parts
    # then telescope to round(1) = 1 exactly, a zero-length segment gets exactly 0 and no part
    # can go negative (which "last = 1 − sum of the others" can, when the last segment is empty).
    parts: list[Decimal] = []
    previous = Decimal(0)
    with localcontext(CONTEXT):
        for point in [*points, end]:
            cumulative = to_decimal(exact_fraction(start, end, start, point, granularity))
            parts.append(cumulative - previous)
            previous = cumulative
    return parts
