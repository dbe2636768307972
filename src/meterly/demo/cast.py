"""Who is in the demo: Skyline Voice, its MSP resellers and their small-business customers.

Pure data; the generator (events.py) and the runner use it. Deterministic for a seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reseller:
    external_id: str
    name: str
    timezone: str
    parent: str = "skyline"


@dataclass(frozen=True)
class Customer:
    external_id: str
    name: str
    reseller: str
    timezone: str
    seats: int
    numbers: int
    level: str  # basic | pro | enterprise
    intl_share: float = 0.03  # share of outbound calls that are international
    countries: tuple[str, ...] = ("GB", "CA", "MX")
    fax: float = 0.0  # fax pages per seat per business day
    bridges: int = 0
    calls_per_seat: float = 7.0
    storage_gb: float = 2.0
    music_on_hold: bool = False
    hardware: tuple[tuple[str, int], ...] = ()
    aliases: tuple[str, ...] = field(default_factory=tuple)


PROVIDER = ("skyline", "Skyline Voice")

RESELLERS = (
    Reseller("metro-msp", "Metro Managed Services", "America/New_York"),
    Reseller("harbor-it", "Harbor IT Partners", "America/New_York"),
    Reseller("pacific-tech", "Pacific Tech Partners", "America/Los_Angeles"),
    # a commercial property owner reselling phone service to its tenants: a sub-reseller
    Reseller(
        "midtown-properties",
        "Midtown Commercial Properties",
        "America/New_York",
        parent="metro-msp",
    ),
)

NY, NJ, LA, CHI = "America/New_York", "America/New_York", "America/Los_Angeles", "America/Chicago"

# The reference customers of the brief, each with the shape of its telephony.
NAMED = (
    Customer(
        "two-office-design",
        "Brightline Design (2 offices)",
        "metro-msp",
        NY,
        8,
        10,
        "pro",
        calls_per_seat=9,
        storage_gb=4,
        hardware=(("yealink-t54w", 8),),
    ),
    Customer(
        "keystone-realty",
        "Keystone Realty",
        "metro-msp",
        NY,
        4,
        5,
        "basic",
        calls_per_seat=14,
        storage_gb=1,
    ),
    Customer(
        "willow-creek-community",
        "Willow Creek Adult Community",
        "harbor-it",
        NJ,
        60,
        60,
        "basic",
        calls_per_seat=1.5,
        storage_gb=6,
        hardware=(("ata-ht801", 60),),
    ),
    Customer(
        "liberty-insurance",
        "Liberty Insurance Sales (virtual office)",
        "pacific-tech",
        LA,
        12,
        14,
        "pro",
        calls_per_seat=18,
        storage_gb=3,
    ),
    Customer(
        "little-acorns-preschool",
        "Little Acorns Preschool",
        "harbor-it",
        NJ,
        9,
        3,
        "basic",
        calls_per_seat=2,
        storage_gb=1,
        hardware=(("poly-vvx150", 9),),
    ),
    Customer(
        "afro-euro-parts",
        "Afro-Euro Used Car Parts Export",
        "pacific-tech",
        LA,
        3,
        2,
        "pro",
        intl_share=0.55,
        countries=("NG", "GH", "KE", "ZA"),
        calls_per_seat=12,
    ),
    Customer(
        "bluenote-music",
        "BlueNote Music Co.",
        "pacific-tech",
        LA,
        20,
        22,
        "pro",
        calls_per_seat=6,
        storage_gb=12,
        music_on_hold=True,
    ),
    Customer(
        "hudson-holdings",
        "Hudson Holdings (4 NY offices)",
        "metro-msp",
        NY,
        250,
        280,
        "enterprise",
        intl_share=0.05,
        bridges=12,
        calls_per_seat=8,
        storage_gb=90,
        fax=0.02,
        hardware=(("yealink-t46u", 40),),
    ),
    Customer(
        "rivera-consulting",
        "Rivera Consulting (sole proprietor)",
        "harbor-it",
        NJ,
        1,
        2,
        "basic",
        fax=0.8,
        calls_per_seat=10,
    ),
    Customer(
        "garcia-immigration-law",
        "Garcia & Partners Immigration Law",
        "metro-msp",
        NY,
        18,
        20,
        "enterprise",
        intl_share=0.18,
        countries=("MX", "GT", "SV", "IN", "PH"),
        bridges=9,
        fax=0.3,
        storage_gb=10,
    ),
    Customer(
        "quadrant-engineering",
        "Quadrant Engineering (4 founders)",
        "pacific-tech",
        LA,
        4,
        4,
        "pro",
        calls_per_seat=5,
        bridges=1,
    ),
    Customer(
        "hope-without-borders",
        "Hope Without Borders (non-profit)",
        "harbor-it",
        NJ,
        15,
        16,
        "pro",
        intl_share=0.35,
        countries=("KE", "UG", "IN", "HT", "PE"),
        storage_gb=5,
    ),
    Customer(
        "whitman-law",
        "Whitman & Hale LLP (14 staff)",
        "metro-msp",
        NY,
        14,
        16,
        "enterprise",
        bridges=6,
        fax=0.4,
        calls_per_seat=9,
        storage_gb=8,
        aliases=("+12125550140",),
    ),
)

# Tenants of the property owner (customers of the sub-reseller).
TENANTS = (
    Customer(
        "suite-400-dental",
        "Suite 400 Dental",
        "midtown-properties",
        NY,
        5,
        3,
        "basic",
        fax=0.5,
        calls_per_seat=6,
    ),
    Customer(
        "suite-220-accounting",
        "Suite 220 Accounting",
        "midtown-properties",
        NY,
        7,
        4,
        "pro",
        fax=0.6,
        calls_per_seat=8,
    ),
)

_TOWNS = ("Oak", "Maple", "Cedar", "River", "Summit", "Harbor", "Lake", "Pine", "Valley", "Bay")
_TRADES = (
    ("Dental", "basic", 0.4),
    ("Veterinary Clinic", "pro", 0.2),
    ("Auto Repair", "basic", 0.1),
    ("Family Practice", "pro", 0.6),
    ("Realty", "basic", 0.0),
    ("Plumbing", "basic", 0.0),
    ("Accounting", "pro", 0.5),
    ("Pharmacy", "pro", 0.8),
    ("Hotel", "enterprise", 0.1),
    ("Logistics", "enterprise", 0.2),
    ("Architects", "pro", 0.1),
    ("Bakery", "basic", 0.0),
)


def customers(total: int, seed: int) -> list[Customer]:
    """The named cast first, then generated small businesses up to `total`."""
    rng = random.Random(seed)
    out = list(NAMED + TENANTS)[: max(total, 0)]
    resellers = [r for r in RESELLERS if r.parent == "skyline"]
    n = 0
    while len(out) < total:
        n += 1
        town = _TOWNS[rng.randrange(len(_TOWNS))]
        trade, level, fax = _TRADES[rng.randrange(len(_TRADES))]
        reseller = resellers[rng.randrange(len(resellers))]
        seats = max(1, int(rng.lognormvariate(1.8, 0.8)))
        out.append(
            Customer(
                external_id=f"{town.lower()}-{trade.split()[0].lower()}-{n}",
                name=f"{town} {trade}",
                reseller=reseller.external_id,
                timezone=reseller.timezone if rng.random() < 0.8 else CHI,
                seats=seats,
                numbers=seats + rng.randrange(3),
                level=level,
                intl_share=rng.choice((0.01, 0.03, 0.08)),
                fax=fax,
                bridges=rng.choice((0, 0, 1, 2)) if level != "basic" else 0,
                calls_per_seat=rng.uniform(3, 12),
                storage_gb=round(seats * rng.uniform(0.2, 1.0), 1),
            )
        )
    return out
