"""Per-transaction engines: percentage fees, graduated percentage bands and call increments.

Each value handed to these engines is one transaction: an amount of money for the percentage
models, a call duration in seconds for increments. They run inside ``precision.CONTEXT``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal

from meterly.pricing.models import IncrementsPrice, PercentagePrice
from meterly.pricing.precision import HUNDRED, ONE, ZERO
from meterly.pricing.result import LineDraft, RatingInputError
from meterly.pricing.tiers import GraduatedEngine, ceil_div

_CALL_ROUNDING = {"up": ROUND_UP, "down": ROUND_DOWN, "half_up": ROUND_HALF_UP}


def _fmt(value: Decimal) -> str:
    # As written in the price (0.30 stays 0.30); plain notation, never 1E+3.
    return format(value, "f")


def _negative(value: Decimal, what: str) -> RatingInputError:
    return RatingInputError(f"{what} must not be negative (got {value})")


class PercentageEngine:
    """rate % × amount + fixed fee per transaction, clamped, after a free allowance.

    The allowance covers the first ``free_units`` transactions and the first ``free_amount`` of
    volume, ending when either runs out (0 = that allowance is not offered). The transaction that
    crosses ``free_amount`` pays on the part above it.
    """

    __slots__ = ("fixed", "free_amount", "free_units", "maximum", "minimum", "rate", "rate_pct")

    def __init__(self, price: PercentagePrice) -> None:
        self.rate_pct = price.rate
        self.rate = price.rate / HUNDRED
        self.fixed = price.fixed_amount
        self.free_units = int(price.free_units)
        self.free_amount = price.free_amount
        self.minimum = price.min_per_transaction
        self.maximum = price.max_per_transaction

    def _run(
        self, transactions: Iterable[Decimal]
    ) -> tuple[int, Decimal, int, Decimal, Decimal, int, Decimal, int, Decimal]:
        """One pass: (free count, free volume, paid count, paid volume, unclamped fees,
        raised count, raised by, capped count, capped by)."""
        rate, fixed, low, high = self.rate, self.fixed, self.minimum, self.maximum
        free_units, free_amount = self.free_units, self.free_amount
        allowance = bool(free_units or free_amount)
        free_n = paid_n = low_n = high_n = 0
        free_vol = paid_vol = fees = low_adj = high_adj = ZERO
        for amount in transactions:
            if amount < 0:
                raise _negative(amount, "a transaction amount")
            charged = amount
            if allowance:
                if free_units and free_n >= free_units:
                    allowance = False
                elif not free_amount or free_vol + amount <= free_amount:
                    free_n += 1
                    free_vol += amount
                    continue
                else:
                    # This transaction uses up the free volume: it pays on the remainder.
                    charged = amount - (free_amount - free_vol)
                    free_vol = free_amount
                    allowance = False
            fee = charged * rate + fixed
            paid_n += 1
            paid_vol += charged
            fees += fee
            if low is not None and fee < low:
                low_n += 1
                low_adj += low - fee
            elif high is not None and fee > high:
                high_n += 1
                high_adj += fee - high
        return free_n, free_vol, paid_n, paid_vol, fees, low_n, low_adj, high_n, high_adj

    def total(self, transactions: Iterable[Decimal]) -> Decimal:
        run = self._run(transactions)
        return run[4] + run[6] - run[8]

    def fee(self, amount: Decimal) -> Decimal:
        """The fee of one transaction outside any free allowance."""
        fee = amount * self.rate + self.fixed
        if self.minimum is not None and fee < self.minimum:
            return self.minimum
        if self.maximum is not None and fee > self.maximum:
            return self.maximum
        return fee

    def lines(self, transactions: Iterable[Decimal]) -> tuple[Decimal, list[LineDraft]]:
        free_n, free_vol, paid_n, paid_vol, fees, low_n, low_adj, high_n, high_adj = self._run(
            transactions
        )
        drafts: list[LineDraft] = []
        if free_n:
            drafts.append(
                (f"free transactions (volume {_fmt(free_vol)})", Decimal(free_n), ZERO, ZERO)
            )
        label = f"{_fmt(self.rate_pct)}%"
        if self.fixed:
            label += f" + {_fmt(self.fixed)}"
        drafts.append(
            (f"transactions at {label} (volume {_fmt(paid_vol)})", Decimal(paid_n), None, fees)
        )
        if low_n:
            drafts.append(
                (
                    f"raised to the per-transaction minimum {_fmt(self.minimum or ZERO)}",
                    Decimal(low_n),
                    None,
                    low_adj,
                )
            )
        if high_n:
            drafts.append(
                (
                    f"capped at the per-transaction maximum {_fmt(self.maximum or ZERO)}",
                    Decimal(high_n),
                    None,
                    -high_adj,
                )
            )
        return fees + low_adj - high_adj, drafts


class GraduatedPercentageEngine:
    """The period's transaction volume priced in bands of rates (a graduated price on volume)."""

    __slots__ = ("graduated",)

    def __init__(self, graduated: GraduatedEngine) -> None:
        self.graduated = graduated

    @staticmethod
    def volume(transactions: Iterable[Decimal]) -> Decimal:
        volume = ZERO
        for amount in transactions:
            if amount < 0:
                raise _negative(amount, "a transaction amount")
            volume += amount
        return volume

    def total(self, transactions: Iterable[Decimal]) -> Decimal:
        return self.graduated.total(self.volume(transactions))

    def lines(self, transactions: Iterable[Decimal]) -> tuple[Decimal, list[LineDraft]]:
        return self.graduated.lines(self.volume(transactions))


# A compiled group: (start, end or None, unit_seconds, unit_amount, increment)
Group = tuple[Decimal, Decimal | None, Decimal, Decimal, Decimal]


class IncrementsEngine:
    """Calls billed in increments: per call, per group of the call, plus a connect fee.

    The single-rate form is the two-group case [0, first) in one first increment and
    [first, ∞) in increments; it keeps a dedicated loop because it is the hot path of CDR rating.
    """

    __slots__ = (
        "connect",
        "first",
        "groups",
        "increment",
        "maximum",
        "minimum",
        "per_call",
        "round_mode",
        "round_quantum",
        "single",
        "unit_amount",
        "unit_seconds",
    )

    def __init__(self, price: IncrementsPrice) -> None:
        self.connect = price.connect_fee
        self.minimum = price.min_per_call
        self.maximum = price.max_per_call
        rounding = price.call_rounding
        self.round_quantum = Decimal(1).scaleb(-rounding.decimals) if rounding else None
        self.round_mode = _CALL_ROUNDING[rounding.mode] if rounding else ROUND_HALF_UP
        # Only these make a call's cost depend on the call alone; without them the period total
        # is exactly (sum of billed seconds) × rate, computed once.
        self.per_call = rounding is not None or self.minimum is not None or self.maximum is not None
        if price.groups is None:
            self.single = True
            self.unit_seconds = (
                price.unit_seconds if price.unit_seconds is not None else Decimal(60)
            )
            self.unit_amount = price.unit_amount if price.unit_amount is not None else ZERO
            self.increment = price.increment if price.increment is not None else ONE
            self.first = (
                price.first_increment if price.first_increment is not None else self.increment
            )
            self.groups: tuple[Group, ...] = (
                (ZERO, None, self.unit_seconds, self.unit_amount, self.increment),
            )
        else:
            self.single = False
            self.unit_seconds = self.unit_amount = self.increment = self.first = ZERO
            starts = [group.start for group in price.groups]
            ends: list[Decimal | None] = [*starts[1:], None]
            self.groups = tuple(
                (g.start, end, g.unit_seconds, g.unit_amount, g.increment)
                for g, end in zip(price.groups, ends, strict=True)
            )

    # --- one call ---------------------------------------------------------------------------

    def billed_single(self, duration: Decimal) -> Decimal:
        """Billed seconds of a call on the single-rate form (0 for a 0-second call)."""
        if duration <= 0:
            return ZERO
        first = self.first
        if duration <= first:
            return first
        return first + ceil_div(duration - first, self.increment) * self.increment

    def billed_groups(self, duration: Decimal) -> list[Decimal]:
        """Billed seconds of a call in each group (each portion rounded up to its increment)."""
        billed: list[Decimal] = []
        for start, end, _, _, increment in self.groups:
            if duration <= start:
                billed.append(ZERO)
                continue
            portion = (duration if end is None or duration < end else end) - start
            billed.append(ceil_div(portion, increment) * increment)
        return billed

    def billed_seconds(self, duration: Decimal) -> Decimal:
        if duration < 0:
            raise _negative(duration, "a call duration")
        if self.single:
            return self.billed_single(duration)
        return sum(self.billed_groups(duration), ZERO)

    def call_cost(self, duration: Decimal) -> Decimal:
        """One call's cost: usage + connect fee, clamped to min/max, then per-call rounding."""
        if duration < 0:
            raise _negative(duration, "a call duration")
        if duration == 0:
            return ZERO
        if self.single:
            cost = self.billed_single(duration) * self.unit_amount / self.unit_seconds
        else:
            cost = ZERO
            for (_, _, seconds, amount, _), billed in zip(
                self.groups, self.billed_groups(duration), strict=True
            ):
                cost += billed * amount / seconds
        cost += self.connect
        if self.minimum is not None and cost < self.minimum:
            cost = self.minimum
        elif self.maximum is not None and cost > self.maximum:
            cost = self.maximum
        if self.round_quantum is not None:
            cost = cost.quantize(self.round_quantum, rounding=self.round_mode)
        return cost

    # --- a period's calls -------------------------------------------------------------------

    def _billed_totals(self, durations: Iterable[Decimal]) -> tuple[list[Decimal], int, int]:
        """Billed seconds per group summed over calls, number of calls, number of 0-s calls."""
        calls = zeros = 0
        if self.single:
            # Count increments instead of multiplying per call: first × calls + inc × count.
            first, increment = self.first, self.increment
            beyond = ZERO
            for duration in durations:
                if duration > first:
                    whole, rest = divmod(duration - first, increment)
                    beyond += whole + 1 if rest else whole
                    calls += 1
                elif duration > 0:
                    calls += 1
                elif duration == 0:
                    zeros += 1
                else:
                    raise _negative(duration, "a call duration")
            return [first * calls + beyond * increment], calls, zeros
        sums = [ZERO] * len(self.groups)
        for duration in durations:
            if duration > 0:
                calls += 1
                for index, billed in enumerate(self.billed_groups(duration)):
                    sums[index] += billed
            elif duration == 0:
                zeros += 1
            else:
                raise _negative(duration, "a call duration")
        return sums, calls, zeros

    def _usage(self, sums: Sequence[Decimal]) -> list[Decimal]:
        return [
            billed * amount / seconds
            for billed, (_, _, seconds, amount, _) in zip(sums, self.groups, strict=True)
        ]

    def total(self, durations: Iterable[Decimal]) -> Decimal:
        if self.per_call:
            total = ZERO
            for duration in durations:
                total += self.call_cost(duration)
            return total
        sums, calls, _ = self._billed_totals(durations)
        return sum(self._usage(sums), ZERO) + self.connect * calls

    def lines(self, durations: Sequence[Decimal]) -> tuple[Decimal, list[LineDraft]]:
        sums, calls, zeros = self._billed_totals(durations)
        usage = self._usage(sums)
        drafts: list[LineDraft] = []
        for (start, end, seconds, amount, increment), billed, cost in zip(
            self.groups, sums, usage, strict=True
        ):
            if self.single:
                label = f"first {_fmt(self.first)} s then {_fmt(increment)} s increments"
            else:
                span = (
                    f"{_fmt(start)}–{_fmt(end)} s" if end is not None else f"from {_fmt(start)} s"
                )
                label = f"call time {span} in {_fmt(increment)} s increments"
            drafts.append(
                (f"{label} at {_fmt(amount)} per {_fmt(seconds)} s", billed / seconds, amount, cost)
            )
        if zeros:
            drafts.append(("zero-length calls", Decimal(zeros), ZERO, ZERO))
        subtotal = sum(usage, ZERO)
        if self.connect:
            connect = self.connect * calls
            drafts.append(("connect fees", Decimal(calls), self.connect, connect))
            subtotal += connect
        if not self.per_call:
            return subtotal, drafts
        # Min/max and per-call rounding act call by call; the exact total is the sum of the final
        # call costs, and the adjustment line is what brings the usage lines to it.
        total = self.total(durations)
        adjustment = total - subtotal
        if adjustment:
            drafts.append(
                ("per-call minimum, maximum and rounding", Decimal(calls), None, adjustment)
            )
        return total, drafts
