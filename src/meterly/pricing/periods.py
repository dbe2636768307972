"""Billing periods in the account's IANA zone: half-open [start, end), DST-correct.

Boundaries are built as local wall times (date + the anchor's time of day) and only then given the
zone; adding timedeltas to aware datetimes would drift by an hour across a DST change. Comparisons
go through UTC because Python compares two datetimes sharing a tzinfo by wall time, ignoring fold.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Final

from meterly.pricing.models import Interval

_MONTHS: Final[dict[str, int]] = {"month": 1, "quarter": 3, "year": 12}
_DAYS: Final[dict[str, int]] = {"day": 1, "week": 7}


def _zone(value: datetime, name: str) -> tzinfo:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (in the account's IANA zone)")
    return value.tzinfo


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def local_datetime(day: date, at: time, zone: tzinfo) -> datetime:
    """The instant of a local wall time. A wall time that does not exist (skipped by a DST jump)
    becomes the first instant after the jump; an ambiguous one takes the first occurrence."""
    wall = datetime.combine(day, at, tzinfo=zone)
    return _utc(wall).astimezone(zone)


def clamp_day(year: int, month: int, anchor_day: int) -> date:
    """The anchor day in a month, clamped to the month's last day (31 → 28/29/30)."""
    return date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def add_months(day: date, months: int, anchor_day: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return clamp_day(index // 12, index % 12 + 1, anchor_day)


def _check_interval(interval: str) -> None:
    if interval not in _MONTHS and interval not in _DAYS:
        raise ValueError(f"unknown interval {interval!r}")


def _boundary(anchor: datetime, interval: Interval, index: int) -> datetime:
    """Start of period number ``index`` counted from the anchor (index 0 starts at the anchor)."""
    zone = _zone(anchor, "anchor")
    local = anchor.astimezone(zone)
    wall_time = local.time().replace(tzinfo=None, fold=0)
    if interval in _MONTHS:
        day = add_months(local.date(), index * _MONTHS[interval], local.day)
    else:
        day = local.date() + timedelta(days=index * _DAYS[interval])
    return local_datetime(day, wall_time, zone)


def period_containing(
    anchor: datetime, interval: Interval, at: datetime
) -> tuple[datetime, datetime]:
    """The period [start, end) of a billing cycle anchored at ``anchor`` that contains ``at``.

    ``anchor`` carries the account's zone, the anchor day of month (29–31 clamp in shorter months)
    and the local time of day periods start at. Results are in the anchor's zone. Works before the
    anchor too (periods extend backwards).
    """
    _check_interval(interval)
    zone = _zone(anchor, "anchor")
    _zone(at, "at")
    local_anchor = anchor.astimezone(zone)
    local_at = at.astimezone(zone)
    if interval in _MONTHS:
        months = (local_at.year - local_anchor.year) * 12 + local_at.month - local_anchor.month
        index = months // _MONTHS[interval]
    else:
        index = (local_at.date() - local_anchor.date()).days // _DAYS[interval]
    target = _utc(at)
    # The estimate is off by at most one period (time of day, clamped days); step to the right one.
    while _utc(start := _boundary(anchor, interval, index)) > target:
        index -= 1
    while _utc(end := _boundary(anchor, interval, index + 1)) <= target:
        index += 1
        start = end
    return start, end


def period_end(
    start: datetime,
    interval: Interval,
    anchor_day: int | None = None,
    anchor_time: time | None = None,
) -> datetime:
    """End (exclusive) of the period beginning at ``start``.

    Pass the billing anchor's day of month so that a period starting on a clamped day (Feb 28 for
    anchor 31) ends back on the anchor day (Mar 31), not on Mar 28; and the anchor's local time of
    day, because a start that fell in a DST gap was moved (00:00 → 01:00 in America/Santiago) and
    its own wall time is no longer the anchor's. Both default to ``start``'s own.
    """
    _check_interval(interval)
    zone = _zone(start, "start")
    local = start.astimezone(zone)
    wall_time = anchor_time or local.time().replace(tzinfo=None, fold=0)
    if interval in _MONTHS:
        day = add_months(local.date(), _MONTHS[interval], anchor_day or local.day)
    else:
        day = local.date() + timedelta(days=_DAYS[interval])
    return local_datetime(day, wall_time, zone)


def next_period(
    start: datetime,
    interval: Interval,
    anchor_day: int | None = None,
    anchor_time: time | None = None,
) -> tuple[datetime, datetime]:
    """The period that follows the one beginning at ``start``: (its start, its end)."""
    following = period_end(start, interval, anchor_day, anchor_time)
    return following, period_end(following, interval, anchor_day, anchor_time)


def anchor_parts(anchor: datetime) -> tuple[int, time]:
    """The anchor's local day of month and wall time, as ``next_period`` wants them."""
    local = anchor.astimezone(_zone(anchor, "anchor"))
    return local.day, local.time().replace(tzinfo=None, fold=0)


def periods_between(
    anchor: datetime, interval: Interval, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Every period overlapping [start, end), in order, tiling it without gaps."""
    periods: list[tuple[datetime, datetime]] = []
    if _utc(end) <= _utc(start):
        return periods
    current = period_containing(anchor, interval, start)
    anchor_day, anchor_time = anchor_parts(anchor)
    while _utc(current[0]) < _utc(end):
        periods.append(current)
        current = next_period(current[0], interval, anchor_day, anchor_time)
    return periods
