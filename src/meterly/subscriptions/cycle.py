"""A subscription's billing periods in the customer's time zone (pure: no I/O).

Periods start at local midnight on the billing anchor day. pricing.periods takes the anchor day
from an anchor *date*, so a monthly anchor of 29–31 is placed in a month that has that day
(January, or the start's month for quarters and years); shorter months then clamp to their last
day, and the next month returns to the anchor day.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import cast
from zoneinfo import ZoneInfo

from meterly.pricing.models import Interval
from meterly.pricing.periods import clamp_day, local_datetime, period_containing


def anchor_datetime(start: datetime, tz: str, anchor_day: int, interval: str) -> datetime:
    zone = ZoneInfo(tz)
    local = start.astimezone(zone)
    if interval in ("day", "week"):
        return local_datetime(local.date(), time(0), zone)
    if interval == "month":
        day = date(local.year, 1, anchor_day)
    else:
        # quarters and years keep the start's month; only the day is clamped in it
        day = clamp_day(local.year, local.month, anchor_day)
    return local_datetime(day, time(0), zone)


def current_period(
    start: datetime, tz: str, anchor_day: int, interval: str, at: datetime
) -> tuple[datetime, datetime]:
    """The billing period [start, end) containing `at`, as local datetimes of the customer."""
    anchor = anchor_datetime(start, tz, anchor_day, interval)
    return period_containing(anchor, cast(Interval, interval), at)
