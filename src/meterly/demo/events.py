"""Usage events for the demo cast: call detail records with business-hours and weekday
patterns, conference bridges, fax pages, storage levels, music on hold, hardware purchases —
and, as real feeds have, a few late, duplicate and malformed events. Deterministic for a seed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

from meterly.demo.cast import Customer

SOURCE = "skyline-switch"
# US federal holidays the generator keeps quiet (auto attendants play the holiday greeting).
HOLIDAYS = {
    date(2026, 9, 7),
    date(2026, 10, 12),
    date(2026, 11, 11),
    date(2026, 11, 26),
    date(2026, 12, 25),
    date(2027, 1, 1),
}
HARDWARE_PRICES = {
    "yealink-t54w": "189.00",
    "yealink-t46u": "149.00",
    "poly-vvx150": "79.00",
    "ata-ht801": "39.00",
}
# Hourly weights of a business day, 8:00-18:00 local: peaks mid-morning and mid-afternoon.
_HOURS = (8, 9, 10, 11, 12, 13, 14, 15, 16, 17)
_HOUR_CUM = tuple(accumulate((4, 8, 10, 9, 5, 6, 9, 9, 7, 4)))  # cumulative: choices() is faster


@dataclass(frozen=True)
class MonthPlan:
    start: date  # first day of the month
    end: date  # first day of the next month


def months(first: date, count: int) -> list[MonthPlan]:
    out = []
    y, m = first.year, first.month
    for _ in range(count):
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        out.append(MonthPlan(date(y, m, 1), date(ny, nm, 1)))
        y, m = ny, nm
    return out


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:  # normal approximation keeps big customers fast
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    threshold, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= threshold:
            return k
        k += 1


_HOUR_PREFIX: dict[int, str] = {}  # UTC hour (epoch // 3600) -> "YYYY-MM-DDTHH:"


class _Clock:
    """Event times as UTC epoch seconds, and their ISO strings: the large demo makes about 14 M
    events a month, and zone arithmetic and strftime per event were most of the feed's cost.
    Business hours never straddle a DST change (2 AM), so a local hour's start plus seconds is
    the same instant zone arithmetic gives."""

    def __init__(self, zone: ZoneInfo) -> None:
        self._zone = zone
        self._hours: dict[tuple[date, int], int] = {}

    def stamp(self, day: date, hour: int, rng: random.Random) -> int:
        """A random second of the local hour."""
        base = self._hours.get((day, hour))
        if base is None:
            base = int(datetime.combine(day, time(hour), self._zone).timestamp())
            self._hours[(day, hour)] = base
        return base + rng.randrange(3600)

    def at(self, day: date, clock: time) -> int:
        return int(datetime.combine(day, clock, self._zone).timestamp())

    @classmethod
    def iso(cls, t: int) -> str:
        hour, rest = divmod(t, 3600)
        prefix = _HOUR_PREFIX.get(hour)
        if prefix is None:
            prefix = datetime.fromtimestamp(hour * 3600, UTC).strftime("%Y-%m-%dT%H:")
            _HOUR_PREFIX[hour] = prefix
        return f"{prefix}{rest // 60:02d}:{rest % 60:02d}Z"


def customer_month(c: Customer, month: MonthPlan, seed: int) -> list[dict[str, Any]]:
    """Every event of one customer in one month, in time order."""
    rng = random.Random(f"{seed}:{c.external_id}:{month.start.isoformat()}")
    clock = _Clock(ZoneInfo(c.timezone))
    out: list[tuple[int, dict[str, Any]]] = []
    tag = f"{c.external_id}-{month.start:%Y%m}"
    n = 0

    def add(t: int, etype: str, data: dict[str, Any], source: str = SOURCE) -> None:
        nonlocal n
        n += 1
        out.append(
            (
                t,
                {
                    "id": f"{tag}-{n}",
                    "source": source,
                    "type": etype,
                    "subject": c.external_id,
                    "time": clock.iso(t),
                    "data": data,
                },
            )
        )

    day = month.start
    gb = c.storage_gb * (0.85 + 0.1 * (month.start.month % 3))
    while day < month.end:
        weekend = day.weekday() >= 5
        quiet = weekend or day in HOLIDAYS
        calls = _poisson(rng, c.seats * c.calls_per_seat * (0.05 if quiet else 1.0))
        for _ in range(calls):
            hour = rng.choices(_HOURS, cum_weights=_HOUR_CUM)[0]
            outbound = rng.random() < 0.55
            intl = outbound and rng.random() < c.intl_share
            toll_free = not intl and not outbound and rng.random() < 0.12
            dest = "international" if intl else ("toll_free" if toll_free else "domestic")
            mean = 420 if intl else 190
            seconds = 0 if rng.random() < 0.04 else max(1, int(rng.expovariate(1 / mean)))
            add(
                clock.stamp(day, hour, rng),
                "call.completed",
                {
                    "duration_seconds": seconds,
                    "direction": "outbound" if outbound else "inbound",
                    "destination": dest,
                    "country": rng.choice(c.countries) if intl else "US",
                    "line": f"ext-{100 + rng.randrange(max(c.seats, 1))}",
                },
            )
        if not quiet:
            for _ in range(_poisson(rng, c.seats * c.fax)):
                add(
                    clock.stamp(day, rng.choice(_HOURS), rng),
                    "fax.sent",
                    {"pages": 1 + int(rng.expovariate(1 / 3)), "direction": "outbound"},
                )
            for b in range(c.bridges):
                if rng.random() < 0.45:
                    minutes = 10 + rng.randrange(80)
                    people = 2 + rng.randrange(8)
                    add(
                        clock.stamp(day, rng.choice(_HOURS), rng),
                        "conference.ended",
                        {
                            "bridge": f"bridge-{b + 1}",
                            "duration_seconds": minutes * 60,
                            "participants": people,
                            "participant_minutes": minutes * people,
                        },
                    )
        # a nightly storage reading (voicemail + call recordings, GB): a gauge
        gb = max(0.0, gb * (1 + rng.uniform(-0.01, 0.02)))
        add(
            clock.at(day, time(23, 30)),
            "storage.level",
            {"gb": f"{gb:.3f}", "kind": "voicemail+recordings"},
        )
        day += timedelta(days=1)
    if c.music_on_hold:
        for k in range(1 + rng.randrange(2)):
            add(
                clock.at(month.start + timedelta(days=3 + 9 * k), time(15)),
                "moh.uploaded",
                {"file": f"hold-{k}.mp3", "bytes": 2_000_000 + rng.randrange(900_000)},
            )
    if c.hardware and month.start.month == 8:
        for sku, qty in c.hardware:
            t = clock.at(month.start + timedelta(days=1), time(11))
            unit = HARDWARE_PRICES[sku]
            add(
                t,
                "hardware.purchased",
                {
                    "sku": sku,
                    "quantity": qty,
                    "unit_amount": unit,
                    "amount": f"{qty * float(unit):.2f}",
                },
            )
    out.sort(key=lambda p: p[0])
    return [e for _, e in out]


def feed_imperfections(
    events: list[dict[str, Any]], rng: random.Random
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What real feeds do: resend a few events (duplicates) and garble a few (malformed).
    Returns (duplicates to resend, malformed events)."""
    if not events:
        return [], []
    dups = [events[rng.randrange(len(events))] for _ in range(max(1, len(events) // 2000))]
    bad: list[dict[str, Any]] = []
    for k in range(max(1, len(events) // 20000)):
        e = dict(events[rng.randrange(len(events))])
        e["id"] = f"{e['id']}-garbled-{k}"
        if k % 3 == 0:
            e["time"] = e["time"].replace("T", " ").removesuffix("Z")  # no offset
        elif k % 3 == 1:
            del e["subject"]
        else:
            e["data"] = "duration=61"
        bad.append(e)
    return dups, bad


def month_events(
    customers: list[Customer], month: MonthPlan, seed: int
) -> Iterator[dict[str, Any]]:
    for c in customers:
        yield from customer_month(c, month, seed)
