"""Hardware economics of a CostProfile: amortization, maintenance, energy, electricity (docs/accounting.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from ..models import CostProfileSpec
from .money import HOURS_PER_YEAR, MJ_PER_KWH, ZERO
from .periods import hours_between


def amortization_end(spec: CostProfileSpec) -> date | None:
    """The day amortization stops: inServiceDate + amortizationYears (calendar years, then days for a fraction)."""
    hw = spec.hardware
    if hw.in_service_date is None:
        return None
    whole = int(hw.amortization_years)
    start = hw.in_service_date
    try:
        end = start.replace(year=start.year + whole)
    except ValueError:  # 29 February in a year that has none
        end = start.replace(year=start.year + whole, day=28)
    return end + timedelta(days=int((hw.amortization_years - whole) * Decimal("365.25")))


def amortization_per_hour(spec: CostProfileSpec) -> Decimal:
    hw = spec.hardware
    return hw.purchase_price_usd / (hw.amortization_years * HOURS_PER_YEAR)


def maintenance_per_hour(spec: CostProfileSpec) -> Decimal:
    """Yearly support contract spread over the hours of a year (not a one-off, unlike the old operator)."""
    hw = spec.hardware
    return hw.purchase_price_usd * hw.maintenance_percent_per_year / HOURS_PER_YEAR


def amortized_hours(spec: CostProfileSpec, start: datetime, end: datetime) -> Decimal:
    """Hours of [start, end) that still carry amortization."""
    stop = amortization_end(spec)
    if stop is None:
        return hours_between(start, end)
    stop_at = datetime(stop.year, stop.month, stop.day, tzinfo=start.tzinfo)
    if stop_at <= start:
        return ZERO
    return hours_between(start, min(end, stop_at))


def electricity_cost(spec: CostProfileSpec, kwh: Decimal) -> Decimal:
    return kwh * spec.electricity.pue_factor * spec.electricity.rate_per_kwh


@dataclass(frozen=True)
class GpuEnergy:
    """One GPU's reading at one instant."""

    uuid: str
    node: str | None
    energy_mj: int | None
    power_w: Decimal | None
    # When the pass began and finished reading it (None: unknown, never treated as stale).
    read_window: tuple[datetime, datetime] | None = None


@dataclass(frozen=True)
class EnergyResult:
    kwh: Decimal
    source: str  # DCGMEnergy | DCGMPower | TDPFallback


def interval_energy(
    spec: CostProfileSpec,
    previous: Mapping[str, GpuEnergy],
    current: Iterable[GpuEnergy],
    hours: Decimal,
) -> EnergyResult:
    """kWh over an interval, per GPU best source first: energy counter, power trapezoid, TDP fallback."""
    kwh = ZERO
    used_power = False
    measured = 0
    for gpu in current:
        before = previous.get(gpu.uuid)
        if (
            before is not None
            and before.energy_mj is not None
            and gpu.energy_mj is not None
            and gpu.energy_mj >= before.energy_mj
        ):
            kwh += Decimal(gpu.energy_mj - before.energy_mj) / MJ_PER_KWH
        elif gpu.power_w is not None:
            ends = [gpu.power_w] + ([before.power_w] if before is not None and before.power_w is not None else [])
            kwh += sum(ends, ZERO) / len(ends) * hours / 1000
            used_power = True
        else:
            continue
        measured += 1
    if measured == 0:
        tdp = spec.hardware.tdp_watts or ZERO
        return EnergyResult(tdp * spec.hardware.gpu_count * hours / 1000, "TDPFallback")
    return EnergyResult(kwh, "DCGMPower" if used_power else "DCGMEnergy")


@dataclass(frozen=True)
class IntervalCost:
    hours: Decimal
    amortization: Decimal
    maintenance: Decimal
    electricity: Decimal
    energy: EnergyResult

    @property
    def total(self) -> Decimal:
        return self.amortization + self.maintenance + self.electricity


def interval_cost(spec: CostProfileSpec, start: datetime, end: datetime, energy: EnergyResult) -> IntervalCost:
    hours = hours_between(start, end)
    return IntervalCost(
        hours=hours,
        amortization=amortization_per_hour(spec) * amortized_hours(spec, start, end),
        maintenance=maintenance_per_hour(spec) * hours,
        electricity=electricity_cost(spec, energy.kwh),
        energy=energy,
    )


@dataclass(frozen=True)
class HourlyFigures:
    amortization_and_maintenance: Decimal
    maintenance: Decimal
    electricity: Decimal
    power_watts: Decimal
    power_source: str

    @property
    def total(self) -> Decimal:
        return self.amortization_and_maintenance + self.electricity


def hourly_figures(spec: CostProfileSpec, now: datetime, gpus: Iterable[GpuEnergy]) -> HourlyFigures:
    """The profile's cost per hour at the current power draw (DCGM power, else TDP x gpuCount)."""
    readings = [g.power_w for g in gpus if g.power_w is not None]
    if readings:
        watts, source = sum(readings, ZERO), "DCGMPower"
    else:
        watts, source = (spec.hardware.tdp_watts or ZERO) * spec.hardware.gpu_count, "TDPFallback"
    amort = amortization_per_hour(spec) if amortized_hours(spec, now, now + timedelta(hours=1)) else ZERO
    maint = maintenance_per_hour(spec)
    return HourlyFigures(amort + maint, maint, electricity_cost(spec, watts / 1000), watts, source)
