"""TokenBudgets on the board report: stored status, with the month-end spend at the month-to-date rate (PURE)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from ..models import TokenBudget
from .money import round6
from .periods import hours_between
from .reportdata import budget_rows

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class BudgetLine:
    namespace: str
    name: str
    scope: str
    limit: Decimal
    spend: Decimal | None
    utilization: Decimal | None
    state: str
    thresholds: tuple[int, ...]
    projected: Decimal | None  # month-end spend at the month-to-date rate
    projected_utilization: Decimal | None
    period_end: datetime | None


def month_end(period_start: datetime) -> datetime:
    """End of the calendar month a budget period starts (its start is local midnight of day 1)."""
    probe = period_start + timedelta(days=1)  # inside the month whatever the zone's offset
    first_next = (probe.replace(day=1) + timedelta(days=32)).replace(day=1)
    return period_start + (first_next - probe.replace(day=1))


def budget_lines(budgets: Iterable[TokenBudget]) -> list[BudgetLine]:
    """Stored TokenBudget status with the month-end projection: spend × month hours / elapsed hours."""
    lines = []
    for row in budget_rows(budgets):
        spend, start, end = row["currentSpendUSD"], row["periodStart"], row["periodEnd"]
        limit: Decimal = row["monthlyLimitUSD"]
        projected = None
        if spend is not None and start is not None and end is not None and end > start:
            projected = round6(spend * hours_between(start, month_end(start)) / hours_between(start, end))
        lines.append(
            BudgetLine(
                namespace=row["namespace"] or "",
                name=row["name"],
                scope=row["scopeNamespace"],
                limit=limit,
                spend=spend,
                utilization=row["utilizationPercent"],
                state=row["state"],
                thresholds=tuple(sorted(t["percent"] for t in row["thresholds"])),
                projected=projected,
                projected_utilization=round6(projected / limit * HUNDRED) if projected is not None and limit else None,
                period_end=end,
            )
        )
    return lines
