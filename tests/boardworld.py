"""A three-day daily UsageReport (two teams, two models) and a two-model price catalog, for board tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from kubectl_infercost.core.cloud import PriceCatalog, PriceEntry
from kubectl_infercost.models import UsageReport

D = Decimal
CATALOG = PriceCatalog(
    (
        PriceEntry("acme", "m1", "standard", D("2.50"), D("10.00"), "https://acme.test", date(2026, 4, 1)),
        PriceEntry("beta", "m2", "standard", D("0.10"), D("0.40"), "https://beta.test", date(2026, 4, 1)),
    ),
    date(2026, 4, 1),
    "test catalog",
)


def period(
    day: str, cost: str, idle: str, a: tuple[str, int, int, int], b: tuple[str, int, int, int], end: str | None = None
) -> dict[str, Any]:
    """One daily period; a/b: (cost, input, output, GPU-hours) of team-a's llama and team-b's qwen."""
    models = [("llama-70b", "team-a", a), ("qwen-7b", "team-b", b)]
    return {
        "period": day,
        "periodStart": f"{day}T00:00:00Z",
        "periodEnd": end or f"{day[:8]}{int(day[8:]) + 1:02d}T00:00:00Z",
        "inputTokens": a[1] + b[1],
        "outputTokens": a[2] + b[2],
        "estimatedCostUSD": cost,
        "idleCostUSD": idle,
        "byModel": [
            {"model": m, "namespace": ns, "inputTokens": i, "outputTokens": o, "estimatedCostUSD": c, "gpuHours": g}
            for m, ns, (c, i, o, g) in models
        ],
        "byNamespace": [
            {"namespace": ns, "estimatedCostUSD": c, "tokenCount": i + o} for _, ns, (c, i, o, _) in models
        ],
    }


# 100 = 60 + 30 + 10 idle; 120 = 90 + 10 + 20 idle; 30 = 20 + 4 + 6 idle (six hours so far).
APR18 = period("2026-04-18", "100", "10", ("60", 450_000, 150_000, 48), ("30", 350_000, 50_000, 24))
APR19 = period("2026-04-19", "120", "20", ("90", 1_350_000, 450_000, 48), ("10", 150_000, 50_000, 24))
APR20 = period("2026-04-20", "30", "6", ("20", 225_000, 75_000, 12), ("4", 75_000, 25_000, 6), "2026-04-20T06:00:00Z")


def report(name: str = "daily", schedule: str = "daily", profile: str = "h100", **spec: Any) -> UsageReport:
    return UsageReport.model_validate(
        {
            "metadata": {"name": name, "namespace": "gpu-ops"},
            "spec": {"costProfileRef": profile, "schedule": schedule, **spec},
            "status": {**APR20, "history": [APR19, APR18]},
        }
    )
