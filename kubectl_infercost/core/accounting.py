"""Advance one UsageReport by one interval: deltas, cost, attribution, periods, history (docs/accounting.md).

The status is updated from parts: every byModel figure is rounded once when added,
and the totals are sums of the rounded parts, so the invariants of docs/accounting.md#periods-and-rounding hold exactly.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ..errors import CheckpointAheadError
from ..models import (
    Checkpoint,
    CloudComparison,
    CostProfileSpec,
    GpuCheckpoint,
    HistoryEntry,
    ModelCost,
    NamespaceCost,
    PeriodFigures,
    UsageReportSpec,
    UsageReportStatus,
)
from .attribution import Allocation, attribute, weighted
from .cloud import PriceCatalog, compare
from .cost import GpuEnergy, IntervalCost, interval_cost, interval_energy
from .deltas import PodObservation, next_pod_checkpoints, token_deltas
from .money import ZERO, per_million, round6, split_proportionally
from .periods import Segment, hours_between, period_of, split_interval

ESTIMATE_GAP_HOURS = Decimal(1)


@dataclass
class PassOutcome:
    status: UsageReportStatus
    baseline: bool = False
    accrued_usd: Decimal = ZERO
    tokens: int = 0
    oversubscribed: bool = False  # pods claimed more GPUs than the profile has: a warning


def _gpu_checkpoints(gpus: list[GpuEnergy], kept: Mapping[str, GpuCheckpoint] | None = None) -> list[GpuCheckpoint]:
    """The GPUs' entries after this pass: their readings, or the kept entries of stale readings."""
    kept = kept or {}
    return [
        kept.get(g.uuid)
        or GpuCheckpoint(
            uuid=g.uuid,
            node=g.node,
            observed_at=g.read_window[1] if g.read_window is not None else None,
            energy_mj=g.energy_mj,
            power_w=g.power_w,
        )
        for g in sorted(gpus, key=lambda g: g.uuid)
    ]


def _stale_gpus(checkpoint: Checkpoint, gpus: list[GpuEnergy]) -> dict[str, GpuCheckpoint]:
    """Checkpoint entries holding readings taken after this pass began reading (an overlapping reconciler's).

    A stale energy counter compared with a newer entry would put energy into two intervals; such a GPU
    keeps its entry and counts as unchanged in this interval (its energy arrives with the next pass).
    """
    entries = {g.uuid: g for g in checkpoint.gpus}
    return {
        g.uuid: old
        for g in gpus
        if g.read_window is not None
        and (old := entries.get(g.uuid)) is not None
        and old.observed_at is not None
        and g.read_window[0] < old.observed_at
    }


def _previous_gpus(checkpoint: Checkpoint) -> dict[str, GpuEnergy]:
    return {g.uuid: GpuEnergy(g.uuid, g.node, g.energy_mj, g.power_w) for g in checkpoint.gpus}


def advance(
    spec: UsageReportSpec,
    status: UsageReportStatus,
    profile: CostProfileSpec,
    now: datetime,
    pods: list[PodObservation],
    gpus: list[GpuEnergy],
    catalog: PriceCatalog | None,
    existing_pods: Collection[str] | None = None,
) -> PassOutcome:
    """The report's next status as of ``now`` (does not modify ``status``).

    ``existing_pods``: UIDs of every pod the API server still lists (any phase); checkpoint
    entries of those pods are kept even when they were not observed in this pass.
    """
    checkpoint = status.checkpoint
    # Every path below sets the new checkpoint: the old one (the bulk of a status) is not copied for nothing.
    new = status.model_copy(update={"checkpoint": None}).model_copy(deep=True)
    if checkpoint is None:
        period = period_of(now, spec.schedule, spec.time_zone)
        new.period, new.period_start, new.period_end = period.label, period.start, now
        new.accounting_since = now
        new.checkpoint = Checkpoint(time=now, pods=next_pod_checkpoints(None, pods), gpus=_gpu_checkpoints(gpus))
        _refresh(new, catalog)
        return PassOutcome(new, baseline=True)
    if now < checkpoint.time:
        raise CheckpointAheadError(
            f"evaluation time {now.isoformat()} is before the report's checkpoint {checkpoint.time.isoformat()}"
        )
    if now == checkpoint.time:
        new.checkpoint = checkpoint.model_copy(deep=True)
        return PassOutcome(new)

    deltas = token_deltas(checkpoint, pods)
    stale = _stale_gpus(checkpoint, gpus)
    previous = _previous_gpus(checkpoint)
    readings = [previous[g.uuid] if g.uuid in stale else g for g in gpus]
    energy = interval_energy(profile, previous, readings, hours_between(checkpoint.time, now))
    cost = interval_cost(profile, checkpoint.time, now, energy)
    alloc = attribute(deltas, cost.total, cost.hours, profile.hardware.gpu_count, spec.output_token_weight)
    segments = split_interval(checkpoint.time, now, spec.schedule, spec.time_zone)
    estimated = len(segments) > 1 and cost.hours > ESTIMATE_GAP_HOURS
    outcome = PassOutcome(new, oversubscribed=alloc.oversubscribed)
    before_total = _grand_total(status)
    for seg, part in zip(segments, _split(alloc, cost, [s.fraction for s in segments]), strict=True):
        if new.period != seg.period.label:
            if new.period is not None:
                _close(new, spec, seg.start, catalog)
            _open(new, seg)
        _add(new, part)
        if estimated:
            new.estimated = True
    new.period_end = now
    new.history = new.history[: spec.history_limit]
    new.checkpoint = Checkpoint(
        time=now, pods=next_pod_checkpoints(checkpoint, pods, existing_pods), gpus=_gpu_checkpoints(gpus, stale)
    )
    _refresh(new, catalog)
    outcome.accrued_usd = _grand_total(new) - before_total
    outcome.tokens = sum(s.input_tokens + s.output_tokens for s in alloc.shares.values())
    return outcome


def _grand_total(status: UsageReportStatus) -> Decimal:
    return status.estimated_cost_usd + sum((h.estimated_cost_usd for h in status.history), ZERO)


@dataclass
class _Part:
    """One segment's slice of an interval, already rounded to 6 dp."""

    shares: dict[tuple[str, str], tuple[Decimal, int, int, Decimal | None]]
    idle_cost: Decimal
    idle_gpu_hours: Decimal
    gpu_hours: Decimal
    active_gpu_hours: Decimal
    energy_kwh: Decimal
    hours: Decimal
    active_hours: Decimal
    active_energy_kwh: Decimal
    active_energy_cost: Decimal


def _split(alloc: Allocation, cost: IntervalCost, fractions: list[Decimal]) -> list[_Part]:
    split_tokens = {
        key: (split_proportionally(s.input_tokens, fractions), split_proportionally(s.output_tokens, fractions))
        for key, s in alloc.shares.items()
    }
    # Active GPU time's share of the interval: of its hours, its energy and its electricity.
    active = alloc.active_gpu_hours / alloc.gpu_hours if alloc.gpu_hours else ZERO
    parts = []
    for i, f in enumerate(fractions):
        shares = {
            key: (
                round6(s.cost * f),
                split_tokens[key][0][i],
                split_tokens[key][1][i],
                None if s.gpu_hours is None else round6(s.gpu_hours * f),
            )
            for key, s in alloc.shares.items()
        }
        parts.append(
            _Part(
                shares=shares,
                idle_cost=round6(alloc.idle_cost * f),
                idle_gpu_hours=round6(alloc.idle_gpu_hours * f),
                gpu_hours=round6(alloc.gpu_hours * f),
                active_gpu_hours=round6(alloc.active_gpu_hours * f),
                energy_kwh=round6(cost.energy.kwh * f),
                hours=round6(cost.hours * f),
                active_hours=round6(cost.hours * active * f),
                active_energy_kwh=round6(cost.energy.kwh * active * f),
                active_energy_cost=round6(cost.electricity * active * f),
            )
        )
    return parts


def add_interval(figures: PeriodFigures, alloc: Allocation, cost: IntervalCost) -> None:
    """Add one interval that lies inside one period, rounded exactly as a pass adds it."""
    _add(figures, _split(alloc, cost, [Decimal(1)])[0])


def close_period(
    figures: PeriodFigures, spec: UsageReportSpec, end: datetime, catalog: PriceCatalog | None
) -> HistoryEntry:
    """The history entry of a period whose intervals were added with :func:`add_interval`, closed at ``end``."""
    closing = figures.model_copy(deep=True)
    closing.period_end = end
    if spec.idle_cost_policy == "Proportional":
        spread_idle(closing, spec.output_token_weight)
    _refresh(closing, catalog)
    return HistoryEntry.model_validate(closing.model_dump(include=set(PeriodFigures.model_fields)))


def _add(status: PeriodFigures, part: _Part) -> None:
    rows = {(m.namespace, m.model): m for m in status.by_model}
    for (namespace, model), (cost, tin, tout, gpu_hours) in part.shares.items():
        if not (cost or tin or tout):
            continue
        row = rows.get((namespace, model))
        if row is None:
            row = ModelCost(model=model, namespace=namespace)
            status.by_model.append(row)
            rows[(namespace, model)] = row
        row.estimated_cost_usd += cost
        row.input_tokens += tin
        row.output_tokens += tout
        if gpu_hours is not None:
            row.gpu_hours = (row.gpu_hours or ZERO) + gpu_hours
    status.idle_cost_usd += part.idle_cost
    status.idle_gpu_hours += part.idle_gpu_hours
    status.gpu_hours += part.gpu_hours
    status.active_gpu_hours += part.active_gpu_hours
    status.energy_kwh += part.energy_kwh
    status.total_hours_in_period += part.hours
    status.active_hours_in_period += part.active_hours
    status.active_energy_kwh += part.active_energy_kwh
    status.active_energy_cost_usd += part.active_energy_cost


def _open(status: UsageReportStatus, seg: Segment) -> None:
    fresh = PeriodFigures(period=seg.period.label, period_start=seg.period.start, period_end=seg.start)
    for name in PeriodFigures.model_fields:
        setattr(status, name, getattr(fresh, name))


def _close(status: UsageReportStatus, spec: UsageReportSpec, end: datetime, catalog: PriceCatalog | None) -> None:
    status.period_end = end
    if spec.idle_cost_policy == "Proportional":
        spread_idle(status, spec.output_token_weight)
    _refresh(status, catalog)
    closed = HistoryEntry.model_validate(status.model_dump(include=set(PeriodFigures.model_fields)))
    status.history.insert(0, closed)


def spread_idle(period: PeriodFigures, output_weight: Decimal) -> None:
    """Proportional policy: the period's idle cost goes to its models by weighted tokens."""
    weights = [weighted((m.input_tokens, m.output_tokens), output_weight) for m in period.by_model]
    total = sum(weights, ZERO)
    if period.idle_cost_usd == 0 or total == 0:
        return
    micro = int(period.idle_cost_usd * 1_000_000)
    for row, micros in zip(period.by_model, split_proportionally(micro, weights), strict=True):
        share = Decimal(micros) / 1_000_000
        row.idle_cost_usd = share
        row.estimated_cost_usd += share
    period.idle_cost_usd = ZERO


def _refresh(period: PeriodFigures, catalog: PriceCatalog | None) -> None:
    """Derived figures, all from the rounded parts."""
    period.by_model.sort(key=lambda m: (m.namespace, m.model))
    for row in period.by_model:
        row.cost_per_million_tokens = per_million(row.estimated_cost_usd, row.input_tokens + row.output_tokens)
    namespaces: dict[str, NamespaceCost] = {}
    for row in period.by_model:
        ns = namespaces.setdefault(row.namespace, NamespaceCost(namespace=row.namespace))
        ns.estimated_cost_usd += row.estimated_cost_usd
        ns.token_count += row.input_tokens + row.output_tokens
    period.by_namespace = [namespaces[k] for k in sorted(namespaces)]
    period.input_tokens = sum(m.input_tokens for m in period.by_model)
    period.output_tokens = sum(m.output_tokens for m in period.by_model)
    period.estimated_cost_usd = sum((m.estimated_cost_usd for m in period.by_model), ZERO) + period.idle_cost_usd
    tokens = period.input_tokens + period.output_tokens
    period.cost_per_million_tokens = per_million(period.estimated_cost_usd, tokens)
    period.gpu_efficiency_ratio = round6(period.active_gpu_hours / period.gpu_hours) if period.gpu_hours else ZERO
    hours = period.total_hours_in_period
    period.utilization_percent = round6(period.active_hours_in_period / hours * 100) if hours else ZERO
    period.marginal_cost_per_million_tokens = per_million(period.active_energy_cost_usd, tokens)
    if catalog is not None:
        period.cloud_comparison = [
            CloudComparison(
                provider=c.provider,
                model=c.model,
                estimated_cloud_cost_usd=round6(c.cloud_cost_usd),
                savings_usd=round6(c.savings_usd),
                savings_percent=round6(c.savings_percent),
            )
            for c in compare(catalog, period.input_tokens, period.output_tokens, period.estimated_cost_usd)
        ]
