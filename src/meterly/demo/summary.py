"""The demo's closing summary, read back through the public API."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

from rich.table import Table

from meterly.demo import cast, events

if TYPE_CHECKING:
    from meterly.demo.runner import Demo


def _usage(demo: Demo, url: str, meter: str, start: str, end: str) -> dict[str, Decimal]:
    from meterly.demo.runner import _check

    with demo.client(url, cast.PROVIDER[0]) as api:
        rows = _check(api.get(f"/v1/meters/{meter}/usage", params={"from": start, "to": end}))
    out: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows["rows"]:
        out[r["subject"]] += Decimal(r["value"])
    return out


def print_summary(demo: Demo, url: str, roster: list[cast.Customer]) -> None:
    from meterly.demo.runner import FIRST_MONTH

    con = demo.console
    t = demo.tally
    plan = events.months(FIRST_MONTH, demo.options.months)
    start, end = f"{plan[0].start}T00:00:00Z", f"{plan[-1].end}T00:00:00Z"
    con.print(
        f"\n[bold]Accounts[/bold]: 1 provider, {len(cast.RESELLERS)} resellers "
        f"(1 sub-reseller), {len(roster)} customers"
    )
    con.print(
        f"[bold]Events[/bold]: {t.accepted:,} accepted, {t.duplicates:,} duplicate, "
        f"{t.rejected:,} rejected (malformed), {t.late:,} arrived late"
    )
    reseller_of = {c.external_id: c.reseller for c in roster}
    meters = {
        "domestic min": "call-seconds-domestic",
        "intl min": "call-seconds-international",
        "toll-free min": "call-seconds-toll-free",
        "fax pages": "fax-pages",
        "bridge p-min": "bridge-participant-minutes",
    }
    per: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    by_customer: dict[str, Decimal] = defaultdict(Decimal)
    for label, key in meters.items():
        for subject, value in _usage(demo, url, key, start, end).items():
            v = value / 60 if label.endswith(" min") else value
            per[reseller_of.get(subject, "?")][label] += v
            if label.endswith(" min"):
                by_customer[subject] += v
    table = Table(title=f"Usage {plan[0].start:%b} - {plan[-1].start:%b %Y} per reseller")
    table.add_column("reseller")
    for label in meters:
        table.add_column(label, justify="right")
    for r in cast.RESELLERS:
        row = per.get(r.external_id, {})
        table.add_row(r.name, *[f"{row.get(label, Decimal(0)):,.0f}" for label in meters])
    con.print(table)
    top = sorted(by_customer.items(), key=lambda kv: kv[1], reverse=True)[:5]
    ttop = Table(title="Top customers by call minutes")
    ttop.add_column("customer")
    ttop.add_column("minutes", justify="right")
    names = {c.external_id: c.name for c in roster}
    for subject, minutes in top:
        ttop.add_row(names.get(subject, subject), f"{minutes:,.0f}")
    con.print(ttop)
    from meterly.demo.billing_summary import print_billing

    print_billing(demo, url)
