"""Largest-remainder allocation (pure): parts sum exactly to the amount, never negative."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from meterly.chain.allocation import allocate

CENT = Decimal("0.01")
amounts = st.integers(min_value=0, max_value=10**9).map(lambda c: Decimal(c) * CENT)
weights = st.dictionaries(
    st.text("abcdefgh", min_size=1, max_size=3),
    st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=30,
)


@given(amounts, weights)
def test_parts_sum_exactly_and_are_never_negative(amount: Decimal, w: dict[str, Decimal]) -> None:
    parts = allocate(amount, w, CENT)
    assert set(parts) == set(w)
    assert sum(parts.values(), Decimal(0)) == amount
    assert all(p >= 0 and p % CENT == 0 for p in parts.values())


@given(amounts, weights)
def test_a_credit_is_the_negated_split(amount: Decimal, w: dict[str, Decimal]) -> None:
    assert allocate(-amount, w, CENT) == {k: -v for k, v in allocate(amount, w, CENT).items()}


def test_examples() -> None:
    one, two = Decimal(1), Decimal(2)
    assert allocate(Decimal("10.00"), {"a": one, "b": one, "c": one}, CENT) == {
        "a": Decimal("3.34"), "b": Decimal("3.33"), "c": Decimal("3.33")}  # fmt: skip
    assert allocate(Decimal("1.00"), {"a": one, "b": two}, CENT) == {
        "a": Decimal("0.33"), "b": Decimal("0.67")}  # fmt: skip
    zero = Decimal(0)
    assert allocate(Decimal("0.02"), {"a": zero, "b": zero}, CENT) == {
        "a": Decimal("0.01"), "b": Decimal("0.01")}  # fmt: skip
    assert allocate(Decimal("5.00"), {}, CENT) == {}
