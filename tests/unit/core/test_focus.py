"""FOCUS rows, hand-worked (docs/export-focus.md): arithmetic, idle rows, slugs, period selection, hostile values."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from kubectl_infercost.core.cloud import PriceCatalog, cheapest, cloud_cost
from kubectl_infercost.core.focus import (
    ExportOptions,
    OptionError,
    PeriodSelection,
    build_rows,
    identifier_from,
    is_identifier,
    is_period_label,
)
from kubectl_infercost.core.focus.columns import LAYOUTS, layout_for
from kubectl_infercost.core.focus.pricing import CloudPricer, div_half_even, fixed, unit_price
from kubectl_infercost.core.focus.text import build_slug_map, clean_text, model_slug
from kubectl_infercost.errors import InvalidDataError
from kubectl_infercost.models import CostProfile, UsageReport
from tests.conftest import price_entry as entry
from tests.focuscheck import check_records, check_skus, profile_columns

D = Decimal


CATALOG = PriceCatalog(
    (entry("alpha", "a-1", "1.00", "2.00"), entry("beta", "b-1", "0.50", "4.00")), date(2026, 1, 1), "test"
)


def profile(hourly: str | None = "20", gpus: int = 8) -> CostProfile:
    return CostProfile.model_validate(
        {
            "metadata": {"name": "h100", "namespace": "infercost"},
            "spec": {
                "hardware": {"gpuModel": "NVIDIA H100 80GB HBM3", "gpuCount": gpus, "purchasePriceUSD": 240000},
                "electricity": {"ratePerKWh": "0.10", "pueFactor": "1.5"},
            },
            "status": {"hourlyCostUSD": hourly} if hourly else {},
        }
    )


def period(label: str, start: str, end: str, **figures: Any) -> dict[str, Any]:
    return {"period": label, "periodStart": start, "periodEnd": end, **figures}


def april_day(**figures: Any) -> dict[str, Any]:
    """Monthly period 2026-04, accounted for its first day only."""
    return period("2026-04", "2026-04-01T00:00:00Z", "2026-04-02T00:00:00Z", **figures)


def report(
    current: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
    schedule: str = "monthly",
    policy: str = "Separate",
    name: str = "monthly",
) -> UsageReport:
    status: dict[str, Any] = dict(current or {})
    status["history"] = history or []
    return UsageReport.model_validate(
        {
            "metadata": {"name": name, "namespace": "infercost"},
            "spec": {"costProfileRef": "h100", "schedule": schedule, "idleCostPolicy": policy},
            "status": status,
        }
    )


def rows(
    reports: list[UsageReport], version: str = "1.3", catalog: PriceCatalog | None = CATALOG, **options: Any
) -> list[dict[str, str | None]]:
    opts = ExportOptions(layout=layout_for(version), billing_account_id="envtest", **options)
    names = opts.layout.names
    result = [
        dict(zip(names, row, strict=True)) for row in build_rows([(r, profile()) for r in reports], catalog, opts)
    ]
    check_records(list(names), result, version)  # every row passes the strict checker
    return result


APRIL = period(
    "2026-04",
    "2026-04-01T00:00:00Z",
    "2026-04-20T12:00:00Z",
    inputTokens=500000,
    outputTokens=300000,
    estimatedCostUSD="12.055342",
    idleCostUSD="5",
    idleGpuHours="2.5",
    gpuHours="3744",
    byModel=[
        {
            "model": "Llama-3.1-8B",
            "namespace": "team-a",
            "inputTokens": 500000,
            "outputTokens": 300000,
            "estimatedCostUSD": "7.055342",
        }
    ],
)


# ---------------------------------------------------------------------------------------------------
# arithmetic


def test_token_row_hand_worked() -> None:
    token, idle = rows([report(APRIL)])
    # 800,000 tokens -> 0.800000 units of 1,000,000 Tokens
    assert token["PricingQuantity"] == "0.800000"
    assert token["ConsumedQuantity"] == "800000.000000"
    # 7.055342 / 0.8 = 8.8191775 -> half-even at 6 dp: the kept digit 7 is odd, so up: 8.819178
    assert token["ListUnitPrice"] == token["ContractedUnitPrice"] == "8.819178"
    # ListCost = 8.819178 x 0.800000 = 7.0553424 exactly, written at 12 dp (the validator's product rule)
    assert token["ListCost"] == token["ContractedCost"] == "7.055342400000"
    # BilledCost is the attributed cost itself, so the rows add up to the UsageReport: $7.055342
    assert token["BilledCost"] == token["EffectiveCost"] == "7.055342000000"
    assert token["PricingUnit"] == "1000000 Tokens" and token["ConsumedUnit"] == "Tokens"
    assert token["ChargePeriodStart"] == "2026-04-01T00:00:00Z"
    assert token["ChargePeriodEnd"] == "2026-04-20T12:00:00Z"
    assert token["BillingPeriodStart"] == "2026-04-01T00:00:00Z"
    assert token["BillingPeriodEnd"] == "2026-05-01T00:00:00Z"
    assert token["SubAccountId"] == token["SubAccountName"] == "team-a"
    assert token["ResourceId"] == "envtest/team-a/models/llama-3.1-8b"
    assert token["SkuId"] == "llama-3.1-8b"
    assert token["SkuPriceId"] == "llama-3.1-8b@infercost/h100"
    assert token["ChargeDescription"] == "LLM inference tokens, Llama-3.1-8B in namespace team-a, 2026-04"
    assert token["ResourceName"] == token["x_InferModelName"] == "Llama-3.1-8B"
    assert token["x_InferTokensInput"] == "500000" and token["x_InferTokensOutput"] == "300000"
    assert token["x_InferIdleCost"] == "0.000000000000"  # Separate: idle is its own row
    assert token["x_InferUsageReport"] == "infercost/monthly"
    assert token["x_InferGpuCount"] == "8"
    assert token["x_InferAmortizationYears"] == "3.000000"
    assert token["x_InferElectricityRatePerKWh"] == "0.100000"
    assert token["x_InferPUEFactor"] == "1.500000"
    assert token["Tags"] == (
        '{"infercost/costProfile":"h100","infercost/gpuModel":"NVIDIA H100 80GB HBM3",'
        '"infercost/report":"infercost/monthly","infercost/schedule":"monthly"}'
    )
    assert token["ProviderName"] == token["HostProviderName"] == "Self-Hosted"
    assert token["RegionId"] is None and token["RegionName"] is None
    # idle row: 2.5 idle GPU-hours for $5 -> $2.000000 per GPU-hour
    assert idle["PricingQuantity"] == idle["ConsumedQuantity"] == "2.500000"
    assert idle["ListUnitPrice"] == "2.000000"
    assert idle["BilledCost"] == idle["x_InferIdleCost"] == "5.000000000000"
    assert idle["PricingUnit"] == idle["ConsumedUnit"] == "GPU-Hours"
    assert idle["ResourceType"] == "GPU Pool" and idle["SkuMeter"] == "Idle GPU Hours"
    assert idle["SubAccountId"] == "infercost"
    assert idle["ResourceId"] == "envtest/infercost/costprofiles/h100"
    assert idle["SkuId"] == "idle-gpu-hours/nvidia-h100-80gb-hbm3"
    assert idle["SkuPriceId"] == "idle-gpu-hours/nvidia-h100-80gb-hbm3@infercost/h100"
    assert idle["ChargeDescription"] == "Idle GPU capacity, CostProfile infercost/h100, 2026-04"
    assert idle["x_InferModelName"] is None and idle["x_InferTokensInput"] is None
    assert idle["x_InferCloudEquivalentCostUSD"] is None


def test_cloud_equivalent_is_the_cheapest_for_the_row_mix() -> None:
    (token, _idle) = rows([report(APRIL)])
    # alpha: 0.5 x 1.00 + 0.3 x 2.00 = 1.10; beta: 0.5 x 0.50 + 0.3 x 4.00 = 1.45 -> alpha
    assert token["x_InferCloudEquivalentProvider"] == "alpha"
    assert token["x_InferCloudEquivalentModel"] == "a-1"
    assert token["x_InferCloudEquivalentCostUSD"] == "1.100000000000"
    # savings against BilledCost: 1.1 - 7.055342 = -5.955342; / 1.1 x 100 = -541.394727... -> -541.39
    assert token["x_InferSavingsUSD"] == "-5.955342000000"
    assert token["x_InferSavingsPercent"] == "-541.39"
    (token, _idle) = rows([report(APRIL)], compare_to=("beta", "b-1"))
    assert token["x_InferCloudEquivalentCostUSD"] == "1.450000000000"
    assert token["x_InferSavingsUSD"] == "-5.605342000000"  # 1.45 - 7.055342
    (token, _idle) = rows([report(APRIL)], catalog=None)
    assert token["x_InferCloudEquivalentProvider"] is None and token["x_InferSavingsPercent"] is None
    with pytest.raises(OptionError, match="not in the price catalog"):
        rows([report(APRIL)], compare_to=("gamma", "g-1"))


def test_cloud_pricer_agrees_with_cheapest() -> None:
    entries = [
        entry("p", "dear", "3", "15"),
        entry("p", "cheap-in", "0.1", "9"),
        entry("p", "cheap-out", "5", "0.2"),
        entry("p", "tie", "0.1", "9"),
        entry("q", "mid", "1.25", "1.25"),
        entry("q", "odd", "0.1234567", "0.7654321"),
    ]
    pricer = CloudPricer(entries)
    rng = random.Random(7)
    for _ in range(500):
        inp, out = rng.randrange(0, 10**7), rng.randrange(0, 10**7)
        if inp + out == 0:
            continue
        chosen, pico = pricer.price(inp, out) or (None, 0)
        assert chosen == cheapest(entries, inp, out)
        assert chosen is not None
        assert pico == div_half_even(int(cloud_cost(chosen, inp, out) * 10**30), 10**18)


def test_fixed_point_helpers() -> None:
    assert div_half_even(5, 2) == 2 and div_half_even(7, 2) == 4 and div_half_even(-5, 2) == -2
    assert fixed(7055342400000, 12) == "7.055342400000"
    assert fixed(-12345, 2) == "-123.45"
    assert unit_price(D("7.055342"), 800000) == 8819178
    # 1 / 3 units: 0.333333|33 -> 0.333333
    assert unit_price(D("1"), 3000000) == 333333


def test_non_terminating_idle_price_and_exact_cost() -> None:
    april = april_day(estimatedCostUSD="10", idleCostUSD="10", idleGpuHours="3", gpuHours="192")
    (idle,) = rows([report(april)])
    # 10 / 3 = 3.3333333... -> 3.333333; ListCost 3.333333 x 3.000000 = 9.999999 (within 0.5e-6 x 3 of $10)
    assert idle["ListUnitPrice"] == "3.333333"
    assert idle["ListCost"] == idle["ContractedCost"] == "9.999999000000"
    # BilledCost is the idle cost of the status, exactly
    assert idle["BilledCost"] == idle["EffectiveCost"] == idle["x_InferIdleCost"] == "10.000000000000"


def test_idle_without_measured_hours_uses_the_profile_rate() -> None:
    april = april_day(estimatedCostUSD="12.5", idleCostUSD="12.5", idleGpuHours="0", gpuHours="0")
    (idle,) = rows([report(april)])
    # hourly $20 for 8 GPUs = $2.50 per GPU-hour; $12.50 / 2.5 = 5 GPU-hours
    assert idle["PricingQuantity"] == "5.000000"
    assert idle["ListUnitPrice"] == "2.500000"
    assert idle["BilledCost"] == "12.500000000000"


def test_cost_without_tokens_is_a_gpu_hours_row() -> None:
    april = april_day(
        estimatedCostUSD="3.75", gpuHours="192",
        byModel=[{"model": "idle-pod-model", "namespace": "team-b", "estimatedCostUSD": "3.75", "gpuHours": "1.5"}],
    )  # fmt: skip
    (row,) = rows([report(april)])
    assert row["PricingUnit"] == row["ConsumedUnit"] == "GPU-Hours"
    assert row["PricingQuantity"] == row["ConsumedQuantity"] == "1.500000"
    assert row["ListUnitPrice"] == "2.500000"
    assert row["BilledCost"] == "3.750000000000"
    assert row["SkuMeter"] == "GPU Hours" and row["ResourceType"] == "AI Inference Endpoint"
    assert row["x_InferTokensInput"] == "0" and row["x_InferModelName"] == "idle-pod-model"
    assert row["x_InferCloudEquivalentCostUSD"] is None


def test_gpu_time_is_its_own_sku() -> None:
    """A model priced in tokens one day and in GPU-hours the next: two SkuPriceIds, one unit each."""
    served_model = {"model": "m", "namespace": "team-b", "inputTokens": 1000000, "estimatedCostUSD": "2"}
    served = period(
        "2026-04-19", "2026-04-19T00:00:00Z", "2026-04-20T00:00:00Z", inputTokens=1000000,
        estimatedCostUSD="2", gpuHours="192", byModel=[served_model],
    )  # fmt: skip
    held_model = {"model": "m", "namespace": "team-b", "estimatedCostUSD": "3.75", "gpuHours": "1.5"}
    held = april_day(estimatedCostUSD="3.75", gpuHours="192", byModel=[held_model])
    tokens, gpu = rows([report(held, [served])])
    assert (tokens["SkuId"], tokens["SkuPriceId"], tokens["PricingUnit"], tokens["SkuMeter"]) == (
        "m", "m@infercost/h100", "1000000 Tokens", "Tokens",
    )  # fmt: skip
    assert (gpu["SkuId"], gpu["SkuPriceId"], gpu["PricingUnit"], gpu["SkuMeter"]) == (
        "m/gpu-hours", "m/gpu-hours@infercost/h100", "GPU-Hours", "GPU Hours",
    )  # fmt: skip
    assert tokens["ResourceId"] == gpu["ResourceId"]  # the same endpoint, two SKUs
    clash = [dict(tokens), {**gpu, "SkuId": "m", "SkuPriceId": "m@infercost/h100"}]
    assert check_skus(clash) == [
        "SkuPriceId m@infercost/h100: ('m', '1000000 Tokens', 'Tokens') and ('m', 'GPU-Hours', 'GPU Hours') "
        "(SkuId, PricingUnit, SkuMeter)"
    ]


def test_tokens_without_breakdown_go_to_unknown_model() -> None:
    april = april_day(
        inputTokens=1000000, outputTokens=0, estimatedCostUSD="10", gpuHours="192",
        byModel=[{"model": "m", "namespace": "team-a", "inputTokens": 600000, "estimatedCostUSD": "6"}],
    )  # fmt: skip
    known, unknown = rows([report(april)])
    assert known["PricingQuantity"] == "0.600000" and known["BilledCost"] == "6.000000000000"
    assert unknown["SkuId"] == "unknown-model"
    assert unknown["SubAccountId"] == "infercost"  # the report's namespace
    assert unknown["PricingQuantity"] == "0.400000"
    assert unknown["ListUnitPrice"] == "10.000000" and unknown["BilledCost"] == "4.000000000000"
    assert unknown["ResourceName"] == "unknown-model" and unknown["x_InferModelName"] is None
    assert unknown["ChargeDescription"] == (
        "LLM inference tokens, unknown-model (no per-model breakdown) in namespace infercost, 2026-04"
    )


def test_report_without_breakdown_gets_one_rollup_row() -> None:
    april = april_day(inputTokens=1500000, outputTokens=500000, estimatedCostUSD="3", gpuHours="192")
    (rollup,) = rows([report(april)])
    assert rollup["SkuId"] == "unknown-model"
    assert rollup["PricingQuantity"] == "2.000000"
    assert rollup["ListUnitPrice"] == "1.500000" and rollup["BilledCost"] == "3.000000000000"
    assert rollup["x_InferTokensInput"] == "1500000" and rollup["x_InferTokensOutput"] == "500000"


def test_zero_tokens_and_zero_cost_give_no_row() -> None:
    empty = april_day()
    assert rows([report(empty)]) == []
    never = {"period": "2026-04"}  # no periodStart: never accounted
    assert rows([report(never)]) == []


def test_proportional_idle_share_and_unknown_share() -> None:
    april = dict(APRIL, idleCostUSD="0", idleGpuHours="0", estimatedCostUSD="7.055342")
    april["byModel"] = [dict(APRIL["byModel"][0], idleCostUSD="1.25")]
    (token,) = rows([report(april, policy="Proportional")])
    assert token["x_InferIdleCost"] == "1.250000000000"
    april["byModel"] = [dict(APRIL["byModel"][0])]  # share not recorded: unknown
    (token,) = rows([report(april, policy="Proportional")])
    assert token["x_InferIdleCost"] is None


def test_weekly_period_crossing_a_month_is_split_pro_rata_by_hours() -> None:
    # 2026-W18 = Mon 2026-04-27 .. Mon 2026-05-04: 96 hours in April, 72 in May (168).
    week = period(
        "2026-W18", "2026-04-27T00:00:00Z", "2026-05-04T00:00:00Z", inputTokens=700000, outputTokens=0,
        estimatedCostUSD="21", idleCostUSD="7", idleGpuHours="14", gpuHours="1344",
        byModel=[{"model": "m", "namespace": "team-a", "inputTokens": 700000, "estimatedCostUSD": "14"}],
    )  # fmt: skip
    current = period("2026-W19", "2026-05-04T00:00:00Z", "2026-05-04T06:00:00Z")
    apr_tok, apr_idle, may_tok, may_idle = rows([report(current, [week], schedule="weekly")])
    # tokens 700,000 x 96/168 = 400,000 and 300,000; cost 14 -> 8 and 6; idle 7 -> 4 and 3, 14 h -> 8 and 6
    assert (apr_tok["ChargePeriodStart"], apr_tok["ChargePeriodEnd"]) == (
        "2026-04-27T00:00:00Z",
        "2026-05-01T00:00:00Z",
    )
    assert apr_tok["BillingPeriodStart"] == "2026-04-01T00:00:00Z"
    assert apr_tok["PricingQuantity"] == "0.400000" and apr_tok["BilledCost"] == "8.000000000000"
    assert apr_idle["PricingQuantity"] == "8.000000" and apr_idle["BilledCost"] == "4.000000000000"
    assert (may_tok["ChargePeriodStart"], may_tok["ChargePeriodEnd"]) == (
        "2026-05-01T00:00:00Z",
        "2026-05-04T00:00:00Z",
    )
    assert may_tok["BillingPeriodStart"] == "2026-05-01T00:00:00Z"
    assert may_tok["PricingQuantity"] == "0.300000" and may_tok["BilledCost"] == "6.000000000000"
    assert may_idle["PricingQuantity"] == "6.000000" and may_idle["BilledCost"] == "3.000000000000"
    # --period 2026-04 keeps only the April part of the week; 2026-05 the May part
    assert [r["BillingPeriodStart"] for r in rows([report(current, [week])], selection=PeriodSelection("2026-04"))] == [
        "2026-04-01T00:00:00Z",
        "2026-04-01T00:00:00Z",
    ]
    may = rows([report(current, [week])], selection=PeriodSelection("2026-05"))
    assert [r["BilledCost"] for r in may] == ["6.000000000000", "3.000000000000"]


def test_rows_of_a_period_add_up_to_its_total_exactly() -> None:
    models: list[dict[str, Any]] = [
        {"model": f"m{i}", "namespace": "team-a", "inputTokens": 333333 + i, "outputTokens": 7,
         "estimatedCostUSD": str(D("1.234567") * (i + 1))}
        for i in range(7)
    ]  # fmt: skip
    total = sum((D(m["estimatedCostUSD"]) for m in models), D(0)) + D("2.5")
    tokens = sum(m["inputTokens"] for m in models)
    april = april_day(
        inputTokens=tokens, outputTokens=49, estimatedCostUSD=str(total),
        idleCostUSD="2.5", idleGpuHours="1.7", gpuHours="192", byModel=models,
    )  # fmt: skip
    result = rows([report(april)])
    assert len(result) == 8
    # 1.234567 x (1 + ... + 7) + 2.5 = 1.234567 x 28 + 2.5 = 34.567876 + 2.5
    assert total == D("37.067876")
    assert sum(D(r["BilledCost"] or "") for r in result) == total
    # the list costs (price x quantity) are off by at most half a micro-dollar per unit of quantity
    listed = sum(D(r["ListCost"] or "") for r in result)
    bound = sum(D(r["PricingQuantity"] or "") for r in result) * D("0.0000005")
    assert listed != total and abs(listed - total) <= bound


# ---------------------------------------------------------------------------------------------------
# period selection


def test_period_selection() -> None:
    history = [
        period("2026-05-01", "2026-05-01T00:00:00Z", "2026-05-02T00:00:00Z", inputTokens=1000000, estimatedCostUSD="1"),
        period("2026-04-30", "2026-04-30T00:00:00Z", "2026-05-01T00:00:00Z", inputTokens=1000000, estimatedCostUSD="2"),
        period("2026-04-05", "2026-04-05T00:00:00Z", "2026-04-06T00:00:00Z", inputTokens=1000000, estimatedCostUSD="3"),
    ]  # fmt: skip
    current = period(
        "2026-05-02", "2026-05-02T00:00:00Z", "2026-05-02T08:30:00.250Z", inputTokens=1000000, estimatedCostUSD="4"
    )
    daily = report(current, history, schedule="daily", name="daily")

    def costs(**sel: Any) -> list[str | None]:
        return [r["BilledCost"] for r in rows([daily], selection=PeriodSelection(**sel))]

    everything = rows([daily])
    assert [r["BilledCost"] for r in everything] == [
        "3.000000000000", "2.000000000000", "1.000000000000", "4.000000000000",
    ]  # fmt: skip
    assert everything[-1]["ChargePeriodEnd"] == "2026-05-02T08:30:01Z"  # open period: ceiled to a whole second
    assert costs(label="2026-04") == ["3.000000000000", "2.000000000000"]
    assert costs(label="2026-04-30") == ["2.000000000000"]
    assert costs(label="2026-05-02") == ["4.000000000000"]
    assert costs(label="2026-05-02", include_open=False) == []
    assert costs(include_open=False) == ["3.000000000000", "2.000000000000", "1.000000000000"]
    apr30 = datetime(2026, 4, 30, tzinfo=UTC)
    assert costs(start=apr30, end=datetime(2026, 5, 2, tzinfo=UTC)) == ["2.000000000000", "1.000000000000"]
    assert costs(start=datetime(2026, 5, 2, tzinfo=UTC)) == ["4.000000000000"]
    assert costs(label="2026-W18") == []
    with pytest.raises(OptionError):
        PeriodSelection(start=apr30, end=apr30)


def test_charge_starts_when_accounting_began() -> None:
    """Accounting began at noon on 04-20, inside the monthly period 2026-04 (which starts 04-01)."""
    april = dict(APRIL, periodEnd="2026-04-20T18:00:00Z")
    started = report(april)
    started.status.accounting_since = datetime(2026, 4, 20, 12, 0, 0, 500000, tzinfo=UTC)
    token, idle = rows([started])
    # floored to the second; the end and the billing period are unchanged
    assert token["ChargePeriodStart"] == idle["ChargePeriodStart"] == "2026-04-20T12:00:00Z"
    assert token["ChargePeriodEnd"] == "2026-04-20T18:00:00Z"
    assert token["BillingPeriodStart"] == "2026-04-01T00:00:00Z"
    legacy = ExportOptions(layout=layout_for(columns="infercost-v1"))
    first = dict(zip(legacy.layout.names, next(build_rows([(started, None)], None, legacy)), strict=True))
    assert first["ChargePeriodStart"] == "2026-04-20T12:00:00Z"
    # accounting that began before the period (an older report) changes nothing
    started.status.accounting_since = datetime(2026, 3, 5, tzinfo=UTC)
    assert rows([started])[0]["ChargePeriodStart"] == "2026-04-01T00:00:00Z"


def test_monthly_report_with_only_a_current_period_is_exported() -> None:
    """The old tool's ``--period 2026-04`` on the old tool's single current period gives rows."""
    (token, idle) = rows([report(APRIL)], selection=PeriodSelection("2026-04"))
    assert token["BilledCost"] == "7.055342000000" and idle["BilledCost"] == "5.000000000000"


@pytest.mark.parametrize("label", ["2026-04", "2026-04-30", "2026-W17", "2026-W01", "2026-12"])
def test_period_labels(label: str) -> None:
    assert is_period_label(label)


@pytest.mark.parametrize("label", ["2026-13", "2026-4", "2026-02-30", "2026-W54", "April", "2026-04-01T00", ""])
def test_malformed_period_labels(label: str) -> None:
    assert not is_period_label(label)


# ---------------------------------------------------------------------------------------------------
# slugs and hostile values


def sha8(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def test_model_slugs() -> None:
    assert model_slug("meta-llama/Llama-3.1-8B-Instruct") == "meta-llama-llama-3.1-8b-instruct"
    assert model_slug("  Qwen2.5 72B (AWQ)!  ") == "qwen2.5-72b-awq"
    assert model_slug('a,b"c\nd') == "a-b-c-d"
    slugs = build_slug_map(["Llama-3", "llama-3", "LLAMA 3", "qwen", "!!!", "unknown-model"])
    assert slugs["llama-3"] == "llama-3"  # the name that is its own slug keeps it
    assert slugs["Llama-3"] == f"llama-3-{sha8('Llama-3')}"
    assert slugs["LLAMA 3"] == f"llama-3-{sha8('LLAMA 3')}"
    assert slugs["qwen"] == "qwen"
    assert slugs["!!!"] == f"model-{sha8('!!!')}"
    assert slugs["unknown-model"] == f"unknown-model-{sha8('unknown-model')}"  # reserved for the residual row
    assert len(set(slugs.values())) == 6


def test_clean_text_prevents_formula_injection() -> None:
    assert clean_text('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert clean_text("+1") == "'+1" and clean_text("-1") == "'-1" and clean_text("@sum") == "'@sum"
    assert clean_text("\tx") == "' x" and clean_text("\rx") == "' x"
    assert clean_text("a\nb\r\nc") == "a b  c"
    assert clean_text("llama=3") == "llama=3"


def test_hostile_model_names_are_safe_in_every_column() -> None:
    hostile = ['evil,"model"\n=1+1', "+cmd", "-2", "@at", "\tTab"]
    april = april_day(
        inputTokens=5000000, estimatedCostUSD="5",
        byModel=[{"model": m, "namespace": "team-a", "inputTokens": 1000000, "estimatedCostUSD": "1"} for m in hostile],
    )  # fmt: skip
    result = rows([report(april)])  # the strict checker rejects commas/quotes in 1-29 and leading = + - @
    by_name = {r["x_InferModelName"]: r for r in result}
    assert set(by_name) == {'evil,"model" =1+1', "'+cmd", "'-2", "'@at", "' Tab"}
    evil = by_name['evil,"model" =1+1']
    assert evil["SkuId"] == "evil-model-1-1"
    assert evil["ChargeDescription"] == 'LLM inference tokens, evil,"model" =1+1 in namespace team-a, 2026-04'
    assert by_name["'-2"]["SkuId"] == "2"


def test_bad_namespace_in_the_data_is_refused() -> None:
    april = april_day(
        inputTokens=1000000, estimatedCostUSD="1",
        byModel=[{"model": "m", "namespace": "team,a", "inputTokens": 1000000, "estimatedCostUSD": "1"}],
    )  # fmt: skip
    with pytest.raises(InvalidDataError, match="columns 1-29"):
        rows([report(april)])


def test_negative_cost_is_invalid_data() -> None:
    april = april_day(
        inputTokens=1000000, estimatedCostUSD="1",
        byModel=[{"model": "m", "namespace": "a", "inputTokens": 1000000, "estimatedCostUSD": "-1"}],
    )  # fmt: skip
    with pytest.raises(InvalidDataError, match="negative"):
        rows([report(april)])


@pytest.mark.parametrize("value", ["prod-cluster", "arn:aws:eks:us-east-1:1234:cluster/prod", "a@b_c.d", "9"])
def test_identifiers_accepted(value: str) -> None:
    assert is_identifier(value)


@pytest.mark.parametrize("value", ["", "a,b", 'a"b', "us east", "-lead", "x" * 129, "a\nb", "é"])
def test_identifiers_refused(value: str) -> None:
    assert not is_identifier(value)
    with pytest.raises(OptionError):
        ExportOptions(billing_account_id=value)


def test_default_account_id_is_made_valid() -> None:
    assert identifier_from("gke_proj_zone_prod") == "gke_proj_zone_prod"
    assert identifier_from("my cluster, eu") == "my-cluster-eu"
    assert identifier_from(",,,") == "cluster"


def test_options_validation() -> None:
    with pytest.raises(OptionError, match="region_name 'US East': needs a region_id"):
        ExportOptions(region_name="US East")
    with pytest.raises(OptionError):
        ExportOptions(provider_name=" ")
    opts = ExportOptions(region_id="us-east-1", region_name="=US East", provider_name="ACME Corp")
    rows_ = list(build_rows([(report(APRIL), None)], None, opts))
    rec = dict(zip(opts.layout.names, rows_[0], strict=True))
    assert rec["RegionId"] == "us-east-1" and rec["RegionName"] == "'=US East"
    assert {rec[c] for c in ("ProviderName", "PublisherName", "InvoiceIssuerName", "HostProviderName")} == {"ACME Corp"}
    # no CostProfile: its columns are null, the tag has no gpuModel
    assert rec["x_InferGpuModel"] is None and rec["x_InferGpuCount"] is None
    assert '"infercost/gpuModel"' not in (rec["Tags"] or "")


def test_tag_labels_from_namespaces() -> None:
    opts = ExportOptions(
        tag_labels=("team", "cost-center", "absent"),
        namespace_labels={"team-a": {"team": "ml,infra", "cost-center": ""}},
    )
    rec = dict(zip(opts.layout.names, next(iter(build_rows([(report(APRIL), None)], None, opts))), strict=True))
    assert rec["Tags"] == (
        '{"cost-center":true,"infercost/costProfile":"h100","infercost/report":"infercost/monthly",'
        '"infercost/schedule":"monthly","team":"ml,infra"}'
    )


# ---------------------------------------------------------------------------------------------------
# profiles and the legacy layout


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2", "1.3"])
def test_profiles_are_drop_only(version: str) -> None:
    full = rows([report(APRIL)], "1.3")
    mine = rows([report(APRIL)], version)
    assert list(mine[0]) == profile_columns(version) == list(LAYOUTS[f"focus-{version}"].names)
    for a, b in zip(full, mine, strict=True):
        assert {k: a[k] for k in b} == b


def test_legacy_rows() -> None:
    april = dict(APRIL)
    april["cloudComparison"] = [
        {"provider": "alpha", "model": "a-1", "estimatedCloudCostUSD": "1.1", "savingsUSD": "-10.955342",
         "savingsPercent": "-995.94"},
        {"provider": "beta", "model": "b-1", "estimatedCloudCostUSD": "1.45", "savingsUSD": "-10.605342",
         "savingsPercent": "-731.40"},
    ]  # fmt: skip
    opts = ExportOptions(layout=layout_for(columns="infercost-v1"), region_id="us-east-1")
    row, idle_row = build_rows([(report(april), profile())], CATALOG, opts)
    rec = dict(zip(opts.layout.names, row, strict=True))
    assert len(row) == 44
    assert rec["BilledCost"] == rec["ContractedCost"] == "7.055342"  # the status's 6 dp (the old tool: 4)
    assert (rec["ProviderName"], rec["PublisherName"], rec["InvoiceIssuerName"]) == (
        "InferCost",
        "Self-Hosted",
        "Self-Hosted",
    )
    assert rec["ResourceId"] == "infercost/monthly/Llama-3.1-8B"
    assert rec["UsageQuantity"] == "800000" and rec["PricingUnit"] == "1M Tokens"
    assert rec["PricingCategory"] == "Usage-Based" and rec["Region"] == "us-east-1"
    assert rec["ChargeDescription"] == "Inference on Llama-3.1-8B for period 2026-04"
    assert (
        rec["Tags"]
        == '{"report":"monthly","schedule":"monthly","model":"Llama-3.1-8B","gpuModel":"NVIDIA H100 80GB HBM3"}'
    )
    assert (rec["x-InferAmortizationYears"], rec["x-InferElectricityRatePerKWh"], rec["x-InferPUEFactor"]) == (
        "3", "0.1", "1.5",
    )  # fmt: skip
    # highest-savings comparison entry (beta, -10.605342 > -10.955342), priced for the row's tokens:
    # 0.5 x 0.50 + 0.3 x 4.00 = 1.45; savings 1.45 - 7.055342 = -5.605342; / 1.45 = -386.58 %
    assert rec["x-InferCloudEquivalentProvider"] == "beta"
    assert rec["x-InferCloudEquivalentCostUSD"] == "1.450000"
    assert rec["x-InferSavingsUSD"] == "-5.605342"
    assert rec["x-InferSavingsPercent"] == "-386.58"
    # the idle row: $5 over 2.5 GPU-hours, so the rows add up to estimatedCostUSD 12.055342
    idle = dict(zip(opts.layout.names, idle_row, strict=True))
    assert idle["BilledCost"] == idle["ListCost"] == "5.000000"
    assert D(rec["BilledCost"] or "") + D(idle["BilledCost"] or "") == D("12.055342")
    assert idle["ResourceId"] == "infercost/monthly/idle-gpu-hours" and idle["ResourceType"] == "GPU Pool"
    assert (idle["UsageQuantity"], idle["UsageUnit"], idle["SkuId"]) == ("2.5", "GPU-Hours", "idle-gpu-hours")
    assert idle["SubAccountId"] == "infercost" and idle["x-InferTokensInput"] is None


def test_legacy_rollup_row() -> None:
    april = april_day(inputTokens=3, outputTokens=4, estimatedCostUSD="1.23456", idleCostUSD="1")
    opts = ExportOptions(layout=layout_for(columns="infercost-v1"))
    (row,) = build_rows([(report(april), None)], None, opts)
    rec = dict(zip(opts.layout.names, row, strict=True))
    assert rec["BilledCost"] == "1.234560"  # the report total, idle included
    assert rec["ResourceId"] == "infercost/monthly" and rec["ResourceName"] == "monthly"
    assert rec["SkuId"] is None and rec["SkuPriceId"] is None
    assert rec["ChargeDescription"] == "Inference rollup for period 2026-04 (no model breakdown)"
    assert rec["Tags"] == '{"costProfile":"h100"}'
    assert rec["UsageQuantity"] == "7" and rec["SubAccountId"] == "infercost"
