"""Property tests of the pure money rules: discount allocation, tax per line, credit order,
and what credit notes may take."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from meterly.billing.money import creditable, credits, discounts, tax
from meterly.billing.money.rounding import round_money, split

CENTS = st.integers(min_value=-5_000, max_value=2_000_000).map(lambda c: Decimal(c).scaleb(-2))
POSITIVE = st.integers(min_value=1, max_value=2_000_000).map(lambda c: Decimal(c).scaleb(-2))
PRODUCTS = st.sampled_from(["seat", "calls", "fax", "hardware", None])
PERCENT = st.decimals(min_value=Decimal("0.001"), max_value=100, places=3)
T0 = datetime(2026, 1, 1, tzinfo=UTC)

lines_st = st.lists(st.tuples(PRODUCTS, CENTS), min_size=1, max_size=8).map(
    lambda xs: [discounts.Line(i + 1, p, a) for i, (p, a) in enumerate(xs)]
)
terms_st = st.lists(
    st.tuples(
        st.one_of(PERCENT.map(lambda p: (p, None)), POSITIVE.map(lambda a: (None, a))),
        st.frozensets(st.sampled_from(["seat", "calls", "fax", "hardware"]), max_size=2),
    ),
    max_size=4,
).map(
    lambda xs: [discounts.Terms(i + 1, f"d{i}", po, ao, ps) for i, ((po, ao), ps) in enumerate(xs)]
)


@given(POSITIVE, st.lists(POSITIVE, min_size=1, max_size=10))
def test_split_is_exact_and_never_exceeds_a_weight(total: Decimal, ws: list[Decimal]) -> None:
    amount = min(total, sum(ws))
    shares = split(amount, list(enumerate(ws)), "USD")
    assert sum(shares.values()) == amount
    assert all(Decimal(0) <= shares[i] <= w for i, w in enumerate(ws))
    assert all(s == round_money(s, "USD") for s in shares.values())


@given(lines_st, terms_st)
def test_discounts_never_take_a_line_below_zero_and_allocations_add_up(
    lines: list[discounts.Line], terms: list[discounts.Terms]
) -> None:
    applied, net = discounts.apply_discounts(lines, terms, "USD")
    for a in applied:
        assert a.amount > 0 and sum(a.allocation.values()) == a.amount
        assert a.amount == round_money(a.amount, "USD")
    for line in lines:
        taken = sum((a.allocation.get(line.id, Decimal(0)) for a in applied), Decimal(0))
        assert net[line.id] == line.amount - taken
        assert net[line.id] >= 0 or taken == 0  # negative lines are never discounted


@given(
    st.lists(st.tuples(PRODUCTS, CENTS, st.integers(0, 500)), min_size=1, max_size=8),
    st.lists(st.tuples(PERCENT, st.frozensets(st.sampled_from(["seat", "calls"]))), max_size=3),
    st.decimals(min_value=0, max_value=5, places=4),
)
def test_each_tax_line_is_rounding_of_rate_times_its_basis(
    raw: list[tuple[str | None, Decimal, int]],
    rates: list[tuple[Decimal, frozenset[str]]],
    per_seat: Decimal,
) -> None:
    lines = [tax.Line(i, "fee", p, a, Decimal(q)) for i, (p, a, q) in enumerate(raw)]
    rs = [tax.Rate(i, f"r{i}", "tax", r, products=ps) for i, (r, ps) in enumerate(rates)]
    rs.append(tax.Rate(99, "e911", "surcharge_per_seat", None, per_seat, "seat"))
    for c in tax.compute(lines, rs, "USD"):
        covered = [x for x in lines if x.id in c.line_ids]
        if c.rate is not None:
            basis = max(sum((x.net for x in covered), Decimal(0)), Decimal(0))
            assert c.basis == basis
            assert c.amount == round_money(basis * c.rate / 100, "USD")
        else:
            seats = sum((x.quantity or 0 for x in covered), Decimal(0))
            assert c.amount == round_money(seats * per_seat, "USD")
        assert c.amount != 0


grants_st = st.lists(
    st.tuples(
        POSITIVE,
        st.integers(0, 3),
        st.one_of(st.none(), st.integers(1, 5)),
        st.integers(0, 5),
        st.frozensets(st.sampled_from(["seat", "calls"]), max_size=1),
    ),
    max_size=7,
).map(
    lambda xs: [
        credits.Grant(
            i + 1, r, p, None if e is None else T0 + timedelta(days=e), T0 - timedelta(days=age), ps
        )
        for i, (r, p, e, age, ps) in enumerate(xs)
    ]
)


@settings(max_examples=300)
@given(grants_st, CENTS, st.dictionaries(st.sampled_from(["seat", "calls"]), CENTS))
def test_credits_never_exceed_due_nor_balances_and_follow_the_order(
    grants: list[credits.Grant], due: Decimal, per_product: dict[str, Decimal]
) -> None:
    out = credits.allocate(grants, due, per_product)
    by_id = {g.id: g for g in grants}
    assert sum((a for _, a in out), Decimal(0)) <= max(due, Decimal(0))
    assert all(0 < a <= by_id[gid].remaining for gid, a in out)
    keys = [credits.order_key(by_id[gid]) for gid, _ in out]
    assert keys == sorted(keys)
    for p in ("seat", "calls"):
        restricted = sum((a for gid, a in out if by_id[gid].products == {p}), Decimal(0))
        assert restricted <= max(per_product.get(p, Decimal(0)), Decimal(0))
    # a grant skipped while something was still due could not have given more
    left = max(due, Decimal(0)) - sum((a for _, a in out), Decimal(0))
    if left > 0:
        for g in grants:
            if not g.products and g.id not in dict(out):
                assert g.remaining <= 0


@given(st.lists(POSITIVE, min_size=1, max_size=5), PERCENT, st.data())
def test_partial_credit_notes_then_whole_credit_exactly_the_remainder(
    amounts: list[Decimal], rate: Decimal, data: st.DataObject
) -> None:
    charge_ids = list(range(1, len(amounts) + 1))
    tax_amount = round_money(sum(amounts) * rate / 100, "USD")
    credited: dict[int, Decimal] = {i: Decimal(0) for i in [*charge_ids, 100]}

    def infos() -> list[creditable.InvoiceLineInfo]:
        out = [
            creditable.InvoiceLineInfo(i, "fee", "x", "seat", None, a, credited[i])
            for i, a in zip(charge_ids, amounts, strict=True)
        ]
        out.append(
            creditable.InvoiceLineInfo(
                100, "tax", "tax", None, None, tax_amount, credited[100], rate, tuple(charge_ids)
            )
        )
        return out

    for _ in range(data.draw(st.integers(0, 3))):
        i = data.draw(st.sampled_from(charge_ids))
        left = amounts[i - 1] - credited[i]
        if left <= 0:
            continue
        cents = data.draw(st.integers(1, int(left * 100)))
        for c in creditable.partial(
            infos(), [creditable.Request(i, Decimal(cents) / 100)], "USD", "half_up"
        ):
            credited[c.line_id] += c.amount
            assert credited[c.line_id] <= (tax_amount if c.line_id == 100 else amounts[i - 1])
    rest = creditable.whole(infos())
    total = sum(credited.values()) + sum((c.amount for c in rest), Decimal(0))
    assert total == sum(amounts) + tax_amount
