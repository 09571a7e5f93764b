"""History before ``accountingSince``, replayed from raw samples (``kubectl infercost backfill``).

Which periods: whole periods in the report's time zone that start at or after ``since``, end at or
before ``min(until, accountingSince)``, overlap no period already in ``status.history`` nor the
current one, and fit in ``historyLimit`` next to the entries already kept (newest first).

How a period is computed: as if ``reconcile`` had run at the period's start and then every ``step``
(the last step ends at the period's end), with a source that kept every sample. Each step (t0, t1]:

- tokens of a series are the growth of its raw samples in (t0, t1] (:func:`counters.growth`: a drop
  is a reset and the value after it counts whole); the mark is carried from step to step, starting
  from the series' last sample at or before the period's start. A series with no sample there is new
  in the period and its first sample counts whole, unless that sample is among the first Prometheus
  holds (within five minutes of its earliest sample for the period): then it existed before and the
  sample is only its baseline. A sample at t1 belongs to this step, not the next;
  growth across a gap arrives with the first sample after it;
- energy of a GPU is the growth of its energy counter in the step (the same rules; a GPU's first
  sample is only its baseline), else the power at t0 and t1; without any reading, the TDP fallback;
- a GPU's owner is the pod that dcgm-exporter's mapping names on the GPU's latest sample in the five
  minutes up to t1 (what a reconcile pass at t1 sees); pods outside the report's namespaces own nothing;
- the step's cost, attribution, rounding and the period's closing are the live code's own
  (:func:`cost.interval_cost`, :func:`attribution.attribute`, :func:`usage.add_interval`,
  :func:`usage.close_period`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise

from ..models import CostProfileSpec, HistoryEntry, PeriodFigures, UsageReportSpec, UsageReportStatus
from ..models.usagereport import HistorySource
from .accounting import add_interval, close_period
from .attribution import attribute
from .cloud import PriceCatalog
from .cost import GpuEnergy, interval_cost, interval_energy
from .counters import CounterSample, growth
from .deltas import PodDelta, PodObservation
from .periods import Period, hours_between, period_of, zone

SOURCE: HistorySource = "prometheus-backfill"
STALENESS = timedelta(minutes=5)  # Prometheus' lookback delta: a series is present at t if it has a sample in it
PodKey = tuple[str, str]  # (namespace, pod)
Bound = date | datetime  # a date is local midnight in each report's time zone


def resolve_bound(bound: Bound, tz_name: str) -> datetime:
    """An instant as is; a date as midnight in ``tz_name`` (the report's zone), aware UTC."""
    if isinstance(bound, datetime):
        return bound.astimezone(UTC)
    return datetime.combine(bound, time(0), tzinfo=zone(tz_name)).astimezone(UTC)


@dataclass
class Plan:
    periods: list[Period] = field(default_factory=list)  # to write, newest first
    notes: list[str] = field(default_factory=list)  # periods in the range that are not written, and why


def _accounted(spec: UsageReportSpec, status: UsageReportStatus) -> list[tuple[datetime, datetime | None]]:
    """Spans already accounted: each history entry (without periodEnd: its whole period), and the current period."""
    spans: list[tuple[datetime, datetime | None]] = [
        (h.period_start, h.period_end or period_of(h.period_start, spec.schedule, spec.time_zone).end)
        for h in status.history
        if h.period_start is not None
    ]
    if status.period_start is not None:
        spans.append((status.period_start, None))
    return spans


def _overlaps(period: Period, spans: list[tuple[datetime, datetime | None]]) -> bool:
    return any(start < period.end and (end is None or period.start < end) for start, end in spans)


def plan_periods(
    spec: UsageReportSpec,
    status: UsageReportStatus,
    since: Bound,
    until: Bound | None = None,
    in_service: date | None = None,
) -> Plan:
    """The whole periods to backfill (see the module's rules); nothing for a report never reconciled."""
    plan = Plan()
    if status.accounting_since is None:
        plan.notes.append("never reconciled (no status.accountingSince): run reconcile first, then backfill")
        return plan
    start = resolve_bound(since, spec.time_zone)
    if in_service is not None:  # before the hardware was in service it cost nothing
        start = max(start, datetime.combine(in_service, time(0), tzinfo=UTC))
    stop = status.accounting_since
    if until is not None:
        stop = min(stop, resolve_bound(until, spec.time_zone))
    cut = period_of(status.accounting_since, spec.schedule, spec.time_zone)
    if stop == status.accounting_since and cut.start < stop and cut.start >= start:
        plan.notes.append(f"{cut.label}: contains accountingSince; only live accounting is kept for it")
    spans = _accounted(spec, status)
    room = max(0, spec.history_limit - len(status.history))
    period = period_of(stop - timedelta(microseconds=1), spec.schedule, spec.time_zone)
    if period.end > stop:
        period = period_of(period.start - timedelta(microseconds=1), spec.schedule, spec.time_zone)
    while period.start >= start:
        if _overlaps(period, spans):
            plan.notes.append(f"{period.label}: already accounted; left untouched")
        elif len(plan.periods) < room:
            plan.periods.append(period)
        else:
            plan.notes.append(
                f"{period.label} and older: beyond historyLimit {spec.history_limit} "
                f"({len(status.history)} kept + {len(plan.periods)} backfilled); not written"
            )
            break
        period = period_of(period.start - timedelta(microseconds=1), spec.schedule, spec.time_zone)
    return plan


@dataclass(frozen=True)
class TokenSeries:
    """One token series of a pod: its raw (input, output) samples over the period and a lookback before it."""

    namespace: str
    pod: str
    identity: str
    model: str | None  # its own model label, if any
    input: Sequence[CounterSample]
    output: Sequence[CounterSample]


@dataclass(frozen=True)
class OwnerSample:
    timestamp_ms: int
    owner: PodKey | None  # dcgm-exporter's pod mapping on this sample


@dataclass(frozen=True)
class GpuHistory:
    """One GPU (by UUID, over all its series): energy (mJ) and power samples, and who owned it when."""

    uuid: str
    node: str | None
    energy: Sequence[CounterSample]
    power: Sequence[CounterSample]
    owners: Sequence[OwnerSample]


@dataclass(frozen=True)
class PeriodHistory:
    tokens: Sequence[TokenSeries]
    gpus: Sequence[GpuHistory]
    pod_models: Mapping[PodKey, str] = field(default_factory=dict)  # model labels of pods that still exist
    # The earliest sample Prometheus answered with for the period (any family, any series): where its data begins.
    data_begins_ms: int | None = None


def steps(period: Period, step: timedelta) -> list[datetime]:
    """Instants from the period's start to its end, ``step`` apart (the last step may be shorter)."""
    out = [period.start]
    while out[-1] < period.end:
        out.append(min(out[-1] + step, period.end))
    return out


def _ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def step_growth(samples: Sequence[CounterSample], bounds_ms: Sequence[int], *, new_from_zero: bool) -> list[Decimal]:
    """Growth of one counter in each step (bounds[i], bounds[i+1]], the mark carried across steps."""
    ordered = sorted(samples, key=lambda s: (s.timestamp_ms, s.value))
    times = [s.timestamp_ms for s in ordered]
    first = bisect_right(times, bounds_ms[0])
    mark = ordered[first - 1] if first else None
    out = []
    for end in bounds_ms[1:]:
        last = bisect_right(times, end)
        grown = growth(ordered[first:last], mark, new_from_zero=new_from_zero)
        out.append(grown.increase)
        mark, first = grown.mark, last
    return out


def _latest(samples: Sequence[CounterSample], times: Sequence[int], at_ms: int) -> CounterSample | None:
    """The latest sample in (at - 5m, at], as an instant query at ``at`` sees it."""
    i = bisect_right(times, at_ms)
    if i and times[i - 1] > at_ms - _ms_of(STALENESS):
        return samples[i - 1]
    return None


def _ms_of(delta: timedelta) -> int:
    return delta // timedelta(milliseconds=1)


class _Gpu:
    """Per-step readings of one GPU, as :func:`cost.interval_energy` takes them."""

    def __init__(self, gpu: GpuHistory, bounds_ms: Sequence[int]) -> None:
        self.gpu = gpu
        self.energy = sorted(gpu.energy, key=lambda s: (s.timestamp_ms, s.value))
        self.power = sorted(gpu.power, key=lambda s: (s.timestamp_ms, s.value))
        self.power_times = [s.timestamp_ms for s in self.power]
        self.owners = sorted(gpu.owners, key=lambda o: (o.timestamp_ms, o.owner or ("", "")))
        self.owner_times = [o.timestamp_ms for o in self.owners]
        self.sample_times = sorted([s.timestamp_ms for s in self.energy] + self.power_times + self.owner_times)
        energy_times = [s.timestamp_ms for s in self.energy]
        self.grown = step_growth(self.energy, bounds_ms, new_from_zero=False)
        # Whether the GPU has an energy baseline at or before each bound.
        self.has_energy = [bisect_right(energy_times, b) > 0 for b in bounds_ms]

    def owner_at(self, at_ms: int) -> PodKey | None:
        i = bisect_right(self.owner_times, at_ms)
        if i and self.owner_times[i - 1] > at_ms - _ms_of(STALENESS):
            return self.owners[i - 1].owner
        return None

    def present(self, t0_ms: int, t1_ms: int) -> bool:
        """A sample in the step, or one an instant query at t1 sees."""
        start = min(t0_ms, t1_ms - _ms_of(STALENESS))
        i = bisect_right(self.sample_times, start)
        return i < len(self.sample_times) and self.sample_times[i] <= t1_ms

    def readings(self, index: int, t0_ms: int, t1_ms: int) -> tuple[GpuEnergy, GpuEnergy]:
        def power(at: int) -> Decimal | None:
            sample = _latest(self.power, self.power_times, at)
            return None if sample is None or sample.value < 0 else sample.value

        before = GpuEnergy(self.gpu.uuid, self.gpu.node, 0 if self.has_energy[index] else None, power(t0_ms))
        energy = int(self.grown[index]) if self.has_energy[index + 1] else None
        return before, GpuEnergy(self.gpu.uuid, self.gpu.node, energy, power(t1_ms))


def _started_then(samples: Sequence[CounterSample], data_begins_ms: int | None) -> bool:
    """Whether a series without a baseline began while Prometheus was already scraping: then it is new.

    A series whose first sample is among the first Prometheus holds (its first scrape, or the edge of its
    retention) existed before: that sample is only its baseline, never tokens of the period.
    """
    if not samples or data_begins_ms is None:
        return True
    return min(x.timestamp_ms for x in samples) > data_begins_ms + _ms_of(STALENESS)


def _in_scope(namespace: str, spec: UsageReportSpec) -> bool:
    return not spec.namespaces or namespace in spec.namespaces


def account_period(
    spec: UsageReportSpec,
    profile: CostProfileSpec,
    period: Period,
    history: PeriodHistory,
    step: timedelta,
    catalog: PriceCatalog | None,
) -> HistoryEntry:
    """The period's history entry, computed step by step with the live cost and attribution code."""
    instants = steps(period, step)
    bounds = [_ms(t) for t in instants]
    tokens = [s for s in history.tokens if _in_scope(s.namespace, spec)]
    grown = [
        (
            s,
            step_growth(s.input, bounds, new_from_zero=_started_then(s.input, history.data_begins_ms)),
            step_growth(s.output, bounds, new_from_zero=_started_then(s.output, history.data_begins_ms)),
        )
        for s in tokens
    ]
    models: dict[PodKey, str] = {}
    for s in sorted(tokens, key=lambda s: s.identity):
        if s.model:
            models.setdefault((s.namespace, s.pod), s.model)
    models.update(history.pod_models)
    gpus = [_Gpu(g, bounds) for g in sorted(history.gpus, key=lambda g: g.uuid)]
    figures = PeriodFigures(period=period.label, period_start=period.start, period_end=period.start)
    for i, (t0, t1) in enumerate(pairwise(instants)):
        owned: dict[PodKey, int] = {}
        previous: dict[str, GpuEnergy] = {}
        current: list[GpuEnergy] = []
        for gpu in gpus:
            if not gpu.present(bounds[i], bounds[i + 1]):
                continue
            before, now = gpu.readings(i, bounds[i], bounds[i + 1])
            previous[gpu.gpu.uuid] = before
            current.append(now)
            owner = gpu.owner_at(bounds[i + 1])
            if owner is not None and _in_scope(owner[0], spec):
                owned[owner] = owned.get(owner, 0) + 1
        pod_tokens: dict[PodKey, dict[str, tuple[int, int]]] = {}
        for s, ins, outs in grown:
            tin, tout = int(ins[i]), int(outs[i])
            if tin or tout:
                key = (s.namespace, s.pod)
                model = s.model or models.get(key, key[1])
                per_model = pod_tokens.setdefault(key, {})
                old = per_model.get(model, (0, 0))
                per_model[model] = (old[0] + tin, old[1] + tout)
        deltas = []
        for key in sorted(set(pod_tokens) | set(owned)):
            pod = PodObservation(
                uid=f"{key[0]}/{key[1]}",
                namespace=key[0],
                name=key[1],
                model=models.get(key, key[1]),  # as live: the model label, else the pod name
                started=None,
                gpus=owned.get(key, 0),
                series=None,
            )
            deltas.append(PodDelta(pod, pod_tokens.get(key, {})))
        energy = interval_energy(profile, previous, current, hours_between(t0, t1))
        cost = interval_cost(profile, t0, t1, energy)
        alloc = attribute(deltas, cost.total, cost.hours, profile.hardware.gpu_count, spec.output_token_weight)
        add_interval(figures, alloc, cost)
    entry = close_period(figures, spec, period.end, catalog)
    entry.source = SOURCE
    return entry


def merge_history(status: UsageReportStatus, entries: Sequence[HistoryEntry]) -> UsageReportStatus:
    """The status with ``entries`` added to its history (newest first); nothing else changes."""
    new = status.model_copy(deep=True)
    new.history = sorted(
        [*new.history, *(e.model_copy(deep=True) for e in entries)],
        key=lambda h: h.period_start or datetime.min.replace(tzinfo=UTC),
        reverse=True,
    )
    return new


__all__ = [
    "SOURCE",
    "Bound",
    "GpuHistory",
    "OwnerSample",
    "PeriodHistory",
    "Plan",
    "TokenSeries",
    "account_period",
    "merge_history",
    "plan_periods",
    "resolve_bound",
    "step_growth",
    "steps",
]
