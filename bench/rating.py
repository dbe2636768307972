"""Rating throughput. Prints one JSON object.

graduated_per_s  — 1 M random quantities, each rated as its own period (rounded total) against a
                   5-tier graduated price, through a compiled Rater.
increments_per_s — 1 M call durations rated against a 60/6 increments price (one period).
The *_with_lines_per_s figures use the full ``rate`` with its breakdown, on a smaller sample.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from meterly.config import Settings
from meterly.pricing import compile_price
from meterly.runtime import Runtime

N = 1_000_000
N_LINES = 100_000

GRADUATED: dict[str, Any] = {
    "model": "graduated",
    "tiers": [
        {"up_to": "1000", "unit_amount": "0.0200", "flat_amount": "5"},
        {"up_to": "10000", "unit_amount": "0.0150"},
        {"up_to": "100000", "unit_amount": "0.0100"},
        {"up_to": "1000000", "unit_amount": "0.0075"},
        {"up_to": None, "unit_amount": "0.0050"},
    ],
}
INCREMENTS: dict[str, Any] = {
    "model": "increments",
    "unit_seconds": "60",
    "unit_amount": "0.02",
    "first_increment": "60",
    "increment": "6",
}


def _per_s(count: int, seconds: float) -> int:
    return round(count / seconds)


def main() -> None:
    rng = random.Random(42)
    quantities = [Decimal(rng.randrange(0, 2_000_000)) / 10 for _ in range(N)]
    durations = [Decimal(rng.randrange(0, 3600)) for _ in range(N)]

    graduated = compile_price(GRADUATED)
    start = time.perf_counter()
    graduated.amounts(quantities)
    graduated_s = time.perf_counter() - start

    start = time.perf_counter()
    for quantity in quantities[:N_LINES]:
        graduated.rate(quantity)
    graduated_lines_s = time.perf_counter() - start

    increments = compile_price(INCREMENTS)
    start = time.perf_counter()
    increments.rate(transactions=durations)
    increments_s = time.perf_counter() - start

    call_cost = increments.increments.call_cost
    start = time.perf_counter()
    for duration in durations[:N_LINES]:
        call_cost(duration)
    per_call_s = time.perf_counter() - start

    result: dict[str, Any] = {
        "graduated_per_s": _per_s(N, graduated_s),
        "graduated_with_lines_per_s": _per_s(N_LINES, graduated_lines_s),
        "increments_per_s": _per_s(N, increments_s),
        "increments_call_cost_per_s": _per_s(N_LINES, per_call_s),
    }
    if "--no-entitlements" not in sys.argv:
        # 10,000 checks against a customer with 1 M events this month (bench/entitlements.py)
        result.update(_entitlements())
    print(json.dumps(result))


def _entitlements() -> dict[str, float]:
    sys.path.insert(0, str(Path(__file__).parent))
    import entitlements

    with tempfile.TemporaryDirectory() as tmp:
        rt = Runtime.open(Settings(data_dir=Path(tmp), provider_id="skyline"))
        try:
            return entitlements.run(rt)
        finally:
            rt.close()


if __name__ == "__main__":
    main()
