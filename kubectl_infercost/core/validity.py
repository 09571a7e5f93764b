"""What makes a UsageReport impossible to account, said in terms of its fields (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ..errors import InvalidDataError
from ..models import PeriodFigures, UsageReportSpec, UsageReportStatus
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
        return Problem("InvalidTimeZone", f"spec.timeZone: unknown IANA time zone {spec.time_zone!r}")
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


def repair_history(history: list[PeriodFigures]) -> tuple[list[PeriodFigures], str | None]:
    """History with each period once, newest first, and what was repaired (None: nothing).

    Of entries for the same period the one accounted furthest (latest periodEnd, then the
    first listed) is kept: the others are earlier copies of it, never extra usage.
    """
    kept: dict[str, PeriodFigures] = {}
    duplicates: list[str] = []
    for entry in history:
        label = entry.period or ""
        old = kept.get(label)
        if old is None:
            kept[label] = entry
            continue
        duplicates.append(label)
        if entry.period_end is not None and (old.period_end is None or entry.period_end > old.period_end):
            kept[label] = entry
    ordered = sorted(kept.values(), key=lambda h: h.period_start.timestamp() if h.period_start else 0.0, reverse=True)
    notes = []
    if duplicates:
        notes.append(f"status.history listed {', '.join(sorted(set(duplicates)))} more than once; merged into one each")
    if not duplicates and [id(h) for h in ordered] != [id(h) for h in history]:
        notes.append("status.history was not ordered newest first; reordered")
    return ordered, ("; ".join(notes) or None)
