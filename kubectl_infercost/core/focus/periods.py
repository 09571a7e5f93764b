"""Which periods of a UsageReport are exported, and their slices at UTC month starts (docs/export-focus.md).

PURE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from ...errors import InvalidDataError
from ...models import PeriodFigures, UsageReport
from .errors import OptionError

_DAILY = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
_WEEKLY = re.compile(r"^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$")
_MONTHLY = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def period_kind(label: str) -> str | None:
    """``daily`` / ``weekly`` / ``monthly`` from a label's shape, or None."""
    if _DAILY.fullmatch(label):
        return "daily"
    if _WEEKLY.fullmatch(label):
        return "weekly"
    if _MONTHLY.fullmatch(label):
        return "monthly"
    return None


def is_period_label(label: str) -> bool:
    """``2026-04-20``, ``2026-W17`` or ``2026-04``, naming a real day or ISO week."""
    kind = period_kind(label)
    try:
        if kind == "daily":
            datetime.strptime(label, "%Y-%m-%d")
        elif kind == "weekly":
            datetime.strptime(label + "-1", "%G-W%V-%u")
    except ValueError:
        return False
    return kind is not None


@dataclass(frozen=True)
class PeriodSelection:
    """Which periods to export. All criteria must hold.

    * ``label``: the period's own label; a month label ``YYYY-MM`` also selects the daily periods
      ``YYYY-MM-DD`` and the parts of weekly periods that fall in that (UTC) month.
    * ``start``/``end`` (``--from``/``--to``, UTC): keep the month slices overlapping [start, end).
    * ``include_open``: the current (open) period of each report is exported unless this is False.
    """

    label: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    include_open: bool = True

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise OptionError("start", self.start, "must be before the end of the window")


class Slice(NamedTuple):
    """The part of one period inside one UTC calendar month (most periods have exactly one)."""

    label: str
    start: datetime  # whole seconds, UTC
    end: datetime  # exclusive
    billing_start: datetime
    billing_end: datetime
    seconds: int  # length of this slice
    total_seconds: int  # length of the whole period
    part: int  # position among the period's slices
    parts: int  # how many slices the period has
    is_open: bool


def _month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _next_month(moment: datetime) -> datetime:
    first = _month_start(moment)
    return (first + timedelta(days=32)).replace(day=1)


def _floor_second(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def _ceil_second(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment if moment.microsecond == 0 else moment.replace(microsecond=0) + timedelta(seconds=1)


def report_periods(report: UsageReport) -> list[tuple[PeriodFigures, bool]]:
    """(figures, is_open) of a report, oldest first: its closed history, then the current period."""
    status = report.status
    periods: list[tuple[PeriodFigures, bool]] = [(p, False) for p in reversed(status.history)]
    if status.period is not None:
        periods.append((status, True))
    return periods


def slices_of(figures: PeriodFigures, is_open: bool, where: str, since: datetime | None = None) -> list[Slice]:
    """Cut a period at UTC month starts. A period never accounted (no start/end) gives no slices.

    The charge starts when the period did, or later when accounting began inside it (``since``, the
    report's ``accountingSince``): nothing was measured before. Start is floored and end ceiled to
    whole seconds (FOCUS date-times have no fractions).
    """
    if figures.period is None or figures.period_start is None or figures.period_end is None:
        return []
    begin = figures.period_start
    if since is not None and begin < since < figures.period_end:
        begin = since
    start, end = _floor_second(begin), _ceil_second(figures.period_end)
    if end <= start:
        if figures.estimated_cost_usd or figures.input_tokens or figures.output_tokens:
            raise InvalidDataError(f"{where}: periodEnd is not after periodStart but the period holds usage")
        return []
    month = _month_start(start)
    boundary = _next_month(month)
    total = int((end - start).total_seconds())
    if end <= boundary:  # the common case: one month
        return [Slice(figures.period, start, end, month, boundary, total, total, 0, 1, is_open)]
    cuts = [start]
    while boundary < end:
        cuts.append(boundary)
        boundary = _next_month(boundary)
    cuts.append(end)
    count = len(cuts) - 1
    return [
        Slice(
            figures.period,
            cuts[i],
            cuts[i + 1],
            _month_start(cuts[i]),
            _next_month(cuts[i]),
            int((cuts[i + 1] - cuts[i]).total_seconds()),
            total,
            i,
            count,
            is_open,
        )
        for i in range(count)
    ]


def selected(piece: Slice, selection: PeriodSelection) -> bool:
    if piece.is_open and not selection.include_open:
        return False
    if selection.start is not None and piece.end <= selection.start:
        return False
    if selection.end is not None and piece.start >= selection.end:
        return False
    wanted = selection.label
    if wanted is None or piece.label == wanted:
        return True
    if period_kind(wanted) != "monthly":
        return False
    kind = period_kind(piece.label)
    if kind == "daily":
        return piece.label.startswith(wanted + "-")
    if kind == "weekly":
        return f"{piece.start.year:04d}-{piece.start.month:02d}" == wanted
    return False
