"""What makes a UsageReport impossible to account, said in terms of its fields (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ..errors import InvalidDataError
from ..models import PeriodFigures, UsageReportSpec, UsageReportStatus
from ..models.usagereport import repair_history

__all__ = ["Problem", "repair_history", "report_problem"]
from .periods import zone


@dataclass(frozen=True)
class Problem:
    """Why an object is not Ready: a condition reason and a message naming the field."""

    reason: str
    message: str


def _money_fields(prefix: str, period: PeriodFigures) -> list[tuple[str, Decimal]]:
    fields = [
        (f"{prefix}estimatedCostUSD", period.estimated_cost_usd),
        (f"{prefix}idleCostUSD", period.idle_cost_usd),
        (f"{prefix}energyKWh", period.energy_kwh),
    ]
    for i, row in enumerate(period.by_model):
        fields.append((f"{prefix}byModel[{i}].estimatedCostUSD", row.estimated_cost_usd))
    for i, ns in enumerate(period.by_namespace):
        fields.append((f"{prefix}byNamespace[{i}].estimatedCostUSD", ns.estimated_cost_usd))
    return fields


def report_problem(spec: UsageReportSpec, status: UsageReportStatus, now: datetime, replay: bool) -> Problem | None:
    """The first reason this report cannot be accounted at ``now``, or None.

    ``replay``: ``now`` was given explicitly (``--now``); a checkpoint after it is then the
    caller's mistake, not the object's, and is refused elsewhere.
    """
    try:
        zone(spec.time_zone)
    except InvalidDataError:
        return Problem(
            "InvalidTimeZone", f"spec.timeZone: unknown time zone {spec.time_zone!r} (an IANA name, e.g. Europe/Paris)"
        )
    checkpoint = status.checkpoint
    if checkpoint is not None and checkpoint.time > now and not replay:
        return Problem(
            "CheckpointInFuture",
            f"status.checkpoint.time {checkpoint.time.isoformat()} is after now ({now.isoformat()}): "
            "a clock was wrong when it was written; delete status.checkpoint to take a new baseline",
        )
    periods = [("status.", status)] + [(f"status.history[{i}].", h) for i, h in enumerate(status.history)]
    for prefix, period in periods:
        for name, value in _money_fields(prefix, period):
            if value < 0:
                return Problem("NegativeValue", f"{name} is negative ({value}); figures are never negative")
    return None
