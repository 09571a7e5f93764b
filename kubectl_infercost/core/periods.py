"""Report periods (daily, weekly ISO, monthly) in a time zone; half-open, as aware UTC datetimes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import InvalidDataError


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime  # inclusive, UTC
    end: datetime  # exclusive, UTC


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidDataError(f"unknown time zone {name!r}") from exc


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def period_of(instant: datetime, schedule: str, tz_name: str) -> Period:
    """The period containing ``instant`` (an aware datetime)."""
    tz = zone(tz_name)
    local = instant.astimezone(tz).date()
    if schedule == "daily":
        first, nxt = local, local + timedelta(days=1)
        label = first.isoformat()
    elif schedule == "weekly":
        first = local - timedelta(days=local.weekday())
        nxt = first + timedelta(days=7)
        year, week, _ = first.isocalendar()
        label = f"{year}-W{week:02d}"
    elif schedule == "monthly":
        first = local.replace(day=1)
        nxt = (first + timedelta(days=32)).replace(day=1)
        label = f"{first.year:04d}-{first.month:02d}"
    else:
        raise InvalidDataError(f"unknown schedule {schedule!r}")
    return Period(label, _local_midnight(first, tz), _local_midnight(nxt, tz))


@dataclass(frozen=True)
class Segment:
    period: Period
    start: datetime
    end: datetime
    fraction: Decimal  # of the whole interval


def split_interval(start: datetime, end: datetime, schedule: str, tz_name: str) -> list[Segment]:
    """Cut [start, end) at period boundaries; fractions are by time and add up to exactly 1."""
    if end <= start:
        return []
    total = Decimal((end - start) // timedelta(microseconds=1))
    segments: list[Segment] = []
    cursor = start
    while cursor < end:
        period = period_of(cursor, schedule, tz_name)
        seg_end = min(period.end, end)
        length = Decimal((seg_end - cursor) // timedelta(microseconds=1))
        segments.append(Segment(period, cursor, seg_end, length / total))
        cursor = seg_end
    if len(segments) > 1:
        # The last fraction takes the remainder so the parts add up to exactly 1.
        rest = Decimal(1) - sum((s.fraction for s in segments[:-1]), Decimal(0))
        last = segments[-1]
        segments[-1] = Segment(last.period, last.start, last.end, rest)
    return segments


def hours_between(start: datetime, end: datetime) -> Decimal:
    return Decimal((end - start) // timedelta(microseconds=1)) / Decimal(3_600_000_000)
