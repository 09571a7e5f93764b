"""Cost rates and energy sources, worked by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

from kubectl_infercost.core.cost import (
    GpuEnergy,
    amortization_end,
    amortization_per_hour,
    interval_cost,
    interval_energy,
    maintenance_per_hour,
)
from kubectl_infercost.core.money import round6
from kubectl_infercost.models import CostProfileSpec


def spec(**hw: object) -> CostProfileSpec:
    base = {"gpuModel": "H100", "gpuCount": 8, "purchasePriceUSD": 280000, "amortizationYears": 3, "tdpWatts": 700}
    return CostProfileSpec.model_validate(
        {"hardware": {**base, **hw}, "electricity": {"ratePerKWh": "0.12", "pueFactor": "1.4"}}
    )


def test_seed_profile_rates() -> None:
    # 280000 / (3 x 8760) = 10.654490...; 10 %/year maintenance: 28000 / 8760 = 3.196347...
    s = spec(maintenancePercentPerYear="0.10")
    assert round6(amortization_per_hour(s)) == D("10.654490")
    assert round6(maintenance_per_hour(s)) == D("3.196347")


def test_amortization_stops_after_in_service_years_but_maintenance_continues() -> None:
    s = spec(inServiceDate="2023-04-20", maintenancePercentPerYear="0.10")
    assert amortization_end(s) == date(2026, 4, 20)
    start = datetime(2026, 4, 19, 23, 0, tzinfo=UTC)
    energy = interval_energy(s, {}, [], D(2))
    cost = interval_cost(s, start, start + timedelta(hours=2), energy)
    # only the first hour (before 2026-04-20 00:00) is amortized; both hours carry maintenance
    assert round6(cost.amortization) == D("10.654490")
    assert round6(cost.maintenance) == D("6.392694")
    # TDP fallback: 700 W x 8 x 2 h = 11.2 kWh x 1.4 x 0.12 = 1.8816
    assert cost.energy.source == "TDPFallback" and cost.electricity == D("1.8816")


def test_fractional_years_and_leap_day() -> None:
    assert amortization_end(spec(inServiceDate="2024-02-29", amortizationYears=1)) == date(2025, 2, 28)
    assert amortization_end(spec(inServiceDate="2024-01-01", amortizationYears="2.5")) == date(2026, 7, 2)


def test_energy_counter_that_went_down_falls_back_to_power() -> None:
    before = {"g": GpuEnergy("g", "n", 5_000_000_000, D(600))}
    now = [GpuEnergy("g", "n", 1_000, D(400))]  # the exporter restarted: counter since boot reset
    result = interval_energy(spec(), before, now, D(1))
    assert result.source == "DCGMPower" and result.kwh == D("0.5")  # (600 + 400) / 2 W x 1 h
