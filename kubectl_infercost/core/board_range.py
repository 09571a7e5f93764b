"""The board report's date range and the previous range it is compared with (PURE, UTC).

A range is half-open [start, end) in UTC. ``--period 2026-04`` is that calendar month and is compared
with the month before (month over month); a day or an ISO week likewise with the one before.
``--from A --to B`` is compared with the same number of days just before A.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from ..errors import UsageError
from .periods import hours_between, period_of


@dataclass(frozen=True)
class DateRange:
    start: datetime  # inclusive, UTC
    end: datetime  # exclusive, UTC
    label: str
    kind: str | None = None  # daily / weekly / monthly for a --period label, None for --from/--to

    @property
    def hours(self) -> int:
        return int(hours_between(self.start, self.end))

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end

    def previous(self) -> DateRange:
        """The range just before: the previous day/week/month for a label, else the same length."""
        if self.kind is not None:
            return period_range(period_of(self.start - timedelta(microseconds=1), self.kind, "UTC").label)
        return dates_range(self.start.date() - (self.end - self.start), self.start.date())


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def dates_range(first: date, end: date) -> DateRange:
    """``--from first --to end`` (end exclusive); labelled with the last day it includes."""
    if end <= first:
        raise UsageError(f"--to {end.isoformat()} must be after --from {first.isoformat()}")
    last = end - timedelta(days=1)
    label = first.isoformat() if last == first else f"{first.isoformat()} to {last.isoformat()}"
    return DateRange(_midnight(first), _midnight(end), label)


def period_range(label: str) -> DateRange:
    """The UTC range of a period label: ``2026-04-20`` (day), ``2026-W17`` (ISO week), ``2026-04`` (month)."""
    if len(label) == 10:
        kind, anchor = "daily", datetime.strptime(label, "%Y-%m-%d")
    elif "W" in label:
        kind, anchor = "weekly", datetime.strptime(label + "-1", "%G-W%V-%u")
    else:
        kind, anchor = "monthly", datetime.strptime(label + "-01", "%Y-%m-%d")
    period = period_of(anchor.replace(tzinfo=UTC), kind, "UTC")
    return DateRange(period.start, period.end, period.label, kind)


def month_of(instant: datetime) -> DateRange:
    """The UTC calendar month containing ``instant`` (the default range)."""
    return period_range(period_of(instant, "monthly", "UTC").label)
