"""Property tests of the pure subscription rules: timeline, proration segments, line building."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from meterly.pricing.currency import round_money
from meterly.subscriptions.cycle import current_period
from meterly.subscriptions.lines import Charge, VersionSpec, subscription_lines
from meterly.subscriptions.timeline import Change, segments, state_at

PERIOD = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
NEXT = (PERIOD[1], datetime(2027, 1, 1, tzinfo=UTC))
START = datetime(2026, 10, 1, tzinfo=UTC)

amounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("10000"), places=4)
quantities = st.integers(min_value=0, max_value=500).map(Decimal)
days = st.integers(min_value=1, max_value=29)


class NoUsage:
    def quantity(self, meter: str, start: datetime, end: datetime) -> Decimal:
        return Decimal(0)

    def transactions(self, meter: str, start: datetime, end: datetime) -> list[Decimal]:
        return []


def plan(unit: Decimal, timing: str = "in_arrears") -> dict[int, VersionSpec]:
    price: dict[str, Any] = {"model": "per_unit", "unit_amount": str(unit), "timing": timing}
    return {1: VersionSpec(1, "USD", "month", (Charge("seat", "seat", price),))}


def created(quantity: Decimal) -> Change:
    return Change("created", START, {"plan_version_id": 1, "quantity": str(quantity)}, 1)


def lines(versions: dict[int, VersionSpec], changes: list[Change]) -> Any:
    return subscription_lines(
        versions, changes, currency="USD", period=PERIOD, next_period=NEXT,
        usage=NoUsage(), usage_until=PERIOD[1],
    )  # fmt: skip


@given(unit=amounts, quantity=quantities, noop_days=st.lists(days, max_size=4))
def test_unchanged_item_bills_exactly_its_full_period(
    unit: Decimal, quantity: Decimal, noop_days: list[int]
) -> None:
    # changes that alter nothing (same quantity again) must not split the period
    changes = [created(quantity)] + [
        Change("quantity", PERIOD[0] + timedelta(days=d), {"quantity": str(quantity)}, i + 2)
        for i, d in enumerate(noop_days)
    ]
    out = lines(plan(unit), changes)
    assert len(out) == 1 and out[0].fraction is None
    assert out[0].precise_amount == unit * quantity
    assert out[0].amount == round_money(unit * quantity, "USD")


@given(unit=amounts, old=quantities, new=quantities, day=days)
def test_quantity_change_bills_old_f1_plus_new_f2(
    unit: Decimal, old: Decimal, new: Decimal, day: int
) -> None:
    at = PERIOD[0] + timedelta(days=day)
    changes = [created(old), Change("quantity", at, {"quantity": str(new)}, 2)]
    out = lines(plan(unit), changes)
    f1, f2 = Fraction(day, 30), Fraction(30 - day, 30)
    expected = Fraction(unit * old) * f1 + (Fraction(unit * new) * f2 if new != old else 0)
    if new == old:
        expected = Fraction(unit * old)
    got = sum((Fraction(line.precise_amount) for line in out), Fraction(0))
    assert abs(got - expected) < Fraction(1, 10**40)
    # each line is rounded once, moving it by at most half a cent
    assert all(abs(x.amount - x.precise_amount) <= Decimal("0.005") for x in out)


@given(unit=amounts, old=quantities, new=quantities, day=days)
def test_in_advance_adjustment_equals_the_difference(
    unit: Decimal, old: Decimal, new: Decimal, day: int
) -> None:
    at = PERIOD[0] + timedelta(days=day)
    changes = [created(old), Change("quantity", at, {"quantity": str(new)}, 2)]
    out = lines(plan(unit, "in_advance"), changes)
    adjust = sum(
        (Fraction(x.precise_amount) for x in out if x.kind.startswith("proration")), Fraction(0)
    )
    assert abs(adjust - Fraction(unit * (new - old)) * Fraction(30 - day, 30)) < Fraction(1, 10**40)
    advance = [x for x in out if x.kind == "advance"]
    assert [x.precise_amount for x in advance] == [unit * new]


@given(points=st.lists(days, max_size=6), quantities_=st.lists(quantities, min_size=7, max_size=7))
def test_segments_tile_the_period(points: list[int], quantities_: list[Decimal]) -> None:
    changes = [created(quantities_[0])] + [
        Change(
            "quantity", PERIOD[0] + timedelta(days=d), {"quantity": str(quantities_[i + 1])}, i + 2
        )
        for i, d in enumerate(points)
    ]
    segs = segments(changes, *PERIOD)
    assert segs[0].start == PERIOD[0] and segs[-1].end == PERIOD[1]
    assert all(a.end == b.start and a.state != b.state for a, b in pairwise(segs))
    for seg in segs:
        assert state_at(changes, seg.start) == seg.state


@settings(max_examples=200)
@given(
    start=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)),
    anchor=st.integers(min_value=1, max_value=31),
    offset=st.integers(min_value=0, max_value=3000),
    tz=st.sampled_from(["UTC", "America/New_York", "Europe/Berlin", "Australia/Sydney"]),
)
def test_monthly_periods_contain_now_and_clamp(
    start: datetime, anchor: int, offset: int, tz: str
) -> None:
    begin = start.replace(tzinfo=UTC)
    at = begin + timedelta(days=offset)
    p_start, p_end = current_period(begin, tz, anchor, "month", at)
    assert p_start <= at < p_end
    local = p_start.astimezone(p_start.tzinfo)
    assert local.hour == 0 and local.minute == 0
    assert local.day == anchor or (local.day < anchor and (local + timedelta(days=1)).day == 1)


def test_cancel_in_advance_credits_the_rest_and_no_next_period() -> None:
    at = PERIOD[0] + timedelta(days=10)
    changes = [created(Decimal(10)), Change("cancel", at, {}, 2)]
    out = subscription_lines(
        plan(Decimal(30), "in_advance"), changes, currency="USD", period=PERIOD,
        next_period=None, usage=NoUsage(), usage_until=PERIOD[1], sub_end=at,
    )  # fmt: skip
    assert [(x.kind, x.amount) for x in out] == [("proration_credit", Decimal("-200.00"))]


def test_trial_makes_recurring_charges_free() -> None:
    changes = [Change("created", PERIOD[0], {"plan_version_id": 1, "quantity": "1"}, 1)]
    out = subscription_lines(
        plan(Decimal(30)), changes, currency="USD", period=PERIOD, next_period=NEXT,
        usage=NoUsage(), usage_until=PERIOD[1], trial_end=PERIOD[0] + timedelta(days=15),
    )  # fmt: skip
    assert [(x.fraction, x.amount) for x in out] == [("1/2", Decimal("15.00"))]


@given(first=amounts, second=amounts, qty=quantities)
@settings(max_examples=50)
def test_a_price_changed_in_place_is_compiled_again(
    first: Decimal, second: Decimal, qty: Decimal
) -> None:
    """Raters memoizes compiled prices by identity across invoices; a dict edited after it was
    rated (a caller reusing its price body) must not answer with the old compiled price."""
    from meterly.subscriptions.lines import Raters

    price: dict[str, Any] = {"model": "per_unit", "unit_amount": str(first)}
    assert Raters().get(price).rate(qty).precise_amount == first * qty
    price["unit_amount"] = str(second)
    assert Raters().get(price).rate(qty).precise_amount == second * qty
