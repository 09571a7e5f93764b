"""Report view-models: rows carry the status values unchanged; computed figures worked by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from kubectl_infercost.core.cloud import PriceCatalog, PriceEntry
from kubectl_infercost.core.reportdata import (
    SortSpec,
    budget_rows,
    budget_state,
    catalog_info,
    compare_rows,
    history_rows,
    model_rows,
    namespace_rows,
    profile_rows,
    report_rows,
    sort_rows,
    top_model_rows,
)
from kubectl_infercost.models import CostProfile, TokenBudget, UsageReport

D = Decimal
T0 = datetime(2026, 4, 20, tzinfo=UTC)


def profile(name: str = "h100", ns: str = "eng", status: dict[str, Any] | None = None) -> CostProfile:
    return CostProfile.model_validate(
        {
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "hardware": {"gpuModel": "NVIDIA H100", "gpuCount": 8, "purchasePriceUSD": 280000},
                "electricity": {"ratePerKWh": "0.12"},
            },
            "status": status or {},
        }
    )


def report(name: str, ns: str = "eng", profile_ref: str = "h100", **status: Any) -> UsageReport:
    return UsageReport.model_validate(
        {"metadata": {"name": name, "namespace": ns}, "spec": {"costProfileRef": profile_ref}, "status": status}
    )


def model(name: str, ns: str, inp: int, out: int, cost: str) -> dict[str, Any]:
    return {"model": name, "namespace": ns, "inputTokens": inp, "outputTokens": out, "estimatedCostUSD": D(cost)}


def budget(name: str, conditions: list[tuple[str, str]], spend: str | None = "412.345678") -> TokenBudget:
    status: dict[str, Any] = {
        "conditions": [{"type": t, "status": s, "message": f"{t} says {s}"} for t, s in conditions]
    }
    if spend is not None:
        status["currentSpendUSD"] = D(spend)
    return TokenBudget.model_validate(
        {
            "metadata": {"name": name, "namespace": "eng"},
            "spec": {
                "scope": {"namespace": "team"},
                "monthlyLimitUSD": D("500"),
                "alertThresholds": [{"percent": 80, "severity": "warning"}],
            },
            "status": status,
        }
    )


def test_profile_rows_carry_status_and_dcgm_state() -> None:
    (row,) = profile_rows(
        [
            profile(
                status={
                    "hourlyCostUSD": D("14.793105"),
                    "amortizationRatePerHour": D("13.850837"),
                    "maintenanceRatePerHour": D("3.196347"),
                    "electricityCostPerHour": D("0.942268"),
                    "currentPowerDrawWatts": D("5600"),
                    "powerSource": "TDPFallback",
                    "nodes": ["n1", "n2"],
                    "conditions": [
                        {"type": "DCGMReachable", "status": "False", "reason": "DCGMNotFound", "message": "TDP 5600 W"},
                        {"type": "Ready", "status": "True", "reason": "CostComputed"},
                    ],
                }
            )
        ]
    )
    assert row["hourlyCostUSD"] == D("14.793105")
    assert row["maintenanceRatePerHour"] == D("3.196347")
    assert (row["powerSource"], row["dcgmState"], row["dcgmMessage"]) == ("TDPFallback", "DCGMNotFound", "TDP 5600 W")
    assert (row["ready"], row["nodes"], row["gpuCount"]) == ("True", ["n1", "n2"], 8)


def test_profile_rows_without_status() -> None:
    (row,) = profile_rows([profile()])
    assert row["hourlyCostUSD"] is None and row["dcgmState"] is None and row["ready"] is None


def test_report_and_history_rows() -> None:
    hist = {
        "period": "2026-04-19",
        "inputTokens": 10,
        "outputTokens": 5,
        "estimatedCostUSD": "1.5",
        "estimated": True,
        "byModel": [model("small", "x", 4, 1, "0.5"), model("big", "y", 6, 4, "1")],
        "byNamespace": [{"namespace": "x", "estimatedCostUSD": "0.5", "tokenCount": 5}],
    }
    r = report(
        "daily",
        period="2026-04-20",
        periodStart="2026-04-20T00:00:00Z",
        inputTokens=1_234_567,
        outputTokens=345_678,
        estimatedCostUSD=D("151.628326"),
        idleCostUSD=D("8.823456"),
        costPerMillionTokens=D("95.952416"),
        accountingSince="2026-04-18T09:00:00Z",
        history=[hist],
    )
    (row,) = report_rows([r])
    assert (row["namespace"], row["name"], row["costProfile"], row["schedule"]) == ("eng", "daily", "h100", "daily")
    assert row["totalTokens"] == 1_580_245
    assert row["estimatedCostUSD"] == D("151.628326") and row["idleCostUSD"] == D("8.823456")
    assert row["periodStart"] == T0
    assert row["accountingSince"] == datetime(2026, 4, 18, 9, tzinfo=UTC)
    assert row["historyPeriods"] == 1 and row["estimated"] is False
    (h,) = history_rows([r])
    assert (h["reportNamespace"], h["report"], h["period"], h["totalTokens"]) == ("eng", "daily", "2026-04-19", 15)
    assert h["estimatedCostUSD"] == D("1.5") and h["estimated"] is True
    assert h["source"] == "reconcile"  # no source: reconcile accounted it live
    # The closed period's breakdowns, dearest first.
    assert [(m["model"], m["totalTokens"], m["estimatedCostUSD"]) for m in h["byModel"]] == [
        ("big", 10, D(1)),
        ("small", 5, D("0.5")),
    ]
    assert h["byNamespace"] == [{"namespace": "x", "estimatedCostUSD": D("0.5"), "tokenCount": 5}]


def test_model_rows_sorted_by_cost_within_report_and_top() -> None:
    a = report(
        "a",
        period="p",
        byModel=[model("small", "x", 1, 1, "1.25"), model("big", "y", 10, 5, "7.5"), model("mid", "x", 3, 0, "2")],
    )
    b = report("b", byModel=[model("other", "z", 100, 100, "5")])
    rows = model_rows([b, a])
    assert [(r["report"], r["model"]) for r in rows] == [("a", "big"), ("a", "mid"), ("a", "small"), ("b", "other")]
    assert rows[0]["totalTokens"] == 15 and rows[0]["period"] == "p"
    top = top_model_rows([a, b], limit=2)
    assert [(r["report"], r["model"], r["estimatedCostUSD"]) for r in top] == [
        ("a", "big", D("7.5")),
        ("b", "other", 5),
    ]
    assert top_model_rows([a], limit=0) == []


def test_namespace_rows_per_million_and_share() -> None:
    r = report(
        "a",
        estimatedCostUSD=D("10"),
        byNamespace=[
            {"namespace": "x", "estimatedCostUSD": D("2.5"), "tokenCount": 3},
            {"namespace": "y", "estimatedCostUSD": D("7"), "tokenCount": 1_400_000},
            {"namespace": "z", "estimatedCostUSD": D("0"), "tokenCount": 0},
        ],
    )
    rows = namespace_rows([r])
    assert [x["namespace"] for x in rows] == ["y", "x", "z"]
    y, x, z = rows
    # 7 / 1.4M × 1M = 5; 7 / 10 = 70 %
    assert (y["costPerMillionTokens"], y["sharePercent"]) == (D(5), D(70))
    # 2.5 / 3 × 1M = 833,333.333333 (6 dp, half-even); 25 %
    assert x["costPerMillionTokens"] == D("833333.333333") and x["sharePercent"] == D(25)
    assert (z["costPerMillionTokens"], z["sharePercent"]) == (0, 0)
    # A report with zero cost: share 0, no division error.
    (only,) = namespace_rows([report("b", byNamespace=[{"namespace": "x", "estimatedCostUSD": 0, "tokenCount": 1}])])
    assert only["sharePercent"] == 0


def entry(provider: str, model_name: str, inp: str, out: str) -> PriceEntry:
    return PriceEntry(provider, model_name, "standard", D(inp), D(out), "https://x.test", date(2026, 4, 1))


def test_compare_rows_with_break_even() -> None:
    catalog = PriceCatalog(
        (entry("acme", "m1", "2.50", "10.00"), entry("beta", "m2", "0.10", "0.40")), date(2026, 4, 1), "test"
    )
    r = report("small", profile_ref="a100", inputTokens=600_000, outputTokens=200_000, estimatedCostUSD=D("1.40"))
    orphan = report("orphan", profile_ref="missing", inputTokens=1, outputTokens=0, estimatedCostUSD=D("0"))
    rows = compare_rows([r, orphan], [profile("a100", status={"hourlyCostUSD": D("2.10")})], catalog)
    assert [(x["report"], x["provider"]) for x in rows] == [
        ("orphan", "acme"),
        ("orphan", "beta"),
        ("small", "acme"),
        ("small", "beta"),
    ]
    acme, beta = rows[2:]
    # 1.50 + 2.00 = 3.50 cloud; 3.50 − 1.40 = 2.10 savings = 60 %; $2.10 × 24 = $50.40/day;
    # 50.40 / (3.50 / 800,000) = 11,520,000 tokens/day.
    assert (acme["cloudCostUSD"], acme["savingsUSD"], acme["savingsPercent"]) == (D("3.5"), D("2.1"), D(60))
    assert (acme["onpremDailyCostUSD"], acme["breakEvenTokensPerDay"]) == (D("50.40"), 11_520_000)
    assert (acme["inputPerMillion"], acme["outputPerMillion"], acme["tier"]) == (D("2.50"), D("10.00"), "standard")
    # 0.06 + 0.08 = 0.14; −1.26 = −900 %; 50.40 × 800,000 / 0.14 = 288,000,000.
    assert (beta["cloudCostUSD"], beta["savingsUSD"], beta["savingsPercent"]) == (D("0.14"), D("-1.26"), D(-900))
    assert beta["breakEvenTokensPerDay"] == 288_000_000
    # No CostProfile (or no hourly cost yet): no break-even.
    assert rows[0]["onpremDailyCostUSD"] is None and rows[0]["breakEvenTokensPerDay"] is None
    # 1 token at $2.50/M = $0.0000025, exact (not rounded to 6 dp).
    assert rows[0]["cloudCostUSD"] == D("0.0000025")


def test_compare_rows_percent_rounded_to_6dp() -> None:
    catalog = PriceCatalog((entry("acme", "m1", "3", "3"),), date(2026, 4, 1), "test")
    r = report("r", inputTokens=1_000_000, outputTokens=0, estimatedCostUSD=D("1"))
    (row,) = compare_rows([r], [], catalog)
    # savings 2 / cloud 3 = 66.666666…% → 66.666667
    assert row["savingsPercent"] == D("66.666667")


def test_catalog_info() -> None:
    catalog = PriceCatalog((entry("a", "b", "1", "1"),), date(2026, 3, 1), "bundled cloud-pricing.yaml")
    assert catalog_info(catalog, date(2026, 4, 20)) == {
        "source": "bundled cloud-pricing.yaml",
        "currency": "USD",
        "lastVerified": date(2026, 3, 1),
        "ageDays": 50,  # 31 days of March + 19 of April
        "entries": 1,
    }


def test_budget_state_and_rows() -> None:
    assert budget_state(budget("a", [("BudgetOK", "True"), ("BudgetWarning", "False")])) == "OK"
    assert budget_state(budget("a", [("BudgetOK", "False"), ("BudgetWarning", "True")])) == "Warning"
    assert budget_state(budget("a", [("BudgetWarning", "True"), ("BudgetExceeded", "True")])) == "Exceeded"
    assert budget_state(budget("a", [])) == "Unknown"
    rows = budget_rows([budget("z", [("BudgetWarning", "True")]), budget("a", [], spend=None)])
    assert [r["name"] for r in rows] == ["a", "z"]
    none, warn = rows
    assert (none["state"], none["currentSpendUSD"], none["remainingUSD"], none["message"]) == (
        "Unknown",
        None,
        None,
        None,
    )
    assert warn["remainingUSD"] == D("87.654322")  # 500 − 412.345678
    assert (warn["state"], warn["message"], warn["scopeNamespace"]) == ("Warning", "BudgetWarning says True", "team")
    assert warn["thresholds"] == [{"percent": 80, "severity": "warning"}]
    # 412.345678 of 500 is past 80 % ($400); next is the limit itself, 100 %: $500 − 412.345678 left.
    assert (warn["nextThreshold"], warn["nextThresholdUSD"], warn["leftBeforeNextUSD"]) == (
        {"percent": 100, "severity": "critical"},
        D(500),
        D("87.654322"),
    )
    assert (none["nextThreshold"], none["leftBeforeNextUSD"]) == (None, None)  # no spend yet: unknown
    over = budget_rows([budget("o", [("BudgetExceeded", "True")], spend="512.5")])[0]
    assert over["remainingUSD"] == D("-12.5")
    assert (over["nextThreshold"], over["leftBeforeNextUSD"]) == (None, None)  # every threshold reached


def test_sort_rows() -> None:
    rows: list[dict[str, Any]] = [{"k": 2, "n": "b"}, {"k": None, "n": "c"}, {"k": 1, "n": "a"}, {"k": 2, "n": "d"}]
    assert [r["n"] for r in sort_rows(rows, SortSpec("k"))] == ["a", "b", "d", "c"]
    assert [r["n"] for r in sort_rows(rows, SortSpec("k", descending=True))] == ["b", "d", "a", "c"]
    assert [r["n"] for r in sort_rows(iter(rows), SortSpec("n", descending=True))] == ["d", "c", "b", "a"]
